"""What every action shares: the injected consultation service, tracker -> turn state, result -> messages."""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from consult.forms import check_region
from consult.handoff import transcript_from_events
from consult.turns import ERROR_TEXT, ConsultationService, TurnResult, Turns, TurnState
from consult.vocabulary import canonical_ip_type
from core.messages import payload

log = logging.getLogger(__name__)

ERROR_NO_TICKET = "您的消息已经保存。请稍后再试一次，或拨打 12330 知识产权维权援助热线，也可以点击“转人工”。"

Run = Callable[[Any, CollectingDispatcher, Tracker, dict[str, Any]], Awaitable[list[EventType]]]
A = TypeVar("A")


class ConsultAction(Action, abc.ABC):
    """An action over the consultation service, injected like rasa-sdk's ``ActionQueryKnowledgeBase``
    receives its knowledge base: the action server passes none and gets the process-wide one;
    unit tests pass a fake.  Abstract, so rasa-sdk's executor does not register the base itself."""

    def __init__(self, service: ConsultationService | None = None) -> None:
        self._service = service

    @abc.abstractmethod
    def name(self) -> str: ...

    @property
    def service(self) -> ConsultationService:
        if self._service is None:
            self._service = default_service()
        return self._service


def default_service() -> ConsultationService:
    """The process-wide consultation (model and index loaded once per action server)."""
    from consult.service import get_consultant

    return Turns(get_consultant())


def never_silent(cls: type[A]) -> type[A]:
    """Wrap an action's ``run``: any exception still gives the user a reply and a person the case.

    The user sees a polite message with an error id; a hand-over ticket
    records the id (so an expert picks the conversation up and a developer
    finds the traceback in the action server's log under the same id).
    """
    original: Run = cls.run  # type: ignore[attr-defined]

    @functools.wraps(original)
    async def run(
        self: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            return await original(self, dispatcher, tracker, domain)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("action %s failed (error id %s)", getattr(self, "name", lambda: "?")(), error_id)
            return await asyncio.to_thread(apologise, self, dispatcher, tracker, error_id)

    cls.run = run  # type: ignore[attr-defined]
    return cls


def apologise(action: Any, dispatcher: CollectingDispatcher, tracker: Tracker, error_id: str) -> list[EventType]:
    """The reply after a failure: a ticket if the service still works, a polite message in any case."""
    try:
        service = action.service if isinstance(action, ConsultAction) else default_service()
        return deliver(dispatcher, service.apologise(state_of(tracker), error_id))
    except Exception:
        log.exception("could not open a ticket for error %s", error_id)
        send(
            dispatcher,
            ERROR_TEXT.format(error_id=error_id) + "。" + ERROR_NO_TICKET,
            payload("handoff", reason="error", error_id=error_id),
            [{"title": "转人工", "payload": "/request_human"}],
        )
        return []


def state_of(tracker: Tracker) -> TurnState:
    """What the consultation needs to know of the conversation at this turn."""
    intent, confidence = latest_intent(tracker)
    return TurnState(
        conversation_id=tracker.sender_id,
        text=latest_user_text(tracker),
        intent=intent,
        nlu_confidence=confidence,
        channel=channel_of(tracker),
        transcript=transcript(tracker),
        new_ip_type=ip_type_entity(tracker),
        ip_type=ip_type_slot(tracker),
        last_ip_type=ip_type_slot(tracker, "last_ip_type"),
        last_query=tracker.get_slot("last_query"),
        region=region_slot(tracker),
        awaiting_clarification=bool(tracker.get_slot("awaiting_clarification")),
        awaiting_details=bool(tracker.get_slot("awaiting_details")),
        client_ref=client_ref_of(tracker),
    )


def deliver(dispatcher: CollectingDispatcher, result: TurnResult) -> list[EventType]:
    """Send the replies; the slot updates become events."""
    for reply in result.replies:
        send(dispatcher, reply.text, reply.meta, reply.buttons)
    return [SlotSet(name, value) for name, value in result.slots.items()]


def latest_intent(tracker: Tracker) -> tuple[str | None, float | None]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), intent.get("confidence")


def entity(tracker: Tracker, name: str) -> str | None:
    """The latest message's value for ``name`` (after synonym mapping)."""
    values = [e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == name]
    return str(values[-1]) if values and values[-1] is not None else None


def ip_type_entity(tracker: Tracker) -> str | None:
    """The latest message's IP type, canonical (odd DIET values are mapped or dropped)."""
    return canonical_ip_type(entity(tracker, "ip_type"))


def ip_type_slot(tracker: Tracker, name: str = "ip_type") -> str | None:
    return canonical_ip_type(tracker.get_slot(name))


def region_slot(tracker: Tracker) -> str | None:
    """The conversation's region as a province, or ``None``: an entity value a user forced or DIET
    mis-read never reaches a ticket or a search filter as free text."""
    value = tracker.get_slot("region")
    if not value:
        return None
    checked = check_region(str(value)[:50])
    return checked.value if checked.ok else None


def latest_user_text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text") or ""
    if text.startswith("/"):
        # a button payload such as /apply_assistance: use the last real question instead
        for event in reversed(tracker.events):
            if event.get("event") == "user" and event.get("text") and not event["text"].startswith("/"):
                return str(event["text"])
        return ""
    return str(text)


CLIENT_REF = re.compile(r"^[0-9a-f]{16,32}$")


def client_ref_of(tracker: Tracker) -> str | None:
    """The gateway's pseudonymous client reference, if the message came through the widget."""
    value = (tracker.latest_message.get("metadata") or {}).get("client")
    return value if isinstance(value, str) and CLIENT_REF.match(value) else None


def channel_of(tracker: Tracker) -> str:
    channel = tracker.get_latest_input_channel() or "rest"
    metadata = tracker.latest_message.get("metadata") or {}
    return str(metadata.get("channel") or channel)


def transcript(tracker: Tracker) -> list[dict[str, Any]]:
    return transcript_from_events(list(tracker.events))


def send(
    dispatcher: CollectingDispatcher,
    text: str,
    meta: dict[str, Any],
    buttons: list[dict[str, str]] | None = None,
) -> None:
    """One bot message: text (and buttons) with its machine-readable payload."""
    dispatcher.utter_message(text=text, buttons=buttons or [], json_message=meta)
