"""One analytics record per widget user message: what the bot did with it, read from its replies' payloads.

The payload every bot message carries (``core.messages``) already says the outcome (answer tier,
clarification, hand-over, decline, form, info), the retrieval confidence and, since migration 0005,
the IP type, region and services; a silent turn is the gateway's own reply.  The user's text is
kept redacted only (``core.redact``), and cleared after the retention time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.redact import redact
from desk.analytics.period import local_day
from store.models import TurnRecord, utcnow

#: Main outcomes in the order a turn's replies are read (the first one found is the turn's outcome).
OUTCOMES = ("answer", "clarify", "handoff", "out_of_scope", "form", "info")
TEXT_LIMIT = 500


@dataclass(frozen=True)
class TurnFacts:
    """What one turn's replies say, ready to be stored."""

    outcome: str
    tier: str | None = None
    confidence: float | None = None
    ip_type: str | None = None
    service: str | None = None
    region: str | None = None
    handed_over: bool = False
    answer_id: str | None = None
    index_version: str | None = None
    bot_messages: int = 0


def _text(value: object, limit: int) -> str | None:
    return str(value)[:limit] if isinstance(value, str) and value else None


def _main_ip_type(meta: dict[str, Any]) -> str | None:
    """The turn's own IP type, else the first specific one among the answer's sources."""
    if isinstance(meta.get("ip_type"), str) and meta["ip_type"]:
        return str(meta["ip_type"])
    types = [t for t in meta.get("ip_types") or [] if isinstance(t, str)]
    specific = [t for t in types if t != "general"]
    chosen = specific or types
    return chosen[0] if chosen else None


def classify(replies: list[dict[str, Any]], *, with_expert: bool = False) -> TurnFacts:
    """Read a turn's outcome from its bot replies (``with_expert``: an expert has the conversation)."""
    if with_expert:
        return TurnFacts(outcome="expert")
    metas = [r.get("meta") or {} for r in replies]
    metas = [m for m in metas if isinstance(m, dict)]
    handed = any(m.get("type") == "handoff" and not m.get("existing") and m.get("ticket") for m in metas)
    if any(m.get("silent_turn") for m in metas):
        return TurnFacts(outcome="silent", bot_messages=len(replies))
    main = next((m for m in metas if m.get("type") in OUTCOMES), {})
    outcome = str(main.get("type") or "other")
    confidence = main.get("confidence")
    services = [s for s in main.get("services") or [] if isinstance(s, str)]
    return TurnFacts(
        outcome=outcome,
        tier=_text(main.get("tier"), 16) if outcome == "answer" else None,
        confidence=float(confidence) if isinstance(confidence, int | float) and 0 <= confidence <= 1 else None,
        ip_type=_text(_main_ip_type(main), 32),
        service=_text(services[0] if services else None, 40),
        region=_text(main.get("region"), 32),
        handed_over=handed,
        answer_id=_text(main.get("answer_id"), 32) if outcome == "answer" else None,
        index_version=_text(main.get("index_version"), 64),
        bot_messages=len(replies),
    )


def record_turn(
    session: Session,
    *,
    conversation_id: str,
    text: str,
    facts: TurnFacts,
    channel: str = "widget",
    at: dt.datetime | None = None,
) -> TurnRecord:
    """Add the record in the caller's transaction (the gateway's, with the replies it stores)."""
    at = at or utcnow()
    seen = session.scalar(select(TurnRecord.id).where(TurnRecord.conversation_id == conversation_id).limit(1))
    record = TurnRecord(
        created_at=at,
        day=local_day(at),
        conversation_id=conversation_id,
        opens_conversation=seen is None,
        channel=channel,
        outcome=facts.outcome,
        tier=facts.tier,
        confidence=facts.confidence,
        ip_type=facts.ip_type,
        service=facts.service,
        region=facts.region,
        handed_over=facts.handed_over,
        bot_messages=facts.bot_messages,
        answer_id=facts.answer_id,
        index_version=facts.index_version,
        # redacted before it is cut, so a number at the cut cannot survive half-masked
        text=redact(text[: TEXT_LIMIT * 2])[:TEXT_LIMIT] if text else None,
    )
    session.add(record)
    return record
