"""Politely decline what the service does not handle, pointing to where help is."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import send
from consult.messages import payload

DECLINE = (
    "抱歉，这个问题不在知识产权维权援助的服务范围内，我不能给出可靠的答复。\n"
    "如果是婚姻家庭、劳动用工、交通事故、借贷、消费退款等其他法律问题，可以拨打 12348 公共法律服务热线，"
    "或到当地公共法律服务中心咨询。\n"
    "如果您的问题和专利、商标、著作权、商业秘密、地理标志、电商平台侵权投诉等有关，欢迎换个说法再问我。"
)


class ActionDeclineOutOfScope(Action):
    def name(self) -> str:
        return "action_decline_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(dispatcher, DECLINE, payload("out_of_scope", referral="12348"))
        return []
