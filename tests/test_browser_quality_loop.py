"""Issue 13's "done when", end to end in headless chromium on the real stack (Rasa, action server, gateway).

Visitors chat through the widget API: questions the knowledge base answers, a question that is
not about IP, and the same question about the Olympic rings asked four ways, which no entry
covers (the bot declines most of them as not about IP, or can only list possibly related
sources).  The admin opens the dashboard and sees, in charts, what was asked and how the bot
fared; finds the Olympic questions as one group among the unanswered ones (declined questions
included on request); turns the group into a draft in one click; writes the answer and
publishes it; the index refreshes; and a new visitor asking in yet other words gets that answer,
with the entry shown as its source.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from core.settings import Settings
from tests.test_browser import SHOTS, ask, base, browser, login, page, until  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

#: the knowledge base answers these (or declines the last one, which is not about IP)
COVERED = ["商标被别人抢注了怎么办", "专利侵权怎么赔偿", "员工离职带走了客户名单怎么办", "今天天气怎么样"]
#: one topic the knowledge base does not cover, asked four ways
UNCOVERED = [
    "奥运五环能不能印在我们的产品包装上",
    "我们想在T恤上印奥林匹克五环标志，需要谁批准",
    "奥运五环图案可以印在自家产品上卖吗",
    "奥林匹克标志可以拿来商用吗",
]
#: a new visitor, in words of their own
LATER = "产品包装上想印奥运五环，可以吗"
#: the admin's answer (general guidance in the project's own words; the regulation is not in the corpus)
ANSWER = (
    "一般不可以擅自使用。奥林匹克五环图案标志、奥林匹克旗、格言、徽记、吉祥物等属于奥林匹克标志，"
    "由《奥林匹克标志保护条例》保护（本知识库未收录该条例原文）：其权利人享有专有权，"
    "未经权利人许可，任何人不得为商业目的使用，包括把标志用在商品、商品包装、广告宣传或商业活动中。"
    "想使用的，应当事先取得权利人（如中国奥林匹克委员会）的许可；擅自使用的，可能被市场监督管理部门查处，"
    "权利人也可以要求停止侵权、赔偿损失。不确定某个图案算不算奥林匹克标志的，可以先咨询维权援助中心。"
)


def send(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST as the widget does; a 429 from the per-client limit (every visitor here is 127.0.0.1) is waited out."""
    for _ in range(30):
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            if exc.code != 429:
                raise
            time.sleep(float(exc.headers.get("Retry-After") or 3))
    raise AssertionError("still rate limited")


@pytest.fixture(scope="module")
def day_of_traffic(base: str) -> dict[str, list[dict[str, Any]]]:  # noqa: F811
    """Each question from a new visitor; a 👎 with a remark on one answer. Returns the bot's replies."""
    replies = {}
    for text in COVERED + UNCOVERED:
        session = send(f"{base}/api/chat/start", {})["session"]
        replies[text] = send(f"{base}/api/chat/send", {"session": session, "text": text})["messages"]
        if text == COVERED[1]:
            answer = next(m for m in replies[text] if m["role"] == "bot" and m["meta"].get("answer_id"))
            rated = {"session": session, "answer_id": answer["meta"]["answer_id"], "rating": -1}
            send(f"{base}/api/chat/feedback", rated | {"reason": "other", "comment": "想知道具体能赔多少"})
    return replies


def outcome(messages: list[dict[str, Any]]) -> str:
    meta = next((m["meta"] for m in messages if m["role"] == "bot" and m["meta"].get("type")), {})
    return str(meta.get("type")) + (f"/{meta['tier']}" if meta.get("tier") else "")


def kpi(page: Any, panel: str, label: str) -> str:  # noqa: F811
    return str(page.inner_text(f"#panel-{panel} .kpi:has(dt:text-is('{label}')) dd"))


def test_an_admin_finds_what_the_bot_fell_short_on_and_the_bot_then_answers_it(
    browser: Any,  # noqa: F811
    page: Any,  # noqa: F811
    base: str,  # noqa: F811
    stack: Settings,
    day_of_traffic: dict[str, list[dict[str, Any]]],
) -> None:
    # the starting point: the bot did not answer the Olympic question confidently, however it was asked
    uncovered = [outcome(day_of_traffic[t]) for t in UNCOVERED]
    assert "answer/confident" not in uncovered, uncovered
    assert outcome(day_of_traffic[COVERED[0]]) == "answer/confident"

    # the dashboard after the day: what was asked and how the bot fared, in charts
    login(page, base, "admin")
    page.goto(f"{base}/admin/analytics")
    page.click("button[data-days='7']")
    until(lambda: int(kpi(page, "activity", "用户消息")) >= len(COVERED + UNCOVERED))
    assert page.locator("#chart-outcome_share canvas").count() == 1
    assert int(page.get_attribute("#chart-outcome_share", "data-sum") or 0) >= len(COVERED + UNCOVERED)
    assert int(kpi(page, "feedback_quality", "👎 没帮助")) >= 1
    assert "想知道具体能赔多少" in page.inner_text("#panel-feedback_quality .quotes")

    # the unanswered questions, with those declined as not about IP: the Olympic ones are one group
    page.wait_for_selector("#clusters .cluster-head")
    page.check("#clusters-declined")
    group = page.locator("#clusters article.cluster", has_text="奥").first
    group.wait_for(timeout=60_000)
    assert int(group.get_attribute("data-size") or 0) >= 3
    assert "奥" in group.locator(".cluster-examples").inner_text()
    page.locator("#clusters .cluster-head").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "quality-loop-clusters.png"), full_page=False)

    # one click: a draft to review, with the group's questions
    group.locator("button", has_text="生成草稿条目").click()
    link = group.locator("a.cluster-draft-link")
    link.wait_for()
    number = re.search(r"#(\d+)", link.inner_text())
    assert number
    link.click()
    page.wait_for_selector("#drafts .panel")
    draft = page.locator("#drafts .panel", has_text=f"#{number[1]} ")
    assert "【待撰写】" in draft.locator("textarea").first.input_value()
    assert "奥" in draft.locator("input").first.input_value()
    draft.locator("textarea").first.fill(ANSWER)
    draft.locator("button.primary").click()
    page.wait_for_selector("#job-stage:has-text('完成')", state="attached", timeout=240_000)

    # a new visitor, in other words: answered from the published entry, with it as the source
    visitor_ctx = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    visitor = visitor_ctx.new_page()
    visitor.goto(f"{base}/demo")
    visitor.click("#weiyuan-widget .launcher")
    ask(visitor, LATER)
    reply = visitor.wait_for_selector("#weiyuan-widget .msg.bot:has-text('来源：知识库条目')", timeout=60_000)
    text = reply.inner_text()
    assert "中国奥林匹克委员会" in text and "不在知识产权维权援助的服务范围内" not in text
    visitor.screenshot(path=str(SHOTS / "quality-loop-answered.png"))
    visitor_ctx.close()
