"""Record feedback on the service (personal data redacted before storing)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import handoff
from actions.common import latest_user_text, never_silent, send
from consult.feedback import record_feedback
from consult.service import get_consultant
from core.messages import payload

#: Feedback that says the last answer did not help: a person takes over.
NOT_HELPFUL = re.compile(r"不对|没用|没有用|没帮助|没有帮助|答非所问|没解决|没有解决|不是我问的|看不懂|不明白|套话")


@never_silent
class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        record_feedback(
            get_consultant().db,
            tracker.sender_id,
            tracker.get_slot("last_answer_id"),
            0,
            text,
            {"last_query": tracker.get_slot("last_query") or ""},
        )
        if tracker.get_slot("last_answer_id") and NOT_HELPFUL.search(text):
            send(dispatcher, "抱歉刚才的回答没能帮到您，谢谢您告诉我。", payload("info", recorded="feedback"))
            query = tracker.get_slot("last_query") or latest_user_text(tracker)
            return handoff(dispatcher, tracker, "not_helpful", query, None, None, None)
        send(dispatcher, "谢谢您的反馈！我们会认真查看，用来改进回答。", payload("info", recorded="feedback"))
        return []
