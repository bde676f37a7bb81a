"""Answer a question from the knowledge index with the graded policy.

The action only translates: tracker -> :class:`consult.turns.TurnState`, and the
service's replies and slot updates -> messages and events (consult/turns.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ConsultAction, deliver, never_silent, send, state_of
from core.messages import payload


@never_silent
class ActionAnswerQuestion(ConsultAction):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        # search and database work run in a thread: the action server's event loop keeps serving
        return deliver(dispatcher, await asyncio.to_thread(self.service.answer, state_of(tracker)))


@never_silent
class ActionAskDetails(ConsultAction):
    """ "补充情况": ask for the missing facts; the next message is searched together with the question."""

    def name(self) -> str:
        return "action_ask_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(
            dispatcher,
            "好的，请补充说明：涉及哪一类权利（专利、商标、著作权……），对方做了什么、在哪里（哪个平台或地区），"
            "您手上有哪些材料，想达到什么目的。我会结合您刚才的问题重新查找。",
            payload("clarify", asks="details"),
        )
        return [SlotSet("awaiting_details", True)]
