"""The analytics dashboard in headless chromium against the real stack (Rasa, action server, gateway).

Today's figures come from a real widget conversation through Rasa; an earlier, hand-counted March
2026 (tests/test_analytics.py) is written into the stack's database beside it.  The charts must
render (ECharts from this machine, a canvas per chart), a change of the date range must change
them, the CSV must download, the monthly report must print without the page chrome, and without
the chart library the page must say so in Chinese and still show every figure as a table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from desk.analytics.export import BOM
from desk.analytics.record import classify, record_turn
from store.db import Database
from tests.test_analytics import TURNS
from tests.test_browser import SHOTS, base, browser, login, page, until  # noqa: F401  (fixtures)
from weiyuan.sandbox import post_json

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

#: new conversations, user messages and bot replies per day of the fixture: 1, 2, 3 March
MARCH_SUM = (2 + 2 + 1) + (4 + 5 + 2) + (4 + 4 + 2)
THIRD_SUM = 1 + 2 + 2


@pytest.fixture(scope="module")
def traffic(base: str, stack: Settings) -> str:  # noqa: F811
    """Two real widget questions today, and the fixture March in the stack's database."""
    session = post_json(f"{base}/api/chat/start", {})["session"]
    for text in ("我们的商标被别人抢注了怎么办", "今天天气怎么样"):
        post_json(f"{base}/api/chat/send", {"session": session, "text": text})
    db = Database(stack.database_url)
    with db.session() as stored:
        for conversation, when, text, replies in TURNS:
            facts = classify(replies or [], with_expert=replies is None)
            record_turn(stored, conversation_id=f"{conversation}-browser", text=text, facts=facts, at=when)
            stored.flush()
    return session


def chart_sum(page: Any, chart_id: str) -> int:  # noqa: F811
    return int(page.get_attribute(f"#chart-{chart_id}", "data-sum") or -1)


def kpi(page: Any, panel: str, label: str) -> str:  # noqa: F811
    return str(page.inner_text(f"#panel-{panel} .kpi:has(dt:text-is('{label}')) dd"))


def test_the_dashboard_draws_its_charts_and_the_date_range_changes_them(
    page: Any,  # noqa: F811
    base: str,  # noqa: F811
    traffic: str,
    tmp_path: Path,
) -> None:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    login(page, base, "admin")
    page.click("a.tab-link")  # from the admin console, one click
    page.wait_for_url("**/admin/analytics")
    page.wait_for_selector("#panel-activity .kpi dd")
    assert outside == []  # ECharts comes from the gateway, not a CDN
    assert page.is_hidden("#charts-missing")

    # last 7 days: today's real conversation through Rasa is there
    page.click("button[data-days='7']")
    until(lambda: int(kpi(page, "activity", "用户消息")) >= 2)
    assert int(kpi(page, "activity", "新对话")) >= 1
    assert chart_sum(page, "outcome_share") >= 2 and chart_sum(page, "by_channel") >= 2
    # the IP type the action server put on its reply reached the chart
    ip_data = page.locator("#panel-questions .chart-box:has(#chart-by_ip_type) details table").text_content() or ""
    assert "商标" in ip_data

    # the fixture's three days
    page.fill("#from", "2026-03-01")
    page.fill("#to", "2026-03-03")
    page.click("#range button[type=submit]")
    until(lambda: page.get_attribute("#panels", "data-range") == "2026-03-01/2026-03-03")
    assert chart_sum(page, "per_day") == MARCH_SUM and page.get_attribute("#chart-per_day", "data-points") == "3"
    assert kpi(page, "activity", "新对话") == "5" and kpi(page, "outcomes", "有把握回答率") == "25%"
    for chart in ("per_day", "by_ip_type", "by_service", "by_region", "by_channel", "outcome_share", "confidence_hist"):
        target = page.locator(f"#chart-{chart}")
        assert target.get_attribute("_echarts_instance_"), chart  # an ECharts instance drew here
        canvas = target.locator("canvas")
        assert canvas.count() == 1 and (canvas.bounding_box() or {}).get("height", 0) > 200, chart
    page.locator("#chart-per_day").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "analytics.png"), full_page=False)
    before = page.locator("#chart-by_ip_type canvas").screenshot()

    # one day only: the figures and the drawn charts change
    page.fill("#from", "2026-03-03")
    page.click("#range button[type=submit]")
    until(lambda: page.get_attribute("#panels", "data-range") == "2026-03-03/2026-03-03")
    assert chart_sum(page, "per_day") == THIRD_SUM and kpi(page, "activity", "新对话") == "1"
    assert page.locator("#chart-by_ip_type canvas").screenshot() != before
    assert "from=2026-03-03&to=2026-03-03" in page.url  # the range can be bookmarked

    # the CSV of the range, ready for Excel
    with page.expect_download() as download:
        page.click("#export")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    text = saved.read_text("utf-8")
    assert text.startswith(BOM) and "对话与消息,用户消息,,,2," in text

    # the monthly report, one click away, prints without the page chrome
    page.click("#report-month")
    page.wait_for_selector("article.report")
    assert "2026 年 3 月" in page.inner_text("h1")
    assert "按服务途径" in page.inner_text("article.report") and "服务中小微企业" in page.inner_text("article.report")
    page.emulate_media(media="print")
    assert page.is_hidden("header.topbar") and page.is_hidden(".report-nav")
    page.emulate_media(media="screen")
    page.click("text=2026 年度数字")
    page.wait_for_selector("article.report")
    assert "2026 年度" in page.inner_text("h1")


def test_without_the_chart_library_the_page_says_so_and_shows_tables(page: Any, base: str, traffic: str) -> None:  # noqa: F811
    page.route("**/static/vendor/echarts/**", lambda route: route.fulfill(status=404, body="not installed"))
    login(page, base, "admin")
    page.goto(f"{base}/admin/analytics?from=2026-03-01&to=2026-03-03")
    page.wait_for_selector("#panel-activity .kpi dd")
    assert page.is_visible("#charts-missing") and "scripts/setup.sh assets" in page.inner_text("#charts-missing")
    assert page.locator("canvas").count() == 0
    table = page.locator("#panel-activity details[open] table")
    assert table.count() == 1 and "2026-03-02" in table.inner_text()


def test_a_slow_answer_for_an_earlier_range_does_not_replace_the_chosen_one(page: Any, base: str, traffic: str) -> None:  # noqa: F811
    """An admin who changes the range before the last one came back sees the range they chose last."""
    held: list[Any] = []
    page.route("**/api/admin/analytics?from=2026-02-*", lambda route: held.append(route))  # answered later
    login(page, base, "admin")
    page.goto(f"{base}/admin/analytics?from=2026-02-01&to=2026-03-03")
    until(lambda: len(held) == 1, page=page)  # the route callback runs only inside a Playwright call
    page.fill("#from", "2026-03-01")
    page.click("#range button[type=submit]")
    until(lambda: page.get_attribute("#panels", "data-range") == "2026-03-01/2026-03-03")
    held[0].continue_()  # the earlier, wider range answers last
    page.wait_for_timeout(1500)
    assert page.get_attribute("#panels", "data-range") == "2026-03-01/2026-03-03"
    assert chart_sum(page, "per_day") == MARCH_SUM
