"""What a report section hands to the writer: named figures, Markdown lines and plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Better = Literal["higher", "lower"] | None


@dataclass(frozen=True)
class Metric:
    """One figure of the summary table, compared across reports by its ``key``."""

    key: str
    label: str
    value: float | None
    #: "share" prints as a percentage, "ms" / "MB" with the unit, "score" with three decimals
    kind: Literal["share", "score", "ms", "MB", "count", "ratio"] = "score"
    better: Better = "higher"

    def formatted(self, value: float | None = None) -> str:
        return format_value(self.value if value is None else value, self.kind)


def format_value(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "ms":
        return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"
    if kind == "MB":
        return f"{value:,.0f} MB"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "ratio":
        return f"{value:.2f}×"
    return f"{value:.3f}"


@dataclass
class Section:
    """A part of the report; ``skipped`` says why it has no figures (and the report says so too)."""

    title: str
    metrics: list[Metric] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    #: (file inside the report's plot folder, caption)
    plots: list[tuple[Path, str]] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
