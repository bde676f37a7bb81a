"""Turn validated documents into citable chunks.

* statutes: one chunk per article, carrying law title and chapter, embedded
  as the article and as the lay questions written for it (knowledge/article_views);
* guides: one chunk per ``##`` section;
* knowledge-base entries: one chunk per entry, embedded as several views
  (the question, each variant, and question + answer) so that any phrasing
  can find it;
* published cases: one chunk per section (facts, holding, key points).

Chunk ids are stable across builds (they are derived from titles, article
labels and entry ids, never from positions), which is what lets an
incremental refresh reuse the vectors of unchanged chunks.
"""

from __future__ import annotations

import hashlib
import json

from core.vocabulary import LAW_STATUS_LABELS, NATIONWIDE
from index.loader import Corpus
from index.schema import Case, Chunk, Citation, Entry, Policy, View


def _hash(payload: dict[str, object]) -> str:
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]


def _make(**fields: object) -> Chunk:
    payload = {k: v for k, v in fields.items() if k != "id"}
    serial = json.loads(json.dumps(payload, ensure_ascii=False, default=_plain))
    return Chunk(**fields, content_hash=_hash(serial))


def _plain(value: object) -> object:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    raise TypeError(type(value))


def policy_chunks(policy: Policy, questions: dict[tuple[str, str], list[str]] | None = None) -> list[Chunk]:
    """One chunk per article; lay questions written for an article become extra question views."""
    questions = questions or {}
    meta = policy.meta
    name = policy.cite_as
    marker = "" if policy.status == "in_force" else f"（{LAW_STATUS_LABELS[policy.status]}）"
    out = []
    for article in policy.articles:
        heading = article.chapter
        where = f"{heading} " if heading else ""
        if meta.doc_type == "guide":
            title = f"{meta.title} · {article.label}"
            view = f"{meta.title}：{article.label}\n{article.text}"
        else:
            title = f"{name} {article.label}{marker}"
            view = f"《{meta.title}》{where}{article.text}"
        out.append(
            _make(
                id=f"policy/{name}/{article.label}",
                kind="policy",
                doc_id=f"policy/{name}",
                title=title,
                heading=heading,
                text=article.text,
                views=[
                    View(text=view, role="passage"),
                    *(View(text=q, role="question") for q in questions.get((name, article.label), [])),
                ],
                lexical=" ".join(
                    [
                        meta.title,
                        *meta.aliases,
                        heading or "",
                        article.label,
                        article.text,
                        *questions.get((name, article.label), []),
                    ]
                ),
                citations=[Citation(law=name, article=article.label)],
                ip_types=list(meta.ip_types),
                region=meta.region,
                source=policy.path,
                status=policy.status,
                status_note=policy.status_note,
            )
        )
    return out


def entry_chunk(entry: Entry, source: str) -> Chunk:
    questions = [entry.question, *entry.variants]
    views = [View(text=q, role="question") for q in questions]
    views.append(View(text=f"{entry.question}\n{entry.answer}", role="passage"))
    return _make(
        id=f"entry/{entry.id}",
        kind="entry",
        doc_id=f"entry/{entry.id}",
        title=entry.question,
        heading=None,
        text=entry.answer,
        views=views,
        lexical=" ".join([*questions, entry.answer]),
        citations=list(entry.references),
        ip_types=[entry.ip_type],
        region=entry.region or NATIONWIDE,
        source=source,
        services=list(entry.services),
        related=[f"entry/{r}" for r in entry.related],
    )


CASE_SECTIONS = (("key_points", "裁判要点"), ("facts", "基本案情"), ("reasoning", "裁判理由"), ("holding", "裁判结果"))


def case_chunks(case: Case, source: str) -> list[Chunk]:
    out = []
    for field, label in CASE_SECTIONS:
        value = getattr(case, field)
        text = "\n".join(value) if isinstance(value, list) else str(value or "")
        if not text.strip():
            continue
        name = f"{case.label}「{case.title}」" if case.label else case.title
        title = f"{name} · {label}"
        out.append(
            _make(
                id=f"case/{case.id}/{field}",
                kind="case",
                doc_id=f"case/{case.id}",
                title=title,
                heading=" ".join(x for x in (case.court_or_agency, case.case_number, case.date.isoformat()) if x),
                text=text,
                views=[View(text=f"{name}（{label}）\n{text}", role="passage")],
                lexical=f"{name} {label} {text}",
                citations=list(case.references),
                ip_types=[case.ip_type],
                region=case.region,
                source=source,
            )
        )
    return out


def chunk_corpus(corpus: Corpus) -> list[Chunk]:
    """All chunks of the corpus, in a stable order.

    Texts not in force on the law date are indexed too, marked with their status: the
    agent page finds them (labelled), the consultation searches only what is in force.
    """
    chunks: list[Chunk] = []
    for policy in sorted(corpus.policies, key=lambda p: p.path):
        chunks.extend(policy_chunks(policy, corpus.article_questions))
    for entry in corpus.entries:
        chunks.append(entry_chunk(entry, corpus.locations[entry.id].path))
    for case in corpus.cases:
        chunks.extend(case_chunks(case, corpus.locations[case.id].path))
    return chunks
