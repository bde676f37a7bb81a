"""Opening tickets: the durable record that hands a conversation to a person.

Every way a ticket is opened (the bot's hand-over, the assistance application,
hotline intake) goes through :func:`create_ticket`, which commits the ticket,
its number, its priority and its audit entry together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from store.audit import record_audit
from store.db import Database
from store.models import Ticket, utcnow

#: Reasons whose tickets go to the front of the queue.
PRIORITY = {"needs_person": "high"}


def ticket_number(ticket_id: int, when: dt.datetime) -> str:
    return f"WY{when:%y%m%d}-{ticket_id:05d}"


def create_ticket(
    db: Database,
    *,
    kind: str,
    reason: str,
    conversation_id: str | None,
    client_ref: str | None = None,
    channel: str = "rest",
    ip_type: str | None = None,
    region: str | None = None,
    transcript: list[dict[str, Any]] | None = None,
    retrieval: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
    actor: str = "bot",
) -> Ticket:
    """Write the ticket durably (committed when this returns)."""
    values: dict[str, Any] = {
        "kind": kind,
        "reason": reason,
        "status": "open",
        "priority": PRIORITY.get(reason, "normal"),
        "conversation_id": conversation_id,
        "client_ref": client_ref,
        "channel": channel,
        "ip_type": ip_type,
        "region": region,
        "transcript": transcript or [],
        "retrieval": retrieval or {},
        "bot_paused": kind == "handoff",
    }
    values.update(fields or {})
    if kind == "application":
        values["applicant"] = applicant_kind(values.get("company_name"))
    with db.session() as session:
        ticket = Ticket(**values)
        session.add(ticket)
        session.flush()
        ticket.number = ticket_number(ticket.id, ticket.created_at)
        record_audit(session, actor, f"ticket.create.{kind}", "ticket", ticket.number, reason=reason, channel=channel)
    return ticket


def applicant_kind(company_name: object) -> str:
    """An application names a company or organisation ("enterprise") or is made as a person ("individual").

    Kept on the ticket after retention clears the name, so the yearly "SMEs served" figure survives.
    """
    name = str(company_name or "").strip()
    if not name or "个人" in name or name in ("无", "没有", "本人", "自己"):
        return "individual"
    return "enterprise"


def tickets_from_client(db: Database, client_ref: str, hours: float = 24) -> int:
    """How many tickets one website client opened in the last ``hours`` (the per-client limit)."""
    since = utcnow() - dt.timedelta(hours=hours)
    with db.session() as session:
        count = session.scalar(
            select(func.count(Ticket.id)).where(Ticket.client_ref == client_ref, Ticket.created_at >= since)
        )
        return int(count or 0)


def open_ticket_for(db: Database, conversation_id: str) -> Ticket | None:
    """The conversation's ticket that is still being handled, if any."""
    with db.session() as session:
        return session.scalars(
            select(Ticket)
            .where(Ticket.conversation_id == conversation_id, Ticket.status.not_in(("resolved", "closed")))
            .order_by(Ticket.id.desc())
        ).first()
