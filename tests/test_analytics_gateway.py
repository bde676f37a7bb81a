"""The analytics over HTTP: admin only, the JSON and CSV of a date range, the printable report, and every
widget turn the gateway relays recorded once, redacted (the Rasa stand-in of test_gateway answers)."""

from __future__ import annotations

import csv
import io

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from core.settings import Settings
from desk.analytics.export import BOM
from desk.analytics.record import classify, record_turn
from store.db import Database
from store.models import TurnRecord
from tests.test_analytics import at, seed
from tests.test_gateway import client, login, rasa_stub  # noqa: F401  (fixtures)

MARCH = "from=2026-03-01&to=2026-03-03"
STAFF_URLS = (
    f"/api/admin/analytics?{MARCH}",
    f"/api/admin/analytics/export.csv?{MARCH}",
    "/admin/analytics",
    "/admin/analytics/report?month=2026-03",
)


async def test_only_admins_see_the_analytics(client: TestClient) -> None:  # noqa: F811
    for url in STAFF_URLS:
        anonymous = await client.get(url, allow_redirects=False)
        if url.startswith("/api/"):
            assert anonymous.status == 401 and (await anonymous.json())["error"]["message"] == "请先登录"
        else:
            assert anonymous.status == 302 and anonymous.headers["Location"].startswith("/login?next=/admin/analytics")
    for role in ("agent1", "expert1"):
        await login(client, role)
        for url in STAFF_URLS:
            refused = await client.get(url, allow_redirects=False)
            assert refused.status == 403, (role, url)
            assert "没有权限" in await refused.text()
        await client.post("/logout")
        client.session.cookie_jar.clear()
    await login(client, "admin1")
    for url in STAFF_URLS:
        assert (await client.get(url)).status == 200, url


async def test_the_figures_of_a_range_as_json_and_csv(client: TestClient, settings: Settings) -> None:  # noqa: F811
    seed(Database(settings.database_url))
    await login(client, "admin1")
    data = await (await client.get(f"/api/admin/analytics?{MARCH}")).json()
    assert (data["start"], data["end"]) == ("2026-03-01", "2026-03-03")
    activity = next(p for p in data["panels"] if p["id"] == "activity")
    assert {k["label"]: k["value"] for k in activity["kpis"]} == {"新对话": 5, "用户消息": 11, "机器人回复": 10}
    narrower = await (await client.get("/api/admin/analytics?from=2026-03-03&to=2026-03-03")).json()
    activity = next(p for p in narrower["panels"] if p["id"] == "activity")
    assert {k["label"]: k["value"] for k in activity["kpis"]} == {"新对话": 1, "用户消息": 2, "机器人回复": 2}

    response = await client.get(f"/api/admin/analytics/export.csv?{MARCH}")
    assert response.status == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="weiyuan-analytics-20260301-20260303.csv"' in response.headers["Content-Disposition"]
    body = await response.read()
    assert body.startswith(BOM.encode("utf-8"))  # EF BB BF: Excel reads the file as UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert ["咨询问题分布", "按渠道", "热线电话", "数量", "2", ""] in rows
    assert ["用户评价", "好评率", "", "", "60.0", "%"] in rows


async def test_a_bad_range_is_refused_in_chinese(client: TestClient) -> None:  # noqa: F811
    await login(client, "admin1")
    for query, message in (
        ("from=2026-03-05&to=2026-03-01", "开始日期不能晚于结束日期"),
        ("from=2020-01-01&to=2026-03-01", "日期范围最长 400 天"),
        ("from=2026-02-30", "开始日期应为日期"),
        ("to=昨天", "结束日期应为日期"),
    ):
        response = await client.get(f"/api/admin/analytics?{query}")
        assert response.status == 400 and message in (await response.json())["error"]["message"], query
    response = await client.get("/admin/analytics/report?month=2026-13")
    assert response.status == 400 and "月份格式不正确" in (await response.json())["error"]["message"]


async def test_the_printable_report(client: TestClient, settings: Settings) -> None:  # noqa: F811
    seed(Database(settings.database_url))
    await login(client, "admin1")
    page = await (await client.get("/admin/analytics/report?month=2026-03")).text()
    assert "知识产权维权援助服务统计 · 2026 年 3 月" in page and "2026-03-01 至 2026-03-31" in page
    assert "<td>线上平台（网站咨询窗口）</td><td>5</td><td>2</td><td>2</td><td>9</td>" in page
    assert "为企业提供援助服务（次）</dt><dd>1</dd>" in page
    assert (
        'href="/admin/analytics/report?month=2026-02"' in page
        and 'href="/admin/analytics/report?month=2026-04"' in page
    )
    assert "@media print" in await (await client.get("/static/style.css")).text()
    year = await (await client.get("/admin/analytics/report?year=2026")).text()
    assert "2026 年度" in year and "<td>合计</td><td>9</td><td>2</td><td>2</td><td>13</td>" in year
    december = await (await client.get("/admin/analytics/report?month=2025-12")).text()
    assert 'href="/admin/analytics/report?month=2026-01"' in december and "2025-12-01 至 2025-12-31" in december


async def test_the_page_loads_the_local_chart_library_and_escapes(client: TestClient, settings: Settings) -> None:  # noqa: F811
    db = Database(settings.database_url)
    with db.session() as session:  # what a user could make the bot record must never reach a page as markup
        facts = classify([{"meta": {"type": "answer", "tier": "confident", "confidence": 0.9,
                                    "ip_type": "<script>alert(1)</script>", "region": "<img src=x onerror=alert(1)>",
                                    "services": ["<b>x</b>"], "answer_id": "c" * 32}}])  # fmt: skip
        record_turn(session, conversation_id="w-xss", text="<script>alert(2)</script>", facts=facts, at=at(2, 3))
    await login(client, "admin1")
    page = await (await client.get("/admin/analytics")).text()
    assert '<script src="/static/vendor/echarts/echarts.min.js"></script>' in page
    assert "图表组件未安装" in page  # shown by the page's script only when the library did not load
    library = await client.get("/static/vendor/echarts/echarts.min.js")
    assert library.status == 200 and len(await library.read()) > 500_000
    data = await (await client.get(f"/api/admin/analytics?{MARCH}")).text()
    assert "<script" not in data and "<img" not in data and "<b>" not in data
    report = await (await client.get("/admin/analytics/report?month=2026-03")).text()
    assert "<script>alert" not in report and "onerror" not in report


async def test_every_relayed_turn_is_recorded_once_and_redacted(client: TestClient, settings: Settings) -> None:  # noqa: F811
    start = await (await client.post("/api/chat/start", json={})).json()
    session = start["session"]
    for text, client_id in (("我的电话 13812345678，商标被抢注了", "abcdefgh1"), ("让机器人沉默", "abcdefgh2")):
        response = await client.post("/api/chat/send", json={"session": session, "text": text, "client_id": client_id})
        assert response.status == 200
    # the widget retrying a message it already got an answer for: not counted again
    retry = await client.post(
        "/api/chat/send", json={"session": session, "text": "让机器人沉默", "client_id": "abcdefgh2"}
    )
    assert (await retry.json())["duplicate"] is True
    db = Database(settings.database_url)
    with db.session() as stored:
        rows = stored.scalars(
            select(TurnRecord).where(TurnRecord.conversation_id == session).order_by(TurnRecord.id)
        ).all()
        assert [(r.outcome, r.opens_conversation, r.bot_messages) for r in rows] == [
            ("answer", True, 1),
            ("silent", False, 1),
        ]
        assert rows[0].text == "我的电话 [手机号]，商标被抢注了" and rows[0].answer_id == "a" * 32
        assert rows[0].confidence == 0.9 and rows[0].channel == "widget"
