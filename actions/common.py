"""Helpers shared by the actions: reading the tracker, sending a message with its metadata."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from consult.handoff import transcript_from_events


def latest_intent(tracker: Tracker) -> tuple[str | None, float | None]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), intent.get("confidence")


def entity(tracker: Tracker, name: str) -> str | None:
    """The latest message's value for ``name`` (after synonym mapping)."""
    values = [e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == name]
    return str(values[-1]) if values and values[-1] is not None else None


def latest_user_text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text") or ""
    if text.startswith("/"):
        # a button payload such as /apply_assistance: use the last real question instead
        for event in reversed(tracker.events):
            if event.get("event") == "user" and event.get("text") and not event["text"].startswith("/"):
                return str(event["text"])
        return ""
    return str(text)


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
