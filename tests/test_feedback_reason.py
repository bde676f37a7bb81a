"""Feedback that matters (issue 13): a 👎 says what was wrong, and every rating is tied to what the user saw.

The rating is stored with the index version of the rated answer and the ids of the sources it
showed, read from the answer as the gateway stored it (a browser cannot claim other ones); the
reason is an optional fixed code; one answer counts once however often it is clicked; the
dashboard panel counts 👎 by reason, 👍/👎 per index version and the sources most often 👎'd;
free text is redacted and goes after the retention time while the figures stay.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from consult.feedback import rate_answer, shown_answer
from core.settings import DeskSettings, Settings
from desk.analytics.export import BOM, dashboard_csv
from desk.analytics.panels import build_dashboard
from desk.analytics.period import Period
from desk.analytics.record import classify, record_turn
from desk.retention import purge_personal_data
from gateway.app import create_app
from index.builder import build
from index.retriever import Retriever
from store.db import Database
from store.models import ChatMessage, Feedback
from tests.test_gateway import rasa_stub  # noqa: F401  (fixture)

ANSWER = "1" * 32
OTHER_ANSWER = "2" * 32
SOURCES = [
    {"id": "entry/patent-infringement-evidence", "kind": "entry", "title": "专利侵权怎么取证", "label": "x"},
    {"id": "policy/专利法/第十一条", "kind": "policy", "title": "专利法", "label": "《专利法》第十一条"},
]
UTC = dt.UTC


def answer_meta(answer_id: str, version: str | None, sources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "answer",
        "tier": "probable",
        "answer_id": answer_id,
        "query": "专利被抄了",
        "confidence": 0.6,
        "citations": [],
        "sources": sources,
        "ip_types": ["patent"],
        "index_version": version,
    }


def store_answer(db: Database, conversation: str, answer_id: str, version: str | None = "v-old") -> None:
    """An answer the bot gave in a conversation, as the gateway stores it."""
    with db.session() as session:
        session.add(ChatMessage(conversation_id=conversation, role="user", text="专利被抄了", meta={}))
        session.add(
            ChatMessage(
                conversation_id=conversation,
                role="bot",
                text="可能相关的依据……",
                buttons=[],
                meta=answer_meta(answer_id, version, SOURCES),
            )
        )


def rows(db: Database) -> list[Feedback]:
    with db.session() as session:
        found = list(session.query(Feedback).order_by(Feedback.id))
        session.expunge_all()
        return found


@pytest.fixture
def db(settings: Settings) -> Database:
    database = Database(settings.database_url)
    database.upgrade()
    return database


# ---------------------------------------------------------------- storing a rating


def test_a_thumbs_down_is_stored_with_its_reason_and_the_version_and_sources_shown(db: Database) -> None:
    store_answer(db, "w-a", ANSWER, version="20261201-aaaa")
    assert shown_answer(db, "w-a", ANSWER) is not None
    assert rate_answer(db, "w-a", ANSWER, -1)  # the 👎 itself, no reason yet: it counts
    [row] = rows(db)
    assert (row.rating, row.reason) == (-1, None)
    assert row.index_version == "20261201-aaaa"
    assert row.sources == ["entry/patent-infringement-evidence", "policy/专利法/第十一条"]
    # the reason picked afterwards updates the same row: one answer counts once
    assert rate_answer(db, "w-a", ANSWER, -1, "wrong_basis", "第十一条说的不是这个，电话13812345678")
    [row] = rows(db)
    assert row.reason == "wrong_basis" and row.comment == "第十一条说的不是这个，电话[手机号]"
    # a second 👎 click without a reason keeps the reason given
    assert rate_answer(db, "w-a", ANSWER, -1)
    assert rows(db)[0].reason == "wrong_basis"
    # a change of mind: 👍 replaces the 👎 and its reason, still one row
    assert rate_answer(db, "w-a", ANSWER, 1, "off_point")
    [row] = rows(db)
    assert (row.rating, row.reason, row.comment) == (1, None, None)


def test_only_an_answer_shown_in_that_conversation_can_be_rated(db: Database) -> None:
    store_answer(db, "w-a", ANSWER)
    assert not rate_answer(db, "w-a", OTHER_ANSWER, -1, "off_point")  # never sent
    assert not rate_answer(db, "w-other", ANSWER, -1, "off_point")  # someone else's conversation
    assert rows(db) == []


# ---------------------------------------------------------------- through the gateway


@pytest.fixture
async def client(settings: Settings, factory: Any, rasa_stub: TestServer, aiohttp_client: Any) -> TestClient:  # noqa: F811
    build(settings, factory, incremental=True)
    settings.server.rasa_port = settings.server.action_port = rasa_stub.port
    Database(settings.database_url).upgrade()
    return await aiohttp_client(create_app(settings, Retriever(settings, factory)))


async def test_the_gateway_takes_version_and_sources_from_the_stored_answer_never_from_the_browser(
    client: TestClient, settings: Settings
) -> None:
    db = Database(settings.database_url)
    session = (await (await client.post("/api/chat/start", json={})).json())["session"]
    store_answer(db, session, ANSWER, version="20261201-real")
    forged = {
        "session": session,
        "answer_id": ANSWER,
        "rating": -1,
        "reason": "too_general",
        "index_version": "forged-version",
        "sources": ["entry/forged"],
    }
    response = await client.post("/api/chat/feedback", json=forged)
    assert response.status == 200, await response.text()
    [row] = rows(db)
    assert (row.reason, row.index_version) == ("too_general", "20261201-real")
    assert row.sources == ["entry/patent-infringement-evidence", "policy/专利法/第十一条"]

    # an answer that was never shown in this conversation: a clear Chinese error, nothing stored
    unknown = await client.post("/api/chat/feedback", json={**forged, "answer_id": OTHER_ANSWER})
    assert unknown.status == 404 and "没有找到这条回答" in (await unknown.json())["error"]["message"]
    bad = await client.post("/api/chat/feedback", json={**forged, "reason": "because"})
    assert bad.status == 400 and "没帮助的原因取值无效" in (await bad.json())["error"]["message"]
    assert len(rows(db)) == 1


async def test_the_documented_contract_names_the_reasons(client: TestClient) -> None:
    spec = await (await client.get("/api/openapi.json")).json()
    schema = spec["components"]["schemas"]["FeedbackRequest"]["properties"]["reason"]
    assert "没答到点上" in schema["description"] and "404" in spec["paths"]["/api/chat/feedback"]["post"]["responses"]


# ---------------------------------------------------------------- the dashboard panel

DAY = dt.datetime(2026, 3, 2, 4, tzinfo=UTC)  # 12:00 in China


def feedback(
    rating: int, reason: str | None, version: str | None, sources: list[str], ref: str | None = None
) -> Feedback:
    return Feedback(
        conversation_id="w-x",
        message_ref=ref,
        rating=rating,
        reason=reason,
        index_version=version,
        sources=sources,
        created_at=DAY,
    )


@pytest.fixture
def rated(db: Database) -> Database:
    """Version v1 (before a knowledge change): 1 👍, 3 👎; v2 (after it): 3 👍, 1 👎; one old row without a version."""
    e1, e2, art = "entry/e1", "entry/e2", "policy/专利法/第十一条"
    with db.session() as session:
        record_turn(
            session,
            conversation_id="w-old",
            text="旧问题",
            facts=classify([{"meta": answer_meta("9" * 32, "v0", [])}]),
            at=DAY - dt.timedelta(hours=1),
        )
        session.add_all(
            [
                feedback(1, None, "v1", [e1]),
                feedback(-1, "off_point", "v1", [e1, art]),
                feedback(-1, "wrong_basis", "v1", [e1, art]),
                feedback(-1, None, "v1", [e2]),
                feedback(1, None, "v2", [e1]),
                feedback(1, None, "v2", [e2]),
                feedback(1, None, "v2", [art]),
                feedback(-1, "too_general", "v2", [e2]),
                feedback(-1, "other", None, [], ref="9" * 32),  # from before 0006: the analytics record's version
                feedback(0, None, None, []),  # free text is not a rating
            ]
        )
        session.add(feedback(-1, "off_point", "v1", [e1]))
        session.flush()
    with db.session() as session:  # v1 was rated first, so it comes first
        for row in session.query(Feedback).filter(Feedback.index_version == "v1"):
            row.created_at = DAY - dt.timedelta(minutes=30)
    return db


def the_panel(db: Database) -> Any:
    board = build_dashboard(db, DeskSettings(), Period(dt.date(2026, 3, 1), dt.date(2026, 3, 3)), now=DAY)
    return next(p for p in board.panels if p.id == "feedback_quality"), board


def test_the_panel_counts_thumbs_down_by_reason_and_the_rate_per_index_version(rated: Database) -> None:
    panel, _ = the_panel(rated)
    charts = {c.id: c for c in panel.charts}
    assert {k.label: k.value for k in panel.kpis} == {"👎 没帮助": 6, "选了原因的👎": 5, "评价涉及的索引版本": 3}
    by_reason = charts["down_by_reason"]
    assert dict(zip(by_reason.categories, by_reason.series[0].data, strict=True)) == {
        "没答到点上": 2,
        "依据不对": 1,
        "太笼统": 1,
        "其他": 1,
        "未选原因": 1,
    }
    per_version = charts["rating_by_version"]
    assert per_version.categories == ["v1", "v2", "v0"]  # in the order they were first rated
    assert [s.data for s in per_version.series] == [[1, 3, 0], [4, 1, 1]]
    assert charts["rate_by_version"].series[0].data == [20.0, 75.0, 0.0]  # the change helped
    worst = charts["down_sources"]
    assert dict(zip(worst.categories, worst.series[0].data, strict=True)) == {
        "entry/e1": 3,
        "entry/e2": 2,
        "policy/专利法/第十一条": 2,
    }
    assert panel.table is not None
    assert panel.table.rows[0] == ["v1", 1, 4, 20.0, 2, 1, 0, 0, 1]
    assert panel.table.rows[1] == ["v2", 3, 1, 75.0, 0, 0, 1, 0, 0]
    assert panel.table.rows[2] == ["v0", 0, 1, 0.0, 0, 0, 0, 1, 0]


def test_the_panel_reaches_the_csv_and_an_empty_range_shows_nothing(rated: Database) -> None:
    _, board = the_panel(rated)
    text = dashboard_csv(board)
    assert text.startswith(BOM)
    lines = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert ["差评原因与知识版本", "👎 的原因", "依据不对", "👎 次数", "1", ""] in lines
    assert ["差评原因与知识版本", "好评率（%）", "v2", "索引版本", "75.0", ""] in lines
    empty = build_dashboard(rated, DeskSettings(), Period.month(2025, 1), now=DAY)
    panel = next(p for p in empty.panels if p.id == "feedback_quality")
    assert panel.kpis[0].value == 0 and panel.table is not None and panel.table.rows == []


# ---------------------------------------------------------------- privacy


def test_retention_removes_the_free_text_and_keeps_the_reason_version_and_sources(db: Database) -> None:
    store_answer(db, "w-a", ANSWER, version="v1")
    assert rate_answer(db, "w-a", ANSWER, -1, "other", "联系我 zhang@example.com")
    assert rows(db)[0].comment == "联系我 [邮箱]"
    later = dt.datetime.now(UTC) + dt.timedelta(days=181)
    counts = purge_personal_data(db, 180, now=later)
    assert counts["feedback_comments"] == 1 and counts["chat_messages"] == 2
    [row] = rows(db)
    assert row.comment is None
    assert (row.rating, row.reason, row.index_version) == (-1, "other", "v1") and len(row.sources or []) == 2
    # the conversation is gone, so its answers can no longer be rated
    assert not rate_answer(db, "w-a", ANSWER, 1)


def test_what_users_wrote_after_a_thumbs_down_shows_redacted_newest_first_and_leaves_with_retention(
    db: Database,
) -> None:
    store_answer(db, "w-a", ANSWER, version="v1")
    assert rate_answer(db, "w-a", ANSWER, -1, "other", "没说清楚要多少钱，电话 13812345678")
    store_answer(db, "w-b", "b" * 32, version="v2")
    assert rate_answer(db, "w-b", "b" * 32, -1, "other", "<script>x</script> 依据是旧法")
    store_answer(db, "w-c", "c" * 32, version="v2")
    assert rate_answer(db, "w-c", "c" * 32, 1, None, "很好")  # a 👍 remark is not a complaint
    with db.session() as session:
        for n, row in enumerate(session.query(Feedback).order_by(Feedback.id)):
            row.created_at = DAY + dt.timedelta(minutes=n)
    panel, _ = the_panel(db)
    assert [q.text for q in panel.quotes] == ["<script>x</script> 依据是旧法", "没说清楚要多少钱，电话 [手机号]"]
    assert panel.quotes[0].detail == "其他 · 索引版本 v2" and panel.quotes[0].day == dt.date(2026, 3, 2)
    # the words are not figures: they stay out of the CSV
    assert "依据是旧法" not in dashboard_csv(the_panel(db)[1])
    purge_personal_data(db, 180, now=dt.datetime.now(UTC) + dt.timedelta(days=181))
    assert the_panel(db)[0].quotes == []
