"""Dialogue logic the actions call: validation, follow-ups, answers with citations, tickets, redaction."""

from __future__ import annotations

import pytest

from consult import forms
from consult.answers import FOOTNOTE, PROBABLE_INTRO, compose_answer, compose_clarify, compose_probable
from consult.followup import rewrite
from consult.handoff import handoff_message, transcript_from_events
from consult.policy import Nlu
from consult.service import Consultant
from core.messages import pair_rest_messages
from core.redact import redact
from core.settings import Settings
from desk.tickets import create_ticket, open_ticket_for
from index.builder import build
from index.confidence import Calibration
from index.retriever import Retriever
from store.db import Database
from store.models import AuditEntry, Ticket


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"), ("020-12345678", "02012345678")],
)
def test_phone_numbers_accepted(raw: str, expected: str) -> None:
    assert forms.check_phone(raw).value == expected


@pytest.mark.parametrize("raw", ["12345", "138123456789", "我的电话", "23812345678"])
def test_bad_phone_numbers_are_reasked_in_chinese(raw: str) -> None:
    checked = forms.check_phone(raw)
    assert not checked.ok and "11 位手机号" in (checked.problem or "")


def test_region_and_ip_type_normalisation() -> None:
    assert forms.check_region("我们在深圳南山").value == "广东"
    assert forms.check_region("浙江省义乌").value == "浙江"
    assert not forms.check_region("火星").ok
    assert forms.check_ip_type("外观专利").value == "patent"
    assert forms.check_ip_type("软著").value == "copyright"
    assert forms.check_ip_type("不确定").value == "general"
    assert not forms.check_ip_type("嗯嗯").ok
    assert not forms.check_description("被抄了").ok


def test_followup_rewrites_against_the_last_question() -> None:
    assert rewrite("那商标呢？", "专利被人仿冒了怎么办", "patent", "trademark") == "商标被人仿冒了怎么办"
    assert rewrite("需要什么材料？", "怎么申请维权援助", None, None) == "怎么申请维权援助 需要什么材料？"
    assert rewrite("需要什么材料", None, None, None) == "需要什么材料"


def test_rest_output_pairs_text_with_metadata() -> None:
    output = [
        {"recipient_id": "u", "text": "答案", "buttons": [{"title": "转人工", "payload": "/request_human"}]},
        {"recipient_id": "u", "custom": {"type": "answer", "confidence": 0.9}},
        {"recipient_id": "u", "text": "您好"},
        {"recipient_id": "u", "custom": {"type": "info"}},
    ]
    messages = pair_rest_messages(output)
    assert [(m.text, m.type) for m in messages] == [("答案", "answer"), ("您好", "info")]
    assert messages[0].buttons[0]["payload"] == "/request_human"


@pytest.fixture
def consultant(settings: Settings, factory) -> Consultant:  # type: ignore[no-untyped-def]
    build(settings, factory, incremental=True)
    sure = Calibration(["dense_top"], [0.0], [1.0], [0.0], 10.0, 0.5)
    return Consultant(settings, Retriever(settings, factory, sure), Database(settings.database_url))


def test_answer_cites_its_sources_and_offers_next_steps(consultant: Consultant) -> None:
    result = consultant.search("专利侵权赔偿怎么算")
    composed = compose_answer(result, consultant.retriever)
    assert result.hits[0].id == "entry/patent-damages"
    assert "依据：《中华人民共和国专利法》第七十一条" in composed.text
    assert "来源：知识库条目「专利侵权能赔多少钱？」" in composed.text
    assert composed.text.endswith(FOOTNOTE)
    meta = composed.meta
    assert meta["type"] == "answer" and meta["tier"] == "confident" and 0 <= meta["confidence"] <= 1
    assert meta["citations"][0] == {
        "law": "中华人民共和国专利法",
        "article": "第七十一条",
        "label": "《中华人民共和国专利法》第七十一条",
    }
    assert {b["payload"] for b in composed.buttons} >= {"/apply_assistance", "/request_human"}


def test_statute_hit_is_quoted_with_law_and_article(consultant: Consultant) -> None:
    result = consultant.retriever.search("专利权人许可实施纠纷协商", k=3, kind="policy")
    composed = compose_answer(result, consultant.retriever)
    assert composed.text.startswith("根据《中华人民共和国专利法》")


def test_entry_related_questions_become_buttons(consultant: Consultant) -> None:
    result = consultant.search("我们的专利产品被人仿冒了怎么办")
    composed = compose_answer(result, consultant.retriever)
    assert composed.buttons[0] == {"title": "专利侵权能赔多少钱？", "payload": "专利侵权能赔多少钱？"}


def test_graded_decisions(consultant: Consultant, settings: Settings) -> None:
    ip_question = "专利侵权赔偿怎么算"
    assert consultant.consult(ip_question).decision.tier == "confident"
    settings.dialogue.retrieval_threshold = 1.1  # nothing is confident enough ...
    settings.dialogue.probable_threshold = 0.0  # ... but everything is probable
    assert consultant.consult(ip_question).decision.tier == "probable"
    settings.dialogue.probable_threshold = 1.05  # nothing is even probable
    assert consultant.consult("我想维权", nlu=Nlu("ask_ip_law", 0.9)).decision.tier == "clarify"
    assert consultant.consult("我想维权", nlu=Nlu("ask_ip_law", 0.9), clarified=True).decision.tier == "decline"
    handed = consultant.consult("我们的商标被别人抢注了，对方还在到处发货，想知道能不能要回来")
    assert handed.decision.tier == "handoff" and handed.decision.reason == "low_confidence"
    assert consultant.consult("离婚的时候房子怎么分", nlu=Nlu("ask_ip_law", 0.8)).decision.tier == "decline"
    assert compose_clarify(handed.result).meta["type"] == "clarify"


def test_probable_tier_shows_several_cited_sources(consultant: Consultant) -> None:
    result = consultant.search("专利侵权赔偿怎么算")
    composed = compose_probable(result, max_sources=3, other_questions=["要多久？"])
    assert composed.text.startswith(PROBABLE_INTRO)
    meta = composed.meta
    assert meta["type"] == "answer" and meta["tier"] == "probable"
    assert 2 <= len(meta["sources"]) <= 3
    shown = {(c["law"], c["article"]) for s in meta["sources"] for c in s["citations"]}
    assert shown and shown == {(c["law"], c["article"]) for c in meta["citations"]}
    for citation in meta["citations"]:
        assert citation["label"] in composed.text or citation["article"] in composed.text
    payloads = [b["payload"] for b in composed.buttons]
    assert payloads[:3] == ["/affirm", "/add_details", "/request_human"] and "要多久？" in payloads


def test_ticket_is_committed_with_transcript_and_audit(settings: Settings) -> None:
    db = Database(settings.database_url)
    db.upgrade()
    events = [
        {
            "event": "user",
            "text": "商标被抢注了",
            "timestamp": 1.0,
            "parse_data": {"intent": {"name": "ask_ip_law", "confidence": 0.9}},
        },
        {"event": "bot", "text": "这个问题我没有把握", "timestamp": 2.0},
        {"event": "slot", "name": "x", "value": 1},
    ]
    transcript = transcript_from_events(events)
    assert [t["role"] for t in transcript] == ["user", "bot"] and transcript[0]["intent"] == "ask_ip_law"
    ticket = create_ticket(
        db,
        kind="handoff",
        reason="low_confidence",
        conversation_id="c1",
        ip_type="trademark",
        transcript=transcript,
        retrieval={"confidence": 0.2},
    )
    assert ticket.number and ticket.number.startswith("WY")
    # a brand-new connection sees it: it was committed before the user is told
    fresh = Database(settings.database_url)
    with fresh.session() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored is not None and stored.transcript[0]["text"] == "商标被抢注了"
        assert session.query(AuditEntry).filter_by(target_id=ticket.number).count() == 1
    assert open_ticket_for(db, "c1") is not None and open_ticket_for(db, "c2") is None
    text, meta = handoff_message(ticket, "low_confidence", 4)
    assert ticket.number in text and meta["ticket"]["number"] == ticket.number and meta["type"] == "handoff"


def test_personal_data_is_redacted() -> None:
    text = "我叫王五，电话13812345678，座机 020-12345678，身份证110101199003071234，邮箱 wang@example.com"
    cleaned = redact(text)
    for secret in ("13812345678", "020-12345678", "110101199003071234", "wang@example.com"):
        assert secret not in cleaned
    assert "[手机号]" in cleaned and "[身份证号]" in cleaned and "[邮箱]" in cleaned
    assert redact("专利法第六十五条，赔偿 500 万元") == "专利法第六十五条，赔偿 500 万元"


def test_one_website_client_cannot_flood_the_expert_queue(consultant: Consultant) -> None:
    """After ``desk.tickets_per_client_per_day`` tickets, the same client is pointed to the hotline;
    other clients and hotline intake are not affected."""
    from consult.turns import Turns, TurnState
    from desk.tickets import tickets_from_client

    consultant.db.upgrade()
    consultant.settings.desk.tickets_per_client_per_day = 3
    turns = Turns(consultant)
    flooding, other = "ab" * 12, "cd" * 12
    for i in range(3):
        result = turns.hand_over(TurnState(f"c-flood-{i}", "转人工", client_ref=flooding), "user_request")
        assert result.replies[0].meta["type"] == "handoff"
    refused = turns.hand_over(TurnState("c-flood-4", "转人工", client_ref=flooding), "user_request")
    assert refused.replies[0].meta == {"type": "info", "limited": "tickets_per_client"}
    assert "12330" in refused.replies[0].text and "ticket_number" not in refused.slots
    form = turns.submit_application(TurnState("c-flood-5", "提交", client_ref=flooding), {"phone": "13812345678"})
    assert form.replies[0].meta["type"] == "info" and "ticket_number" not in form.slots
    assert tickets_from_client(consultant.db, flooding) == 3  # nothing was written for the refused ones
    served = turns.hand_over(TurnState("c-someone-else", "转人工", client_ref=other), "user_request")
    assert served.replies[0].meta["type"] == "handoff"
    # the same conversation asking again gets its existing ticket, not a refusal
    again = turns.hand_over(TurnState("c-flood-0", "还在吗", client_ref=flooding), "user_request")
    assert again.replies[0].meta["type"] == "handoff" and again.replies[0].meta["existing"] is True
