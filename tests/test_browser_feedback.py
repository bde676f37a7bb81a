"""Feedback that matters, in headless chromium against the real stack (Rasa, action server, gateway).

A user 👎s a real answer, says what was wrong, is offered a person and takes the offer: the
existing hand-over opens a ticket and the conversation stays in the widget.  The rating is
stored with the index version and the sources of that answer, and the admin's dashboard shows
the reason.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.settings import Settings
from store.db import Database
from store.models import Feedback, Ticket
from tests.test_browser import ask, base, browser, login, page, until  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
QUESTION = "我在淘宝上发现有人卖我们外观设计的山寨货怎么办"


def reason_count(page: Any, reason: str) -> int:  # noqa: F811
    """The 👎 count of one reason in the dashboard chart's data table (-1 while it is not drawn)."""
    table = page.locator("#panel-feedback_quality .chart-box:has(#chart-down_by_reason) details table")
    found = re.search(rf"{reason}(\d+)", table.text_content() or "") if table.count() else None
    return int(found[1]) if found else -1


def test_a_thumbs_down_asks_why_offers_an_expert_and_the_dashboard_shows_the_reason(
    page: Any,  # noqa: F811
    base: str,  # noqa: F811
    stack: Settings,
) -> None:
    db = Database(stack.database_url)
    page.goto(f"{base}/demo")
    page.click("#weiyuan-widget .launcher")
    page.wait_for_selector("#weiyuan-widget .panel.open")
    ask(page, QUESTION)
    # the bot's first reply to the question, whatever it is, so that a failure says what the bot did
    first = page.locator("#weiyuan-widget .msg.user ~ .msg.bot").first
    try:
        first.wait_for(timeout=90000)
    except Exception as exc:
        raise AssertionError("no reply: " + page.inner_text("#weiyuan-widget .panel")) from exc
    assert first.locator(".rate button").count(), "no rated answer: " + page.inner_text("#weiyuan-widget .log")
    answer = page.locator("#weiyuan-widget .msg.bot:has(.rate)").last
    assert not answer.locator(".why").count()  # nothing asked before a 👎

    # 👎: one optional question and the way to a person
    answer.locator(".rate button", has_text="没帮助").click()
    page.wait_for_selector("#weiyuan-widget .why")
    why = answer.locator(".why")
    assert "哪里不满意？（可不选）" in why.inner_text()
    assert [b.inner_text() for b in why.locator("button.reason").all()] == ["没答到点上", "依据不对", "太笼统", "其他"]
    assert why.locator("button.to-human", has_text="转人工专家").count() == 1

    # the 👎 counts already; the reason is added to the same rating
    why.locator("button.reason", has_text="依据不对").click()
    page.wait_for_selector("#weiyuan-widget .why button.reason.on")
    assert "谢谢，已记录" in why.inner_text()
    with db.session() as session:
        rows = list(session.query(Feedback).filter(Feedback.reason == "wrong_basis"))
        assert len(rows) == 1
        conversation, version, sources = rows[0].conversation_id, rows[0].index_version, rows[0].sources
        assert rows[0].rating == -1 and version  # the version that served the answer
        assert sources and all(re.match(r"^(entry|policy|case)/", s) for s in sources)

    # the offer taken: the existing hand-over, and the conversation is still there
    why.locator("button.to-human").click()
    handoff = page.wait_for_selector("#weiyuan-widget .msg.bot:has-text('工单号')", timeout=60000)
    number = re.search(r"WY\d{6}-\d{5}", handoff.inner_text())
    assert number, handoff.inner_text()
    log = page.inner_text("#weiyuan-widget .log")
    assert "外观设计的山寨货" in log and "转人工专家" in log
    with db.session() as session:
        ticket = session.query(Ticket).filter(Ticket.number == number[0]).one()
        assert ticket.conversation_id == conversation and ticket.kind == "handoff"
        assert any("外观设计的山寨货" in str(m.get("text", "")) for m in ticket.transcript or [])

    # the admin sees the reason on the dashboard
    login(page, base, "admin")
    page.goto(f"{base}/admin/analytics")
    page.click("button[data-days='7']")
    page.wait_for_selector("#panel-feedback_quality")
    try:
        until(lambda: reason_count(page, "依据不对") >= 1)
    except AssertionError:
        raise AssertionError(page.inner_text("#panels")[:3000]) from None
    assert page.inner_text("#panel-feedback_quality h2") == "差评原因与知识版本"
    assert version in page.inner_text("#panel-feedback_quality")  # its row in the per-version table
    target = page.locator("#chart-down_by_reason")
    assert target.get_attribute("_echarts_instance_") and target.locator("canvas").count() == 1
