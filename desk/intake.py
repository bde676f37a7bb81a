"""Hotline intake: an agent opens a ticket for a caller."""

from __future__ import annotations

from typing import Any

from core.contact import normalize_phone
from core.errors import WeiyuanError
from core.vocabulary import IP_TYPES
from desk.lifecycle import Actor, TicketLifecycle
from store.models import Ticket


class HotlineIntake(TicketLifecycle):
    def open_hotline_ticket(self, actor: Actor, fields: dict[str, Any]) -> Ticket:
        """An agent opens a ticket for a caller."""
        ip_type = fields.get("ip_type") or None
        if ip_type and ip_type not in IP_TYPES:
            raise WeiyuanError("知识产权类型无效")
        description = str(fields.get("description") or "").strip()
        if len(description) < 5:
            raise WeiyuanError("请填写来电人反映的情况（至少 5 个字）")
        given = str(fields.get("phone") or "").strip()
        phone = normalize_phone(given) if given else None
        if given and phone is None:
            raise WeiyuanError("电话号码格式不正确：请填写 11 位手机号，或带区号的固定电话")
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
