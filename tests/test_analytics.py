"""Analytics (issue 13): the dashboard's figures from fixture conversations with known counts.

The fixture below is a small, fully hand-counted March 2026 of a centre: five widget
conversations over three China days (one message just after midnight China time, one
conversation continued the next day), hotline calls, hand-overs and applications with
known SLA times, and 👍/👎 on known answers.  Every figure the dashboard, the CSV and the
report show is asserted exactly; so are the date-range filter, the redaction of what is
kept and the retention of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select

from consult.service import Consultant
from consult.turns import Turns, TurnState
from core.messages import check_meta
from core.settings import DeskSettings, Settings
from desk.analytics.export import BOM, dashboard_csv
from desk.analytics.figures import Chart, Dashboard, Panel
from desk.analytics.panels import build_dashboard
from desk.analytics.period import Period, local_day
from desk.analytics.record import classify, record_turn
from desk.analytics.report import build_report
from desk.analytics.retention import purge_analytics_text
from desk.tickets import applicant_kind
from store.db import Database
from store.models import Feedback, Ticket, TurnRecord
from tests.test_consult import consultant  # noqa: F401  (fixture)

UTC = dt.UTC
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)


def at(day: int, hour: float, month: int = 3) -> dt.datetime:
    """A UTC time in 2026 (China time is eight hours ahead)."""
    return dt.datetime(2026, month, day, tzinfo=UTC) + dt.timedelta(hours=hour)


def answer(tier: str, confidence: float, ip: str | None, service: str | None, **extra: Any) -> dict[str, Any]:
    meta = {"type": "answer", "tier": tier, "confidence": confidence, "ip_type": ip, **extra}
    if service:
        meta["services"] = [service]
    return {"role": "bot", "text": "回答", "meta": {k: v for k, v in meta.items() if v is not None}}


def said(kind: str, **meta: Any) -> dict[str, Any]:
    return {"role": "bot", "text": "……", "meta": {"type": kind, **meta}}


SILENT = {"role": "bot", "text": "抱歉", "meta": {"type": "info", "silent_turn": True}}

#: (conversation, UTC time, what the user wrote, the bot's replies or None for "an expert has it")
TURNS: list[tuple[str, dt.datetime, str, list[dict[str, Any]] | None]] = [
    ("w-z", at(28, 10, month=2), "二月的问题", [answer("confident", 0.9, "patent", "consultation")]),
    # 1 March (China)
    (
        "w-a",
        at(1, 1),
        "专利被仿冒",
        [answer("confident", 0.92, "patent", "consultation", region="广东", answer_id="a1" * 16)],
    ),
    ("w-a", at(1, 2), "商标被起诉", [answer("probable", 0.55, "trademark", "litigation", answer_id="a2" * 16)]),
    ("w-b", at(1, 3), "我想问问", [said("clarify", confidence=0.31, asks="ip_type")]),
    (
        "w-b",
        at(1, 4),
        "网文被抄袭，电话 13812345678",
        [
            said(
                "handoff",
                confidence=0.2,
                ip_type="copyright",
                region="浙江",
                reason="low_confidence",
                ticket={"number": "WY1"},
            ),
        ],
    ),
    # 2 March (China): 16:30 UTC on the 1st is half past midnight on the 2nd in Beijing
    ("w-c", at(1, 16.5), "你好", [said("info")]),
    ("w-c", at(2, 1), "离婚财产怎么分", [said("out_of_scope", confidence=0.05, referral="12348")]),
    ("w-d", at(2, 2), "……", [SILENT]),
    ("w-d", at(2, 3), "专家您好", None),
    ("w-a", at(2, 4), "外观设计呢", [answer("confident", 0.97, "patent", "consultation", answer_id="a3" * 16)]),
    # 3 March (China)
    ("w-e", at(3, 1), "广东深圳", [said("form", form="assistance_application_form", slot="region")]),
    (
        "w-e",
        at(3, 2),
        "店铺被投诉",
        [
            answer("probable", 0.6, None, "ecommerce_complaint", ip_types=["general", "ecommerce"]),
        ],
    ),
]


def ticket(kind: str, created: dt.datetime, **fields: Any) -> Ticket:
    channel = "hotline" if kind == "hotline" else "widget"
    fields.setdefault("status", "in_progress")
    return Ticket(kind=kind, reason=kind, channel=channel, created_at=created, **fields)


def seed(db: Database) -> None:
    """The hand-counted month (see the module docstring)."""
    with db.session() as session:
        for conversation, when, text, replies in TURNS:
            facts = classify(replies or [], with_expert=replies is None)
            record_turn(session, conversation_id=conversation, text=text, facts=facts, at=when)
            session.flush()
        t1 = at(1, 2)
        t2 = at(2, 1)
        session.add_all(
            [
                ticket("handoff", t1, ip_type="patent", first_response_at=t1 + 1.5 * HOUR, resolved_at=t1 + 20 * HOUR,
                       due_first_response_at=t1 + 4 * HOUR, due_resolution_at=t1 + 72 * HOUR, status="resolved"),
                ticket("handoff", t2, ip_type="trademark", priority="high", first_response_at=t2 + 3.5 * HOUR,
                       due_first_response_at=t2 + 2 * HOUR, due_resolution_at=t2 + 36 * HOUR),
                ticket("application", at(2, 3), company_name="某某科技有限公司", status="open",
                       applicant=applicant_kind("某某科技有限公司")),
                ticket("application", at(3, 2), ip_type="patent", company_name="个人", applicant=applicant_kind("个人"),
                       first_response_at=at(3, 2.5), resolved_at=at(3, 102), status="resolved"),
                ticket("hotline", at(1, 5), ip_type="patent", region="广东", first_response_at=at(1, 15),
                       resolved_at=at(1, 35), status="resolved"),
                ticket("hotline", at(3, 6), first_response_at=at(3, 11), resolved_at=at(3, 206), status="resolved"),
                ticket("hotline", at(20, 6, month=2), ip_type="patent"),  # before the range
            ]
        )  # fmt: skip
        for rating, answer_id, when in (
            (1, "a1" * 16, at(1, 5)),
            (1, "a2" * 16, at(2, 5)),
            (-1, "a2" * 16, at(2, 6)),
            (-1, "a3" * 16, at(3, 5)),
            (1, "f" * 32, at(3, 5)),  # an answer with no record (e.g. from before analytics)
            (-1, "a1" * 16, at(27, 5, month=2)),  # before the range
            (0, None, at(2, 5)),  # a free-text comment is not a rating
        ):
            session.add(Feedback(conversation_id="w-x", message_ref=answer_id, rating=rating, created_at=when))


@pytest.fixture
def db(settings: Settings) -> Database:
    database = Database(settings.database_url)
    database.upgrade()
    seed(database)
    return database


def panel(dashboard: Dashboard, panel_id: str) -> Panel:
    return next(p for p in dashboard.panels if p.id == panel_id)


def kpis(dashboard: Dashboard, panel_id: str) -> dict[str, Any]:
    return {k.label: k.value for k in panel(dashboard, panel_id).kpis}


def chart(dashboard: Dashboard, panel_id: str, chart_id: str) -> Chart:
    return next(c for c in panel(dashboard, panel_id).charts if c.id == chart_id)


def counts(c: Chart, series: int = 0) -> dict[str, Any]:
    return dict(zip(c.categories, c.series[series].data, strict=True))


def test_turn_outcomes_are_read_from_the_reply_payloads() -> None:
    facts = classify([answer("confident", 0.9, "patent", "consultation", region="广东", answer_id="b" * 32), said("handoff", ticket={"number": "X"})])  # fmt: skip
    assert (facts.outcome, facts.tier, facts.confidence, facts.ip_type, facts.service, facts.region) == (
        "answer", "confident", 0.9, "patent", "consultation", "广东",
    )  # fmt: skip
    assert facts.handed_over and facts.answer_id == "b" * 32 and facts.bot_messages == 2
    assert classify([said("handoff", existing=True, ticket={"number": "X"})]).handed_over is False
    assert classify([SILENT]).outcome == "silent"
    assert classify([]).outcome == "other"
    assert classify([], with_expert=True).outcome == "expert"
    assert classify([said("clarify", confidence=7)]).confidence is None  # not a probability: not counted
    assert classify([answer("probable", 0.4, None, None, ip_types=["general"])]).ip_type == "general"


def test_a_turn_of_the_consultation_says_what_it_is_about(consultant: Consultant) -> None:  # noqa: F811
    result = Turns(consultant).answer(TurnState("w-meta", "专利侵权赔偿怎么算", region="广东"))
    meta = result.replies[0].meta
    assert meta["type"] == "answer" and meta["ip_type"] == "patent" and meta["region"] == "广东"
    assert meta["services"][0] in ("consultation", "infringement_judgment", "litigation", "administrative_enforcement")
    assert check_meta(meta) == meta
    facts = classify([{"meta": meta}])
    assert (facts.ip_type, facts.region, facts.service) == ("patent", "广东", meta["services"][0])


def test_days_are_china_days() -> None:
    assert local_day(at(1, 16.5)) == dt.date(2026, 3, 2)
    assert local_day(at(1, 15.99)) == dt.date(2026, 3, 1)
    assert local_day(dt.datetime(2026, 3, 1, 20)) == dt.date(2026, 3, 2)  # naive (SQLite) times are UTC
    assert MARCH.utc_start == at(28, 16, month=2) and MARCH.utc_end == at(3, 16)
    assert Period.month(2026, 2).end == dt.date(2026, 2, 28) and Period.month(2026, 12).end == dt.date(2026, 12, 31)
    with pytest.raises(ValueError, match="开始日期不能晚于结束日期"):
        Period(dt.date(2026, 3, 2), dt.date(2026, 3, 1))
    with pytest.raises(ValueError, match="最长"):
        Period(dt.date(2024, 1, 1), dt.date(2026, 3, 1))


def test_the_dashboard_of_the_fixture_month_has_the_known_counts(db: Database) -> None:
    board = build_dashboard(db, DeskSettings(), MARCH, now=NOW)
    assert [p.id for p in board.panels] == [
        "activity",
        "questions",
        "outcomes",
        "confidence",
        "feedback",
        "sla",
        "feedback_quality",
    ]

    assert kpis(board, "activity") == {"新对话": 5, "用户消息": 11, "机器人回复": 10}
    per_day = chart(board, "activity", "per_day")
    assert per_day.categories == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert [s.data for s in per_day.series] == [[2, 2, 1], [4, 5, 2], [4, 4, 2]]

    assert kpis(board, "questions") == {"咨询问题": 10, "网站咨询窗口": 8, "热线来电（工单）": 2}
    assert counts(chart(board, "questions", "by_ip_type")) == {
        "专利": 3,
        "商标": 1,
        "著作权": 1,
        "电子商务": 1,
        "未识别": 4,
    }
    assert list(counts(chart(board, "questions", "by_ip_type")))[-1] == "未识别"  # unknown last
    assert counts(chart(board, "questions", "by_service")) == {"咨询指导": 2, "电商平台投诉": 1, "诉讼": 1, "未归类": 4}
    assert counts(chart(board, "questions", "by_region")) == {"广东": 2, "浙江": 1, "未说明": 7}
    assert counts(chart(board, "questions", "by_channel")) == {"网站咨询窗口": 8, "热线电话": 2}

    assert kpis(board, "outcomes") == {
        "有把握回答率": 25.0,
        "列出可能相关依据率": 25.0,
        "追问澄清率": 12.5,
        "转人工率": 12.5,
        "婉拒（非知识产权）率": 12.5,
        "无回复率": 12.5,
        "新建转人工工单": 1,
    }
    daily = {s.name: s.data for s in chart(board, "outcomes", "outcome_per_day").series}
    assert daily["有把握回答"] == [1, 1, 0] and daily["列出可能相关依据"] == [1, 0, 1] and daily["无回复"] == [0, 1, 0]

    assert kpis(board, "confidence") == {"有置信度的问题": 7, "置信度中位数": 0.55}
    hist = {s.name: s.data for s in chart(board, "confidence", "confidence_hist").series}
    assert hist == {
        "有把握回答": [0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        "列出可能相关依据": [0, 0, 0, 0, 0, 1, 1, 0, 0, 0],
        "追问澄清": [0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
        "转人工": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        "婉拒（非知识产权）": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    }

    assert kpis(board, "feedback") == {"👍 有帮助": 3, "👎 没帮助": 2, "好评率": 60.0}
    by_tier = chart(board, "feedback", "feedback_by_tier")
    assert counts(by_tier, 0) == {"有把握回答": 1, "列出可能相关依据": 1, "其他回答": 1}
    assert counts(by_tier, 1) == {"有把握回答": 1, "列出可能相关依据": 1, "其他回答": 0}


def test_expert_times_against_the_sla(db: Database) -> None:
    board = build_dashboard(db, DeskSettings(), MARCH, now=NOW)
    table = panel(board, "sla").table
    assert table is not None
    rows = {row[0]: row[1:] for row in table.rows}
    # tickets, responded, median, P90, on time %, resolved, median, P90, on time %, overdue without a response
    assert rows["转人工"] == [2, 2, 2.5, 3.5, 50.0, 1, 20.0, 20.0, 50.0, 0]
    assert rows["维权援助申请"] == [2, 1, 0.5, 0.5, 50.0, 1, 100.0, 100.0, 0.0, 1]
    assert rows["热线来电"] == [2, 2, 7.5, 10.0, 0.0, 2, 115.0, 200.0, 50.0, 0]
    assert rows["合计"] == [6, 5, 3.5, 10.0, 33.3, 4, 65.0, 200.0, 33.3, 1]
    assert counts(chart(board, "sla", "first_response")) == {
        "≤1小时": 1, "1–2小时": 1, "2–4小时": 1, "4–8小时": 1, "8–24小时": 1, "1–3天": 0, ">3天": 0, "尚未响应": 1,
    }  # fmt: skip
    assert counts(chart(board, "sla", "resolution")) == {"≤1天": 1, "1–3天": 1, "3–7天": 1, ">7天": 1, "尚未解决": 2}
    # a ticket still inside its time limit is neither on time nor late yet
    early = build_dashboard(db, DeskSettings(), MARCH, now=at(2, 5))
    sla_table = panel(early, "sla").table
    assert sla_table is not None
    # the application opened at 03:00 is not due before 07:00: not late yet, not overdue
    assert next(r for r in sla_table.rows if r[0] == "维权援助申请")[5:] == [100.0, 1, 100.0, 100.0, 0.0, 0]


def test_the_date_range_filters_every_figure(db: Database) -> None:
    later = build_dashboard(db, DeskSettings(), Period(dt.date(2026, 3, 2), dt.date(2026, 3, 3)), now=NOW)
    assert kpis(later, "activity") == {"新对话": 3, "用户消息": 7, "机器人回复": 6}
    assert kpis(later, "questions") == {"咨询问题": 5, "网站咨询窗口": 4, "热线来电（工单）": 1}
    assert kpis(later, "feedback") == {"👍 有帮助": 2, "👎 没帮助": 2, "好评率": 50.0}
    sla_table = panel(later, "sla").table
    assert sla_table is not None and sla_table.rows[-1][1] == 4
    first_day = build_dashboard(db, DeskSettings(), Period(dt.date(2026, 3, 1), dt.date(2026, 3, 1)), now=NOW)
    assert kpis(first_day, "activity") == {"新对话": 2, "用户消息": 4, "机器人回复": 4}  # "你好" was after midnight
    february = build_dashboard(db, DeskSettings(), Period.month(2026, 2), now=NOW)
    assert kpis(february, "activity")["用户消息"] == 1 and kpis(february, "feedback")["👎 没帮助"] == 1
    empty = build_dashboard(db, DeskSettings(), Period.month(2025, 1), now=NOW)
    assert kpis(empty, "outcomes")["有把握回答率"] is None and kpis(empty, "feedback")["好评率"] is None


def test_csv_export_is_excel_ready_and_holds_every_figure(db: Database) -> None:
    text = dashboard_csv(build_dashboard(db, DeskSettings(), MARCH, now=NOW))
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert rows[0] == ["板块", "图表或指标", "类别", "系列", "数值", "单位"]
    assert ["时间范围", "开始日期", "2026-03-01", "", "", ""] in rows
    assert ["对话与消息", "新对话", "", "", "5", ""] in rows
    assert ["对话与消息", "每日对话与消息", "2026-03-02", "用户消息", "5", ""] in rows
    assert ["咨询问题分布", "按知识产权类型", "专利", "数量", "3", ""] in rows
    assert ["回答情况", "有把握回答率", "", "", "25.0", "%"] in rows
    assert ["专家响应与处理时效", "按时首次响应率（%）", "合计", "工单类型", "33.3", ""] in rows
    assert all(len(r) == 6 for r in rows)


def test_csv_cells_cannot_run_as_formulas() -> None:
    board = Dashboard(
        start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1), generated_at=NOW,
        panels=[Panel(id="x", title="=HYPERLINK(1)", charts=[
            Chart(id="c", title="t", kind="bar", categories=["+1", "@a", "-2"], series=[{"name": "s", "data": [1, 2, -3]}]),  # type: ignore[list-item]
        ])],
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(dashboard_csv(board).removeprefix(BOM))))[3:]
    assert [r[0] for r in rows] == ["'=HYPERLINK(1)"] * 3
    assert [r[2] for r in rows] == ["'+1", "'@a", "'-2"] and [r[4] for r in rows] == ["1", "2", "-3"]


def test_the_yearly_report_figures(db: Database) -> None:
    report = build_report(db, DeskSettings(), Period.month(2026, 3), "2026 年 3 月", now=NOW)
    sections = {s.id: s for s in report.sections}
    channels = sections["by_channel"].table
    assert channels is not None and channels.rows == [
        ["线上平台（网站咨询窗口）", 5, 2, 2, 9],
        ["热线电话", 2, 0, 0, 2],
        ["合计", 7, 2, 2, 11],
    ]
    by_ip = sections["by_ip_type"].table
    assert by_ip is not None and by_ip.rows == [
        ["专利", 3, 3], ["商标", 1, 1], ["著作权", 1, 0], ["电子商务", 1, 0], ["未识别", 4, 2], ["合计", 10, 6],
    ]  # fmt: skip
    assert {k.label: k.value for k in sections["enterprises"].kpis} == {
        "维权援助申请（件）": 2, "为企业提供援助服务（次）": 1, "个人申请（件）": 1,
    }  # fmt: skip
    quality = {k.label: k.value for k in sections["quality"].kpis}
    assert quality["有把握回答率"] == 25.0 and quality["好评率"] == 60.0 and quality["按时首次响应率"] == 33.3
    year = build_report(db, DeskSettings(), Period.year(2026), "2026 年度", now=NOW)
    year_channels = {s.id: s for s in year.sections}["by_channel"].table
    assert year_channels is not None and year_channels.rows[-1] == ["合计", 9, 2, 2, 13]  # February too


def test_applicants_are_told_apart() -> None:
    assert applicant_kind("深圳市某某科技有限公司") == "enterprise"
    assert applicant_kind("个人") == "individual" and applicant_kind("") == "individual"
    assert applicant_kind("个人申请") == "individual" and applicant_kind(None) == "individual"


def test_analytics_keep_redacted_text_only_and_clear_it_after_retention(db: Database) -> None:
    with db.session() as session:
        handed = session.scalars(select(TurnRecord).where(TurnRecord.conversation_id == "w-b")).all()
        assert [r.text for r in handed] == ["我想问问", "网文被抄袭，电话 [手机号]"]
        long = record_turn(
            session, conversation_id="w-long", text="甲" * 599 + "13812345678", facts=classify([SILENT]), at=at(3, 8)
        )
        session.flush()
        assert long.text is not None and len(long.text) == 500 and "1381234" not in long.text
    before = build_dashboard(db, DeskSettings(), MARCH, now=NOW)

    # 180 days after 1 March: February's and March's text and conversation ids go, the figures stay
    cleared = purge_analytics_text(db, 180, now=at(31, 0, month=8))
    assert cleared == len(TURNS) + 1
    with db.session() as session:
        rows = session.scalars(select(TurnRecord)).all()
        assert all(r.text is None and r.conversation_id is None for r in rows)
    after = build_dashboard(db, DeskSettings(), MARCH, now=NOW)
    assert before.model_dump(exclude={"generated_at"}) == after.model_dump(exclude={"generated_at"})
    assert purge_analytics_text(db, 180, now=at(31, 0, month=8)) == 0


def test_retention_keeps_recent_text(db: Database) -> None:
    cleared = purge_analytics_text(db, 180, now=at(1, 12) + dt.timedelta(days=180))
    with db.session() as session:
        kept = session.scalars(select(TurnRecord).where(TurnRecord.text.is_not(None))).all()
    # everything up to 1 March 12:00 UTC is older than 180 days by then; the rest stays
    assert cleared == 5 and len(kept) == len(TURNS) - 5
    assert {r.conversation_id for r in kept} == {"w-c", "w-d", "w-a", "w-e"}
