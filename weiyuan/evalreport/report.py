"""Write the dated report (Markdown + JSON + plots) and compare it with the previous one of the same mode."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.machine import cpu_model
from weiyuan.evalreport.model import Metric, Section, format_value


@dataclass(frozen=True)
class RunInfo:
    stem: str
    started: dt.datetime
    mode: str
    command: str
    commit: str
    machine: str
    seconds: float
    context: dict[str, str]


def stem_for(when: dt.datetime, quick: bool) -> str:
    return when.strftime("%Y-%m-%d-%H%M") + ("-quick" if quick else "")


def git_commit(root: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return (head.stdout.strip() or "unknown") + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores"


def previous_report(out_dir: Path, info: RunInfo) -> dict[str, Any] | None:
    """The newest other report of the same mode (a quick CI report is only compared with quick ones)."""
    best: dict[str, Any] | None = None
    for path in out_dir.glob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or data.get("mode") != info.mode or data.get("stem") == info.stem:
            continue
        if data.get("started", "") < info.started.isoformat() and (best is None or data["started"] > best["started"]):
            best = data
    return best


def change(metric: Metric, before: float | None) -> str:
    """The difference in the unit that reads best, and whether it is better or worse."""
    if metric.value is None or before is None:
        return "–"
    delta = metric.value - before
    if abs(delta) < 1e-9:
        return "="
    if metric.kind == "share":
        text = f"{delta * 100:+.1f} pp"
    elif metric.kind in ("ms", "MB", "count") and before:
        text = f"{delta:+.4g} ({delta / before:+.0%})"
    else:
        text = f"{delta:+.3f}"
    if metric.better is None:
        return text
    good = delta > 0 if metric.better == "higher" else delta < 0
    return f"{text} {'better' if good else 'worse'}"


def render(sections: list[Section], info: RunInfo, previous: dict[str, Any] | None, out_dir: Path) -> str:
    lines = [
        f"# weiyuan evaluation report, {info.started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- command: `{info.command}` ({info.mode} mode{'; a small subset for CI' if info.mode == 'quick' else ''})",
        f"- commit: {info.commit}",
        f"- machine: {info.machine}; took {info.seconds / 60:.1f} min",
        *(f"- {name}: {value}" for name, value in info.context.items()),
        "",
    ]
    before = (previous or {}).get("metrics", {})
    title = "## Summary"
    if previous:
        title += f" (compared with the report of {previous['started'][:16].replace('T', ' ')} UTC, commit {previous.get('commit')})"
    else:
        title += " (no earlier report of this mode to compare with)"
    lines += [title, "", "| figure | previous | now | change |", "|---|---|---|---|"]
    for section in sections:
        for metric in section.metrics:
            old = before.get(metric.key, {}).get("value")
            lines.append(
                f"| {metric.label} | {format_value(old, metric.kind)} | {metric.formatted()} | {change(metric, old)} |"
            )
    gone = sorted(set(before) - {m.key for s in sections for m in s.metrics})
    if gone:
        lines += ["", f"Figures of the previous report not measured this time: {', '.join(gone)}."]
    for section in sections:
        lines += ["", f"## {section.title}", ""]
        if section.skipped:
            lines.append(f"**Not measured:** {section.skipped}")
            continue
        lines += section.lines
        for path, caption in section.plots:
            lines += ["", f"![{caption}]({path.relative_to(out_dir).as_posix()})"]
        lines += ["", f"_({section.seconds:.0f} s)_"]
    return "\n".join(lines) + "\n"


def write(sections: list[Section], info: RunInfo, out_dir: Path) -> tuple[Path, dict[str, Any] | None]:
    """Write ``<stem>.md`` and ``<stem>.json`` (the figures a later report compares with)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = previous_report(out_dir, info)
    data = {
        "stem": info.stem,
        "started": info.started.isoformat(),
        "mode": info.mode,
        "command": info.command,
        "commit": info.commit,
        "machine": info.machine,
        "context": info.context,
        "metrics": {m.key: asdict(m) for s in sections for m in s.metrics},
        "skipped": {s.title: s.skipped for s in sections if s.skipped},
    }
    (out_dir / f"{info.stem}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    markdown = out_dir / f"{info.stem}.md"
    markdown.write_text(render(sections, info, previous, out_dir), encoding="utf-8")
    return markdown, previous
