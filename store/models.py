"""SQLAlchemy models (the migrations in store/migrations create exactly these tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Ticket(Base):
    """A conversation handed over to people, or an assistance application."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # handoff | application | hotline
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    reason: Mapped[str] = mapped_column(String(32))  # low_confidence | user_request | needs_person | ...
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    #: pseudonymous website client (keyed hash of its address) for the per-client ticket limit
    client_ref: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    channel: Mapped[str] = mapped_column(String(16), default="rest")
    ip_type: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(32))
    company_name: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    transcript: Mapped[list[Any]] = mapped_column(JSON, default=list)
    retrieval: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # the expert desk (migration 0003)
    #: While True the bot stays quiet on this conversation; an expert hands it back.
    bot_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_expert: Mapped[str | None] = mapped_column(String(80), index=True)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    first_response_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    due_first_response_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    due_resolution_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(32))
    reroutes: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(64))
    #: "enterprise" or "individual" for applications (migration 0005): kept after retention clears the
    #: company name, for the centre's yearly "SMEs served" figure
    applicant: Mapped[str | None] = mapped_column(String(16), default=None)

    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan"
    )


class TicketMessage(Base):
    """A message on a ticket: from the user, the bot, an expert, or an internal note."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_role: Mapped[str] = mapped_column(String(16))  # user | bot | expert | agent | system
    author: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class Feedback(Base):
    """👍/👎 on a bot answer, or free-text feedback (stored redacted)."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    message_ref: Mapped[str | None] = mapped_column(String(128))
    rating: Mapped[int] = mapped_column(Integer, default=0)  # +1, -1, 0 for comments
    comment: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: what was wrong with a 👎'd answer (off_point | wrong_basis | too_general | other), optional (0006)
    reason: Mapped[str | None] = mapped_column(String(16))
    #: the index version the rated answer came from, read from the stored answer (never from the client)
    index_version: Mapped[str | None] = mapped_column(String(64), index=True)
    #: ids of the sources the rated answer showed (``entry/…``, ``policy/…/第十一条``), from the stored answer
    sources: Mapped[list[str] | None] = mapped_column(JSON, default=list)


class AuditEntry(Base):
    """Who did what to which record, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class User(Base):
    """A staff account: hotline agent, expert or admin (passwords hashed with argon2)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # agent | expert | admin
    expert_id: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser session (server side, so logout and deactivation take effect at once)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ChatMessage(Base):
    """One message of a website-widget conversation, so the widget can replay it after a reload."""

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | bot | expert | system
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KnowledgeDraft(Base):
    """An expert's reusable reply, waiting for an admin to review and publish it as an entry."""

    __tablename__ = "knowledge_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)  # draft | published | rejected
    question: Mapped[str] = mapped_column(Text)
    variants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    ip_type: Mapped[str] = mapped_column(String(32))
    references: Mapped[list[Any]] = mapped_column(JSON, default=list)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    entry_id: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)


class TurnRecord(Base):
    """One user message of a widget conversation and what the bot did with it (migration 0005).

    The analytics dashboard counts these rows.  The figures (day, outcome, tier, confidence, IP
    type, service, region, channel) carry nothing personal and stay for the yearly statistics;
    ``text`` (already redacted) and ``conversation_id`` are cleared after ``privacy.retention_days``.
    """

    __tablename__ = "analytics_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    #: the calendar day in China time (reports are by local day)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    #: the first user message of its conversation (conversations are counted on the day they start)
    opens_conversation: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16), default="widget")
    #: answer | clarify | handoff | out_of_scope | form | info | silent | expert | other
    outcome: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    ip_type: Mapped[str | None] = mapped_column(String(32))
    service: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(32))
    #: a new hand-over ticket was opened in this turn
    handed_over: Mapped[bool] = mapped_column(Boolean, default=False)
    bot_messages: Mapped[int] = mapped_column(Integer, default=0)
    #: joins 👍/👎 (``Feedback.message_ref``) to the answer's tier and the index version it came from
    answer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    index_version: Mapped[str | None] = mapped_column(String(64))
    #: what the user wrote, redacted (core.redact) and cut to 500 characters; cleared after retention
    text: Mapped[str | None] = mapped_column(Text)
