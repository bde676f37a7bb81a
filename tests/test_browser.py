"""The three pages in a real browser (Debian chromium, headless) against the real stack.

Widget conversation with the real Rasa server, agent search, admin refresh with
live progress while the widget keeps answering, login/logout and roles, XSS
payloads that must not execute, an expert reply reaching the widget. Screenshots
go to docs/screenshots/.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from core.settings import PROJECT_ROOT as ROOT
from core.settings import Settings
from desk.accounts import create_user
from store.db import Database
from weiyuan.sandbox import post_json

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "browser-test-password"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def base(stack: Settings) -> str:
    db = Database(stack.database_url)
    db.upgrade()
    for name, role, expert in (
        ("admin", "admin", None),
        ("agent", "agent", None),
        ("expert-gd", "expert", "demo-patent-guangdong"),
        ("expert-pool", "expert", "demo-general-pool"),
    ):
        with contextlib.suppress(ValueError):  # already created by an earlier test module
            create_user(db, name, PASSWORD, role, display_name=f"测试{name}", expert_id=expert)
    return f"http://{stack.server.host}:{stack.server.gateway_port}"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def until(condition: Any, timeout: float = 20.0, page: Any = None) -> None:
    """Poll a Python condition (our pages' CSP forbids the string evaluation wait_for_function uses).

    A condition that reads only Python state set by Playwright callbacks (a held route, say) must
    pass the page: Playwright's sync API dispatches those callbacks only while one of its own calls
    runs, so the poll then waits with ``page.wait_for_timeout`` instead of ``time.sleep``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if page is None:
            time.sleep(0.2)
        else:
            page.wait_for_timeout(200)
    raise AssertionError("condition not met in time")


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def ask(page: Any, text: str) -> None:
    page.fill("#weiyuan-widget textarea", text)
    page.press("#weiyuan-widget textarea", "Enter")


def test_widget_conversation_with_citations_feedback_and_reload(page: Any, base: str) -> None:
    page.goto(f"{base}/demo")
    page.click("#weiyuan-widget .launcher")
    page.wait_for_selector("#weiyuan-widget .panel.open")
    ask(page, "我在淘宝上发现有人卖我们外观设计的山寨货怎么办")
    page.wait_for_selector("#weiyuan-widget .typing", state="attached", timeout=5000)
    cite = page.wait_for_selector("#weiyuan-widget .msg.bot .cites a", timeout=60000)
    assert "/kb?" in (cite.get_attribute("href") or "") and "《" in cite.inner_text()
    answer = page.locator("#weiyuan-widget .msg.bot").last
    assert "依据：" in answer.inner_text()
    answer.locator(".rate button").first.click()
    page.wait_for_selector("#weiyuan-widget .rate button.on")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "widget.png"))
    # an answer resting on many articles shows a few sources and the rest on request
    links = answer.locator(".cites a")
    more = answer.locator(".cites a", has_text="更多依据")
    if more.count():
        before = links.count()
        assert before <= 6
        more.click()
        assert links.count() > before and not more.count()
    # the cited article opens in a page of its own
    article = page.context.new_page()
    article.goto(cite.get_attribute("href"))
    assert "《" in article.inner_text("body") or "第" in article.inner_text("h1")
    article.close()
    # the conversation survives a page reload
    page.reload()
    page.click("#weiyuan-widget .launcher")
    page.wait_for_selector("#weiyuan-widget .msg.user")
    assert "外观设计的山寨货" in page.inner_text("#weiyuan-widget .log")
    assert page.locator("#weiyuan-widget .msg.bot .cites a").count() >= 1


def test_widget_on_a_phone(browser: Any, base: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(f"{base}/demo")
    phone.click("#weiyuan-widget .launcher")
    panel = phone.wait_for_selector("#weiyuan-widget .panel.open")
    box = panel.bounding_box()
    assert box and box["width"] == 390 and box["height"] == 844  # full screen on a phone
    phone.fill("#weiyuan-widget textarea", "你好")
    phone.press("#weiyuan-widget textarea", "Enter")
    phone.wait_for_selector("#weiyuan-widget .msg.bot >> nth=1", timeout=60000)
    phone.screenshot(path=str(SHOTS / "widget-phone.png"))
    context.close()


def test_the_api_viewer_renders_every_operation_from_this_machine(page: Any, base: str) -> None:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.goto(f"{base}/api/docs")
    page.wait_for_selector(".opblock", timeout=30000)
    spec = page.evaluate("fetch('/api/openapi.json').then(r => r.json())")
    operations = sum(len(methods) for methods in spec["paths"].values())
    assert page.locator(".opblock").count() == operations
    assert "发送一条消息并得到回复" in page.inner_text("#swagger-ui")
    assert outside == []  # no CDN: the viewer's files come from the gateway
    page.screenshot(path=str(SHOTS / "api-docs.png"))


def test_xss_in_a_chat_message_does_not_execute(page: Any, base: str) -> None:
    page.goto(f"{base}/demo")
    page.click("#weiyuan-widget .launcher")
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    ask(page, payload)
    page.wait_for_selector("#weiyuan-widget .msg.bot >> nth=1", timeout=60000)
    assert payload in page.inner_text("#weiyuan-widget .log")  # shown as text
    assert page.evaluate("window.__xss") is None
    assert page.locator("#weiyuan-widget img").count() == 0


def test_login_logout_and_roles(page: Any, base: str) -> None:
    page.goto(f"{base}/agent")
    assert "/login" in page.url
    login(page, base, "agent")
    assert page.url.endswith("/agent")
    page.goto(f"{base}/admin")
    assert "没有权限" in page.inner_text("body")
    page.goto(f"{base}/desk")
    assert "没有权限" in page.inner_text("body")
    page.goto(f"{base}/agent")
    page.click("text=退出")
    page.wait_for_url(re.compile(r".*/login"))
    page.goto(f"{base}/agent")
    assert "/login" in page.url
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong password!!")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.inner_text("body")


def test_agent_finds_an_article_and_copies_the_answer(page: Any, base: str) -> None:
    login(page, base, "agent")
    page.fill("#q", "对方在展会上卖侵犯我们专利的产品，能不能马上让他撤下来")
    page.wait_for_selector("#results li", timeout=10000)
    assert "毫秒" in page.inner_text("#status")
    assert page.locator("#results mark").count() > 0  # the caller's words are highlighted
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail:not([hidden])")
    assert page.inner_text("#detail-title")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy")
    page.wait_for_selector("#copied:has-text('已复制')")
    page.select_option("#kind", "policy")
    until(lambda: (tags := page.locator("#results .tag").all_inner_texts()) and set(tags) == {"法规政策"})
    page.screenshot(path=str(SHOTS / "agent.png"))
    assert page.locator("#recent li").count() >= 1


def test_admin_edits_refreshes_with_progress_while_the_widget_answers(page: Any, base: str, stack: Settings) -> None:
    login(page, base, "admin")
    page.click("button[data-tab=files]")
    page.click("#files li[data-path='entries/general.yaml']")
    until(lambda: page.inner_text("#edit-path") == "entries/general.yaml" and page.input_value("#content"))
    content = page.input_value("#content")
    # a malformed change is refused with file and line
    page.fill("#content", content.replace("ip_type: general", "ip_type: everything", 1))
    page.click("#save")
    problem = page.wait_for_selector("#file-problems li")
    assert re.search(r"entries/general.yaml 第 \d+ 行：.*ip_type", problem.inner_text())
    assert (stack.knowledge_dir / "entries" / "general.yaml").read_text("utf-8") == content
    # an entry with an XSS payload is accepted as text
    marker = uuid.uuid4().hex[:8]
    addition = (
        f"\n  - id: browser-xss-{marker}\n    question: <script>window.__kbxss=1</script>浏览器测试{marker}会执行脚本吗\n"
        f'    answer: <img src=x onerror="window.__kbxss=2"> 这一条用来检查页面会不会把知识库内容当成 HTML 执行（{marker}）。\n'
        "    ip_type: general\n    services: [consultation]\n"
    )
    page.fill("#content", content.rstrip("\n") + addition)
    page.click("#save")
    page.wait_for_selector("#file-status:has-text('已保存')")
    page.click("button[data-tab=index]")
    before = page.inner_text("#current-version")
    chatting = _chat_in_background(base)
    page.click("#refresh")
    page.wait_for_selector("#job:not([hidden])")
    page.wait_for_selector("#job-stage:has-text('进行中')", timeout=30000)
    page.screenshot(path=str(SHOTS / "admin.png"))
    page.wait_for_selector("#job-stage:has-text('完成')", timeout=180000)
    chatting.join(timeout=120)
    assert chatting.results and all(status == 200 for status in chatting.results), chatting.results
    until(lambda: page.inner_text("#current-version") != before)
    # the new entry is searchable and rendered as text everywhere
    page.goto(f"{base}/agent")
    page.fill("#q", f"浏览器测试{marker}会执行脚本吗")
    page.wait_for_selector(f"#results li:has-text('{marker}')", timeout=15000)
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail:not([hidden])")
    page.goto(f"{base}/kb?id=entry/browser-xss-{marker}")
    assert "<script>window.__kbxss=1</script>" in page.inner_text("h1")
    assert page.evaluate("window.__kbxss") is None


class _Chatter(threading.Thread):
    """A widget user who keeps asking while the admin refreshes the index."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.results: list[int] = []

    def run(self) -> None:
        session = post_json(f"{self.base}/api/chat/start", {})["session"]
        for text in ("商标被抢注了怎么办", "软著怎么登记", "专利侵权赔偿怎么算"):
            try:
                post_json(f"{self.base}/api/chat/send", {"session": session, "text": text}, timeout=90)
                self.results.append(200)
            except Exception as exc:  # recorded and asserted by the test
                self.results.append(getattr(exc, "code", 0))


def _chat_in_background(base: str) -> _Chatter:
    chatter = _Chatter(base)
    chatter.start()
    return chatter


#: a question the knowledge base answers only tentatively (probable tier; its confidence sits between
#: the two thresholds, so an edit of nearby entries can move it: re-check with the stack if this test fails there)
QUESTION = "深圳的厂，我们的实用新型专利被对手在国外申请了，怎么办"
EXPERT_ANSWER = (
    "这种情况属于在国外被抢先申请。建议：1. 尽快整理我方在先研发和公开的证据（图纸、样品、销售记录、"
    "展会资料）；2. 查询对方在该国申请的公开文本和审查状态；3. 在该国提出异议或无效程序，需委托当地专利代理；"
    "4. 可申请国家海外知识产权纠纷应对指导中心的指导。"
)


def test_low_confidence_question_goes_to_the_right_expert_and_the_reusable_answer_is_used_next_time(
    browser: Any, base: str, stack: Settings
) -> None:
    """A question the bot can only answer tentatively: it shows possibly relevant sources, the user asks
    for a person, the ticket goes to the regional patent expert, whose reply reaches the widget; once
    the admin publishes that reply, the bot answers the same question itself."""
    user_ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    user = user_ctx.new_page()
    user.goto(f"{base}/demo")
    user.click("#weiyuan-widget .launcher")
    user.fill("#weiyuan-widget textarea", QUESTION)
    user.press("#weiyuan-widget textarea", "Enter")
    tentative = user.wait_for_selector("#weiyuan-widget .msg.bot:has-text('可能与您的问题相关')", timeout=60000)
    assert "《" in tentative.inner_text()  # every source shown with its citation
    user.click("#weiyuan-widget .msg.bot button:has-text('转人工')")
    handoff = user.wait_for_selector("#weiyuan-widget .msg.bot:has-text('工单号')", timeout=60000)
    number = re.search(r"WY\d{6}-\d{5}", handoff.inner_text())
    assert number
    # until an expert takes the conversation, the bot still answers; the ticket gets the message too
    before = user.locator("#weiyuan-widget .msg.bot").count()
    user.fill("#weiyuan-widget textarea", "补充一下：对方是德国的一家经销商，专利怎么在德国维权")
    user.press("#weiyuan-widget textarea", "Enter")
    user.locator("#weiyuan-widget .msg.bot").nth(before).wait_for(timeout=60000)
    # routed by specialty (patent) and region (深圳 -> 广东) to the Guangdong patent expert
    expert_ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    expert = expert_ctx.new_page()
    login(expert, base, "expert-gd")
    ticket = expert.wait_for_selector(f"#queue li[data-number='{number[0]}']")
    assert "demo-patent-guangdong" in ticket.inner_text()
    ticket.click()
    expert.wait_for_selector("#t-transcript .bubble.user")
    assert "补充一下" in expert.inner_text("#t-transcript")
    assert "置信度" in expert.inner_text("#t-retrieval")
    expert.click("#claim")
    expert.wait_for_selector("#t-status:has-text('处理中')")
    expert.fill("#reply", EXPERT_ANSWER)
    expert.check("#reusable")
    expert.click("#send")
    expert.wait_for_selector("#t-status-line:has-text('知识草稿')")
    expert.screenshot(path=str(SHOTS / "desk.png"))
    reply = user.wait_for_selector("#weiyuan-widget .msg.expert", timeout=20000)
    assert "海外知识产权纠纷应对指导中心" in reply.inner_text() and "（人工）" in reply.inner_text()
    user.screenshot(path=str(SHOTS / "widget-expert.png"))
    expert.click("#close")
    expert.wait_for_selector("#t-status:has-text('已解决')")
    # the admin reviews and publishes the reusable answer; the index refreshes
    admin_ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    admin = admin_ctx.new_page()
    login(admin, base, "admin")
    admin.click("button[data-tab=drafts]")
    admin.wait_for_selector("#drafts .panel")
    admin.click("#drafts .panel button.primary")
    admin.wait_for_selector("#job-stage:has-text('完成')", state="attached", timeout=180000)
    # a new visitor asks the same question: the bot answers from the published entry
    again_ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    again = again_ctx.new_page()
    again.goto(f"{base}/demo")
    again.click("#weiyuan-widget .launcher")
    again.fill("#weiyuan-widget textarea", QUESTION)
    again.press("#weiyuan-widget textarea", "Enter")
    answer = again.wait_for_selector("#weiyuan-widget .msg.bot:has-text('来源：知识库条目')", timeout=60000)
    assert "海外知识产权纠纷应对指导中心" in answer.inner_text() and "工单号" not in answer.inner_text()
    for ctx in (user_ctx, expert_ctx, admin_ctx, again_ctx):
        ctx.close()
