"""An admin clicks a cluster of unanswered questions and finds the draft to review (headless chromium, real stack).

The questions are written into the stack's analytics records (recent days, so the retention sweep
keeps their text); the action server embeds them with the real model, the page shows the cluster,
and one click makes the draft the console's "待审条目" tab then shows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core.settings import Settings
from desk.analytics.period import CHINA, today
from desk.analytics.record import classify, record_turn
from store.db import Database
from tests.test_browser import base, browser, login, page, until  # noqa: F401  (fixtures)
from tests.test_clusters import HANDOFF, answer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ASKED = "公司名称被别人抢注成商标了怎么办"
#: visible text a user typed, with markup in it: it must show as text, never as HTML
MARKUP = "<b>集成电路布图设计</b>被抄袭了怎么办"


@pytest.fixture(scope="module")
def unanswered(stack: Settings) -> None:
    rows = [
        (1, ASKED, answer("probable", "b1" * 16)),
        (2, ASKED, HANDOFF),
        (5, "我们公司的名字被人抢注成了商标，怎么处理", answer("probable", "b2" * 16)),
        (4, MARKUP, HANDOFF),
        (5, MARKUP, HANDOFF),
    ]
    start = today() - dt.timedelta(days=6)
    with Database(stack.database_url).session() as session:
        for n, (day, text, replies) in enumerate(rows):
            when = dt.datetime.combine(start + dt.timedelta(days=day), dt.time(10, n), CHINA)
            record_turn(session, conversation_id=f"w-cluster-{n}", text=text, facts=classify(replies), at=when)
            session.flush()


def test_a_cluster_becomes_a_draft_in_one_click(page: Any, base: str, unanswered: None) -> None:  # noqa: F811
    login(page, base, "admin")
    page.goto(f"{base}/admin/analytics")  # the last 30 days
    page.wait_for_selector("#clusters article.cluster", timeout=60_000)
    card = page.locator("#clusters article.cluster", has_text=ASKED).first
    assert int(card.get_attribute("data-size") or 0) >= 2
    assert "最接近的现有条目" in card.inner_text() and card.locator(".cluster-nearest a").count() == 1
    markup = page.locator("#clusters article.cluster", has_text="<b>集成电路布图设计</b>")
    assert markup.count() == 1 and markup.locator(".cluster-examples b").count() == 0  # shown as text

    card.locator("button", has_text="生成草稿条目").click()
    link = card.locator("a.cluster-draft-link")
    link.wait_for()
    assert "草稿 #" in link.inner_text()
    link.click()
    page.wait_for_url("**/admin#drafts")
    until(lambda: page.locator("#drafts .panel").count() >= 1)
    panels = page.locator("#drafts .panel")
    mine = [
        panels.nth(i)
        for i in range(panels.count())
        if any(ASKED in panels.nth(i).locator("input").nth(j).input_value() for j in range(2))
    ]
    assert len(mine) == 1  # the draft, in the review list like an expert's
    assert "【待撰写】" in mine[0].locator("textarea").first.input_value()

    # back on the analytics page the cluster points at its draft instead of offering a second one
    page.goto(f"{base}/admin/analytics")
    page.wait_for_selector("#clusters article.cluster")
    again = page.locator("#clusters article.cluster", has_text=ASKED).first
    until(lambda: again.locator("a.cluster-draft-link").count() == 1)
    assert again.locator("button", has_text="生成草稿条目").count() == 0
