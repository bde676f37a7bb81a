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
from typing import Any, Literal

MessageType = Literal["answer", "clarify", "handoff", "out_of_scope", "form", "info"]
MESSAGE_TYPES: tuple[str, ...] = ("answer", "clarify", "handoff", "out_of_scope", "form", "info")


def payload(kind: MessageType, **fields: Any) -> dict[str, Any]:
    """The ``custom`` payload of a bot message."""
    return {"type": kind, **{k: v for k, v in fields.items() if v is not None}}


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
