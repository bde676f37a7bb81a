"""One anonymous client must not stall or outwit the service (issue 11): each test failed on the code before."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from core.settings import Settings
from desk.service import Actor, Desk
from store.db import Database
from tests.test_desk import desk, open_handoff  # noqa: F401  (fixture)
from tests.test_gateway import PASSWORD, client, login, rasa_stub  # noqa: F401  (fixtures)
from weiyuan.sandbox import free_port

PARTNER = {"Origin": "https://partner.example.cn"}


def session_id() -> str:
    return "w-" + uuid.uuid4().hex[:20]


async def test_rotating_usernames_does_not_buy_more_password_checks(client: TestClient) -> None:  # noqa: F811
    page = await client.get("/login")
    token = (await page.text()).split('name="csrf_token" value="')[1].split('"')[0]
    texts = []
    for i in range(7):
        response = await client.post(
            "/login", data={"username": f"guess{i}", "password": "wrong password", "csrf_token": token}
        )
        texts.append(await response.text())
    assert "尝试次数太多" in texts[-1]
    very_long = await client.post("/login", data={"username": "a" * 100_000, "password": "x", "csrf_token": token})
    assert very_long.status == 401


async def test_clients_behind_a_trusted_proxy_have_their_own_limits(client: TestClient, settings: Settings) -> None:  # noqa: F811
    settings.gateway.trusted_proxies = ["127.0.0.1/32"]

    async def send(forwarded: str) -> int:
        body = {"session": session_id(), "text": "商标被抢注了"}
        response = await client.post("/api/chat/send", json=body, headers={"X-Forwarded-For": forwarded})
        return response.status

    first = [await send("203.0.113.7") for _ in range(4)]
    assert first[:3] == [200, 200, 200] and first[3] == 429
    # another visitor behind the same proxy is not blocked by the first one's bucket
    assert await send("198.51.100.23") == 200
    # a client cannot escape its bucket by writing its own X-Forwarded-For in front of the proxy's
    assert await send("10.9.8.7, 203.0.113.7") == 429


async def test_the_bot_learns_which_client_wrote_by_a_pseudonym_only(
    client: TestClient,  # noqa: F811
    settings: Settings,
    rasa_stub: Any,  # noqa: F811
) -> None:
    """The per-client ticket limit needs to know that two conversations come from one client;
    the address itself never leaves the gateway."""
    from tests.test_gateway import RECEIVED

    settings.gateway.trusted_proxies = ["127.0.0.1/32"]
    for forwarded in ("203.0.113.7", "203.0.113.7", "198.51.100.23"):
        body = {"session": session_id(), "text": "我要找人工"}
        assert (await client.post("/api/chat/send", json=body, headers={"X-Forwarded-For": forwarded})).status == 200
    refs = [b["metadata"]["client"] for b in rasa_stub.app[RECEIVED]]
    assert refs[0] == refs[1] != refs[2] and all(len(r) == 24 for r in refs)
    assert not any(ip in str(rasa_stub.app[RECEIVED]) for ip in ("203.0.113.7", "198.51.100.23"))


async def test_without_a_trusted_proxy_a_forged_header_changes_nothing(client: TestClient) -> None:  # noqa: F811
    statuses = []
    for i in range(4):
        body = {"session": session_id(), "text": "商标被抢注了"}
        response = await client.post("/api/chat/send", json=body, headers={"X-Forwarded-For": f"192.0.2.{i}"})
        statuses.append(response.status)
    assert statuses[3] == 429


async def test_rate_limit_errors_reach_an_embedding_site_with_their_message(client: TestClient) -> None:  # noqa: F811
    statuses, last = [], None
    for _ in range(4):
        last = await client.post("/api/chat/send", json={"session": session_id(), "text": "你好"}, headers=PARTNER)
        statuses.append(last.status)
    assert last is not None and last.status == 429
    assert last.headers.get("Access-Control-Allow-Origin") == PARTNER["Origin"]
    assert "太快" in (await last.json())["error"]["message"]


async def test_typed_intent_syntax_is_plain_text_unless_the_bot_offered_it(client: TestClient) -> None:  # noqa: F811
    conversation = session_id()
    forced = await client.post(
        "/api/chat/send",
        json={"session": conversation, "text": '/apply_assistance{"phone": "<b>1</b>"}', "display": "申请"},
    )
    relayed = [m["text"] for m in (await forced.json())["messages"] if m["role"] == "bot"]
    assert relayed and "收到：／apply_assistance" in relayed[0]  # passed on as text, not as an intent
    # the stub's reply offered "/request_human": a button press with that payload goes through as a payload
    pressed = await client.post(
        "/api/chat/send", json={"session": conversation, "text": "/request_human", "display": "转人工"}
    )
    assert any(m["text"] == "收到：/request_human" for m in (await pressed.json())["messages"])


async def test_a_very_long_path_is_not_found_not_a_server_error(client: TestClient) -> None:  # noqa: F811
    response = await client.get("/static/" + "a" * 5000)
    assert response.status == 404


async def test_a_leading_slash_does_not_skip_validation_or_write_outside(
    client: TestClient,  # noqa: F811
    settings: Settings,
) -> None:
    csrf = await login(client, "admin1")
    headers = {"X-CSRF-Token": csrf}
    path = "entries/test-entries.yaml"
    original = (settings.knowledge_dir / path).read_text("utf-8")
    broken = original.replace("ip_type: trademark", "ip_type: brand")
    refused = await client.put(
        "/api/admin/knowledge/file", json={"path": "/" + path, "content": broken}, headers=headers
    )
    assert refused.status == 400 and "文件路径格式不正确" in (await refused.json())["error"]["message"]
    assert (settings.knowledge_dir / path).read_text("utf-8") == original
    assert not (Path("/") / path).exists()  # the check once wrote its trial copy at the file-system root
    name = f"policies/law/probe-{uuid.uuid4().hex[:8]}.md"
    await client.put("/api/admin/knowledge/file", json={"path": "/" + name, "content": "# x\n"}, headers=headers)
    assert not (Path("/") / name).exists()


def test_urgent_tickets_come_first_in_the_queue(desk: Desk) -> None:  # noqa: F811
    normal = open_handoff(desk, "c-normal", "patent", "广东")
    urgent = open_handoff(desk, "c-urgent", "patent", "广东", reason="needs_person")
    admin = Actor("admin1", "管理员", "admin")
    queue = [t["number"] for t in desk.queue(admin, scope="all")]
    assert queue.index(urgent.number) < queue.index(normal.number)
    assert isinstance(desk.db, Database)


async def test_the_session_cookie_is_secure_when_a_trusted_proxy_reports_https(
    client: TestClient,  # noqa: F811
    settings: Settings,
) -> None:
    settings.gateway.trusted_proxies = ["127.0.0.1/32"]

    async def sign_in(headers: dict[str, str]) -> str:
        page = await client.get("/login")
        token = (await page.text()).split('name="csrf_token" value="')[1].split('"')[0]
        response = await client.post(
            "/login",
            data={"username": "agent1", "password": PASSWORD, "csrf_token": token, "next": "/"},
            headers=headers,
            allow_redirects=False,
        )
        assert response.status == 302
        cookies = response.headers.getall("Set-Cookie", [])
        return next((c for c in cookies if c.startswith("weiyuan_session=")), "")

    behind_tls = await sign_in({"X-Forwarded-Proto": "https"})
    assert "weiyuan_session=" in behind_tls and "Secure" in behind_tls
    plain = await sign_in({})
    assert "weiyuan_session=" in plain and "Secure" not in plain


async def test_an_idle_staff_session_ends_by_itself(client: TestClient, settings: Settings) -> None:  # noqa: F811
    import asyncio

    await login(client, "agent1")
    settings.gateway.idle_minutes = 0.01  # 0.6 s, so the test need not wait half an hour
    assert (await client.get("/agent", allow_redirects=False)).status == 200
    await asyncio.sleep(0.3)
    assert (await client.get("/agent", allow_redirects=False)).status == 200  # in use: still signed in
    await asyncio.sleep(1.5)
    idle = await client.get("/agent", allow_redirects=False)
    assert idle.status == 302 and idle.headers["Location"].startswith("/login")


async def test_staff_change_their_password_and_admins_reset_one(client: TestClient) -> None:  # noqa: F811
    csrf = await login(client, "expert1")
    url = "/api/account/password"
    wrong = await client.post(
        url, json={"current_password": "nope", "new_password": "x" * 12}, headers={"X-CSRF-Token": csrf}
    )
    assert wrong.status == 403 and "当前密码不正确" in (await wrong.json())["error"]["message"]
    weak = await client.post(
        url, json={"current_password": PASSWORD, "new_password": "short"}, headers={"X-CSRF-Token": csrf}
    )
    assert weak.status == 400
    changed = await client.post(
        url,
        json={"current_password": PASSWORD, "new_password": "a much better passphrase"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status == 200
    assert (await client.get("/desk", allow_redirects=False)).status == 302  # the old session ended
    client.session.cookie_jar.clear()
    admin_csrf = await login(client, "admin1")
    reset = await client.post(
        "/api/admin/users/expert1/password", json={"password": PASSWORD}, headers={"X-CSRF-Token": admin_csrf}
    )
    assert reset.status == 200
    client.session.cookie_jar.clear()
    await login(client, "expert1")  # the reset password works
    assert (await client.get("/desk", allow_redirects=False)).status == 200


def test_experts_see_their_tickets_and_the_pool_and_contact_reads_are_audited(desk: Desk) -> None:  # noqa: F811
    from sqlalchemy import select

    from core.errors import PermissionDenied
    from store.models import AuditEntry

    theirs = desk.open_ticket(
        kind="application",
        reason="application",
        conversation_id="c-app",
        channel="widget",
        ip_type="patent",
        region="广东",
        fields={"contact_name": "王女士", "phone": "13812345678", "description": "外观专利被仿冒"},
    )
    desk.route(theirs.id)
    owner = desk.detail(theirs.number or "")["assigned_expert"]
    other = Actor("someone", "别的专家", "expert", "demo-patent-cn" if owner != "demo-patent-cn" else "demo-patent-gd")
    assigned = Actor("owner", "负责专家", "expert", owner)
    assert theirs.number not in [t["number"] for t in desk.queue(other, scope="all")]
    try:
        desk.detail(theirs.number or "", other)
        raise AssertionError("another expert read the ticket")
    except PermissionDenied:
        pass
    seen = desk.detail(theirs.number or "", assigned)
    assert seen["contact"]["phone"] == "13812345678"
    with desk.db.session() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.contact_read"))
        assert [(a.actor, a.target_id) for a in reads] == [("owner", theirs.number)]


async def test_a_message_kept_while_rasa_is_down_is_answered_once_it_is_back(
    client: TestClient,  # noqa: F811
    settings: Settings,
    rasa_stub: Any,  # noqa: F811
) -> None:
    from gateway.chat import deliver_pending

    port = settings.server.rasa_port
    settings.server.rasa_port = free_port()  # the dialogue service is down
    session = session_id()
    body = {"session": session, "text": "商标被抢注了怎么办", "client_id": "m-0001-abcdef"}
    first = await client.post("/api/chat/send", json=body)
    assert first.status == 502 and "服务恢复后会自动回复" in (await first.json())["error"]["message"]
    retry = await client.post("/api/chat/send", json=body)  # the widget's retry button: same client id
    assert retry.status == 502
    assert await deliver_pending(client.server.app) == {"delivered": 0, "handed_over": 0}
    settings.server.rasa_port = port  # back
    assert await deliver_pending(client.server.app) == {"delivered": 1, "handed_over": 0}
    history = (await (await client.get(f"/api/chat/history?session={session}")).json())["messages"]
    assert [m["text"] for m in history] == ["商标被抢注了怎么办", "收到：商标被抢注了怎么办"]  # once each
    again = await client.post("/api/chat/send", json=body)
    assert (await again.json()).get("duplicate") is True


async def test_a_message_rasa_never_answers_goes_to_a_person(client: TestClient, settings: Settings) -> None:  # noqa: F811
    import datetime as dt

    from gateway.chat import deliver_pending

    settings.server.rasa_port = free_port()
    session = session_id()
    await client.post(
        "/api/chat/send", json={"session": session, "text": "收到法院传票了怎么办", "client_id": "m-0002-abcdef"}
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=settings.gateway.pending_handoff_minutes + 1)
    assert await deliver_pending(client.server.app, now=later) == {"delivered": 0, "handed_over": 1}
    history = (await (await client.get(f"/api/chat/history?session={session}")).json())["messages"]
    assert history[-1]["meta"]["type"] == "handoff" and "工单号" in history[-1]["text"]
    assert await deliver_pending(client.server.app, now=later) == {"delivered": 0, "handed_over": 0}


async def test_a_message_whose_reply_was_lost_in_a_crash_is_answered(client: TestClient) -> None:  # noqa: F811
    """The gateway died after storing a message and before storing the bot's reply (kill -9)."""
    import datetime as dt

    from gateway import keys
    from gateway.chat import deliver_pending, store_messages

    app = client.server.app
    db = app[keys.DB]

    def lost(session: str, client_id: str) -> None:
        meta = {"sent": "商标被抢注了怎么办", "pending": True, "client_id": client_id}
        store_messages(db, session, [{"role": "user", "text": "商标被抢注了怎么办", "meta": meta}])

    # the widget retries (same client id): answered now, stored once
    retried = session_id()
    lost(retried, "m-lost-000001")
    body = {"session": retried, "text": "商标被抢注了怎么办", "client_id": "m-lost-000001"}
    again = await (await client.post("/api/chat/send", json=body)).json()
    assert again.get("duplicate") is None and again["messages"][-1]["text"] == "收到：商标被抢注了怎么办"
    history = (await (await client.get(f"/api/chat/history?session={retried}")).json())["messages"]
    assert [m["role"] for m in history] == ["user", "bot"]
    # the user closed the page: the redelivery loop answers it, but not while it may still be in flight
    closed = session_id()
    lost(closed, "m-lost-000002")
    assert await deliver_pending(app) == {"delivered": 0, "handed_over": 0}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=app[keys.SETTINGS].gateway.rasa_timeout_seconds + 10)
    assert await deliver_pending(app, now=later) == {"delivered": 1, "handed_over": 0}
    history = (await (await client.get(f"/api/chat/history?session={closed}")).json())["messages"]
    assert [m["role"] for m in history] == ["user", "bot"] and "pending" not in history[0]["meta"]
