"""Personal data is kept no longer than the retention setting (PIPL: storage limited to what the purpose needs).

What goes after ``privacy.retention_days`` (default 180):

* chat messages (the widget's history), unless their conversation still has a ticket being handled;
* on tickets resolved or closed before the cutoff: the transcript, contact details, description and
  what the bot retrieved; the ticket row itself stays (kind, IP type, region, times, resolution) for
  the centre's yearly statistics; the ticket's messages are deleted;
* free-text feedback comments (the 👍/👎 rating stays);
* a ticket's pseudonymous client reference after one day (it only serves the 24-hour ticket limit);
* the Rasa tracker store's events (the conversations Rasa remembers).

The audit trail keeps who did what, never message text.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlalchemy import create_engine, delete, inspect, select, text, update

from store.db import Database
from store.models import ChatMessage, Feedback, Ticket, TicketMessage, utcnow

log = logging.getLogger(__name__)

HANDLED = ("resolved", "closed")


def purge_personal_data(
    db: Database, retention_days: float, now: dt.datetime | None = None, tracker_url: str | None = None
) -> dict[str, int]:
    """Remove personal data older than ``retention_days``; counts of what was removed."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    counts: dict[str, int] = {}
    with db.session() as session:
        active = select(Ticket.conversation_id).where(
            Ticket.status.not_in(HANDLED), Ticket.conversation_id.is_not(None)
        )
        gone = session.execute(
            delete(ChatMessage)
            .where(ChatMessage.created_at < cutoff, ChatMessage.conversation_id.not_in(active))
            .execution_options(synchronize_session=False)
        )
        counts["chat_messages"] = int(getattr(gone, "rowcount", 0) or 0)
        old = session.scalars(select(Ticket).where(Ticket.status.in_(HANDLED), Ticket.resolved_at < cutoff))
        ids = [
            t.id
            for t in old
            if t.transcript or t.retrieval or t.phone or t.contact_name or t.company_name or t.description or t.messages
        ]
        if ids:
            session.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(ids)))
            session.execute(
                update(Ticket)
                .where(Ticket.id.in_(ids))
                .values(company_name=None, contact_name=None, phone=None, description=None, transcript=[], retrieval={})
            )
        counts["tickets"] = len(ids)
        cleared = session.execute(
            update(Feedback)
            .where(Feedback.created_at < cutoff, Feedback.comment.is_not(None))
            .values(comment=None, context={})
        )
        counts["feedback_comments"] = int(getattr(cleared, "rowcount", 0) or 0)
        day_ago = (now or utcnow()) - dt.timedelta(days=1)
        refs = session.execute(
            update(Ticket).where(Ticket.created_at < day_ago, Ticket.client_ref.is_not(None)).values(client_ref=None)
        )
        counts["client_refs"] = int(getattr(refs, "rowcount", 0) or 0)
    counts["tracker_events"] = _purge_tracker(tracker_url, cutoff) if tracker_url else 0
    if any(counts.values()):
        log.info("retention: removed personal data older than %s days: %s", retention_days, counts)
    return counts


def _purge_tracker(url: str, cutoff: dt.datetime) -> int:
    """Delete Rasa tracker-store events older than the cutoff (its ``events`` table, SQLite or PostgreSQL)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return 0
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table("events"):
                return 0
            result = connection.execute(
                text("DELETE FROM events WHERE timestamp < :cutoff"), {"cutoff": cutoff.timestamp()}
            )
            return int(result.rowcount or 0)
    finally:
        engine.dispose()
