"""What users say about the answers: the rows of free text, and the 👍/👎 on one answer.

A rating on an answer is tied to what the user saw: the index version the answer came from and
the ids of the sources it showed, both read from the answer as the gateway stored it (a client
cannot claim another version or other sources), so a change of the knowledge can be judged by
the ratings before and after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select

from core.redact import redact
from store.db import Database
from store.models import ChatMessage, Feedback

#: What was wrong with a 👎'd answer (one optional question); the codes are stored, never free text.
Reason = Literal["off_point", "wrong_basis", "too_general", "other"]
REASON_LABELS: dict[str, str] = {
    "off_point": "没答到点上",
    "wrong_basis": "依据不对",
    "too_general": "太笼统",
    "other": "其他",
}
#: How far back in a conversation an answer can still be rated (the widget shows its whole history).
RATEABLE_MESSAGES = 500

#: Feedback that says the last answer did not help: a person takes over.
NOT_HELPFUL = re.compile(r"不对|没用|没有用|没帮助|没有帮助|答非所问|没解决|没有解决|不是我问的|看不懂|不明白|套话")


def record_feedback(
    db: Database,
    conversation_id: str,
    message_ref: str | None,
    rating: int,
    comment: str | None = None,
    context: dict[str, Any] | None = None,
    limit: int = 2000,
) -> None:
    """Store one rating (1 👍, -1 👎, 0 free text) with its comment redacted of personal data."""
    with db.session() as session:
        session.add(
            Feedback(
                conversation_id=conversation_id,
                message_ref=message_ref,
                rating=rating,
                comment=redact(comment[: limit * 2])[:limit] if comment is not None else None,
                context={k: redact(str(v)) for k, v in (context or {}).items()},
            )
        )


@dataclass(frozen=True)
class ShownAnswer:
    """An answer as the bot sent it in one conversation: what a rating of it is about."""

    answer_id: str
    index_version: str | None
    sources: list[str]


def shown_answer(db: Database, conversation_id: str, answer_id: str) -> ShownAnswer | None:
    """The answer with this id among the conversation's stored bot messages, else None."""
    with db.session() as session:
        metas = session.scalars(
            select(ChatMessage.meta)
            .where(ChatMessage.conversation_id == conversation_id, ChatMessage.role == "bot")
            .order_by(ChatMessage.id.desc())
            .limit(RATEABLE_MESSAGES)
        )
        for meta in metas:
            if isinstance(meta, dict) and meta.get("type") == "answer" and meta.get("answer_id") == answer_id:
                version = meta.get("index_version")
                sources = [str(s["id"])[:200] for s in meta.get("sources") or [] if isinstance(s, dict) and s.get("id")]
                return ShownAnswer(answer_id, str(version)[:64] if version else None, sources[:20])
    return None


def rate_answer(
    db: Database,
    conversation_id: str,
    answer_id: str,
    rating: Literal[1, -1],
    reason: Reason | None = None,
    comment: str | None = None,
    limit: int = 1000,
) -> bool:
    """Store the user's 👍/👎 on one answer they were shown; False when there is no such answer.

    One row per answer and conversation: a second click (the reason after the 👎, or a change of
    mind) updates it, so the dashboard counts each answer once.  A reason only goes with a 👎; a
    👎 without one still counts.
    """
    shown = shown_answer(db, conversation_id, answer_id)
    if shown is None:
        return False
    text = redact(comment[: limit * 2])[:limit] if comment else None
    with db.session() as session:
        row = session.scalars(
            select(Feedback)
            .where(
                Feedback.conversation_id == conversation_id,
                Feedback.message_ref == answer_id,
                Feedback.rating != 0,
            )
            .order_by(Feedback.id.desc())
            .limit(1)
        ).first()
        if row is None:
            row = Feedback(conversation_id=conversation_id, message_ref=answer_id, context={})
            session.add(row)
        elif rating != row.rating:
            row.reason, row.comment = None, None  # a change of mind: the earlier reason no longer applies
        row.rating = rating
        row.reason = (reason or row.reason) if rating < 0 else None
        row.comment = text if text is not None else row.comment
        row.index_version = shown.index_version
        row.sources = shown.sources
    return True
