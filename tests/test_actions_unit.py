"""The Rasa actions alone, over a fake consultation service: they only translate tracker <-> service.

What a user would notice if the translation broke: the reply not shown, its
buttons or payload lost, the conversation forgetting what it was about, or an
error that leaves the user without an answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerQuestion
from actions.application import ActionSubmitApplication
from actions.feedback import ActionRecordFeedback
from actions.handoff import ActionDefaultFallback, ActionHandoff
from consult.turns import TurnResult, TurnState


class FakeService:
    """Records what it was asked and answers with a canned result."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, TurnState, Any]] = []
        self.fail = fail

    def _result(self, what: str) -> TurnResult:
        out = TurnResult()
        out.say(
            f"{what} 的回复",
            {
                "type": "answer",
                "tier": "confident",
                "answer_id": "a" * 32,
                "query": what,
                "confidence": 0.9,
                "citations": [],
                "sources": [],
                "ip_types": [],
            },
            [{"title": "转人工", "payload": "/request_human"}],
        )
        out.slots["last_query"] = f"{what} 查询"
        return out

    def answer(self, state: TurnState) -> TurnResult:
        if self.fail:
            raise RuntimeError("index unavailable")
        self.calls.append(("answer", state, None))
        return self._result("answer")

    def hand_over(self, state: TurnState, reason: str, query: str | None = None) -> TurnResult:
        self.calls.append(("hand_over", state, (reason, query)))
        out = TurnResult()
        out.say("已为您转交人工专家（工单号 WY-TEST）", {"type": "handoff", "reason": reason})
        out.slots.update({"handed_over": True, "ticket_number": "WY-TEST"})
        return out

    def apologise(self, state: TurnState, error_id: str) -> TurnResult:
        self.calls.append(("apologise", state, error_id))
        out = TurnResult()
        out.say(f"抱歉（错误编号 {error_id}）", {"type": "handoff", "reason": "error", "error_id": error_id})
        return out

    def feedback(self, state: TurnState, last_answer_id: str | None) -> TurnResult:
        self.calls.append(("feedback", state, last_answer_id))
        return self._result("feedback")

    def submit_application(self, state: TurnState, fields: dict[str, Any]) -> TurnResult:
        self.calls.append(("submit_application", state, fields))
        out = TurnResult()
        out.say("申请已提交", {"type": "form", "form": "assistance_application_form", "submitted": True})
        out.slots["ticket_number"] = "WY-APP"
        return out


def tracker(text: str, intent: str = "ask_ip_law", slots: dict[str, Any] | None = None, **extra: Any) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.88}, "entities": extra.get("entities", [])}
    message["metadata"] = {"channel": "widget", "client": extra.get("client", "ab" * 12)}
    events = [{"event": "user", "text": text, "parse_data": message, "timestamp": 1.0}]
    return Tracker("c-unit", slots or {}, message, events, False, None, None, "action_listen")


def run(action: Action, state: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, {}))
    return dispatcher.messages, events


def test_the_answer_action_sends_the_services_reply_with_buttons_and_payload() -> None:
    service = FakeService()
    messages, events = run(ActionAnswerQuestion(service), tracker("外观专利被抄了怎么办"))
    assert [m["text"] for m in messages] == ["answer 的回复"]
    assert messages[0]["buttons"] == [{"title": "转人工", "payload": "/request_human"}]
    assert messages[0]["custom"]["type"] == "answer"
    assert {"event": "slot", "name": "last_query", "value": "answer 查询", "timestamp": None} in events


def test_the_conversation_context_reaches_the_service() -> None:
    service = FakeService()
    slots = {"last_query": "商标被抢注怎么办", "last_ip_type": "商标", "region": "广东", "awaiting_details": True}
    entities = [{"entity": "ip_type", "value": "专利权人"}]
    run(ActionAnswerQuestion(service), tracker("那专利呢", "ask_followup", slots, entities=entities))
    (_, state, _), *_ = service.calls
    assert (state.text, state.intent, state.nlu_confidence, state.channel) == (
        "那专利呢",
        "ask_followup",
        0.88,
        "widget",
    )
    assert (state.last_query, state.region, state.awaiting_details) == ("商标被抢注怎么办", "广东", True)
    # IP types arrive canonical, whatever DIET or the slot said
    assert (state.new_ip_type, state.last_ip_type) == ("patent", "trademark")
    assert state.transcript and state.transcript[-1]["text"] == "那专利呢"
    assert state.client_ref == "ab" * 12  # the gateway's pseudonym, for the per-client ticket limit
    run(ActionAnswerQuestion(service), tracker("那专利呢", client="' OR 1=1 --"))
    assert service.calls[-1][1].client_ref is None  # anything else is dropped


def test_a_failing_service_still_gives_a_reply_with_an_error_id() -> None:
    service = FakeService(fail=True)
    messages, _ = run(ActionAnswerQuestion(service), tracker("专利侵权赔偿怎么算"))
    assert len(messages) == 1 and "错误编号" in messages[0]["text"]
    assert service.calls[0][0] == "apologise" and service.calls[0][1].text == "专利侵权赔偿怎么算"


def test_a_button_payload_hands_over_the_last_real_question() -> None:
    service = FakeService()
    state = tracker("/request_human", "request_human", {"last_query": "商标被抢注怎么办"})
    messages, events = run(ActionHandoff(service), state)
    assert service.calls[0][2] == ("user_request", "商标被抢注怎么办")
    assert "工单号" in messages[0]["text"]
    assert {"event": "slot", "name": "handed_over", "value": True, "timestamp": None} in events


def test_nlu_fallback_hands_over_and_forgets_the_unparsed_message() -> None:
    service = FakeService()
    _, events = run(ActionDefaultFallback(service), tracker("啊啊啊", "nlu_fallback"))
    assert service.calls[0][2][0] == "nlu_fallback"
    assert events[-1]["event"] == "rewind"


def test_feedback_passes_the_feedback_text_and_the_answer_it_is_about() -> None:
    service = FakeService()
    run(ActionRecordFeedback(service), tracker("没用，答非所问", "feedback", {"last_answer_id": "a" * 32}))
    name, state, answer_id = service.calls[0]
    assert (name, state.text, answer_id) == ("feedback", "没用，答非所问", "a" * 32)


def test_an_application_is_submitted_only_when_confirmed() -> None:
    service = FakeService()
    slots = {"company_name": "某某科技有限公司", "contact_person": "王女士", "phone": "13800000000", "confirmed": False}
    messages, _ = run(ActionSubmitApplication(service), tracker("确认", "affirm", slots))
    assert not service.calls and not messages
    slots |= {"confirmed": True, "ip_type": "patent", "description": "我们的外观专利被一家网店仿冒销售"}
    messages, events = run(ActionSubmitApplication(service), tracker("确认", "affirm", slots))
    name, state, fields = service.calls[0]
    assert name == "submit_application" and fields["contact_name"] == "王女士" and state.ip_type == "patent"
    assert messages[0]["text"] == "申请已提交"
    assert {"event": "slot", "name": "ticket_number", "value": "WY-APP", "timestamp": None} in events
    assert {"event": "slot", "name": "phone", "value": None, "timestamp": None} in events  # the form is cleared


def test_the_action_server_registers_every_action_and_not_the_base() -> None:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    names = set(executor.actions)
    domain = (Path(__file__).resolve().parent.parent / "bot" / "domain.yml").read_text("utf-8").split()
    custom = {word for word in domain if word.startswith(("action_", "validate_"))}
    assert custom and custom <= names  # every custom action the domain names is served


def test_entity_values_are_validated_before_they_reach_the_service() -> None:
    service = FakeService()
    run(ActionAnswerQuestion(service), tracker("商标被抢注了", slots={"region": "深圳市南山区"}))
    run(ActionAnswerQuestion(service), tracker("商标被抢注了", slots={"region": "<script>alert(1)</script>"}))
    run(ActionAnswerQuestion(service), tracker("商标被抢注了", slots={"ip_type": "'; DROP TABLE tickets; --"}))
    regions = [call[1].region for call in service.calls]
    assert regions == ["广东", None, None]
    assert service.calls[2][1].ip_type is None
