"""The dashboard panel that judges the knowledge by its ratings: 👎 by reason, 👍/👎 per index version, the sources most 👎'd.

Every rating row carries the index version of the rated answer and the ids of the sources it
showed (read from the stored answer by ``consult.feedback.rate_answer``), so an admin sees
whether a change of the knowledge (a new index version) made the answers better, and which
entries or articles users find wrong.  Older rows without a version fall back to the version
the analytics record of the same answer carries.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from desk.analytics.figures import Chart, Kpi, Panel, Quote, Series, Table
from desk.analytics.period import local_day
from store.models import Feedback, TurnRecord

if TYPE_CHECKING:  # the builder's argument type only (panels.py imports this module)
    from desk.analytics.panels import Source

#: The one optional question after a 👎, in the widget's order (codes as ``consult.feedback`` stores them).
REASONS = {"off_point": "没答到点上", "wrong_basis": "依据不对", "too_general": "太笼统", "other": "其他"}
NO_REASON = "未选原因"
NO_VERSION = "未记录"
TOP_SOURCES = 10
#: the latest 👎 remarks shown under the panel
QUOTES = 20
VERSION_HEADERS = ["索引版本", "👍 有帮助", "👎 没帮助", "好评率（%）", *REASONS.values(), NO_REASON]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def feedback_quality(source: Source) -> Panel:
    """👎 by reason, the 👍/👎 rate per index version and the sources most often 👎'd, in the range."""
    rows = source.session.execute(
        select(
            Feedback.rating,
            Feedback.reason,
            func.coalesce(Feedback.index_version, TurnRecord.index_version),
            Feedback.sources,
            Feedback.created_at,
        )
        .outerjoin(TurnRecord, TurnRecord.answer_id == Feedback.message_ref)
        .where(
            Feedback.created_at >= source.period.utc_start,
            Feedback.created_at < source.period.utc_end,
            Feedback.rating.in_((1, -1)),
        )
        .order_by(Feedback.created_at, Feedback.id)
    ).all()
    reasons: Counter[str] = Counter()
    up: Counter[str] = Counter()
    down: Counter[str] = Counter()
    down_reasons: dict[str, Counter[str]] = {}
    down_sources: Counter[str] = Counter()
    versions: list[str] = []  # in the order they were first rated: the order they served in
    for rating, reason, version, sources, _ in rows:
        label = str(version) if version else NO_VERSION
        if label not in versions:
            versions.append(label)
        if rating > 0:
            up[label] += 1
            continue
        down[label] += 1
        why = REASONS.get(reason or "", NO_REASON)
        reasons[why] += 1
        down_reasons.setdefault(label, Counter())[why] += 1
        down_sources.update(dict.fromkeys((str(s) for s in sources or [] if s), 1))
    if NO_VERSION in versions:  # the unknown bucket last
        versions.remove(NO_VERSION)
        versions.append(NO_VERSION)
    downs = sum(down.values())
    given = downs - reasons[NO_REASON]
    categories = [*REASONS.values(), NO_REASON]
    worst = sorted(down_sources.items(), key=lambda item: (-item[1], item[0]))[:TOP_SOURCES]
    remarks = source.session.execute(
        select(Feedback.created_at, Feedback.comment, Feedback.reason, Feedback.index_version)
        .where(
            Feedback.created_at >= source.period.utc_start,
            Feedback.created_at < source.period.utc_end,
            Feedback.rating == -1,
            Feedback.comment.is_not(None),
        )
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(QUOTES)
    ).all()
    quotes = [
        Quote(
            day=local_day(when),
            text=str(comment),
            detail=f"{REASONS.get(reason or '', NO_REASON)} · 索引版本 {version or NO_VERSION}",
        )
        for when, comment, reason, version in remarks
        if str(comment or "").strip()
    ]
    return Panel(
        id="feedback_quality",
        title="差评原因与知识版本",
        kpis=[
            Kpi(label="👎 没帮助", value=downs),
            Kpi(label="选了原因的👎", value=given, hint=f"占 {_percent(given, downs) or 0}%"),
            Kpi(label="评价涉及的索引版本", value=len([v for v in versions if v != NO_VERSION])),
        ],
        charts=[
            Chart(
                id="down_by_reason",
                title="👎 的原因",
                kind="bar",
                categories=categories,
                series=[Series(name="👎 次数", data=[reasons[c] for c in categories])],
            ),
            Chart(
                id="rating_by_version",
                title="各索引版本的评价",
                kind="stacked",
                categories=versions,
                series=[
                    Series(name="👍 有帮助", data=[up[v] for v in versions]),
                    Series(name="👎 没帮助", data=[down[v] for v in versions]),
                ],
            ),
            Chart(
                id="rate_by_version",
                title="各索引版本的好评率",
                kind="bar",
                unit="%",
                categories=versions,
                series=[Series(name="好评率", data=[_percent(up[v], up[v] + down[v]) for v in versions])],
            ),
            Chart(
                id="down_sources",
                title=f"被👎最多的依据（前 {TOP_SOURCES} 条）",
                kind="hbar",
                categories=[s for s, _ in worst],
                series=[Series(name="👎 次数", data=[n for _, n in worst])],
                note="依据编号：entry/… 为知识库条目，policy/…/第…条 为法规条文，case/… 为案例。",
            ),
        ],
        table=Table(
            headers=VERSION_HEADERS,
            rows=[
                [
                    v,
                    up[v],
                    down[v],
                    _percent(up[v], up[v] + down[v]),
                    *(down_reasons.get(v, Counter())[c] for c in categories),
                ]
                for v in versions
            ],
        ),
        quotes_title=f"用户在👎后写下的意见（最近 {QUOTES} 条，已遮盖个人信息）",
        quotes=quotes,
        note="索引版本和依据按用户当时看到的回答记录（由服务器保存，不取自浏览器）；"
        "版本按首次收到评价的先后排列，比较相邻版本的好评率可判断一次知识更新是否有帮助。",
    )
