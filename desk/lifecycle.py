"""The life of a ticket: open and route, SLA sweeps, claim, reply, notes, hand back, close.

Every operation is one database transaction and leaves an audit entry.
A ticket is always committed before anyone is told about it; routing is a
separate step, so a crash in between leaves an unassigned ticket that the
next sweep routes (nothing is lost).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from core.errors import NotFound, WeiyuanError
from core.experts import Expert
from core.settings import Settings
from desk.experts import load_experts
from desk.routing import OPEN_STATUSES, choose_expert
from desk.tickets import create_ticket
from store.audit import record_audit
from store.db import Database
from store.models import ChatMessage, Ticket, TicketMessage, utcnow

RESOLUTIONS = {
    "answered": "已答复",
    "referred_mediation": "转调解",
    "referred_enforcement": "转行政执法",
    "referred_court": "建议诉讼",
    "application_accepted": "援助申请已受理",
    "no_response": "用户未回复",
    "duplicate": "重复",
    "spam": "无效/骚扰",
}
STATUS_LABELS = {
    "open": "待分派",
    "assigned": "已分派",
    "in_progress": "处理中",
    "resolved": "已解决",
    "closed": "已关闭",
}


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; all stored times are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


@dataclass(frozen=True)
class Actor:
    username: str
    display_name: str
    role: str
    expert_id: str | None = None


class TicketLifecycle:
    """Open, route, sweep, claim, reply, note, hand back, close: the life of a ticket."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    # -- experts and load ----------------------------------------------------------
    def experts(self) -> list[Expert]:
        return load_experts(self.settings.knowledge_dir)

    def loads(self) -> dict[str, int]:
        with self.db.session() as session:
            rows = session.execute(
                select(Ticket.assigned_expert, func.count())
                .where(Ticket.status.in_(OPEN_STATUSES), Ticket.assigned_expert.is_not(None))
                .group_by(Ticket.assigned_expert)
            )
            return {str(expert): int(count) for expert, count in rows}

    def due_times(self, priority: str, created: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        factor = 0.5 if priority == "high" else 1.0
        desk = self.settings.desk
        return (
            created + dt.timedelta(hours=desk.first_response_hours * factor),
            created + dt.timedelta(hours=desk.resolution_hours * factor),
        )

    # -- opening and routing -------------------------------------------------------
    def open_ticket(self, **fields: Any) -> Ticket:
        """Durably create a ticket (hand-off, application or hotline), then route it."""
        ticket = create_ticket(self.db, **fields)
        with self.db.session() as session:
            stored = session.get(Ticket, ticket.id)
            assert stored is not None
            created = aware(stored.created_at) or utcnow()
            stored.due_first_response_at, stored.due_resolution_at = self.due_times(stored.priority, created)
        self.route(ticket.id)
        with self.db.session() as session:
            fresh = session.get(Ticket, ticket.id)
            assert fresh is not None
            return fresh

    def route(self, ticket_id: int, exclude: tuple[str, ...] = (), actor: str = "system") -> str | None:
        with self.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.status not in ("open", "assigned"):
                return None
            expert = choose_expert(self.experts(), self.loads(), ticket.ip_type, ticket.region, exclude)
            previous = ticket.assigned_expert
            ticket.assigned_expert = expert.id if expert else None
            ticket.assigned_at = utcnow() if expert else None
            ticket.status = "assigned" if expert else "open"
            if previous and expert and previous != expert.id:
                ticket.reroutes += 1
            record_audit(
                session,
                actor,
                "ticket.route" if not previous else "ticket.reroute",
                "ticket",
                ticket.number,
                **{"from": previous, "to": expert.id if expert else None},
            )
            return expert.id if expert else None

    def sweep(self, now: dt.datetime | None = None) -> dict[str, int]:
        """Route waiting tickets; move assigned-but-unclaimed ones to the next expert after the timeout."""
        now = now or utcnow()
        timeout = dt.timedelta(minutes=self.settings.desk.claim_timeout_minutes)
        routed = rerouted = 0
        with self.db.session() as session:
            waiting = [t.id for t in session.scalars(select(Ticket).where(Ticket.status == "open"))]
            stale = [
                (t.id, t.assigned_expert)
                for t in session.scalars(select(Ticket).where(Ticket.status == "assigned"))
                if (assigned := aware(t.assigned_at)) is not None and now - assigned >= timeout
            ]
        for ticket_id in waiting:
            routed += self.route(ticket_id) is not None
        for ticket_id, expert in stale:
            new = self.route(ticket_id, exclude=(expert,) if expert else ())
            rerouted += new is not None and new != expert
        return {"routed": routed, "rerouted": rerouted}

    # -- what experts see ------------------------------------------------------------
    def _get(self, session: Any, number: str) -> Ticket:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is None:
            raise NotFound(f"工单 {number} 不存在")
        return ticket  # type: ignore[no-any-return]

    def _audit(self, session: Any, actor: Actor, action: str, number: str | None, **detail: Any) -> None:
        record_audit(session, actor.username, action, "ticket", number, **detail)

    def claim(self, number: str, actor: Actor) -> None:
        with self.db.session() as session:
            ticket = self._get(session, number)
            if ticket.status not in OPEN_STATUSES:
                raise WeiyuanError("工单已结束，不能认领")
            if ticket.claimed_by and ticket.claimed_by != actor.username:
                raise WeiyuanError(f"工单已由 {ticket.claimed_by} 认领")
            ticket.claimed_by, ticket.claimed_at, ticket.status = actor.username, utcnow(), "in_progress"
            if actor.expert_id:
                ticket.assigned_expert = actor.expert_id
            self._audit(session, actor, "ticket.claim", number)

    def _require_owner(self, ticket: Ticket, actor: Actor) -> None:
        if actor.role != "admin" and ticket.claimed_by != actor.username:
            raise WeiyuanError("请先认领这个工单")

    def reply(self, number: str, actor: Actor, text: str) -> None:
        """An expert's reply: on the ticket and in the user's chat (shown live or on return)."""
        text = text.strip()
        if not text:
            raise WeiyuanError("回复内容不能为空")
        with self.db.session() as session:
            ticket = self._get(session, number)
            self._require_owner(ticket, actor)
            session.add(TicketMessage(ticket_id=ticket.id, author_role="expert", author=actor.display_name, body=text))
            if ticket.conversation_id:
                session.add(
                    ChatMessage(
                        conversation_id=ticket.conversation_id,
                        role="expert",
                        text=text,
                        author=actor.display_name,
                        meta={"type": "expert_reply", "ticket": number},
                    )
                )
            ticket.first_response_at = ticket.first_response_at or utcnow()
            self._audit(session, actor, "ticket.reply", number)

    def note(self, number: str, actor: Actor, text: str) -> None:
        if not text.strip():
            raise WeiyuanError("备注不能为空")
        with self.db.session() as session:
            ticket = self._get(session, number)
            session.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    author_role="expert",
                    author=actor.display_name,
                    body=text.strip(),
                    internal=True,
                )
            )
            self._audit(session, actor, "ticket.note", number)

    def hand_back(self, number: str, actor: Actor) -> None:
        """The bot answers this conversation again."""
        with self.db.session() as session:
            ticket = self._get(session, number)
            self._require_owner(ticket, actor)
            ticket.bot_paused = False
            self._system_message(session, ticket, "人工专家已结束本次服务，之后由维援机器人继续为您解答。")
            self._audit(session, actor, "ticket.hand_back", number)

    def close(self, number: str, actor: Actor, resolution: str) -> None:
        if resolution not in RESOLUTIONS:
            raise WeiyuanError(f"请选择处理结果：{'、'.join(RESOLUTIONS.values())}")
        with self.db.session() as session:
            ticket = self._get(session, number)
            self._require_owner(ticket, actor)
            was_paused = ticket.bot_paused
            ticket.status, ticket.resolution, ticket.resolved_at, ticket.bot_paused = (
                "resolved",
                resolution,
                utcnow(),
                False,
            )
            if was_paused:
                self._system_message(session, ticket, "本次人工服务已结束，之后由维援机器人继续为您解答。")
            self._audit(session, actor, "ticket.close", number, resolution=resolution)

    def _system_message(self, session: Any, ticket: Ticket, text: str) -> None:
        if ticket.conversation_id:
            session.add(
                ChatMessage(
                    conversation_id=ticket.conversation_id,
                    role="system",
                    text=text,
                    meta={"type": "info", "ticket": ticket.number},
                )
            )

    def paused_ticket(self, conversation_id: str) -> Ticket | None:
        with self.db.session() as session:
            return session.scalar(
                select(Ticket)
                .where(
                    Ticket.conversation_id == conversation_id,
                    Ticket.bot_paused.is_(True),
                    Ticket.status.in_(OPEN_STATUSES),
                )
                .order_by(Ticket.id.desc())
            )

    def route_user_message(self, conversation_id: str, text: str) -> bool:
        """User messages of a handed-over conversation reach the ticket; the bot stays silent only
        once an expert has taken the conversation (before that it keeps answering follow-ups)."""
        ticket = self.paused_ticket(conversation_id)
        if ticket is None:
            return False
        with self.db.session() as session:
            session.add(TicketMessage(ticket_id=ticket.id, author_role="user", body=text))
        return ticket.status == "in_progress"
