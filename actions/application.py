"""The assistance application form (申请维权援助): validate, confirm, submit durably."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ConsultAction, deliver, never_silent, send, state_of
from consult import forms
from consult.forms import FORM
from core.messages import payload
from core.vocabulary import IP_TYPE_LABELS

FIELDS = ("company_name", "contact_person", "phone", "region", "ip_type", "description", "consent", "confirmed")
LABELS = {
    "company_name": "企业/单位",
    "contact_person": "联系人",
    "phone": "联系电话",
    "region": "所在地区",
    "ip_type": "知识产权类型",
    "description": "情况说明",
}


def _reask(dispatcher: CollectingDispatcher, slot: str, problem: str) -> dict[str, Any]:
    send(dispatcher, problem, payload("form", form=FORM, slot=slot, valid=False))
    return {slot: None}


def _cancelled(dispatcher: CollectingDispatcher, slot: str, text: str) -> dict[str, Any]:
    send(dispatcher, text, payload("form", form=FORM, slot=slot, valid=False, cancelled=True))
    return {slot: False, "application_cancelled": True}


@never_silent
class ValidateAssistanceApplicationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_assistance_application_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # A cancelled application needs nothing more: the form ends and nothing is submitted.
        if tracker.get_slot("application_cancelled"):
            return []
        return domain_slots

    async def _check(self, slot: str, value: Any, dispatcher: CollectingDispatcher, check: Any) -> dict[str, Any]:
        result = check(str(value or ""))
        return {slot: result.value} if result.ok else _reask(dispatcher, slot, result.problem)

    async def validate_company_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._check("company_name", value, dispatcher, forms.check_company)

    async def validate_contact_person(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._check("contact_person", value, dispatcher, forms.check_person)

    async def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._check("phone", value, dispatcher, forms.check_phone)

    async def validate_region(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._check("region", value, dispatcher, forms.check_region)

    async def validate_ip_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._check("ip_type", value, dispatcher, forms.check_ip_type)

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._check("description", value, dispatcher, forms.check_description)

    async def validate_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"consent": True}
        return _cancelled(
            dispatcher,
            "consent",
            "没有您的同意，维权援助中心无法联系您跟进申请，所以这次申请先不提交，已填写的信息不会转给工作人员。"
            "您也可以直接拨打 12330 热线咨询。",
        )

    async def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"confirmed": True}
        return _cancelled(
            dispatcher,
            "confirmed",
            "好的，申请没有提交，刚才填写的信息不会转给工作人员。需要时可以随时说“申请维权援助”重新开始。",
        )


def summary(tracker: Tracker) -> str:
    rows = []
    for slot, label in LABELS.items():
        value = tracker.get_slot(slot)
        if slot == "ip_type" and value:
            value = IP_TYPE_LABELS.get(value, value)
        rows.append(f"· {label}：{value}")
    return "\n".join(rows)


@never_silent
class ActionAskConfirmed(Action):
    """Show the summary and ask for confirmation before anything is submitted."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(
            dispatcher,
            f"请核对您的申请信息：\n{summary(tracker)}\n确认无误后提交吗？",
            payload("form", form=FORM, slot="confirmed", summary=True),
            [{"title": "确认提交", "payload": "/affirm"}, {"title": "取消申请", "payload": "/deny"}],
        )
        return []


@never_silent
class ActionSubmitApplication(ConsultAction):
    """Write the application durably, then give the user its number and what happens next."""

    def name(self) -> str:
        return "action_submit_application"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot("application_cancelled") or not tracker.get_slot("confirmed"):
            return reset()
        state = state_of(tracker)
        state = replace(state, ip_type=tracker.get_slot("ip_type"))
        fields = {
            "company_name": tracker.get_slot("company_name"),
            "contact_name": tracker.get_slot("contact_person"),
            "phone": tracker.get_slot("phone"),
            "description": tracker.get_slot("description"),
        }
        return [*reset(), *deliver(dispatcher, await asyncio.to_thread(self.service.submit_application, state, fields))]


def reset() -> list[EventType]:
    """Forget what was typed into the form (region and IP type stay as conversation context)."""
    keep = {"region", "ip_type"}
    return [SlotSet(f, None) for f in FIELDS if f not in keep] + [SlotSet("application_cancelled", None)]


@never_silent
class ActionCancelApplication(Action):
    """The user stopped half-way: nothing is saved."""

    def name(self) -> str:
        return "action_cancel_application"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(
            dispatcher,
            "好的，已取消维权援助申请，刚才填写的信息不会转给工作人员。还有其他问题可以继续问我。",
            payload("form", form=FORM, cancelled=True),
        )
        return [*reset(), ActiveLoop(None), SlotSet("requested_slot", None)]
