"""Politely decline what the service does not handle, pointing to where help is."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import never_silent, send
from consult.answers import compose_decline


@never_silent
class ActionDeclineOutOfScope(Action):
    def name(self) -> str:
        return "action_decline_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        composed = compose_decline()
        send(dispatcher, composed.text, composed.meta, composed.buttons)
        return []
