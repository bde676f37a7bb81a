"""The machine-readable metadata every bot message carries, and how to read it back.

Each bot message is sent as text (with buttons) plus a ``custom`` payload
``{"type": ..., ...}``.  Rasa's REST channel returns the two as consecutive
messages ``[{"text": ..., "buttons": ...}, {"custom": {...}}]``;
:func:`pair_rest_messages` joins them again for channels and tests.

Types: ``answer`` (with citations and confidence), ``clarify`` (a question
back to the user), ``handoff`` (a person takes over; with the ticket
number), ``out_of_scope`` (politely declined), ``form`` (a step of the
assistance application), ``info`` (greetings, acknowledgements, service
information without retrieval).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MessageType = Literal["answer", "clarify", "handoff", "out_of_scope", "form", "info"]
MESSAGE_TYPES: tuple[str, ...] = ("answer", "clarify", "handoff", "out_of_scope", "form", "info")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Turn(_Strict):
    """What the turn decided from, carried on every bot message for the desk and the evaluations."""

    intent: str | None = None
    nlu_confidence: float | None = None
    confidence: float | None = None
    reason: str | None = None
    ip_probability: float | None = None
    #: what the question is about, as far as the turn knows (the analytics dashboard counts these)
    ip_type: str | None = None
    region: str | None = None


class CitationRef(_Loose):
    """An article an answer rests on (``label`` is how the widget shows it)."""

    law: str
    article: str
    label: str | None = None


class SourceRef(_Loose):
    id: str
    kind: str
    title: str
    label: str


class TicketRef(_Strict):
    number: str
    eta_hours: int | None = None
    priority: str | None = None


class AnswerMeta(_Turn):
    """An answer from the knowledge base: ``confident`` answers directly, ``probable`` shows likely sources."""

    type: Literal["answer"]
    tier: Literal["confident", "probable"]
    answer_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    query: str
    confidence: float
    citations: list[CitationRef]
    sources: list[SourceRef]
    ip_types: list[str]
    index_version: str | None = None
    other_questions: list[str] | None = None
    best: dict[str, Any] | None = None
    #: the centre's services the shown sources belong to (core.vocabulary.SERVICES), best first
    services: list[str] | None = None


class ClarifyMeta(_Turn):
    """A question back to the user (which IP type, more details, which of several intents …)."""

    type: Literal["clarify"]
    asks: str
    candidates: list[str] | None = None


class HandoffMeta(_Turn):
    """A person takes over; the ticket number is shown to the user."""

    type: Literal["handoff"]
    reason: str
    ticket: TicketRef | None = None
    existing: bool | None = None
    error_id: str | None = None


class OutOfScopeMeta(_Turn):
    """Politely declined (not an IP question), with where to turn instead."""

    type: Literal["out_of_scope"]
    referral: str | None = None


class FormMeta(_Turn):
    """A step of the assistance application."""

    type: Literal["form"]
    form: str
    slot: str | None = None
    valid: bool | None = None
    cancelled: bool | None = None
    submitted: bool | None = None
    summary: bool | None = None
    ticket: TicketRef | None = None


class InfoMeta(_Turn):
    """Greetings, acknowledgements, service information without retrieval."""

    type: Literal["info"]
    recorded: str | None = None
    silent_turn: bool | None = None
    #: a limit stopped the request (``tickets_per_client``)
    limited: str | None = None


#: The ``custom`` payload of every bot message, told apart by ``type``.
BotMeta = Annotated[
    AnswerMeta | ClarifyMeta | HandoffMeta | OutOfScopeMeta | FormMeta | InfoMeta, Field(discriminator="type")
]
_BOT_META: TypeAdapter[Any] = TypeAdapter(BotMeta)


def check_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Validate a bot message's payload against :data:`BotMeta` (raises ``pydantic.ValidationError``)."""
    return dict(_BOT_META.validate_python(meta).model_dump(exclude_none=True))


def payload(kind: MessageType, **fields: Any) -> dict[str, Any]:
    """The ``custom`` payload of a bot message, checked against its model."""
    return check_meta({"type": kind, **{k: v for k, v in fields.items() if v is not None}})


@dataclass
class BotMessage:
    """One bot message as a channel sees it."""

    text: str = ""
    buttons: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str | None:
        value = self.meta.get("type")
        return str(value) if value is not None else None


def pair_rest_messages(output: list[dict[str, Any]]) -> list[BotMessage]:
    """Join Rasa REST output (text, then its custom payload) into one message each."""
    messages: list[BotMessage] = []
    for item in output:
        if "text" in item or "buttons" in item:
            messages.append(BotMessage(text=item.get("text") or "", buttons=list(item.get("buttons") or [])))
        if isinstance(item.get("custom"), dict):
            if messages and not messages[-1].meta:
                messages[-1].meta = dict(item["custom"])
            else:
                messages.append(BotMessage(meta=dict(item["custom"])))
    return messages
