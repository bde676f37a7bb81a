"""Build the dashboard of a date range from the analytics records, the tickets and the feedback.

Each panel is one builder ``(Source) -> Panel`` in :data:`PANELS`; a new panel (e.g. clusters of
unanswered questions) is a builder appended there, and the page, the JSON and the CSV show it.
Categories are always labels from the shared vocabulary (never stored free text), so nothing a
user typed reaches a chart.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.settings import DeskSettings
from core.vocabulary import IP_TYPE_LABELS, PROVINCES, SERVICE_LABELS
from desk.analytics.feedback_quality import feedback_quality
from desk.analytics.figures import Chart, ChartKind, Dashboard, Kpi, Panel, Series, Table
from desk.analytics.period import Period, local_day
from store.db import Database
from store.models import Feedback, Ticket, TurnRecord, utcnow

#: Turns that are questions to the consultation (greetings, form steps and messages to an expert are not).
QUESTION_OUTCOMES = ("answer", "clarify", "handoff", "out_of_scope", "silent")
OUTCOME_LABELS = {
    "confident": "有把握回答",
    "probable": "列出可能相关依据",
    "clarify": "追问澄清",
    "handoff": "转人工",
    "out_of_scope": "婉拒（非知识产权）",
    "silent": "无回复",
}
CHANNEL_LABELS = {"widget": "网站咨询窗口", "hotline": "热线电话", "rest": "其他接口"}
TICKET_KIND_LABELS = {"handoff": "转人工", "application": "维权援助申请", "hotline": "热线来电"}
UNKNOWN_IP, UNKNOWN_SERVICE, UNKNOWN_REGION, OTHER = "未识别", "未归类", "未说明", "其他"
CONFIDENCE_BINS = [f"{i / 10:.1f}–{(i + 1) / 10:.1f}" for i in range(10)]
FIRST_RESPONSE_BUCKETS = ("≤1小时", "1–2小时", "2–4小时", "4–8小时", "8–24小时", "1–3天", ">3天", "尚未响应")
RESOLUTION_BUCKETS = ("≤1天", "1–3天", "3–7天", ">7天", "尚未解决")


@dataclass(frozen=True)
class Source:
    """What every panel reads from: one session, the range, the SLA settings."""

    session: Session
    period: Period
    desk: DeskSettings
    now: dt.datetime


def ip_label(value: str | None) -> str:
    return UNKNOWN_IP if not value else IP_TYPE_LABELS.get(value, OTHER)


def service_label(value: str | None) -> str:
    return UNKNOWN_SERVICE if not value else SERVICE_LABELS.get(value, OTHER)


def region_label(value: str | None) -> str:
    return UNKNOWN_REGION if not value else (value if value in PROVINCES else OTHER)


def outcome_key(outcome: str, tier: str | None) -> str:
    """The outcome as the dashboard names it (an answer by its tier)."""
    return (tier if tier in ("confident", "probable") else "probable") if outcome == "answer" else outcome


def percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _in_range(source: Source) -> list[ColumnElement[bool]]:
    return [TurnRecord.day >= source.period.start, TurnRecord.day <= source.period.end]


def _ordered(counts: Counter[str], first: Iterable[str], last: Iterable[str] = ()) -> list[tuple[str, int]]:
    """Vocabulary order first, then the rest by size, the unknown buckets last; zero rows dropped."""
    tail = list(last)
    order = [k for k in first if counts.get(k)] + sorted(
        (k for k in counts if k not in first and k not in tail and counts[k]), key=lambda k: -counts[k]
    )
    return [(k, counts[k]) for k in order + [k for k in tail if counts.get(k)]]


def _bar(
    chart_id: str, title: str, counts: list[tuple[str, int]], kind: ChartKind = "bar", name: str = "数量"
) -> Chart:
    return Chart(
        id=chart_id,
        title=title,
        kind=kind,
        categories=[k for k, _ in counts],
        series=[Series(name=name, data=[v for _, v in counts])],
    )


def tickets_in(source: Source, kinds: tuple[str, ...] | None = None) -> list[Ticket]:
    query = select(Ticket).where(
        Ticket.created_at >= source.period.utc_start, Ticket.created_at < source.period.utc_end
    )
    if kinds:
        query = query.where(Ticket.kind.in_(kinds))
    return list(source.session.scalars(query))


# ---------------------------------------------------------------- panels


def activity(source: Source) -> Panel:
    """Conversations (counted on the day they start) and messages per day."""
    rows = source.session.execute(
        select(TurnRecord.day, func.count(TurnRecord.id), func.sum(TurnRecord.bot_messages))
        .where(*_in_range(source))
        .group_by(TurnRecord.day)
    ).all()
    starts = dict(
        source.session.execute(
            select(TurnRecord.day, func.count(TurnRecord.id))
            .where(*_in_range(source), TurnRecord.opens_conversation.is_(True))
            .group_by(TurnRecord.day)
        ).all()
    )
    users = {day: int(n) for day, n, _ in rows}
    bots = {day: int(b or 0) for day, _, b in rows}
    days = source.period.each_day()
    return Panel(
        id="activity",
        title="对话与消息",
        kpis=[
            Kpi(label="新对话", value=sum(int(v) for v in starts.values())),
            Kpi(label="用户消息", value=sum(users.values())),
            Kpi(label="机器人回复", value=sum(bots.values())),
        ],
        charts=[
            Chart(
                id="per_day",
                title="每日对话与消息",
                kind="line",
                categories=[d.isoformat() for d in days],
                series=[
                    Series(name="新对话", data=[int(starts.get(d, 0)) for d in days]),
                    Series(name="用户消息", data=[users.get(d, 0) for d in days]),
                    Series(name="机器人回复", data=[bots.get(d, 0) for d in days]),
                ],
            )
        ],
        note="网站咨询窗口的对话按第一条消息的日期计入；日期按北京时间。",
    )


def questions(source: Source) -> Panel:
    """Questions by IP type, service, region and channel: widget questions plus hotline calls."""
    turns = source.session.execute(
        select(TurnRecord.ip_type, TurnRecord.service, TurnRecord.region, TurnRecord.channel).where(
            *_in_range(source), TurnRecord.outcome.in_(QUESTION_OUTCOMES)
        )
    ).all()
    calls = tickets_in(source, ("hotline",))
    by_ip = Counter(ip_label(t.ip_type) for t in turns) + Counter(ip_label(t.ip_type) for t in calls)
    by_service = Counter(service_label(t.service) for t in turns)
    by_region = Counter(region_label(t.region) for t in turns) + Counter(region_label(t.region) for t in calls)
    by_channel = Counter(CHANNEL_LABELS.get(t.channel, OTHER) for t in turns) + Counter(
        {CHANNEL_LABELS["hotline"]: len(calls)}
    )
    return Panel(
        id="questions",
        title="咨询问题分布",
        kpis=[
            Kpi(label="咨询问题", value=len(turns) + len(calls)),
            Kpi(label="网站咨询窗口", value=len(turns)),
            Kpi(label="热线来电（工单）", value=len(calls)),
        ],
        charts=[
            _bar("by_ip_type", "按知识产权类型", _ordered(by_ip, IP_TYPE_LABELS.values(), (OTHER, UNKNOWN_IP))),
            _bar(
                "by_service",
                "按服务类别（回答依据所属）",
                _ordered(by_service, SERVICE_LABELS.values(), (OTHER, UNKNOWN_SERVICE)),
            ),
            _bar("by_region", "按地区", _ordered(by_region, (), (OTHER, UNKNOWN_REGION))[:20], kind="hbar"),
            _bar("by_channel", "按渠道", _ordered(by_channel, CHANNEL_LABELS.values(), (OTHER,)), kind="pie"),
        ],
        note="咨询问题 = 网站咨询窗口中交给检索回答的用户消息（不含问候、申请表填写、专家接手后的消息）+ 热线来电登记的工单。"
        "服务类别按回答所引知识库条目的服务归类，仅网站咨询有此项。",
    )


def outcomes(source: Source) -> Panel:
    """Answer tiers, clarifications, hand-overs, declines and silent turns: overall and per day."""
    rows = source.session.execute(
        select(TurnRecord.day, TurnRecord.outcome, TurnRecord.tier, func.count(TurnRecord.id))
        .where(*_in_range(source), TurnRecord.outcome.in_(QUESTION_OUTCOMES))
        .group_by(TurnRecord.day, TurnRecord.outcome, TurnRecord.tier)
    ).all()
    handed = source.session.scalar(
        select(func.count()).select_from(TurnRecord).where(*_in_range(source), TurnRecord.handed_over.is_(True))
    )
    total: Counter[str] = Counter()
    daily: dict[tuple[dt.date, str], int] = Counter()
    for day, outcome, tier, n in rows:
        key = outcome_key(outcome, tier)
        total[key] += int(n)
        daily[(day, key)] += int(n)
    asked = sum(total.values())
    days = source.period.each_day()
    return Panel(
        id="outcomes",
        title="回答情况",
        kpis=[
            *(
                Kpi(label=f"{label}率", value=percent(total[key], asked), unit="%", hint=f"{total[key]} 条")
                for key, label in OUTCOME_LABELS.items()
            ),
            Kpi(label="新建转人工工单", value=int(handed or 0), hint="含回答后同时转人工"),
        ],
        charts=[
            _bar(
                "outcome_share",
                "回答结果",
                [(label, total[key]) for key, label in OUTCOME_LABELS.items()],
                kind="pie",
            ),
            Chart(
                id="outcome_per_day",
                title="每日回答结果",
                kind="stacked",
                categories=[d.isoformat() for d in days],
                series=[
                    Series(name=label, data=[daily.get((d, key), 0) for d in days])
                    for key, label in OUTCOME_LABELS.items()
                ],
            ),
        ],
        note="比率的分母是网站咨询窗口的咨询问题数。",
    )


def confidence(source: Source) -> Panel:
    """The calibrated retrieval confidence of the turns that searched, by what the bot then did."""
    rows = source.session.execute(
        select(TurnRecord.confidence, TurnRecord.outcome, TurnRecord.tier).where(
            *_in_range(source), TurnRecord.confidence.is_not(None), TurnRecord.outcome.in_(QUESTION_OUTCOMES)
        )
    ).all()
    bins: dict[str, list[int]] = {key: [0] * 10 for key in OUTCOME_LABELS}
    values = []
    for value, outcome, tier in rows:
        key = outcome_key(outcome, tier)
        if key in bins and value is not None:
            bins[key][min(9, max(0, int(float(value) * 10)))] += 1
            values.append(float(value))
    return Panel(
        id="confidence",
        title="检索置信度分布",
        kpis=[
            Kpi(label="有置信度的问题", value=len(values)),
            Kpi(label="置信度中位数", value=round(statistics.median(values), 3) if values else None),
        ],
        charts=[
            Chart(
                id="confidence_hist",
                title="检索置信度（按回答结果）",
                kind="stacked",
                categories=CONFIDENCE_BINS,
                series=[
                    Series(name=OUTCOME_LABELS[key], data=list(counts)) for key, counts in bins.items() if any(counts)
                ],
            )
        ],
    )


def feedback(source: Source) -> Panel:
    """👍/👎 on answers, overall and by the answer's tier (joined on the answer id)."""
    rows = source.session.execute(
        select(Feedback.rating, TurnRecord.tier)
        .outerjoin(TurnRecord, TurnRecord.answer_id == Feedback.message_ref)
        .where(
            Feedback.created_at >= source.period.utc_start,
            Feedback.created_at < source.period.utc_end,
            Feedback.rating.in_((1, -1)),
        )
    ).all()
    tiers = {"confident": OUTCOME_LABELS["confident"], "probable": OUTCOME_LABELS["probable"]}
    categories = [*tiers.values(), "其他回答"]
    up, down = Counter[str](), Counter[str]()
    for rating, tier in rows:
        (up if rating > 0 else down)[tiers.get(tier or "", "其他回答")] += 1
    ups, downs = sum(up.values()), sum(down.values())
    return Panel(
        id="feedback",
        title="用户评价",
        kpis=[
            Kpi(label="👍 有帮助", value=ups),
            Kpi(label="👎 没帮助", value=downs),
            Kpi(label="好评率", value=percent(ups, ups + downs), unit="%"),
        ],
        charts=[
            Chart(
                id="feedback_by_tier",
                title="评价（按回答类型）",
                kind="stacked",
                categories=categories,
                series=[
                    Series(name="👍 有帮助", data=[up[c] for c in categories]),
                    Series(name="👎 没帮助", data=[down[c] for c in categories]),
                ],
            )
        ],
    )


def _hours(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    start, end = (t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in (start, end))
    return max(0.0, (end - start).total_seconds() / 3600)


def _due(ticket: Ticket, hours: float) -> dt.datetime:
    """The ticket's own due time, or the SLA from its creation (high priority: half)."""
    created = ticket.created_at if ticket.created_at.tzinfo else ticket.created_at.replace(tzinfo=dt.UTC)
    return created + dt.timedelta(hours=hours / 2 if ticket.priority == "high" else hours)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def _on_time(done: dt.datetime | None, due: dt.datetime | None, ticket: Ticket, hours: float) -> int:
    """1 when the step was done by its due time (the ticket's own, else the SLA from creation)."""
    finished = _aware(done)
    if finished is None:
        return 0
    return int(finished <= (_aware(due) or _due(ticket, hours)))


def _decided(done: dt.datetime | None, due: dt.datetime | None, ticket: Ticket, hours: float, now: dt.datetime) -> int:
    """1 when the step is done or its due time has passed."""
    return int(done is not None or (_aware(due) or _due(ticket, hours)) < now)


def _bucket(hours: float | None, edges: tuple[float, ...], labels: tuple[str, ...]) -> str:
    if hours is None:
        return labels[-1]
    for edge, label in zip(edges, labels, strict=False):
        if hours <= edge:
            return label
    return labels[-2]


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1)


def sla_row(label: str, tickets: list[Ticket], desk: DeskSettings, now: dt.datetime) -> list[str | int | float | None]:
    """One row of the SLA table: counts, median/P90 hours and the shares within the SLA.

    A share's denominator is the tickets whose step is decided: done, or past its due time
    (a ticket still inside its time limit counts neither way).
    """
    first = [h for t in tickets if (h := _hours(t.created_at, t.first_response_at)) is not None]
    resolved = [h for t in tickets if (h := _hours(t.created_at, t.resolved_at)) is not None]
    hours_first, hours_resolve = desk.first_response_hours, desk.resolution_hours
    first_on_time = sum(_on_time(t.first_response_at, t.due_first_response_at, t, hours_first) for t in tickets)
    first_decided = sum(_decided(t.first_response_at, t.due_first_response_at, t, hours_first, now) for t in tickets)
    resolved_on_time = sum(_on_time(t.resolved_at, t.due_resolution_at, t, hours_resolve) for t in tickets)
    resolve_decided = sum(_decided(t.resolved_at, t.due_resolution_at, t, hours_resolve, now) for t in tickets)
    overdue = sum(
        1
        for t in tickets
        if t.first_response_at is None
        and t.status not in ("resolved", "closed")
        and (_aware(t.due_first_response_at) or _due(t, hours_first)) < now
    )
    return [
        label,
        len(tickets),
        len(first),
        _median(first),
        _p90(first),
        percent(first_on_time, first_decided),
        len(resolved),
        _median(resolved),
        _p90(resolved),
        percent(resolved_on_time, resolve_decided),
        overdue,
    ]


SLA_HEADERS = [
    "工单类型",
    "工单数",
    "已首次响应",
    "首次响应中位数（小时）",
    "首次响应 P90（小时）",
    "按时首次响应率（%）",
    "已解决",
    "解决用时中位数（小时）",
    "解决用时 P90（小时）",
    "按时解决率（%）",
    "超时未响应",
]


def sla(source: Source) -> Panel:
    """Expert first-response and resolution times of the tickets opened in the range, against the SLA."""
    tickets = tickets_in(source, tuple(TICKET_KIND_LABELS))
    rows = [
        sla_row(label, [t for t in tickets if t.kind == kind], source.desk, source.now)
        for kind, label in TICKET_KIND_LABELS.items()
    ]
    total = sla_row("合计", tickets, source.desk, source.now)
    first_edges = (1.0, 2.0, 4.0, 8.0, 24.0, 72.0)
    first = Counter(
        _bucket(_hours(t.created_at, t.first_response_at), first_edges, FIRST_RESPONSE_BUCKETS) for t in tickets
    )
    resolution = Counter(
        _bucket(_hours(t.created_at, t.resolved_at), (24.0, 72.0, 168.0), RESOLUTION_BUCKETS) for t in tickets
    )
    desk = source.desk
    return Panel(
        id="sla",
        title="专家响应与处理时效",
        kpis=[
            Kpi(label="工单", value=len(tickets)),
            Kpi(
                label="按时首次响应率",
                value=total[5],
                unit="%",
                hint=f"时限 {desk.first_response_hours:g} 小时（加急减半）",
            ),
            Kpi(label="按时解决率", value=total[9], unit="%", hint=f"时限 {desk.resolution_hours:g} 小时（加急减半）"),
            Kpi(label="超时未响应", value=total[10]),
        ],
        charts=[
            Chart(
                id="first_response",
                title="首次响应用时",
                kind="bar",
                categories=list(FIRST_RESPONSE_BUCKETS),
                series=[Series(name="工单数", data=[first[b] for b in FIRST_RESPONSE_BUCKETS])],
                note=f"服务时限：{desk.first_response_hours:g} 小时内首次响应",
            ),
            Chart(
                id="resolution",
                title="解决用时",
                kind="bar",
                categories=list(RESOLUTION_BUCKETS),
                series=[Series(name="工单数", data=[resolution[b] for b in RESOLUTION_BUCKETS])],
                note=f"服务时限：{desk.resolution_hours:g} 小时内解决",
            ),
        ],
        table=Table(headers=SLA_HEADERS, rows=[*rows, total]),
        note="统计所选日期内新建的工单；用时从建单起算。",
    )


#: The dashboard's panels, in page order.  Add a builder here to add a panel.
PANELS: list[Callable[[Source], Panel]] = [activity, questions, outcomes, confidence, feedback, sla, feedback_quality]


def build_dashboard(db: Database, desk: DeskSettings, period: Period, now: dt.datetime | None = None) -> Dashboard:
    """Every panel of the range, read in one session (a consistent picture)."""
    now = now or utcnow()
    with db.session() as session:
        source = Source(session, period, desk, now)
        panels = [builder(source) for builder in PANELS]
    return Dashboard(start=period.start, end=period.end, generated_at=now, panels=panels)


__all__ = ["PANELS", "Source", "build_dashboard", "local_day"]
