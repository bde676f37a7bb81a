"""The canonical IP-type vocabulary and how free text maps onto it.

DIET extracts ``ip_type`` values as it finds them in the message (名牌商标,
专利权人, 反不正当竞争 …); the retriever accepts only the canonical keys of
:data:`core.vocabulary.IP_TYPE_LABELS`.  Everything that reaches the retriever
goes through :func:`canonical_ip_type`: a value that cannot be mapped is
dropped (and logged), never passed on.
"""

from __future__ import annotations

import logging

from core.vocabulary import IP_TYPE_LABELS
from index.textnorm import normalize

log = logging.getLogger(__name__)

#: Words that signal an IP type in a user's own words (simplified Chinese, lower case).
#: Order matters only for ties: more specific types first.
IP_WORDS: dict[str, list[str]] = {
    "trade_secret": ["商业秘密", "商秘", "技术秘密", "客户名单", "经营秘密", "保密信息"],
    "geographical_indication": ["地理标志", "地标产品", "原产地"],
    "plant_variety": ["植物新品种", "品种权", "新品种", "种子", "育种"],
    "ic_layout": ["集成电路", "布图设计", "芯片布图"],
    "unfair_competition": ["不正当竞争", "虚假宣传", "商业诋毁", "仿冒混淆", "混淆", "傍名牌"],
    "patent": ["专利", "发明", "实用新型", "外观设计", "外观"],
    "trademark": ["商标", "牌子", "品牌", "logo", "假货", "假冒"],
    "copyright": ["著作权", "版权", "软著", "软件", "作品", "图片", "视频", "文章", "盗版", "盗图"],
    "ecommerce": ["电商", "网店", "店铺", "平台", "淘宝", "天猫", "京东", "拼多多", "抖音", "亚马逊", "下架"],
}

#: Words that mark a message as an IP matter without naming the type (checked on the dev split:
#: frequent in IP questions, absent from the non-IP ones).
IP_CUES: tuple[str, ...] = (
    "侵权",
    "盗用",
    "仿品",
    "抄袭",
    "源代码",
    "源码",
    "配方",
    "图纸",
    "授权",
    "品种",
    "海关",
    "一模一样",
    "翻唱",
    "转载",
    "署名",
    "照搬",
    "infringement",
    "patent",
    "trademark",
    "copyright",
    "counterfeit",
)

#: Words of the lexicon and of IP_WORDS that do not on their own make a message an IP matter:
#: platforms and shop words occur as often in refunds, deposits and account bans (dev split,
#: the extra non-IP questions: 平台 alone sent 15 of them to the IP answers or a person).
NOT_IP_EVIDENCE = frozenset(
    {
        "淘宝", "淘寶", "向淘宝", "天猫", "天貓", "京东", "拼多多", "抖音", "快手", "小红书", "闲鱼", "亚马逊",
        "阿里巴巴", "电商", "网店", "店铺", "平台", "电子商务", "电商平台", "品牌", "牌子", "软件", "图片",
        "视频", "文章", "作品", "种子", "展会", "下架", "授权",
    }
)  # fmt: skip

#: Values DIET has been seen to produce that name a type without containing its words.
_ALIASES = {
    "地标": "geographical_indication",
    "反不正当竞争": "unfair_competition",
    "知识产权": "general",
    "综合": "general",
}


def ip_type_from_text(text: str) -> str | None:
    """The IP type a message talks about (the type whose words occur most; ``None`` if none do)."""
    value = normalize(text).lower()
    counts = {ip: sum(value.count(word) for word in words) for ip, words in IP_WORDS.items()}
    best = max(counts, key=lambda ip: counts[ip])
    return best if counts[best] > 0 else None


def canonical_ip_type(value: object) -> str | None:
    """A canonical IP-type key for an entity or slot value, or ``None`` (logged) if there is none."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text in IP_TYPE_LABELS:
        return text
    lowered = normalize(text).lower()
    for key, label in IP_TYPE_LABELS.items():
        if lowered == label:
            return key
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    guessed = ip_type_from_text(lowered)
    if guessed is None:
        log.warning("dropping unknown ip_type value %r", text[:40])
    return guessed
