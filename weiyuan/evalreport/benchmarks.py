"""The benchmarks' key figures, read from ``bench/results/*.json`` (the benchmarks are not re-run here).

A load run takes 10-20 minutes; ``python -m bench.run_all`` refreshes these
files and the report shows when and on which machine each was measured.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from core.settings import Settings
from weiyuan.evalreport.model import Metric, Section


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _machine(data: dict[str, Any]) -> str:
    machine = data.get("machine") or {}
    return f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores"


def benchmark_section(settings: Settings) -> Section:
    started = time.perf_counter()
    section = Section("Benchmarks (latest results in bench/results/)")
    folder = settings.root / "bench" / "results"
    sources = []
    load = _read(folder / "load_rasa.json")
    if load:
        sources.append(f"`load_rasa.json` ({load.get('measured_at')}, {_machine(load)}, `python -m bench.load`)")
        for level in load.get("levels", []):
            users = level["users"]
            section.metrics += [
                Metric(
                    f"bench.load.{users}.cpu_ms",
                    f"CPU per turn, all processes, {users} users",
                    level["cpu_ms_per_turn_total"],
                    "ms",
                    "lower",
                ),
                Metric(f"bench.load.{users}.p95_ms", f"turn p95, {users} users", level["p95_ms"], "ms", "lower"),
                Metric(f"bench.load.{users}.errors", f"errors, {users} users", level["errors"], "count", "lower"),
            ]
        if load.get("levels"):
            last = load["levels"][-1]
            section.metrics.append(
                Metric(
                    "bench.load.rss_mb",
                    f"RSS of the stack at {last['users']} users",
                    sum(last["rss_mb"].values()),
                    "MB",
                    "lower",
                )
            )
        growth = load.get("growth") or {}
        if growth.get("first_cpu_ms"):
            section.metrics.append(
                Metric(
                    "bench.load.growth",
                    f"CPU of turn {growth.get('late_turn')} / first turn ({growth.get('conversations')} conversations)",
                    growth["late_cpu_ms"] / growth["first_cpu_ms"],
                    "ratio",
                    "lower",
                )
            )
    widget = _read(folder / "load_widget.json")
    if widget:
        sources.append(
            f"`load_widget.json` ({widget.get('measured_at')}, {_machine(widget)}, `python -m bench.load --via widget`)"
        )
        for level in widget.get("levels", []):
            section.metrics.append(
                Metric(
                    f"bench.widget.{level['users']}.p95_ms",
                    f"widget API p95, {level['users']} users",
                    level["p95_ms"],
                    "ms",
                    "lower",
                )
            )
    search = _read(folder / "search_latency.json")
    if search:
        sources.append(
            f"`search_latency.json` ({search.get('measured_at')}, {_machine(search)}, `{search.get('command')}`)"
        )
        starter = search.get("starter")
        total = starter.get("total") if isinstance(starter, dict) else None
        if isinstance(total, dict):
            section.metrics.append(
                Metric(
                    "bench.search.p50_ms",
                    "search p50 on the shipped corpus (one query, in process)",
                    total.get("p50_ms"),
                    "ms",
                    "lower",
                )
            )
    build = _read(folder / "build_throughput.json")
    if build and build.get("build_seconds"):
        sources.append(
            f"`build_throughput.json` ({build.get('measured_at')}, {_machine(build)}, `{build.get('command')}`)"
        )
        section.metrics.append(
            Metric(
                "bench.build.seconds",
                "full index build, seconds (median)",
                sorted(build["build_seconds"])[len(build["build_seconds"]) // 2],
                "count",
                "lower",
            )
        )
    if not sources:
        section.skipped = "no benchmark results in bench/results/"
    section.lines = ["Read from:", "", *(f"- {s}" for s in sources)]
    section.seconds = time.perf_counter() - started
    return section
