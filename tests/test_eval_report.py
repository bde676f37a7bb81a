"""The dated evaluation report: comparison with the previous report of the same mode, and how it reads.

No model here: sections are built by hand (the real run is tests/test_e2e_eval_all.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from weiyuan.evalreport import report
from weiyuan.evalreport.model import Metric, Section


def info(when: dt.datetime, mode: str = "full") -> report.RunInfo:
    return report.RunInfo(
        stem=report.stem_for(when, mode == "quick"),
        started=when,
        mode=mode,
        command="weiyuan eval all",
        commit="abc1234",
        machine="test CPU, 2 cores",
        seconds=61.0,
        context={"index version": "v1"},
    )


def sections(mrr: float, p95: float, handed_over: float) -> list[Section]:
    return [
        Section(
            "Retrieval",
            [Metric("retrieval.test.realistic.mrr10", "MRR@10, test realistic", mrr)],
            ["| split | … |"],
        ),
        Section(
            "Dialogue",
            [
                Metric("dialogue.test.handed_over", "handed over, test", handed_over, "share", "lower"),
                Metric("bench.load.50.p95_ms", "p95, 50 users", p95, "ms", "lower"),
                Metric("calibration.threshold", "confident threshold", 0.61, better=None),
            ],
        ),
        Section("NLU and stories (`rasa test`)", skipped="the Rasa virtualenv is not installed"),
    ]


T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def test_the_first_report_says_there_is_nothing_to_compare_with(tmp_path: Path) -> None:
    markdown, previous = report.write(sections(0.8, 100.0, 0.2), info(T0), tmp_path)
    text = markdown.read_text(encoding="utf-8")
    assert previous is None and "no earlier report of this mode" in text
    assert markdown.name == "2026-11-01-0900.md"
    data = json.loads((tmp_path / "2026-11-01-0900.json").read_text(encoding="utf-8"))
    assert data["metrics"]["retrieval.test.realistic.mrr10"]["value"] == 0.8
    # a part that could not run is said, not silently left out
    assert "**Not measured:** the Rasa virtualenv is not installed" in text


def test_a_later_report_shows_each_figure_before_and_after_and_which_way_it_moved(tmp_path: Path) -> None:
    report.write(sections(0.8, 100.0, 0.2), info(T0), tmp_path)
    report.write(sections(0.1, 1.0, 0.9), info(T0 + dt.timedelta(days=1), "quick"), tmp_path)  # other mode
    later = T0 + dt.timedelta(days=7)
    markdown, previous = report.write(sections(0.85, 80.0, 0.25), info(later), tmp_path)
    assert previous is not None and previous["stem"] == "2026-11-01-0900"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in markdown.read_text(encoding="utf-8").splitlines()}
    assert rows["MRR@10, test realistic"] == "| MRR@10, test realistic | 0.800 | 0.850 | +0.050 better |"
    assert rows["handed over, test"] == "| handed over, test | 20.0% | 25.0% | +5.0 pp worse |"
    assert rows["p95, 50 users"] == "| p95, 50 users | 100 ms | 80.0 ms | -20 (-20%) better |"
    assert rows["confident threshold"].endswith("| = |")
    assert "compared with the report of 2026-11-01 09:00 UTC, commit abc1234" in markdown.read_text(encoding="utf-8")


def test_a_quick_report_is_compared_with_quick_reports_only(tmp_path: Path) -> None:
    report.write(sections(0.8, 100.0, 0.2), info(T0), tmp_path)
    _, previous = report.write(sections(0.7, 90.0, 0.3), info(T0 + dt.timedelta(hours=1), "quick"), tmp_path)
    assert previous is None
    _, previous = report.write(sections(0.7, 90.0, 0.3), info(T0 + dt.timedelta(hours=2), "quick"), tmp_path)
    assert previous is not None and previous["mode"] == "quick"


def test_a_figure_the_previous_report_had_but_this_one_lacks_is_named(tmp_path: Path) -> None:
    report.write(sections(0.8, 100.0, 0.2), info(T0), tmp_path)
    fewer = sections(0.8, 100.0, 0.2)[:1]
    markdown, _ = report.write(fewer, info(T0 + dt.timedelta(days=1)), tmp_path)
    assert "not measured this time: bench.load.50.p95_ms" in markdown.read_text(encoding="utf-8")


def test_plots_are_linked_relative_to_the_report(tmp_path: Path) -> None:
    from weiyuan.evalreport import plots

    when = T0
    run_dir = tmp_path / report.stem_for(when, False)
    chart = plots.grouped_bars(
        run_dir / "retrieval.png", ["test faq", "test realistic"], {"MRR@10": [0.7, 0.9]}, "t", "s"
    )
    assert chart is not None and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    section = Section("Retrieval", [Metric("x", "x", 0.5)], ["text"], plots=[(chart, "bars")])
    markdown, _ = report.write([section], info(when), tmp_path)
    assert "![bars](2026-11-01-0900/retrieval.png)" in markdown.read_text(encoding="utf-8")
