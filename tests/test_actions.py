"""The custom actions with the consultation on the fixture corpus: what a user would notice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

import consult.service
from actions.answer import ActionAnswerQuestion
from actions.common import never_silent
from consult.service import Consultant
from core.settings import Settings
from index.builder import build
from index.confidence import Calibration
from index.retriever import Retriever
from store.db import Database
from store.models import Ticket


@pytest.fixture
def consultant(settings: Settings, factory: Any, monkeypatch: pytest.MonkeyPatch) -> Consultant:
    build(settings, factory, incremental=True)
    sure = Calibration(["dense_top"], [0.0], [1.0], [0.0], 10.0, 0.5, probable_threshold=0.3, domain_threshold=0.6)
    db = Database(settings.database_url)
    db.upgrade()
    made = Consultant(settings, Retriever(settings, factory, sure), db)
    monkeypatch.setattr(consult.service, "_instance", made)
    return made


def tracker(text: str, intent: str = "ask_ip_law", entities: list[dict[str, Any]] | None = None) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities or []}
    events = [{"event": "user", "text": text, "parse_data": message, "timestamp": 1.0}]
    return Tracker("c-actions", {}, message, events, False, None, None, "action_listen")


def run(action: Action, state: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, {}))
    return dispatcher.messages, events


@pytest.mark.parametrize("value", ["名牌商标", "专利权人", "反不正当竞争", "完全不认识的类型"])
def test_odd_ip_type_entities_still_get_a_reply(consultant: Consultant, value: str) -> None:
    entities = [{"entity": "ip_type", "value": value, "start": 0, "end": 2}]
    messages, _ = run(ActionAnswerQuestion(), tracker("专利侵权赔偿怎么算", "ask_followup", entities))
    assert messages and messages[0]["custom"]["type"] in ("answer", "clarify", "handoff", "out_of_scope")
    assert "错误编号" not in messages[0]["text"]


def test_a_failing_action_apologises_and_hands_over_with_an_error_id(consultant: Consultant) -> None:
    @never_silent
    class Broken(Action):
        def name(self) -> str:
            return "action_broken"

        async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[Any]:
            raise RuntimeError("index file vanished")

    messages, events = run(Broken(), tracker("外观专利保护多少年"))
    (message,) = messages
    error_id = message["custom"]["error_id"]
    assert f"错误编号 {error_id}" in message["text"] and message["custom"]["type"] == "handoff"
    with consultant.db.session() as session:
        (ticket,) = session.scalars(select(Ticket).where(Ticket.conversation_id == "c-actions"))
        assert ticket.reason == "error" and ticket.retrieval["error_id"] == error_id
        assert ticket.number in message["text"]
    assert any(e.get("name") == "handed_over" for e in events)


def test_a_failing_action_still_replies_when_the_database_is_down(
    consultant: Consultant, monkeypatch: pytest.MonkeyPatch
) -> None:
    @never_silent
    class Broken(Action):
        def name(self) -> str:
            return "action_broken"

        async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[Any]:
            raise RuntimeError("boom")

    def no_database(*args: Any, **kwargs: Any) -> Any:
        raise OSError("database unreachable")

    monkeypatch.setattr(consultant.desk, "open_ticket", no_database)
    (message,), _ = run(Broken(), tracker("外观专利保护多少年"))
    assert "错误编号" in message["text"] and "12330" in message["text"]
