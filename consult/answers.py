"""Compose the bot's answer from search results: always with its sources.

The best knowledge-base entry is answered with its own SME-friendly text;
a statute article is quoted with its law and number; both end with the
citations they rest on.  Related entries become follow-up buttons.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from core.messages import payload
from core.vocabulary import IP_TYPE_LABELS
from index.results import Hit, SearchResult
from index.retriever import Retriever
from index.schema import Citation

FOOTNOTE = "提示：以上是一般性说明，不构成对具体案件的法律意见；需要进一步帮助可以申请维权援助或转人工。"
SUMMARY_LIMIT = 120
PROBABLE_INTRO = "以下内容可能与您的问题相关，请对照您的情况看看："


@dataclass
class Composed:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def citation_label(citation: dict[str, str]) -> str:
    return Citation(law=citation["law"], article=citation["article"]).label()


def _source(hit: Hit) -> dict[str, Any]:
    label = hit.title if hit.kind != "policy" else citation_label(hit.citations[0])
    return {
        "id": hit.id,
        "kind": hit.kind,
        "title": hit.title,
        "label": label,
        "source": hit.source,
        "citations": hit.citations,
    }


def _unique_citations(hits: list[Hit]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for hit in hits:
        for c in hit.citations:
            if c not in out:
                out.append(c)
    return out


def _question_buttons(questions: list[str]) -> list[dict[str, str]]:
    """The other questions of a multi-part message, one button each (asked as they were written)."""
    return [{"title": _short(q, 24), "payload": q} for q in questions]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(hit: Hit, limit: int = SUMMARY_LIMIT) -> str:
    """The first sentences of a source, up to ``limit`` characters."""
    text = " ".join(hit.text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(p) for p in "。；;！")
    return cut[: end + 1] if end >= limit // 2 else cut.rstrip() + "……"


def _quote(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "……"


def law_change_lines(result: SearchResult, citations: list[dict[str, Any]]) -> list[str]:
    """One line per cited text that has changed or will change on a known date."""
    laws = list(dict.fromkeys(str(c["law"]) for c in citations))
    return [f"注意：《{law}》{result.law_notes[law]}。" for law in laws if law in result.law_notes]


def case_line(result: SearchResult, shown: list[Hit]) -> list[str]:
    """A published case among the hits that is not already shown: offered for reference."""
    seen = {h.id.rsplit("/", 1)[0] for h in shown if h.kind == "case"}
    for hit in result.hits:
        if hit.kind == "case" and hit.id.rsplit("/", 1)[0] not in seen:
            name = hit.title.split(" · ", 1)[0]
            where = f"（{hit.heading}）" if hit.heading else ""
            return [f"参考案例：{name}{where}"]
    return []


def compose_answer(
    result: SearchResult,
    retriever: Retriever,
    *,
    max_sources: int = 3,
    max_related: int = 3,
    intent: str | None = None,
    nlu_confidence: float | None = None,
    other_questions: list[str] | None = None,
    quote_chars: int = 360,
) -> Composed:
    """The answer message for a confident search result."""
    best = result.hits[0]
    citations: list[dict[str, str]] = []
    for c in best.citations:
        if c not in citations:
            citations.append(c)
    if best.kind == "entry":
        body = best.text.strip()
        basis = "；".join(citation_label(c) for c in citations) if citations else ""
        lines = [body, ""]
        if basis:
            lines.append(f"依据：{basis}")
        lines.append(f"来源：知识库条目「{best.title}」")
    elif best.kind == "policy":
        lines = [f"根据{citation_label(best.citations[0])}：", _quote(best.text.strip(), quote_chars), ""]
        others = [h for h in result.hits[1:] if h.kind == "entry"][:1]
        if others:
            lines.append(f"相关解读：知识库条目「{others[0].title}」")
    else:
        lines = [f"参考案例 {best.title}：", _quote(best.text.strip(), quote_chars), ""]
        basis = "；".join(citation_label(c) for c in citations)
        if basis:
            lines.append(f"依据：{basis}")
    lines += case_line(result, [best])
    lines += law_change_lines(result, citations)
    lines.append(FOOTNOTE)

    buttons = _question_buttons(other_questions or [])
    for related_id in best.related[:max_related]:
        chunk = retriever.chunk(related_id)
        if chunk is not None:
            buttons.append({"title": chunk.title, "payload": chunk.title})
    buttons.append({"title": "申请维权援助", "payload": "/apply_assistance"})
    buttons.append({"title": "转人工", "payload": "/request_human"})

    meta = _answer_meta(
        "confident",
        result,
        citations,
        result.hits[:max_sources],
        best.ip_types,
        intent=intent,
        nlu_confidence=nlu_confidence,
        other_questions=other_questions,
        best={"id": best.id, "kind": best.kind, "title": best.title},
    )
    return Composed("\n".join(lines), buttons, meta)


def _answer_meta(
    tier: str,
    result: SearchResult,
    citations: list[dict[str, str]],
    shown: list[Hit],
    ip_types: list[str],
    *,
    intent: str | None,
    nlu_confidence: float | None,
    other_questions: list[str] | None,
    **extra: Any,
) -> dict[str, Any]:
    """The payload of an answer message: tier, every citation shown (with its label), the sources."""
    return payload(
        "answer",
        tier=tier,
        answer_id=uuid.uuid4().hex,
        query=result.query,
        confidence=round(result.confidence, 4),
        citations=[{**c, "label": citation_label(c)} for c in citations],
        sources=[_source(h) for h in shown],
        ip_types=ip_types,
        index_version=result.version,
        intent=intent,
        nlu_confidence=nlu_confidence,
        other_questions=other_questions or None,
        services=list(dict.fromkeys(s for h in shown for s in h.services)) or None,
        **extra,
    )


def compose_probable(
    result: SearchResult,
    *,
    max_sources: int = 3,
    intent: str | None = None,
    nlu_confidence: float | None = None,
    other_questions: list[str] | None = None,
) -> Composed:
    """Not sure enough to answer: the best sources, each summarised and cited, and a way on."""
    shown: list[Hit] = []
    for hit in result.hits:
        if len(shown) >= max_sources:
            break
        if all(hit.title != s.title or hit.kind == "policy" for s in shown):
            shown.append(hit)
    lines = [PROBABLE_INTRO]
    for number, hit in enumerate(shown, start=1):
        if hit.kind == "policy":
            head = f"{number}. {citation_label(hit.citations[0])}"
        elif hit.kind == "entry":
            head = f"{number}. 知识库条目「{hit.title}」"
        else:
            head = f"{number}. 参考案例 {hit.title}"
        lines.append(head)
        lines.append(f"   {_summary(hit)}")
        basis = "；".join(citation_label(c) for c in hit.citations if hit.kind != "policy")
        if basis:
            lines.append(f"   依据：{basis}")
    citations = _unique_citations(shown)
    lines += [
        "",
        *case_line(result, shown),
        *law_change_lines(result, citations),
        "如果没有解决您的问题，可以补充说明具体情况（涉及什么权利、发生了什么、在哪个平台），或转人工。",
        FOOTNOTE,
    ]
    buttons = [
        {"title": "解决了", "payload": "/affirm"},
        {"title": "补充情况", "payload": "/add_details"},
        {"title": "转人工", "payload": "/request_human"},
        *_question_buttons(other_questions or []),
    ]
    meta = _answer_meta(
        "probable",
        result,
        citations,
        shown,
        sorted({t for h in shown for t in h.ip_types}),
        intent=intent,
        nlu_confidence=nlu_confidence,
        other_questions=other_questions,
    )
    return Composed("\n".join(lines), buttons, meta)


IP_BUTTONS = ["patent", "trademark", "copyright", "trade_secret", "ecommerce", "geographical_indication"]


def compose_clarify(result: SearchResult | None, ip_type: str | None = None) -> Composed:
    """One clarifying question: which kind of IP, or (when that is known) what happened."""
    if ip_type and ip_type in IP_TYPE_LABELS and ip_type != "general":
        label = IP_TYPE_LABELS[ip_type]
        text = (
            f"想先确认一下具体情况：您是想了解{label}的申请、保护期限等一般规定，还是遇到了侵权、被投诉、被起诉等纠纷？"
            "请简单说说发生了什么（对方做了什么、在哪里、您想达到什么目的），我好找到准确的依据。"
        )
        buttons = [
            {"title": "一般规定", "payload": f"{label}有哪些基本规定"},
            {"title": "我被侵权了", "payload": f"别人侵犯了我的{label}怎么维权"},
            {"title": "我被投诉或起诉", "payload": f"我被指控侵犯别人的{label}怎么办"},
            {"title": "转人工", "payload": "/request_human"},
        ]
        meta = payload("clarify", confidence=round(result.confidence, 4) if result else None, asks="situation")
        return Composed(text, buttons, meta)
    buttons = [{"title": IP_TYPE_LABELS[t], "payload": IP_TYPE_LABELS[t]} for t in IP_BUTTONS]
    buttons.append({"title": "其他/不确定", "payload": "/request_human"})
    text = "为了找到准确的依据，想先确认一下：您的问题涉及哪一类知识产权？也可以把情况再说得具体一些。"
    return Composed(
        text,
        buttons,
        payload("clarify", confidence=round(result.confidence, 4) if result else None, asks="ip_type"),
    )


DECLINE = (
    "抱歉，这个问题不在知识产权维权援助的服务范围内，我不能给出可靠的答复。\n"
    "如果是婚姻家庭、劳动用工、交通事故、借贷、消费退款等其他法律问题，可以拨打 12348 公共法律服务热线，"
    "或到当地公共法律服务中心咨询。\n"
    "如果您的问题和专利、商标、著作权、商业秘密、地理标志、电商平台侵权投诉等有关，欢迎换个说法再问我，"
    "或者转人工。"
)


def compose_decline() -> Composed:
    """Not an IP matter: say so, and where to go instead."""
    return Composed(
        DECLINE,
        [{"title": "转人工", "payload": "/request_human"}],
        payload("out_of_scope", referral="12348"),
    )
