"""Run every section, never letting one failure lose the others, and write the report."""

from __future__ import annotations

import datetime as dt
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from core.settings import Settings
from weiyuan.evalreport import report
from weiyuan.evalreport.model import Section

#: the sections, in report order; each gets (settings, the run's folder, quick, tick)
SECTION_NAMES = ("retrieval", "rasa", "dialogue", "bench")


def _context(settings: Settings) -> dict[str, str]:
    from index.lawdate import resolve_law_date
    from index.store import VersionStore

    version = VersionStore(settings.index_dir).current()
    return {
        "index version": str(version or "none"),
        "law date": str(resolve_law_date(settings.law_date)),
        "embedding": f"{settings.embedding.model} on {settings.embedding.backend}",
    }


def run_all(
    settings: Settings,
    out_dir: Path,
    quick: bool,
    command: str,
    tick: Callable[[str], None] = lambda _: None,
    only: tuple[str, ...] = SECTION_NAMES,
) -> tuple[Path, list[Section], bool]:
    """Measure, write ``<out_dir>/<stem>.md`` and return it, the sections and whether all of them ran."""
    from weiyuan.evalreport.benchmarks import benchmark_section
    from weiyuan.evalreport.dialogue import dialogue_section
    from weiyuan.evalreport.rasa_tests import rasa_tests
    from weiyuan.evalreport.retrieval import retrieval_and_calibration

    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock = time.perf_counter()
    stem = report.stem_for(started, quick)
    run_dir = out_dir / stem
    steps: dict[str, tuple[str, Callable[[], list[Section]]]] = {
        "retrieval": ("Retrieval", lambda: retrieval_and_calibration(settings, run_dir, quick, tick)),
        "rasa": ("NLU and stories (`rasa test`)", lambda: [rasa_tests(settings, run_dir / "rasa", quick, tick)]),
        "dialogue": ("Dialogue on the real stack", lambda: [dialogue_section(settings, run_dir, quick, tick)]),
        "bench": ("Benchmarks", lambda: [benchmark_section(settings)]),
    }
    sections: list[Section] = []
    complete = True
    for name in only:
        title, step = steps[name]
        try:
            sections += step()
        except Exception as exc:  # one failing part must not lose the others' figures
            complete = False
            detail = traceback.format_exception_only(exc)[-1].strip()
            sections.append(Section(title, skipped=f"failed: {detail}"))
    info = report.RunInfo(
        stem=stem,
        started=started,
        mode="quick" if quick else "full",
        command=command,
        commit=report.git_commit(settings.root),
        machine=report.machine(),
        seconds=time.perf_counter() - clock,
        context=_context(settings),
    )
    markdown, _ = report.write(sections, info, out_dir)
    return markdown, sections, complete
