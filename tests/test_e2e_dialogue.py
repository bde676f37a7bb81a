"""Conversations through the REST channel with the real Rasa server and the real action server."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from core.settings import Settings
from store.db import Database
from store.models import Ticket
from weiyuan.sandbox import RestUser

pytestmark = pytest.mark.e2e
_ids = itertools.count()


def user(settings: Settings) -> RestUser:
    return RestUser(settings, f"e2e-user-{next(_ids)}")


def tickets(settings: Settings, sender: str) -> list[Ticket]:
    with Database(settings.database_url).session() as session:
        return list(session.scalars(select(Ticket).where(Ticket.conversation_id == sender)))


def laws(message) -> set[str]:  # type: ignore[no-untyped-def]
    return {c["law"] for c in message.meta.get("citations", [])}


def test_question_answered_with_citations_and_followups(stack: Settings) -> None:
    sme = user(stack)
    (answer,) = [m for m in sme.say("我在淘宝上发现有人卖我们外观设计的山寨货怎么办") if m.type]
    assert answer.type == "answer", answer.text
    assert answer.meta["citations"] and "依据：" in answer.text
    assert laws(answer) & {"中华人民共和国专利法", "中华人民共和国电子商务法"}
    assert any(b["payload"] == "/request_human" for b in answer.buttons)

    (followup,) = [m for m in sme.say("那商标呢？") if m.type]
    assert followup.type == "answer", followup.text
    assert "trademark" in followup.meta["ip_types"] or "中华人民共和国商标法" in laws(followup)


def test_materials_follow_up_keeps_the_topic(stack: Settings) -> None:
    sme = user(stack)
    (first,) = [m for m in sme.say("侵权判定参考意见怎么申请？") if m.type]
    assert first.type == "answer", first.text
    (followup,) = [m for m in sme.say("需要准备什么材料？") if m.type]
    assert followup.type == "answer", followup.text
    assert "侵权判定" in followup.meta["query"] and "材料" in followup.meta["query"]
    assert followup.meta["citations"]


def test_assistance_application_form_with_invalid_phone(stack: Settings) -> None:
    sme = user(stack)
    assert sme.say("我要申请维权援助")[-1].meta == {
        "type": "form",
        "form": "assistance_application_form",
        "slot": "company_name",
    }
    assert sme.say("深圳市某某电子科技有限公司")[-1].meta["slot"] == "contact_person"
    assert sme.say("王女士")[-1].meta["slot"] == "phone"
    invalid = sme.say("1381234")
    assert invalid[0].meta == {"type": "form", "form": "assistance_application_form", "slot": "phone", "valid": False}
    assert "11 位手机号" in invalid[0].text
    asked = sme.say("13812345678")[-1]
    if asked.meta["slot"] == "region":  # the company name may already have told us the region
        asked = sme.say("广东深圳")[-1]
    assert asked.meta["slot"] == "ip_type"
    assert sme.say("外观设计")[-1].meta["slot"] == "description"
    assert sme.say("对方在淘宝上卖我们外观设计专利产品的仿冒品，我们已经公证购买了样品")[-1].meta["slot"] == "consent"
    summary = sme.say("/affirm")[-1]
    assert summary.meta["slot"] == "confirmed" and "13812345678" in summary.text and "专利" in summary.text
    done = sme.say("/affirm")[-1]
    assert done.meta["submitted"] is True
    number = done.meta["ticket"]["number"]
    assert number in done.text
    (ticket,) = tickets(stack, sme.sender)
    assert ticket.number == number and ticket.kind == "application"
    assert (ticket.phone, ticket.region, ticket.ip_type, ticket.consent) == ("13812345678", "广东", "patent", True)
    assert any(turn["text"] == "我要申请维权援助" for turn in ticket.transcript)


def test_application_cancelled_midway_saves_nothing(stack: Settings) -> None:
    sme = user(stack)
    sme.say("我想申请维权援助")
    sme.say("杭州某某服饰有限公司")
    cancelled = sme.say("算了不填了")[-1]
    assert cancelled.meta.get("cancelled") is True
    assert tickets(stack, sme.sender) == []
    (after,) = [m for m in sme.say("商标被抢注了怎么办") if m.type]
    assert after.type in ("answer", "handoff")


def test_asking_for_a_person_creates_a_ticket_with_the_transcript(stack: Settings) -> None:
    sme = user(stack)
    sme.say("你好")
    sme.say("我们的商标被别人抢注了")
    handoff = sme.say("我要找人工")[-1]
    assert handoff.type == "handoff"
    number = handoff.meta["ticket"]["number"]
    assert number in handoff.text
    (ticket,) = tickets(stack, sme.sender)
    assert ticket.number == number and ticket.reason == "user_request"
    assert [t["text"] for t in ticket.transcript if t["role"] == "user"][:2] == ["你好", "我们的商标被别人抢注了"]


def test_legal_notice_is_answered_and_handed_over_urgently(stack: Settings) -> None:
    sme = user(stack)
    messages = [m for m in sme.say("收到一封律师函，说我们卖的产品侵犯了他们的商标，要求三天内下架") if m.type]
    assert messages[-1].type == "handoff"
    (ticket,) = tickets(stack, sme.sender)
    assert ticket.priority == "high" and ticket.reason == "needs_person"


def test_non_ip_questions_are_declined_with_a_referral(stack: Settings) -> None:
    for text in ("离婚以后孩子的抚养权怎么判", "公司拖欠我三个月工资怎么办"):
        (message,) = [m for m in user(stack).say(text) if m.type]
        assert message.type == "out_of_scope"
        assert "12348" in message.text


def test_gibberish_is_not_answered_from_ip_law(stack: Settings) -> None:
    (message,) = [m for m in user(stack).say("asdkjh qwpoe zxmnb") if m.type]
    assert message.type in ("out_of_scope", "clarify")
    assert "citations" not in message.meta


def test_the_pinduoduo_counterfeit_question_is_answered_and_its_follow_up_too(stack: Settings) -> None:
    """Issue 8's 'done when': the right entries with citations, and the follow-up answered as well."""
    sme = user(stack)
    (answer,) = [m for m in sme.say("我们公司的商标被别人在拼多多上用了，卖假货，怎么维权？") if m.type]
    assert answer.type == "answer" and answer.meta["tier"] in ("confident", "probable"), answer.text
    assert laws(answer) & {"中华人民共和国商标法", "中华人民共和国电子商务法"}
    for citation in answer.meta["citations"]:
        assert citation["label"] in answer.text  # every citation listed is shown
    (followup,) = [m for m in sme.say("那需要准备哪些证据？") if m.type]
    assert followup.type == "answer", followup.text
    assert "证据" in followup.meta["query"] and followup.meta["citations"]


def test_odd_entity_values_never_silence_the_bot(stack: Settings) -> None:
    """DIET may extract 名牌商标 or 专利权人 as an ip_type; such values are mapped or dropped, never a crash."""
    sme = user(stack)
    sme.say("商标被人抢注了怎么办")
    for value in ("名牌商标", "专利权人", "不存在的类型", "patent"):
        replies = [m for m in sme.say(f'/ask_followup{{"ip_type": "{value}"}}') if m.type]
        assert replies and replies[0].type in ("answer", "clarify", "handoff", "out_of_scope"), value
        assert "错误编号" not in replies[0].text


def test_a_whole_story_is_answered_from_its_question(stack: Settings) -> None:
    story = (
        "我们是做小家电的，2021年设计了一款电热水壶，申请了外观设计专利。去年开始发现拼多多上有好几家店卖一模一样的，"
        "价格比我们便宜一半，销量很大，我们的销量掉了三成。我们找过其中一家，对方说是从工厂直接拿货的，不知道侵权。"
        "请问我们应该怎么维权？能要求赔偿多少？"
    )
    (answer,) = [m for m in user(stack).say(story) if m.type]
    assert answer.type == "answer", answer.text
    assert "中华人民共和国专利法" in laws(answer) or "中华人民共和国电子商务法" in laws(answer)
    # the main question is answered; the other one is offered as a button
    assert "能要求赔偿多少？" in [b["payload"] for b in answer.buttons]


def test_adding_details_searches_again_with_the_first_question(stack: Settings) -> None:
    sme = user(stack)
    first = next(m for m in sme.say("对方抄了我们的东西") if m.type)
    assert first.type in ("answer", "clarify", "handoff")
    (asked,) = [m for m in sme.say("/add_details") if m.type]
    assert asked.type == "clarify" and asked.meta["asks"] == "details"
    (again,) = [m for m in sme.say("是我们注册的商标，对方用在同样的商品上在淘宝卖") if m.type]
    assert again.type == "answer", again.text
    assert "抄了" in again.meta["query"] and "商标" in again.meta["query"]


def test_an_ip_question_diet_may_call_out_of_scope_is_still_answered(stack: Settings) -> None:
    for text in ("专力申请下来要多久", "同行在网上到处造谣说我们的产品吃出过问题，订单掉了一大半，算不正当竞争吗"):
        (message,) = [m for m in user(stack).say(text) if m.type]
        assert message.type == "answer", (text, message.text)
