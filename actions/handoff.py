"""Hand the conversation to a person: on request, when a matter needs one, or when NLU gives up."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ConsultAction, deliver, latest_intent, latest_user_text, never_silent, send, state_of
from core.messages import payload

INTENT_LABELS = {
    "ask_ip_law": "咨询知识产权法律问题",
    "report_infringement": "反映被侵权的情况",
    "request_infringement_judgment": "申请侵权判定参考意见",
    "ecommerce_complaint": "电商平台投诉相关",
    "exhibition": "展会维权",
    "mediation_arbitration": "调解或仲裁",
    "fast_handling": "纠纷快速处理",
    "overseas_dispute": "海外知识产权纠纷",
    "apply_assistance": "申请维权援助",
    "received_legal_notice": "收到律师函或被起诉",
    "service_info": "了解服务渠道和办理方式",
    "request_human": "转人工",
    "feedback": "意见反馈",
}


@never_silent
class ActionHandoff(ConsultAction):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent, _ = latest_intent(tracker)
        reason = "needs_person" if intent == "received_legal_notice" else "user_request"
        # the expert sees what the bot found for the question being discussed, not for "转人工"
        query = tracker.get_slot("last_query") or latest_user_text(tracker)
        return deliver(dispatcher, await asyncio.to_thread(self.service.hand_over, state_of(tracker), reason, query))


@never_silent
class ActionDefaultAskAffirmation(Action):
    """First stage of the two-stage fallback: "did you mean …?" with the two likeliest intents."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ranking = [r for r in tracker.latest_message.get("intent_ranking", []) if r.get("name") in INTENT_LABELS][:2]
        buttons = [{"title": INTENT_LABELS[r["name"]], "payload": f"/{r['name']}"} for r in ranking]
        buttons.append({"title": "都不是，换个说法", "payload": "/deny"})
        send(
            dispatcher,
            "抱歉，我不太确定您的意思。您是想：",
            payload("clarify", asks="intent", candidates=[r["name"] for r in ranking]),
            buttons,
        )
        return []


@never_silent
class ActionDefaultFallback(ConsultAction):
    """Last stage of the fallback: NLU could not understand twice, so a person takes over."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events = deliver(
            dispatcher,
            await asyncio.to_thread(
                self.service.hand_over, state_of(tracker), "nlu_fallback", latest_user_text(tracker)
            ),
        )
        return [*events, UserUtteranceReverted()]
