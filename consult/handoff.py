"""When a person must take over, and what the user is told when it happens.

The ticket itself is written by the desk (:mod:`desk.tickets`) *before* the
user is told it exists; the message then gives its number and what happens next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.messages import payload
from store.models import Ticket

REASONS = {
    "user_request": "您希望由人工继续处理",
    "needs_person": "这类事情（如收到律师函、法院传票，有期限要求）需要专业人员尽快评估",
    "low_confidence": "这个问题我没有把握准确回答",
    "nlu_fallback": "我没能准确理解您的问题",
    "application": "您提交了维权援助申请",
    "not_helpful": "刚才的回答没有解决您的问题",
    "error": "系统处理您的消息时出了点问题",
}

#: Intents whose matter needs a person whatever the retrieval says.
NEEDS_PERSON_INTENTS = frozenset({"received_legal_notice"})


@dataclass(frozen=True)
class Handoff:
    ticket_id: int
    number: str
    reason: str
    eta_hours: int


def transcript_from_events(events: list[dict[str, Any]], limit: int = 60) -> list[dict[str, Any]]:
    """User and bot turns of a Rasa tracker, oldest first (the last ``limit``)."""
    turns = []
    for event in events:
        kind = event.get("event")
        if kind not in ("user", "bot") or not event.get("text"):
            continue
        turn: dict[str, Any] = {"role": kind, "text": event["text"], "time": event.get("timestamp")}
        if kind == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            turn["intent"] = intent.get("name")
            turn["confidence"] = intent.get("confidence")
        turns.append(turn)
    return turns[-limit:]


def handoff_message(ticket: Ticket, reason: str, eta_hours: int, why: str | None = None) -> tuple[str, dict[str, Any]]:
    """What the user is told once the ticket exists (``why`` replaces the reason's usual words)."""
    why = why or REASONS.get(reason, "需要人工处理")
    due, created = ticket.due_first_response_at, ticket.created_at
    if due is not None and created is not None:
        eta_hours = max(1, round((due.replace(tzinfo=None) - created.replace(tzinfo=None)).total_seconds() / 3600))
    text = (
        f"{why}，已为您转交人工专家（工单号 {ticket.number}）。\n"
        f"专家一般会在 {eta_hours} 小时内（工作时间）在这里回复您；您可以先离开，回来后在本对话中查看回复。"
        "刚才的对话记录已一并转交，不需要重复说明。\n"
        "如情况紧急（例如法院或律师函给出的期限临近），也可以拨打 12330 知识产权维权援助热线。"
    )
    meta = payload(
        "handoff",
        reason=reason,
        ticket={"number": ticket.number, "eta_hours": eta_hours, "priority": ticket.priority},
    )
    return text, meta
