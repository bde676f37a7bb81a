"""Record feedback on the service (personal data redacted before storing)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import send
from consult.messages import payload
from consult.service import get_consultant
from store.models import Feedback
from weiyuan.redact import redact


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        with get_consultant().db.session() as session:
            session.add(
                Feedback(
                    conversation_id=tracker.sender_id,
                    message_ref=tracker.get_slot("last_answer_id"),
                    rating=0,
                    comment=redact(text)[:2000],
                    context={"last_query": redact(tracker.get_slot("last_query") or "")},
                )
            )
        send(dispatcher, "谢谢您的反馈！我们会认真查看，用来改进回答。", payload("info", recorded="feedback"))
        return []
