"""What users say about the answers: one function writes every feedback row (buttons and free text)."""

from __future__ import annotations

import re
from typing import Any

from core.redact import redact
from store.db import Database
from store.models import Feedback

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
