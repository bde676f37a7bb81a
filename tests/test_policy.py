"""The answer policy, the query plan and the IP-type vocabulary: pure functions, no model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consult.policy import Nlu, Thresholds, decide, needs_person
from consult.query import QueryPlan, plan_query
from consult.vocabulary import canonical_ip_type, ip_type_from_text
from core.vocabulary import IP_TYPE_LABELS

T = Thresholds(confident=0.8, probable=0.5)
ASK = Nlu("ask_ip_law", 0.9)
OOS = Nlu("out_of_scope", 0.95)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("patent", "patent"),
        ("名牌商标", "trademark"),
        ("商标名", "trademark"),
        ("专利权人", "patent"),
        ("反不正当竞争", "unfair_competition"),
        ("軟件著作權", "copyright"),
        ("商标", "trademark"),
        ("著作权", "copyright"),
        ("嗯嗯", None),
        ("", None),
        (None, None),
    ],
)
def test_entity_values_become_canonical_or_are_dropped(value: str | None, expected: str | None) -> None:
    assert canonical_ip_type(value) == expected


@given(st.text(max_size=40))
def test_canonical_ip_type_never_invents_a_type(value: str) -> None:
    assert canonical_ip_type(value) in (None, *IP_TYPE_LABELS)


def test_ip_type_read_from_the_text() -> None:
    assert ip_type_from_text("同行抄了我们的外观专利") == "patent"
    assert ip_type_from_text("离婚财产怎么分") is None


def test_confident_answers_whatever_diet_said() -> None:
    assert decide("说了一大段关于外观的事", 0.9, T, nlu=OOS, mentions_ip=False, clarified=False).tier == "confident"


def test_a_statute_article_alone_is_only_a_probable_answer() -> None:
    decision = decide("假冒专利会坐牢吗", 0.95, T, nlu=ASK, mentions_ip=True, clarified=False, best_kind="policy")
    assert decision.tier == "probable" and decision.reason == "statute_only"


def test_ip_question_diet_called_out_of_scope_is_still_answered() -> None:
    decision = decide("对方抄袭我们的商标还在拼多多上卖", 0.6, T, nlu=OOS, mentions_ip=True, clarified=False)
    assert decision.tier == "probable"


def test_non_ip_question_diet_called_ip_is_declined() -> None:
    text = "我老公出轨了，离婚的时候孩子抚养权归谁"
    sure, unsure = Nlu("ask_ip_law", 0.95), Nlu("ask_ip_law", 0.6)
    # no IP word, retrieval below the domain threshold: only a sure DIET keeps it in the IP domain
    assert decide(text, 0.55, T, nlu=sure, mentions_ip=False, clarified=False).tier == "probable"
    assert decide(text, 0.55, T, nlu=unsure, mentions_ip=False, clarified=False).tier == "decline"
    assert decide(text, 0.3, T, nlu=sure, mentions_ip=False, clarified=False).tier == "decline"
    assert decide(text, 0.55, T, nlu=OOS, mentions_ip=False, clarified=False).tier == "decline"


def test_vague_questions_are_clarified_once_then_handed_over() -> None:
    assert decide("我想维权", 0.2, T, nlu=ASK, mentions_ip=True, clarified=False).tier == "clarify"
    assert decide("我想维权", 0.2, T, nlu=ASK, mentions_ip=True, clarified=True).tier == "handoff"
    long_ip = "我们公司的商标被别人抢先注册了，现在对方反过来说我们侵权，要我们停止使用"
    assert decide(long_ip, 0.2, T, nlu=ASK, mentions_ip=True, clarified=False).tier == "handoff"


def test_a_deadline_or_a_summons_needs_a_person() -> None:
    assert needs_person("收到法院传票了，说我们侵犯外观专利")
    assert not needs_person("外观专利保护多少年")
    text = "收到律师函说我们卖的杯子侵犯他们外观专利"
    decision = decide(text, 0.9, T, nlu=ASK, mentions_ip=True, clarified=False)
    assert decision.tier == "confident" and decision.also_handoff
    assert decide(text, 0.1, T, nlu=ASK, mentions_ip=True, clarified=False).tier == "handoff"


STORY = (
    "我们是做小家电的，2021年设计了一款电热水壶，申请了外观设计专利。去年开始发现拼多多上有好几家店卖一模一样的，"
    "价格比我们便宜一半，销量很大，我们的销量掉了三成。我们找过其中一家，对方说是从工厂直接拿货的，不知道侵权。"
    "请问我们应该怎么维权？能要求赔偿多少？"
)


def test_a_story_is_searched_as_written_and_by_its_questions_and_key_facts() -> None:
    plan = plan_query(STORY, lambda s: "专利" in s or "拼多多" in s)
    assert len(plan.main) <= 130 and "怎么维权" in plan.main
    assert "外观设计专利" in plan.main or "拼多多" in plan.main
    assert plan.multi and plan.questions == ["我们应该怎么维权？", "能要求赔偿多少？"]
    assert plan.queries[:2] == [STORY, plan.main]
    # "能要求赔偿多少？" alone names no IP term: it is searched with the nearest key fact
    assert any(q.endswith("能要求赔偿多少？") and len(q) > 10 for q in plan.queries)


def test_the_other_questions_of_a_story_are_offered() -> None:
    from consult.service import _other_questions

    plan = plan_query(STORY, lambda s: "专利" in s or "拼多多" in s)
    assert _other_questions(plan, STORY) == ["能要求赔偿多少？"]
    assert _other_questions(plan, plan.searchable[1]) == ["我们应该怎么维权？"]
    assert _other_questions(plan_query("外观专利保护多少年"), "外观专利保护多少年") == []


def test_a_short_question_is_searched_as_it_is() -> None:
    plan = plan_query("请问外观专利保护多少年？")
    assert plan.queries == ["请问外观专利保护多少年？"] and not plan.multi
    multi = plan_query("商标怎么注册？要多少钱？")
    assert multi.multi and multi.queries == ["商标怎么注册？要多少钱？"]


@given(st.text(min_size=1, max_size=400))
def test_any_text_gets_a_non_empty_plan(text: str) -> None:
    plan = plan_query(text)
    assert isinstance(plan, QueryPlan) and plan.queries and all(q.strip() for q in plan.queries if text.strip())
