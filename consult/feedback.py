"""What users say about the answers: one function writes every feedback row (buttons and free text)."""

from __future__ import annotations

from typing import Any

from core.redact import redact
from store.db import Database
from store.models import Feedback


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
