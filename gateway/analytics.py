"""The analytics dashboard (admin only): the page, its figures as JSON and CSV, the printable report.

ECharts comes from the npm package in ``gateway/assets`` (``scripts/setup.sh assets`` runs
``npm ci`` from the lock file, so the tarball's integrity is checked) and is served from this
machine under ``/static/vendor/echarts/``; without it the page says so in Chinese and still
shows every figure as a table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from core.settings import Settings
from desk.analytics.export import dashboard_csv
from desk.analytics.figures import Dashboard
from desk.analytics.panels import build_dashboard
from desk.analytics.period import Period, today
from desk.analytics.report import build_report
from gateway import keys
from gateway.api import operation, read_query, reply
from gateway.contracts import AnalyticsQuery, ReportQuery
from gateway.errors import ApiError
from gateway.pages import context
from gateway.security import require

routes = web.RouteTableDef()
ECHARTS = Path(__file__).resolve().parent / "assets" / "node_modules" / "echarts" / "dist"
ECHARTS_URL = "/static/vendor/echarts"
DEFAULT_DAYS = 30


def add_chart_assets(app: web.Application) -> None:
    """Serve the installed ECharts build (register before ``/static``; absent: the page explains)."""
    if (ECHARTS / "echarts.min.js").is_file():
        app.router.add_static(ECHARTS_URL, ECHARTS, append_version=False)


def period_of(query: AnalyticsQuery) -> Period:
    """The requested range (default: the last 30 days), or a 400 with the reason in Chinese."""
    end = query.to or today()
    start = query.from_ or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    try:
        return Period(start, end)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


async def _dashboard(request: web.Request) -> Dashboard:
    settings: Settings = request.app[keys.SETTINGS]
    period = period_of(read_query(request, AnalyticsQuery))
    return await asyncio.to_thread(build_dashboard, request.app[keys.DB], settings.desk, period)


@routes.get("/api/admin/analytics")
@operation(
    "统计分析：对话、问题分布、回答情况、置信度、评价与专家时效（按北京时间的日期范围）",
    Dashboard,
    query=AnalyticsQuery,
    tag="admin",
)
@require("admin")
async def analytics(request: web.Request) -> web.Response:
    return reply(await _dashboard(request))


@routes.get("/api/admin/analytics/export.csv")
@operation(
    "导出统计数据（CSV，UTF-8 带 BOM，Excel 可直接打开）",
    None,
    query=AnalyticsQuery,
    media="text/csv",
    tag="admin",
)
@require("admin")
async def analytics_csv(request: web.Request) -> web.Response:
    dashboard = await _dashboard(request)
    name = f"weiyuan-analytics-{dashboard.start:%Y%m%d}-{dashboard.end:%Y%m%d}.csv"
    return web.Response(
        body=dashboard_csv(dashboard).encode("utf-8"),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@routes.get("/admin/analytics")
@operation("统计分析页面", None, media="text/html", tag="admin")
@require("admin")
async def analytics_page(request: web.Request) -> web.Response:
    """The dashboard page (its figures come from /api/admin/analytics)."""
    settings: Settings = request.app[keys.SETTINGS]
    extra = {
        "echarts_url": f"{ECHARTS_URL}/echarts.min.js",
        "retention_days": f"{settings.privacy.retention_days:g} 天",
        "today": today().isoformat(),  # the quick ranges count China days, whatever the browser's zone
    }
    return aiohttp_jinja2.render_template("analytics.html", request, context(request, **extra))


def report_period(query: ReportQuery) -> tuple[Period, str, dict[str, str]]:
    """The report's range, its Chinese title and the links to its neighbours."""
    if query.year is not None:
        year = query.year
        return Period.year(year), f"{year} 年度", {"prev": f"year={year - 1}", "next": f"year={year + 1}"}
    if query.month:
        year, month = (int(part) for part in query.month.split("-"))
    else:
        year, month = today().year, today().month
    before = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
    after = f"{year + (month == 12)}-{month % 12 + 1:02d}"
    return Period.month(year, month), f"{year} 年 {month} 月", {"prev": f"month={before}", "next": f"month={after}"}


@routes.get("/admin/analytics/report")
@operation(
    "可打印的月度或年度报告（服务途径、知识产权类型、服务企业、服务质量）",
    None,
    query=ReportQuery,
    media="text/html",
    tag="admin",
)
@require("admin")
async def report_page(request: web.Request) -> web.Response:
    settings: Settings = request.app[keys.SETTINGS]
    period, title, links = report_period(read_query(request, ReportQuery))
    report = await asyncio.to_thread(build_report, request.app[keys.DB], settings.desk, period, title)
    data: dict[str, Any] = {"report": report, "links": links, "year": period.start.year}
    return aiohttp_jinja2.render_template("analytics_report.html", request, context(request, **data))
