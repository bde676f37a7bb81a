"""The yearly-report figures of a month or a year (as centres report them: services by channel,
by IP type, enterprises served), plus the quality figures of the dashboard, for a printable page."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from core.settings import DeskSettings
from core.vocabulary import IP_TYPE_LABELS
from desk.analytics.figures import Kpi, Panel, Table
from desk.analytics.panels import (
    OTHER,
    QUESTION_OUTCOMES,
    UNKNOWN_IP,
    Source,
    feedback,
    ip_label,
    outcomes,
    sla,
    tickets_in,
)
from desk.analytics.period import Period
from store.db import Database
from store.models import TurnRecord, utcnow


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    sections: list[Panel]


def _channels(source: Source) -> Panel:
    period = source.period
    conversations = source.session.scalar(
        select(func.count(TurnRecord.id)).where(
            TurnRecord.day >= period.start, TurnRecord.day <= period.end, TurnRecord.opens_conversation.is_(True)
        )
    )
    tickets = tickets_in(source)
    online = [t for t in tickets if t.channel != "hotline"]
    calls = [t for t in tickets if t.kind == "hotline"]

    def row(label: str, consult: int, handoffs: int, applications: int) -> list[str | int | float | None]:
        return [label, consult, handoffs, applications, consult + handoffs + applications]

    web = row(
        "线上平台（网站咨询窗口）",
        int(conversations or 0),
        sum(t.kind == "handoff" for t in online),
        sum(t.kind == "application" for t in online),
    )
    hotline = row("热线电话", len(calls), 0, 0)
    total = ["合计", *(int(a or 0) + int(b or 0) for a, b in zip(web[1:], hotline[1:], strict=True))]
    return Panel(
        id="by_channel",
        title="按服务途径",
        kpis=[Kpi(label="公益服务（次）", value=total[-1])],
        table=Table(
            headers=["服务途径", "咨询指导（次）", "转人工专家（件）", "维权援助申请（件）", "合计"],
            rows=[web, hotline, total],
        ),
        note="网站咨询按对话计（一次对话计一次咨询）；热线按坐席登记的来电工单计。",
    )


def _ip_types(source: Source) -> Panel:
    period = source.period
    asked = source.session.execute(
        select(TurnRecord.ip_type, func.count(TurnRecord.id))
        .where(TurnRecord.day >= period.start, TurnRecord.day <= period.end, TurnRecord.outcome.in_(QUESTION_OUTCOMES))
        .group_by(TurnRecord.ip_type)
    ).all()
    questions: Counter[str] = Counter()
    for ip_type, n in asked:
        questions[ip_label(ip_type)] += int(n)
    tickets = tickets_in(source)
    questions.update(ip_label(t.ip_type) for t in tickets if t.kind == "hotline")
    handled = Counter(ip_label(t.ip_type) for t in tickets)
    labels = [*IP_TYPE_LABELS.values(), OTHER, UNKNOWN_IP]
    rows: list[list[str | int | float | None]] = [
        [label, questions[label], handled[label]] for label in labels if questions[label] or handled[label]
    ]
    rows.append(["合计", sum(questions.values()), sum(handled.values())])
    return Panel(
        id="by_ip_type",
        title="按知识产权类型",
        table=Table(headers=["知识产权类型", "咨询问题（条）", "工单（件）"], rows=rows),
        note="咨询问题含网站咨询窗口的问题和热线来电；工单含转人工、维权援助申请和热线来电。",
    )


def _enterprises(source: Source) -> Panel:
    applications = tickets_in(source, ("application",))
    enterprise = sum(t.applicant == "enterprise" for t in applications)
    return Panel(
        id="enterprises",
        title="服务中小微企业",
        kpis=[
            Kpi(label="维权援助申请（件）", value=len(applications)),
            Kpi(label="为企业提供援助服务（次）", value=enterprise),
            Kpi(label="个人申请（件）", value=len(applications) - enterprise),
        ],
        note="申请人填写了企业或单位名称的计为企业（机器人不核实企业规模，上报前请按中心口径复核）。",
    )


def _quality(source: Source) -> Panel:
    answered, rated, times = outcomes(source), feedback(source), sla(source)
    pick = {k.label: k for k in [*answered.kpis, *rated.kpis, *times.kpis]}
    wanted = ("有把握回答率", "列出可能相关依据率", "追问澄清率", "转人工率", "好评率", "按时首次响应率", "按时解决率")
    return Panel(id="quality", title="服务质量", kpis=[pick[w] for w in wanted if w in pick])


def build_report(
    db: Database, desk: DeskSettings, period: Period, title: str, now: dt.datetime | None = None
) -> Report:
    now = now or utcnow()
    with db.session() as session:
        source = Source(session, period, desk, now)
        sections = [_channels(source), _ip_types(source), _enterprises(source), _quality(source)]
    return Report(title=title, start=period.start, end=period.end, generated_at=now, sections=sections)
