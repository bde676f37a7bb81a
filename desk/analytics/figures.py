"""The dashboard's contract: panels of headline figures, charts and tables (what the page and the CSV show)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

Number = int | float | None
ChartKind = Literal["line", "bar", "stacked", "hbar", "pie"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Kpi(_Model):
    """One headline figure (``unit`` "%" means ``value`` is a percentage, already x100)."""

    label: str
    value: Number
    unit: str = ""
    hint: str | None = None


class Series(_Model):
    name: str
    data: list[Number]


class Chart(_Model):
    """A chart over ``categories`` (days, IP types, buckets …), one value per category in each series."""

    id: str
    title: str
    kind: ChartKind
    categories: list[str]
    series: list[Series]
    unit: str = ""
    note: str | None = None


class Table(_Model):
    headers: list[str]
    rows: list[list[str | Number]]


class Quote(_Model):
    """A user's own words (already redacted; cleared after the retention period), shown as text."""

    day: dt.date
    text: str
    detail: str | None = None


class Panel(_Model):
    """One section of the dashboard."""

    id: str
    title: str
    kpis: list[Kpi] = []
    charts: list[Chart] = []
    table: Table | None = None
    #: free-text remarks (not in the CSV: they are words, not figures)
    quotes_title: str | None = None
    quotes: list[Quote] = []
    note: str | None = None


class Dashboard(_Model):
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    panels: list[Panel]
