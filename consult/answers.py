"""Compose the bot's answer from search results: always with its sources.

The best knowledge-base entry is answered with its own SME-friendly text;
a statute article is quoted with its law and number; both end with the
citations they rest on.  Related entries become follow-up buttons.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from consult.messages import payload
from index.retriever import Hit, Retriever, SearchResult
from index.schema import IP_TYPE_LABELS, Citation

FOOTNOTE = "提示：以上是一般性说明，不构成对具体案件的法律意见；需要进一步帮助可以申请维权援助或转人工。"
QUOTE_LIMIT = 360


@dataclass
class Composed:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def citation_label(citation: dict[str, str]) -> str:
    return Citation(law=citation["law"], article=citation["article"]).label()


def _source(hit: Hit) -> dict[str, Any]:
    label = hit.title if hit.kind != "policy" else citation_label(hit.citations[0])
    return {"id": hit.id, "kind": hit.kind, "title": hit.title, "label": label, "source": hit.source}


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT].rstrip() + "……"


def compose_answer(
    result: SearchResult,
    retriever: Retriever,
    *,
    max_sources: int = 3,
    max_related: int = 3,
    intent: str | None = None,
    nlu_confidence: float | None = None,
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
        lines = [f"根据{citation_label(best.citations[0])}：", _quote(best.text.strip()), ""]
        others = [h for h in result.hits[1:] if h.kind == "entry"][:1]
        if others:
            lines.append(f"相关解读：知识库条目「{others[0].title}」")
    else:
        lines = [f"参考案例「{best.title}」：", _quote(best.text.strip()), ""]
        basis = "；".join(citation_label(c) for c in citations)
        if basis:
            lines.append(f"依据：{basis}")
    lines.append(FOOTNOTE)

    buttons = []
    for related_id in best.related[:max_related]:
        chunk = retriever.chunk(related_id)
        if chunk is not None:
            buttons.append({"title": chunk.title, "payload": chunk.title})
    buttons.append({"title": "申请维权援助", "payload": "/apply_assistance"})
    buttons.append({"title": "转人工", "payload": "/request_human"})

    sources = [_source(h) for h in result.hits[:max_sources]]
    meta = payload(
        "answer",
        answer_id=uuid.uuid4().hex,
        query=result.query,
        confidence=round(result.confidence, 4),
        citations=[{**c, "label": citation_label(c)} for c in citations],
        sources=sources,
        best={"id": best.id, "kind": best.kind, "title": best.title},
        ip_types=best.ip_types,
        index_version=result.version,
        intent=intent,
        nlu_confidence=nlu_confidence,
    )
    return Composed("\n".join(lines), buttons, meta)


IP_BUTTONS = ["patent", "trademark", "copyright", "trade_secret", "ecommerce", "geographical_indication"]


def compose_clarify(result: SearchResult | None) -> Composed:
    """Ask which kind of IP the question is about (one clarifying question, with buttons)."""
    buttons = [{"title": IP_TYPE_LABELS[t], "payload": IP_TYPE_LABELS[t]} for t in IP_BUTTONS]
    buttons.append({"title": "其他/不确定", "payload": "/request_human"})
    text = "为了找到准确的依据，想先确认一下：您的问题涉及哪一类知识产权？也可以把情况再说得具体一些。"
    return Composed(
        text,
        buttons,
        payload("clarify", confidence=round(result.confidence, 4) if result else None, asks="ip_type"),
    )
