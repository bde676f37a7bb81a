"""Desk operations: open and route tickets, SLA sweeps, claim, reply, notes, hand back, close, drafts.

Every operation is one database transaction and leaves an audit entry.
A ticket is always committed before anyone is told about it; routing is a
separate step, so a crash in between leaves an unassigned ticket that the
next sweep routes (nothing is lost).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import func, select

from core.errors import WeiyuanError
from core.experts import Expert
from core.settings import Settings
from core.vocabulary import IP_TYPES
from desk.experts import load_experts
from desk.routing import OPEN_STATUSES, choose_expert
from desk.tickets import create_ticket
from index import editing
from store.audit import record_audit
from store.db import Database
from store.models import ChatMessage, KnowledgeDraft, Ticket, TicketMessage, utcnow

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


class Desk:
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
    def queue(self, actor: Actor, scope: str = "mine", **filters: str | None) -> list[dict[str, Any]]:
        with self.db.session() as session:
            query = select(Ticket).order_by(Ticket.priority.desc(), Ticket.created_at)
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

    def detail(self, number: str) -> dict[str, Any]:
        with self.db.session() as session:
            ticket = self._get(session, number)
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
                },
                "conversation_id": ticket.conversation_id,
                "resolution": ticket.resolution,
            }

    # -- what experts do -------------------------------------------------------------
    def _get(self, session: Any, number: str) -> Ticket:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is None:
            raise WeiyuanError(f"工单 {number} 不存在")
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

    async def route_user_message(self, conversation_id: str, text: str) -> bool:
        """User messages of a handed-over conversation reach the ticket; the bot stays silent only
        once an expert has taken the conversation (before that it keeps answering follow-ups)."""
        ticket = self.paused_ticket(conversation_id)
        if ticket is None:
            return False
        with self.db.session() as session:
            session.add(TicketMessage(ticket_id=ticket.id, author_role="user", body=text))
        return ticket.status == "in_progress"

    def open_hotline_ticket(self, actor: Actor, fields: dict[str, Any]) -> Ticket:
        """An agent opens a ticket for a caller."""
        ip_type = fields.get("ip_type") or None
        if ip_type and ip_type not in IP_TYPES:
            raise WeiyuanError("知识产权类型无效")
        description = str(fields.get("description") or "").strip()
        if len(description) < 5:
            raise WeiyuanError("请填写来电人反映的情况（至少 5 个字）")
        phone = str(fields.get("phone") or "").strip()
        if phone and not re.fullmatch(r"[0-9+\- ]{7,20}", phone):
            raise WeiyuanError("电话号码格式不正确")
        priority = fields.get("priority") if fields.get("priority") in ("normal", "high") else "normal"
        ticket = self.open_ticket(
            kind="hotline",
            reason="hotline",
            conversation_id=None,
            channel="hotline",
            ip_type=ip_type,
            region=fields.get("region") or None,
            retrieval={"query": fields.get("query") or ""},
            fields={
                "contact_name": str(fields.get("contact_name") or "")[:100] or None,
                "phone": phone or None,
                "description": description[:4000],
                "consent": bool(fields.get("consent")),
                "created_by": actor.username,
                "priority": priority,
            },
            actor=actor.username,
        )
        return ticket

    # -- reusable answers ------------------------------------------------------------
    def create_draft(self, number: str | None, actor: Actor, data: dict[str, Any]) -> int:
        question = str(data.get("question") or "").strip()
        answer = str(data.get("answer") or "").strip()
        ip_type = str(data.get("ip_type") or "general")
        if len(question) < 4 or len(answer) < 20:
            raise WeiyuanError("请填写问题（至少 4 个字）和回答（至少 20 个字）")
        if ip_type not in IP_TYPES:
            raise WeiyuanError("知识产权类型无效")
        references = [
            r for r in data.get("references") or [] if isinstance(r, dict) and r.get("law") and r.get("article")
        ]
        variants = [str(v).strip() for v in data.get("variants") or [] if str(v).strip()]
        with self.db.session() as session:
            ticket_id = self._get(session, number).id if number else None
            draft = KnowledgeDraft(
                question=question,
                answer=answer,
                ip_type=ip_type,
                ticket_id=ticket_id,
                created_by=actor.username,
                references=[{"law": r["law"], "article": r["article"]} for r in references],
                variants=variants,
            )
            session.add(draft)
            session.flush()
            record_audit(session, actor.username, "draft.create", "draft", str(draft.id), ticket=number)
            return draft.id

    def drafts(self, status: str = "draft") -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(
                select(KnowledgeDraft).where(KnowledgeDraft.status == status).order_by(KnowledgeDraft.id.desc())
            )
            return [
                {
                    "id": d.id,
                    "status": d.status,
                    "question": d.question,
                    "variants": d.variants,
                    "answer": d.answer,
                    "ip_type": d.ip_type,
                    "references": d.references,
                    "created_by": d.created_by,
                    "created_at": aware(d.created_at).isoformat() if d.created_at else None,  # type: ignore[union-attr]
                    "entry_id": d.entry_id,
                }
                for d in rows
            ]

    def publish_draft(self, draft_id: int, actor: Actor, edits: dict[str, Any]) -> str:
        """Append the (edited) draft to the expert-answers file; validated like any knowledge change."""
        with self.db.session() as session:
            draft = session.get(KnowledgeDraft, draft_id)
            if draft is None or draft.status != "draft":
                raise WeiyuanError("这条草稿不存在或已处理")
            for key in ("question", "answer", "ip_type", "references", "variants"):
                if key in edits and edits[key] is not None:
                    setattr(draft, key, edits[key])
            entry_id = f"expert-answer-{draft.id}"
            root = self.settings.knowledge_dir
            rel = self.settings.desk.drafts_file
            path = root / rel
            current = yaml.safe_load(path.read_text("utf-8")) if path.exists() else None
            data: dict[str, Any] = current if isinstance(current, dict) else {}
            data.setdefault("provenance", "由本中心专家在人工答复中撰写，经管理员审核后发布（weiyuan 专家工作台）。")
            entries: list[Any] = data.setdefault("entries", [])
            entries.append(
                {
                    "id": entry_id,
                    "question": draft.question,
                    "variants": list(draft.variants or []),
                    "answer": draft.answer,
                    "ip_type": draft.ip_type,
                    "services": ["consultation"],
                    "region": "全国",
                    "references": list(draft.references or []),
                }
            )
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
            editing.write_file(root, rel, text, self.settings.data_dir / "knowledge-history")
            draft.status, draft.reviewed_by, draft.reviewed_at, draft.entry_id = (
                "published",
                actor.username,
                utcnow(),
                entry_id,
            )
            record_audit(session, actor.username, "draft.publish", "draft", str(draft.id), entry=entry_id)
            return entry_id

    def reject_draft(self, draft_id: int, actor: Actor, note: str) -> None:
        with self.db.session() as session:
            draft = session.get(KnowledgeDraft, draft_id)
            if draft is None or draft.status != "draft":
                raise WeiyuanError("这条草稿不存在或已处理")
            draft.status, draft.reviewed_by, draft.reviewed_at, draft.note = "rejected", actor.username, utcnow(), note
            record_audit(session, actor.username, "draft.reject", "draft", str(draft.id))
