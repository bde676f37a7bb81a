"""The dashboard as CSV: one figure per line, UTF-8 with a BOM so Excel opens the Chinese correctly."""

from __future__ import annotations

import csv
import io

from desk.analytics.figures import Dashboard, Number

BOM = "\ufeff"
HEADERS = ["板块", "图表或指标", "类别", "系列", "数值", "单位"]
#: Cells Excel would run as a formula (CSV injection); text starting with one is quoted with '.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | Number) -> str | Number:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _row(*cells: str | Number) -> list[str | Number]:
    return [_cell(c) for c in cells]


def dashboard_csv(dashboard: Dashboard) -> str:
    """Every headline figure, every chart value and every table cell of the dashboard."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerow(["时间范围", "开始日期", dashboard.start.isoformat(), "", "", ""])
    writer.writerow(["时间范围", "结束日期", dashboard.end.isoformat(), "", "", ""])
    for panel in dashboard.panels:
        for kpi in panel.kpis:
            writer.writerow(_row(panel.title, kpi.label, "", "", kpi.value, kpi.unit))
        for chart in panel.charts:
            for series in chart.series:
                for category, value in zip(chart.categories, series.data, strict=True):
                    writer.writerow(_row(panel.title, chart.title, category, series.name, value, chart.unit))
        if panel.table is not None:
            label, *columns = panel.table.headers
            for cells in panel.table.rows:
                for column, cell in zip(columns, cells[1:], strict=True):
                    writer.writerow(_row(panel.title, column, str(cells[0]), label, cell, ""))
    return BOM + out.getvalue()
