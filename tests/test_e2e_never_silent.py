"""Property: whatever a visitor types, the real Rasa server and action server reply (issue 8).

Hypothesis generates thousands of messages from the pieces real questions
are made of (IP terms in odd forms, entity-like words, whole stories,
emoji, English, punctuation runs, traditional characters) and sends each
as a new conversation through Rasa's REST channel.  Every one must get at
least one bot message, and none may be the apology for a crashed action.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import Settings
from weiyuan.sandbox import RestUser

pytestmark = pytest.mark.e2e

IP_TERMS = [
    "专利", "專利", "专力", "外观专利", "实用新型", "发明", "商标", "商標", "商表", "名牌商标", "商标名", "logo",
    "牌子", "驰名商标", "著作权", "著做权", "版权", "版全", "软著", "盗图", "商业秘密", "商秘", "客户名单",
    "地理标志", "地标", "植物新品种", "种子", "集成电路布图", "反不正当竞争", "不正当竞争", "电商", "拼多多",
    "淘宝", "亚马逊", "Amazon", "TRO", "patent", "trademark", "copyright", "维权援助", "12330", "侵权判定",
    "专利权人", "律师函", "传票", "海关", "展会",
]  # fmt: skip
FILLERS = [
    "我们公司", "我", "同行", "对方", "有人", "平台", "法院", "客户", "老板", "员工", "去年", "2023年", "三个月前",
    "卖了5万多", "赔偿", "下架", "投诉", "起诉", "抄袭", "山寨", "一模一样", "怎么办", "能告吗", "咋整",
    "要多少钱", "多久", "需要什么材料", "离婚", "工资", "欠款", "交通事故", "你好", "谢谢", "哈哈",
]  # fmt: skip
NOISE = ["😀", "🙏🙏", "？？？", "!!!", "……", "。。。", "~~", "@#￥%", "   ", "\n", "asdf", "qwerty", "123456"]

piece = st.one_of(st.sampled_from(IP_TERMS), st.sampled_from(FILLERS), st.sampled_from(NOISE))
sentence = st.lists(piece, min_size=1, max_size=8).map("".join)
story = st.lists(sentence, min_size=5, max_size=25).map("，".join)
free_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60)
message = st.one_of(sentence, sentence, story, free_text).filter(lambda t: t.strip() and not t.lstrip().startswith("/"))

_ids = itertools.count()


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(message, min_size=50, max_size=50))
def test_every_message_gets_a_reply(stack: Settings, pool: ThreadPoolExecutor, batch: list[str]) -> None:
    def ask(text: str) -> tuple[str, list[str]]:
        replies = RestUser(stack, f"fuzz-{next(_ids)}").say(text)
        return text, [m.text for m in replies]

    for text, replies in pool.map(ask, batch):
        assert replies, f"no reply to {text!r}"
        assert not any("错误编号" in r for r in replies), f"an action failed on {text!r}: {replies}"
