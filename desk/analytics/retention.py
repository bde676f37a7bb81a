"""The analytics keep their figures; what a user wrote and which conversation it was go after the retention time."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, update

from store.db import Database
from store.models import TurnRecord, utcnow


def purge_analytics_text(db: Database, retention_days: float, now: dt.datetime | None = None) -> int:
    """Clear the (redacted) text and the conversation id of records older than ``retention_days``."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    with db.session() as session:
        result = session.execute(
            update(TurnRecord)
            .where(
                TurnRecord.created_at < cutoff,
                or_(TurnRecord.text.is_not(None), TurnRecord.conversation_id.is_not(None)),
            )
            .values(text=None, conversation_id=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)
