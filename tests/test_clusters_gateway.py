"""Unanswered-question clusters over HTTP: admin only, CSRF on the one-click draft, the draft in the review list.

The gateway's lookup here is the in-process retriever over the fixture corpus with the hashing
embedder (test_gateway's ``client``); against the real action server see test_e2e_clusters.
"""

from __future__ import annotations

import datetime as dt

from aiohttp.test_utils import TestClient

from core.settings import Settings
from desk.analytics.period import CHINA, today
from desk.analytics.record import classify, record_turn
from store.db import Database
from tests.test_clusters import HANDOFF, answer
from tests.test_gateway import client, login, rasa_stub  # noqa: F401  (fixtures)

#: The last ten China days (the gateway's retention sweep clears older text as it starts).
START = today() - dt.timedelta(days=9)
RANGE = f"from={START}&to={today()}"
CLUSTERS = f"/api/admin/analytics/clusters?{RANGE}"
DRAFT = "/api/admin/analytics/clusters/draft"


def seed(settings: Settings) -> None:
    """Two repeated questions the bot did not answer well, one it did, one asked once."""
    rows = [
        (1, "商标被别人抢注了怎么办", answer("probable", "p1" * 16)),
        (2, "商标被别人抢注了怎么办", HANDOFF),
        (7, "商标被别人抢注了怎么办呢", answer("probable", "p2" * 16)),
        (7, "专利侵权赔偿怎么计算", answer("probable", "p3" * 16, "patent")),
        (8, "专利侵权赔偿怎么计算", HANDOFF),
        (8, "著作权登记要多久", answer("confident", "c1" * 16, "copyright")),
        (8, "植物新品种权怎么申请", HANDOFF),
        (8, "奥运五环能印在产品包装上吗", [{"role": "bot", "text": "不在范围内", "meta": {"type": "out_of_scope"}}]),
        (9, "奥运五环能印在产品包装上吗", [{"role": "bot", "text": "不在范围内", "meta": {"type": "out_of_scope"}}]),
    ]
    with Database(settings.database_url).session() as session:
        for n, (day, text, replies) in enumerate(rows):
            noon = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(12, n), CHINA)
            record_turn(session, conversation_id=f"w-{n}", text=text, facts=classify(replies), at=noon)
            session.flush()


async def test_only_admins_see_clusters_and_make_drafts(client: TestClient) -> None:  # noqa: F811
    anonymous = await client.get(CLUSTERS)
    assert anonymous.status == 401 and (await anonymous.json())["error"]["message"] == "请先登录"
    assert (await client.post(DRAFT, json={"question_ids": [1]})).status == 401
    for role in ("agent1", "expert1"):
        csrf = await login(client, role)
        assert (await client.get(CLUSTERS)).status == 403
        refused = await client.post(DRAFT, json={"question_ids": [1]}, headers={"X-CSRF-Token": csrf})
        assert refused.status == 403 and "没有权限" in (await refused.json())["error"]["message"]
        await client.post("/logout", data={"csrf_token": csrf})
        client.session.cookie_jar.clear()
    await login(client, "admin1")
    no_token = await client.post(DRAFT, json={"question_ids": [1]})
    assert no_token.status == 403 and "CSRF" in (await no_token.json())["error"]["message"]


async def test_an_admin_turns_a_cluster_into_a_draft_to_review(client: TestClient, settings: Settings) -> None:  # noqa: F811
    seed(settings)
    csrf = await login(client, "admin1")
    headers = {"X-CSRF-Token": csrf}
    data = await (await client.get(CLUSTERS)).json()
    assert (data["start"], data["end"]) == (START.isoformat(), today().isoformat())
    assert (data["questions"], data["considered"], data["clustered"]) == (6, 6, 5)
    trademark, patent = data["clusters"]
    assert (trademark["size"], trademark["first_half"], trademark["second_half"], trademark["trend"]) == (
        3,
        2,
        1,
        "down",
    )
    assert [e["text"] for e in trademark["examples"]] == ["商标被别人抢注了怎么办", "商标被别人抢注了怎么办呢"]
    assert trademark["reasons"] == {"probable": 2, "handoff": 1} and trademark["ip_label"] == "商标"
    assert (patent["size"], patent["trend"], patent["ip_type"]) == (2, "up", "patent")
    # the nearest existing entry comes from the index (entries only)
    assert trademark["nearest"]["id"].startswith("entry/") and trademark["nearest"]["question"]
    assert data["index_version"]

    made = await client.post(DRAFT, json={"question_ids": trademark["draft_ids"]}, headers=headers)
    assert made.status == 201, await made.text()
    body = await made.json()
    assert body["review_url"] == "/admin#drafts"
    drafts = (await (await client.get("/api/admin/drafts")).json())["drafts"]
    assert [(d["id"], d["question"], d["variants"], d["ip_type"]) for d in drafts] == [
        (body["draft"], "商标被别人抢注了怎么办", ["商标被别人抢注了怎么办呢"], "trademark")
    ]
    assert "【待撰写】" in drafts[0]["answer"]
    # reviewed like any draft: publishing the placeholder is refused in Chinese
    refused = await client.post(f"/api/admin/drafts/{body['draft']}/publish", json={}, headers=headers)
    assert refused.status == 400 and "请先撰写回答" in (await refused.json())["error"]["message"]
    again = await (await client.get(CLUSTERS)).json()
    assert [c["draft_id"] for c in again["clusters"]] == [body["draft"], None]

    # declined as not IP: only when the admin asks for them, as a cluster of their own
    declined = await (await client.get(CLUSTERS + "&declined=true")).json()
    assert declined["declined"] is True and declined["questions"] == 8
    assert {"declined": 2} in [c["reasons"] for c in declined["clusters"]]
    assert (await client.get(CLUSTERS + "&declined=maybe")).status == 400

    gone = await client.post(DRAFT, json={"question_ids": [987654]}, headers=headers)
    assert gone.status == 404 and "超过保存期限" in (await gone.json())["error"]["message"]
    bad = await client.post(DRAFT, json={"question_ids": []}, headers=headers)
    assert bad.status == 400


async def test_the_analytics_page_has_the_clusters_panel(client: TestClient) -> None:  # noqa: F811
    await login(client, "admin1")
    page = await (await client.get("/admin/analytics")).text()
    assert 'id="clusters"' in page
    assert page.index("/static/clusters.js") < page.index("/static/analytics.js")  # listens before the first load
    script = await (await client.get("/static/clusters.js")).text()
    assert "生成草稿条目" in script and "innerHTML" not in script
