"""The web gateway over HTTP (aiohttp test client): security, chat API, agent search, admin console.

Rasa is replaced by a small stub server here, because these tests check the
gateway's own behaviour (storing, relaying, limiting, escaping); the real
Rasa conversation is checked in test_e2e_dialogue.py and test_browser.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.settings import Settings
from desk.accounts import create_user
from gateway import keys
from gateway.app import create_app
from index.builder import build
from index.retriever import Retriever
from index.store import VersionStore
from store.db import Database
from store.models import AuditEntry, ChatMessage, Feedback

PASSWORD = "correct horse battery"


#: What the Rasa stand-in received (sender, message, metadata), in order.
RECEIVED = web.AppKey("received", list)


@pytest.fixture
async def rasa_stub(aiohttp_server: Any) -> TestServer:
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        request.app[RECEIVED].append(body)
        if body["message"] == "让机器人沉默":
            return web.json_response([])  # Rasa carried on without sending anything
        return web.json_response(
            [
                {
                    "recipient_id": body["sender"],
                    "text": f"收到：{body['message']}",
                    "buttons": [{"title": "转人工", "payload": "/request_human"}],
                },
                {
                    "recipient_id": body["sender"],
                    "custom": {"type": "answer", "answer_id": "a" * 32, "citations": [], "confidence": 0.9},
                },
            ]
        )

    async def health(request: web.Request) -> web.Response:  # the action server's, for the gateway's checks
        return web.json_response({"status": "ok"})

    app = web.Application()
    app[RECEIVED] = []
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/health", health)
    return await aiohttp_server(app)


@pytest.fixture
async def client(settings: Settings, factory: Any, rasa_stub: TestServer, aiohttp_client: Any) -> TestClient:
    build(settings, factory, incremental=True)
    settings.server.rasa_port = settings.server.action_port = rasa_stub.port
    settings.gateway.chat_burst = 3
    settings.gateway.chat_per_minute = 6
    settings.gateway.allowed_origins = ["https://partner.example.cn"]
    db = Database(settings.database_url)
    db.upgrade()
    for name, role in (("admin1", "admin"), ("agent1", "agent"), ("expert1", "expert")):
        create_user(db, name, PASSWORD, role)
    return await aiohttp_client(create_app(settings, Retriever(settings, factory)))


async def login(client: TestClient, username: str) -> str:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert token
    response = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token[1], "next": "/"},
        allow_redirects=False,
    )
    assert response.status == 302, await response.text()
    home = await client.get(response.headers["Location"])
    csrf = re.search(r'<meta name="csrf-token" content="([^"]*)"', await home.text())
    assert csrf
    return csrf[1]


async def test_staff_pages_need_login_and_the_right_role(client: TestClient) -> None:
    response = await client.get("/agent", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login?next=/agent")
    response = await client.get("/api/search?q=专利")
    assert response.status == 401
    assert (await response.json())["error"]["message"] == "请先登录"
    await login(client, "agent1")
    assert (await client.get("/agent")).status == 200
    forbidden = await client.get("/api/admin/index")
    assert forbidden.status == 403 and "没有权限" in (await forbidden.json())["error"]["message"]
    assert (await client.get("/admin", allow_redirects=False)).status == 403


async def test_wrong_password_and_login_rate_limit(client: TestClient) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())[1]  # type: ignore[index]
    for _ in range(5):
        bad = await client.post("/login", data={"username": "admin1", "password": "nope", "csrf_token": token})
        assert bad.status == 401 and "用户名或密码不正确" in await bad.text()
    blocked = await client.post("/login", data={"username": "admin1", "password": PASSWORD, "csrf_token": token})
    assert "尝试次数太多" in await blocked.text()


async def test_login_form_needs_its_csrf_token(client: TestClient) -> None:
    response = await client.post("/login", data={"username": "admin1", "password": PASSWORD})
    assert response.status == 403


async def test_state_changes_need_the_csrf_token(client: TestClient) -> None:
    csrf = await login(client, "admin1")
    no_token = await client.post("/api/admin/index/refresh", json={})
    assert no_token.status == 403 and "CSRF" in (await no_token.json())["error"]["message"]
    ok = await client.post("/api/admin/index/refresh", json={}, headers={"X-CSRF-Token": csrf})
    assert ok.status == 202


async def test_logout_ends_the_session(client: TestClient) -> None:
    csrf = await login(client, "agent1")
    assert (await client.get("/api/search?q=专利")).status == 200
    await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert (await client.get("/api/search?q=专利")).status == 401


async def test_chat_relays_stores_and_replays(client: TestClient, settings: Settings) -> None:
    start = await (await client.post("/api/chat/start", json={})).json()
    session = start["session"]
    assert start["messages"] == []
    sent = await client.post("/api/chat/send", json={"session": session, "text": "我的电话是13812345678，专利被抄了"})
    data = await sent.json()
    assert [m["role"] for m in data["messages"]] == ["user", "bot"]
    bot = data["messages"][1]
    assert bot["meta"]["type"] == "answer" and bot["buttons"][0]["payload"] == "/request_human"
    again = await (await client.post("/api/chat/start", json={"session": session})).json()
    assert [m["text"] for m in again["messages"]] == [
        "我的电话是13812345678，专利被抄了",
        "收到：我的电话是13812345678，专利被抄了",
    ]
    later = await (await client.get(f"/api/chat/history?session={session}&after={bot['id']}")).json()
    assert later["messages"] == []
    # feedback is stored without personal data
    fb = await client.post(
        "/api/chat/feedback",
        json={"session": session, "answer_id": "a" * 32, "rating": -1, "comment": "打 13812345678 问的"},
    )
    assert fb.status == 200
    with Database(settings.database_url).session() as s:
        assert s.query(Feedback).one().comment == "打 [手机号] 问的"


async def test_a_turn_the_bot_left_silent_still_gets_a_reply_and_is_recorded(
    client: TestClient, settings: Settings
) -> None:
    session = (await (await client.post("/api/chat/start", json={})).json())["session"]
    data = await (await client.post("/api/chat/send", json={"session": session, "text": "让机器人沉默"})).json()
    user, bot = data["messages"]
    assert user["text"] == "让机器人沉默" and bot["role"] == "bot" and bot["meta"]["silent_turn"] is True
    assert "转人工" in [b["title"] for b in bot["buttons"]] and "12330" in bot["text"]
    with Database(settings.database_url).session() as s:
        assert s.query(AuditEntry).filter_by(action="chat.silent_turn", target_id=session).count() == 1


async def test_chat_input_limits(client: TestClient) -> None:
    session = (await (await client.post("/api/chat/start", json={})).json())["session"]
    too_long = await client.post("/api/chat/send", json={"session": session, "text": "专" * 1001})
    assert too_long.status == 413 and "最多 1000 个字" in (await too_long.json())["error"]["message"]
    bad_session = await client.post("/api/chat/send", json={"session": "../etc", "text": "hi"})
    assert bad_session.status == 400
    empty = await client.post("/api/chat/send", json={"session": session, "text": "  "})
    assert empty.status == 400


async def test_chat_is_rate_limited_per_client(client: TestClient, settings: Settings) -> None:
    session = (await (await client.post("/api/chat/start", json={})).json())["session"]
    statuses = [
        (await client.post("/api/chat/send", json={"session": session, "text": f"问题{i}"})).status for i in range(5)
    ]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    with Database(settings.database_url).session() as s:
        assert s.query(ChatMessage).filter_by(role="user").count() == 3


async def test_rasa_down_keeps_the_message(client: TestClient, settings: Settings, rasa_stub: TestServer) -> None:
    await rasa_stub.close()
    session = (await (await client.post("/api/chat/start", json={})).json())["session"]
    response = await client.post("/api/chat/send", json={"session": session, "text": "商标被抢注"})
    assert response.status == 502
    assert "您的消息已经保存" in (await response.json())["error"]["message"]
    history = await (await client.get(f"/api/chat/history?session={session}")).json()
    assert [m["text"] for m in history["messages"]] == ["商标被抢注"]


async def test_cors_allowlist_for_embedding_sites(client: TestClient) -> None:
    allowed = await client.options(
        "/api/chat/send", headers={"Origin": "https://partner.example.cn", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.status == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://partner.example.cn"
    other = await client.post("/api/chat/start", json={}, headers={"Origin": "https://evil.example.com"})
    assert other.status == 403
    # staff APIs are never opened to other origins
    staff = await client.get("/api/search?q=专利", headers={"Origin": "https://partner.example.cn"})
    assert "Access-Control-Allow-Origin" not in staff.headers


async def test_agent_search_with_filters_and_highlights(client: TestClient) -> None:
    await login(client, "agent1")
    data = await (await client.get("/api/search?q=专利侵权赔偿怎么算&kind=entry")).json()
    assert data["hits"] and all(h["kind"] == "entry" for h in data["hits"])
    assert data["hits"][0]["citations"][0]["label"] == "《中华人民共和国专利法》第七十一条"
    assert "赔偿" in data["highlight"]
    bad = await client.get("/api/search?q=专利&ip_type=nope")
    message = (await bad.json())["error"]["message"]
    assert bad.status == 400 and "知识产权类型取值无效" in message and "'patent'" in message


async def test_admin_edit_validates_before_saving(client: TestClient, settings: Settings) -> None:
    csrf = await login(client, "admin1")
    headers = {"X-CSRF-Token": csrf}
    path = "entries/test-entries.yaml"
    original = (settings.knowledge_dir / path).read_text("utf-8")
    broken = original.replace("ip_type: trademark", "ip_type: brand")
    refused = await client.put("/api/admin/knowledge/file", json={"path": path, "content": broken}, headers=headers)
    assert refused.status == 422
    problems = (await refused.json())["error"]["problems"]
    assert problems[0]["path"] == path and problems[0]["line"] > 1 and "ip_type" in problems[0]["reason"]
    assert (settings.knowledge_dir / path).read_text("utf-8") == original
    escape = await client.put(
        "/api/admin/knowledge/file", json={"path": "../evil.yaml", "content": "x"}, headers=headers
    )
    assert escape.status == 400
    fixed = original.replace("专利侵权赔偿怎么算", "专利侵权的赔偿怎么计算")
    saved = await client.put("/api/admin/knowledge/file", json={"path": path, "content": fixed}, headers=headers)
    assert saved.status == 200
    assert "专利侵权的赔偿怎么计算" in (settings.knowledge_dir / path).read_text("utf-8")
    assert list((settings.data_dir / "knowledge-history").rglob("test-entries.yaml"))


async def test_admin_refresh_progress_rollback_and_diff(client: TestClient, settings: Settings) -> None:
    csrf = await login(client, "admin1")
    headers = {"X-CSRF-Token": csrf}
    store = VersionStore(settings.index_dir)
    first = store.current()
    path = settings.knowledge_dir / "entries" / "test-entries.yaml"
    path.write_text(path.read_text("utf-8").replace("专利侵权赔偿怎么算", "专利侵权赔偿到底怎么算"), "utf-8")
    job = (await (await client.post("/api/admin/index/refresh", json={}, headers=headers)).json())["job"]
    events = await client.get(f"/api/admin/jobs/{job['id']}/events")
    stream = (await events.text()).strip().split("\n\n")
    assert '"status": "done"' in stream[-1] and "知识库校验通过" in stream[-1]
    status = await (await client.get("/api/admin/index")).json()
    second = status["current"]
    assert second != first and status["versions"][0]["user"] == "admin1"
    diff = await (await client.get(f"/api/admin/index/diff?from={first}&to={second}")).json()
    assert diff["counts"] == {"added": 0, "changed": 1, "removed": 0}
    assert diff["changed"][0]["id"] == "entry/patent-damages"
    rolled = await client.post("/api/admin/index/rollback", json={"version": first}, headers=headers)
    assert (await rolled.json())["current"] == first and store.current() == first


async def test_everything_rendered_is_escaped(client: TestClient, settings: Settings, factory: Any) -> None:
    path = settings.knowledge_dir / "entries" / "test-entries.yaml"
    path.write_text(
        path.read_text("utf-8") + "  - id: xss-entry\n    question: <script>alert('kb')</script>会执行吗\n"
        "    answer: <img src=x onerror=alert(1)> 这一条用来检查页面会不会把内容当成 HTML 执行。\n"
        "    ip_type: general\n    services: [consultation]\n",
        "utf-8",
    )
    build(settings, factory, incremental=True)
    client.app[keys.LOOKUP].retriever._checked_at = 0.0  # type: ignore[attr-defined]  # do not wait for the once-a-second reload check
    page = await client.get("/kb?id=entry/xss-entry")
    html = await page.text()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


async def test_openapi_document_describes_the_api(client: TestClient) -> None:
    spec = await (await client.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/chat/send", "/api/search", "/api/admin/index/refresh"} <= set(spec["paths"])
    assert (await client.get("/api/docs")).status == 200
    missing = await client.get("/api/nothing-here")
    assert missing.status == 404 and (await missing.json())["error"]["message"] == "找不到请求的内容"


async def test_the_widget_uses_the_configured_title_colour_and_welcome(client: TestClient, settings: Settings) -> None:
    settings.gateway.widget_title = "某市知识产权维权援助中心</script>"
    settings.gateway.widget_color = "#1f6feb"
    response = await client.get("/widget.js")
    assert response.status == 200 and response.content_type == "application/javascript"
    script = await response.text()
    assert '"title": "某市知识产权维权援助中心\\u003c/script>"' in script  # escaped: cannot end a <script>
    assert '"color": "#1f6feb"' in script and settings.gateway.widget_welcome in script
    assert "script.dataset.title || DEFAULTS.title" in script  # a data-title on the tag still wins
    settings.privacy.retention_days = 90
    notice = await (await client.get("/widget.js")).text()
    assert "保存 90 天后删除" in notice  # the privacy notice follows the retention setting


async def test_a_conversation_sticks_to_one_rasa_replica_and_fails_over_when_it_is_down(
    client: TestClient, settings: Settings, rasa_stub: TestServer
) -> None:
    from gateway.chat import replica_order
    from weiyuan.sandbox import free_port

    dead = free_port()  # a second Rasa server that is down (killed, restarting)
    settings.server.rasa_replica_ports = [dead]
    first: dict[int, str] = {}  # one conversation whose own replica is the dead one, one on the live one
    while len(first) < 2:
        session = (await (await client.post("/api/chat/start", json={})).json())["session"]
        first.setdefault(replica_order(settings.server.rasa_ports, session)[0], session)
    sessions = list(first.values())
    for session in sessions:
        assert replica_order(settings.server.rasa_ports, session) == replica_order(settings.server.rasa_ports, session)
        data = await (await client.post("/api/chat/send", json={"session": session, "text": "商标被抢注了"})).json()
        assert [m["role"] for m in data["messages"]] == ["user", "bot"]
    assert len(rasa_stub.app[RECEIVED]) == len(sessions)  # each message reached Rasa once


async def test_metrics_count_turns_by_outcome_for_the_scraper_only(client: TestClient, settings: Settings) -> None:
    from core.secrets import metrics_token

    session = (await (await client.post("/api/chat/start", json={})).json())["session"]
    await client.post("/api/chat/send", json={"session": session, "text": "我的电话是13812345678，专利被抄了"})
    await client.post("/api/chat/send", json={"session": session, "text": "让机器人沉默"})
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer guess"})).status == 401
    scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token(settings)}"})
    assert scraped.status == 200 and scraped.headers["Content-Type"].startswith("text/plain")
    text = await scraped.text()
    assert 'weiyuan_chat_turns_total{outcome="answer",tier=""} 1.0' in text
    assert 'weiyuan_chat_turns_total{outcome="silent",tier=""} 1.0' in text
    assert "weiyuan_chat_turn_seconds_count 2.0" in text
    assert "weiyuan_retrieval_confidence_count 1.0" in text
    assert "weiyuan_chat_pending_messages 0.0" in text
    assert "13812345678" not in text and "专利" not in text  # labels are vocabularies, never what users typed
