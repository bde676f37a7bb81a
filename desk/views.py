"""What experts and admins see of the queue: ticket lists, summaries, one ticket in full."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select, true

from core.errors import PermissionDenied
from desk.lifecycle import STATUS_LABELS, Actor, TicketLifecycle, aware
from desk.routing import OPEN_STATUSES
from store.audit import record_audit
from store.models import Ticket, utcnow


def visible_to(actor: Actor) -> Any:
    """Which tickets a person may see: admins all; an expert their own and the unassigned pool."""
    if actor.role == "admin":
        return true()
    return (
        (Ticket.assigned_expert == actor.expert_id) | (Ticket.claimed_by == actor.username) | (Ticket.status == "open")
    )


def owns(ticket: Ticket, actor: Actor) -> bool:
    """Whether the contact details of ``ticket`` are for ``actor`` (admins, and the expert handling it)."""
    if actor.role == "admin":
        return True
    return bool(ticket.claimed_by == actor.username or (actor.expert_id and ticket.assigned_expert == actor.expert_id))


class TicketViews(TicketLifecycle):
    def queue(self, actor: Actor, scope: str = "mine", **filters: str | None) -> list[dict[str, Any]]:
        with self.db.session() as session:
            # urgent first (a deadline, a lawsuit received), then the SLA clock: never alphabetical
            urgency = case((Ticket.priority == "high", 0), else_=1)
            query = (
                select(Ticket)
                .where(visible_to(actor))
                .order_by(urgency, Ticket.due_first_response_at, Ticket.created_at)
            )
            if scope == "mine" and actor.role != "admin":
                query = query.where((Ticket.assigned_expert == actor.expert_id) | (Ticket.claimed_by == actor.username))
            if scope in ("mine", "open"):
                query = query.where(Ticket.status.in_(OPEN_STATUSES))
            elif scope == "pool":
                query = query.where(Ticket.status == "open")
            for name in ("ip_type", "region", "priority", "kind"):
                value = filters.get(name)
                if value:
                    query = query.where(getattr(Ticket, name) == value)
            return [self.summary(t) for t in session.scalars(query.limit(300))]

    def summary(self, ticket: Ticket) -> dict[str, Any]:
        now = utcnow()
        due_first = aware(ticket.due_first_response_at)
        due_done = aware(ticket.due_resolution_at)
        first_question = next((t["text"] for t in ticket.transcript if t.get("role") == "user"), None)
        return {
            "number": ticket.number,
            "kind": ticket.kind,
            "status": ticket.status,
            "status_label": STATUS_LABELS.get(ticket.status, ticket.status),
            "reason": ticket.reason,
            "priority": ticket.priority,
            "ip_type": ticket.ip_type,
            "region": ticket.region,
            "channel": ticket.channel,
            "assigned_expert": ticket.assigned_expert,
            "claimed_by": ticket.claimed_by,
            "bot_paused": ticket.bot_paused,
            "created_at": aware(ticket.created_at).isoformat() if ticket.created_at else None,  # type: ignore[union-attr]
            "first_response_at": ticket.first_response_at.isoformat() if ticket.first_response_at else None,
            "due_first_response_at": due_first.isoformat() if due_first else None,
            "due_resolution_at": due_done.isoformat() if due_done else None,
            "first_response_overdue": bool(due_first and not ticket.first_response_at and now > due_first),
            "minutes_to_first_response": round((due_first - now).total_seconds() / 60) if due_first else None,
            "reroutes": ticket.reroutes,
            "preview": (ticket.description or first_question or "")[:80],
        }

    def detail(self, number: str, viewer: Actor | None = None) -> dict[str, Any]:
        """One ticket in full.  ``viewer``: the person reading (``None``: the system itself).  An expert
        sees only their own tickets and the unassigned pool, and contact details only of their own;
        every time a person is shown contact details, the audit trail records it."""
        with self.db.session() as session:
            ticket = self._get(session, number)
            if viewer is not None and viewer.role != "admin":
                mine = owns(ticket, viewer)
                if not mine and ticket.status != "open":
                    raise PermissionDenied("这张工单已由其他专家处理，您没有查看权限")
            show_contact = viewer is None or owns(ticket, viewer)
            if viewer is not None and show_contact and (ticket.phone or ticket.contact_name or ticket.company_name):
                record_audit(session, viewer.username, "ticket.contact_read", "ticket", ticket.number)
            messages = [
                {
                    "role": m.author_role,
                    "author": m.author,
                    "text": m.body,
                    "internal": m.internal,
                    "time": aware(m.created_at).isoformat() if m.created_at else None,  # type: ignore[union-attr]
                }
                for m in ticket.messages
            ]
            return {
                **self.summary(ticket),
                "transcript": ticket.transcript,
                "retrieval": ticket.retrieval,
                "messages": messages,
                "contact": {
                    "company_name": ticket.company_name,
                    "contact_name": ticket.contact_name,
                    "phone": ticket.phone,
                    "description": ticket.description,
                    "consent": ticket.consent,
                }
                if show_contact
                else None,
                "contact_hidden": not show_contact,
                "conversation_id": ticket.conversation_id,
                "resolution": ticket.resolution,
            }

    # -- what experts do -------------------------------------------------------------
