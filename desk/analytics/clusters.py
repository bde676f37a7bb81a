"""Unanswered-question mining: what the bot could not answer well, grouped so an admin can write the missing entry.

The questions are the widget messages the bot answered only on the probable tier, handed to an
expert, or whose answer got a 👎 (:func:`unanswered_questions`, redacted text only; rows whose text
was cleared after the retention time are skipped).  On request, the messages it declined as not
about IP join them: the domain model can be wrong (an IP topic no entry covers looks foreign to
it), and a repeated declined question is how an admin finds that out.  :func:`cluster_questions` is a pure function
(vectors in, clusters out): scikit-learn's agglomerative clustering with average linkage under a
cosine distance threshold, which needs no number of clusters and has no randomness, so the same
questions always give the same groups.  The vectors come from the caller (the gateway asks the
action server, which holds the one copy of the embedding model), and so does the nearest entry.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.vocabulary import IP_TYPE_LABELS, IP_TYPES
from desk.analytics.period import Period
from store.db import Database
from store.models import Feedback, KnowledgeDraft, TurnRecord, utcnow

Reason = Literal["probable", "handoff", "disliked", "declined"]
Trend = Literal["up", "down", "flat"]
REASON_LABELS: dict[str, str] = {
    "probable": "列出可能相关依据",
    "handoff": "转人工",
    "disliked": "👎 没帮助",
    "declined": "判为非知识产权问题而婉拒",
}
#: Average-linkage cosine distance under which questions are one topic.  multilingual-e5 puts
#: paraphrases of one question at similarity 0.92–0.98 and different IP questions at 0.85–0.91
#: (13 hand-written questions in 5 topics: 0.08 splits them exactly; 0.10 merges 外观设计 into 专利侵权).
DISTANCE_THRESHOLD = 0.08
#: A topic asked once is not a pattern.
MIN_SIZE = 2
#: The newest questions clustered per request (keeps the distance matrix and the embedding bounded).
MAX_QUESTIONS = 1500
MAX_CLUSTERS = 30
EXAMPLES = 3
#: The questions a draft takes (the central one is the question, the others its variants).
DRAFT_QUESTIONS = 8
#: What a draft made from a cluster says in place of the answer; publishing refuses it until replaced.
ANSWER_PLACEHOLDER = "【待撰写】这条草稿由未答好的用户问题生成，请管理员撰写回答、填写依据（法规名称|第X条）后再发布。"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Example(_Model):
    """One redacted question of a cluster."""

    id: int
    text: str
    day: dt.date


class NearestEntry(_Model):
    """The existing knowledge-base entry closest to a cluster's central question."""

    id: str
    question: str
    score: float


class Cluster(_Model):
    id: int  # the central question's record id: stable while its rows exist
    size: int
    first_half: int
    second_half: int
    trend: Trend
    examples: list[Example]
    #: record ids a one-click draft takes, the central question first
    draft_ids: list[int]
    ip_type: str | None
    ip_label: str
    reasons: dict[str, int]
    nearest: NearestEntry | None = None
    #: a pending or published draft already made from one of these questions
    draft_id: int | None = None


class ClusterReport(_Model):
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    #: whether questions declined as not about IP were included
    declined: bool = False
    #: unanswered questions with text in the range, and how many of them were clustered
    questions: int
    considered: int
    clustered: int
    clusters: list[Cluster]
    index_version: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Question:
    id: int
    text: str
    day: dt.date
    ip_type: str | None
    reasons: tuple[str, ...]


def unanswered_questions(
    session: Session, period: Period, limit: int = MAX_QUESTIONS, *, declined: bool = False
) -> tuple[list[Question], int]:
    """Probable-tier, handed-over and 👎'd questions of the range that still have text (newest first) and their total.

    ``declined``: also the messages declined as not about IP.
    """
    disliked = select(Feedback.message_ref).where(Feedback.rating == -1, Feedback.message_ref.is_not(None))
    wanted = [
        (TurnRecord.outcome == "answer") & (TurnRecord.tier == "probable"),
        TurnRecord.outcome == "handoff",
        TurnRecord.handed_over.is_(True),
        TurnRecord.answer_id.in_(disliked),
    ]
    if declined:
        wanted.append(TurnRecord.outcome == "out_of_scope")
    rows = session.execute(
        select(TurnRecord, TurnRecord.answer_id.in_(disliked))
        .where(
            TurnRecord.day >= period.start,
            TurnRecord.day <= period.end,
            TurnRecord.text.is_not(None),
            TurnRecord.text != "",
            or_(*wanted),
        )
        .order_by(TurnRecord.created_at.desc(), TurnRecord.id.desc())
    ).all()
    questions = []
    for record, was_disliked in rows[:limit]:
        reasons: list[str] = []
        if record.outcome == "answer" and record.tier == "probable":
            reasons.append("probable")
        if record.outcome == "handoff" or record.handed_over:
            reasons.append("handoff")
        if was_disliked:
            reasons.append("disliked")
        if record.outcome == "out_of_scope":
            reasons.append("declined")
        questions.append(Question(record.id, str(record.text), record.day, record.ip_type, tuple(reasons)))
    return questions, len(rows)


def _halves(period: Period) -> dt.date:
    """The first day of the range's second half (an odd middle day counts in the second half)."""
    return period.start + dt.timedelta(days=period.days // 2)


def _trend(first: int, second: int) -> Trend:
    return "up" if second > first else "down" if second < first else "flat"


def _main_ip_type(members: Sequence[Question]) -> str | None:
    """The most common specific IP type (ties: the vocabulary's order)."""
    counts = Counter(q.ip_type for q in members if q.ip_type in IP_TYPES and q.ip_type != "general")
    if not counts:
        return "general" if any(q.ip_type == "general" for q in members) else None
    return max(counts, key=lambda t: (counts[t], -IP_TYPES.index(t)))


def cluster_labels(unit: np.ndarray, threshold: float) -> np.ndarray:
    """Agglomerative labels of unit vectors under a cosine distance threshold (average linkage)."""
    if len(unit) < 2:
        return np.zeros(len(unit), dtype=int)
    from sklearn.cluster import AgglomerativeClustering  # loaded when an admin asks, not with every desk import

    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold)
    labels: np.ndarray = model.fit_predict(unit)
    return labels


def cluster_questions(
    questions: Sequence[Question],
    vectors: np.ndarray,
    period: Period,
    *,
    threshold: float = DISTANCE_THRESHOLD,
    min_size: int = MIN_SIZE,
    limit: int = MAX_CLUSTERS,
) -> list[Cluster]:
    """Group the questions by their vectors: biggest first, each with its trend and its most central examples."""
    if len(questions) != len(vectors):
        raise ValueError("one vector per question")
    if not questions:
        return []
    matrix = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = matrix / np.where(norms == 0, 1.0, norms)
    labels = cluster_labels(unit, threshold)
    middle = _halves(period)
    clusters = []
    for label in sorted(set(labels.tolist())):
        index = np.flatnonzero(labels == label)
        if len(index) < min_size:
            continue
        members = [questions[int(i)] for i in index]
        # the medoid: the question most similar on average to the others of its cluster
        centrality = (unit[index] @ unit[index].T).mean(axis=1)
        order = sorted(range(len(index)), key=lambda i: (-round(float(centrality[i]), 9), members[i].id))
        ranked = [members[i] for i in order]
        distinct: list[Question] = []
        for question in ranked:
            if question.text not in {q.text for q in distinct}:
                distinct.append(question)
        first = sum(1 for q in members if q.day < middle)
        second = len(members) - first
        ip_type = _main_ip_type(members)
        reasons = Counter(r for q in members for r in q.reasons)
        clusters.append(
            Cluster(
                id=ranked[0].id,
                size=len(members),
                first_half=first,
                second_half=second,
                trend=_trend(first, second),
                examples=[Example(id=q.id, text=q.text, day=q.day) for q in distinct[:EXAMPLES]],
                draft_ids=[q.id for q in distinct[:DRAFT_QUESTIONS]],
                ip_type=ip_type,
                ip_label=IP_TYPE_LABELS.get(ip_type or "", "未识别"),
                reasons={key: reasons[key] for key in REASON_LABELS if reasons[key]},
            )
        )
    clusters.sort(key=lambda c: (-c.size, -max(e.day for e in c.examples).toordinal(), c.id))
    return clusters[:limit]


def mark_existing_drafts(session: Session, clusters: list[Cluster]) -> None:
    """Point each cluster at a draft already made from one of its questions (no second one by mistake)."""
    texts = {e.text: c for c in clusters for e in c.examples}
    if not texts:
        return
    rows = session.execute(
        select(KnowledgeDraft.id, KnowledgeDraft.question).where(
            KnowledgeDraft.question.in_(list(texts)), KnowledgeDraft.status.in_(("draft", "published"))
        )
    ).all()
    for draft_id, question in rows:
        cluster = texts[question]
        cluster.draft_id = max(cluster.draft_id or 0, int(draft_id))


def draft_from_questions(session: Session, ids: Sequence[int]) -> dict[str, object]:
    """The draft a cluster becomes: its central question, the others as variants, the usual IP type.

    Read from the stored (redacted) records, never from the browser, so a draft holds only what
    analytics kept; records whose text was cleared are left out.
    """
    wanted = list(dict.fromkeys(ids))[:DRAFT_QUESTIONS]
    found = {
        r.id: r
        for r in session.scalars(
            select(TurnRecord).where(TurnRecord.id.in_(wanted), TurnRecord.text.is_not(None), TurnRecord.text != "")
        )
    }
    records = [found[i] for i in wanted if i in found]
    if not records:
        raise NotFound("这些问题已不存在（可能已超过保存期限），请刷新后重试")
    texts = list(dict.fromkeys(str(r.text).strip() for r in records))
    members = [Question(r.id, str(r.text), r.day, r.ip_type, ()) for r in records]
    return {
        "question": texts[0],
        "variants": texts[1:],
        "answer": ANSWER_PLACEHOLDER,
        "ip_type": _main_ip_type(members) or "general",
        "references": [],
    }


#: Texts in, one vector per text out (the action server's embedding model, or any embedder in tests).
Embed = Callable[[list[str]], np.ndarray]
#: A question in, the closest existing entry out (the index's search, entries only).
Nearest = Callable[[str], NearestEntry | None]


def build_cluster_report(
    db: Database,
    period: Period,
    embed: Embed,
    nearest: Nearest | None = None,
    *,
    index_version: str | None = None,
    now: dt.datetime | None = None,
    threshold: float = DISTANCE_THRESHOLD,
    declined: bool = False,
) -> ClusterReport:
    """The clusters of a range, computed on demand: nothing is stored beyond the analytics records."""
    with db.session() as session:
        questions, total = unanswered_questions(session, period, declined=declined)
    clusters: list[Cluster] = []
    if len(questions) >= MIN_SIZE:
        vectors = embed([q.text for q in questions])
        clusters = cluster_questions(questions, vectors, period, threshold=threshold)
    if nearest is not None:
        central = {q.id: q.text for q in questions}
        for cluster in clusters:
            cluster.nearest = nearest(central[cluster.id])
    with db.session() as session:
        mark_existing_drafts(session, clusters)
    note = None
    if total > len(questions):
        note = f"所选日期内共 {total} 条，只聚类了最新的 {len(questions)} 条；缩短日期范围可看到更早的问题。"
    return ClusterReport(
        start=period.start,
        end=period.end,
        generated_at=now or utcnow(),
        declined=declined,
        questions=total,
        considered=len(questions),
        clustered=sum(c.size for c in clusters),
        clusters=clusters,
        index_version=index_version,
        note=note,
    )
