"""Record feedback on the service (personal data redacted before storing); "that did not help" hands over."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ConsultAction, deliver, never_silent, state_of


@never_silent
class ActionRecordFeedback(ConsultAction):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        state = state_of(tracker)
        # the feedback itself, not the last real question (latest_user_text skips button payloads)
        state = replace(state, text=tracker.latest_message.get("text") or "")
        return deliver(
            dispatcher, await asyncio.to_thread(self.service.feedback, state, tracker.get_slot("last_answer_id"))
        )
