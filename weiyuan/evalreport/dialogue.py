"""The dialogue evaluation on the real Rasa and action servers, one private stack for every split."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from core.settings import Settings
from index.evaluate import SETS, Question, corpus_article_map, labels_in_force, load_questions, split_files
from weiyuan.evalreport import plots
from weiyuan.evalreport.model import Metric, Section

SPLITS = ("dev", "test", "test2")
#: quick mode (CI): the first questions of each set of the test split
QUICK_QUESTIONS = 10

#: outcome -> (label in the table and plot, which way is better)
SHOWN = {
    "answered_correct": "answered with a correct source",
    "answered_wrong": "answered without a correct source",
    "clarified": "asked a clarifying question",
    "handed_over": "handed over",
    "declined": "declined as not IP",
    "silent": "silent",
    "other": "other (form, information)",
}


def _questions(settings: Settings, quick: bool) -> list[tuple[str, Question]]:
    from index.runtime import make_retriever

    eval_dir = settings.root / "eval"
    article_map = corpus_article_map(make_retriever(settings), eval_dir)
    out: list[tuple[str, Question]] = []
    for split in ("test",) if quick else SPLITS:
        for which in SETS:
            paths = [p for p in split_files(eval_dir, split, which) if p.is_file()]
            for path in paths:
                questions = load_questions(path, article_map if labels_in_force(path) else None)
                out += [(f"{split} {which}", q) for q in (questions[:QUICK_QUESTIONS] if quick else questions)]
    return out


def dialogue_section(settings: Settings, plot_dir: Path, quick: bool, tick: Callable[[str], None]) -> Section:
    from weiyuan.dialogue_eval import evaluate_dialogue, summarise

    started = time.perf_counter()
    section = Section("Dialogue on the real stack (Rasa server + action server)")
    questions = _questions(settings, quick)
    tick(f"dialogue ({len(questions)} questions)")
    turns = evaluate_dialogue(settings, questions)
    summary = summarise(turns)
    names = [name for name in summary if name != "all"]
    rows = []
    for name in names:
        figures = summary[name]
        inside = figures["in_domain"]
        key = "dialogue." + name.replace(" ", ".")
        section.metrics += [
            Metric(
                f"{key}.answered_correct",
                f"IP questions answered with a correct source, {name}",
                inside["answered_correct"],
                "share",
            ),
            Metric(f"{key}.handed_over", f"IP questions handed over, {name}", inside["handed_over"], "share", "lower"),
            Metric(f"{key}.silent", f"silent turns, {name}", inside["silent"], "share", "lower"),
            Metric(
                f"{key}.confident_wrong",
                f"confident answers without a correct source, {name}",
                figures["confident"]["wrong_share"],
                "share",
                "lower",
            ),
        ]
        rows.append(
            f"| {name} | {inside['n']} | "
            + " | ".join(f"{inside[o]:.1%}" for o in SHOWN)
            + f" | {figures['confident']['n']} ({figures['confident']['wrong_share']:.1%}) | "
            f"{figures['out_of_domain']['n']} ({figures['out_of_domain_answered']:.1%}) |"
        )
    overall = summary["all"]
    section.metrics += [
        Metric(
            "dialogue.all.answered_correct",
            "IP questions answered with a correct source, all",
            overall["in_domain"]["answered_correct"],
            "share",
        ),
        Metric(
            "dialogue.all.p50_ms", "turn latency p50 during the evaluation", overall["latency_ms"]["p50"], "ms", "lower"
        ),
    ]
    section.lines = [
        f"{len(questions)} questions, one message each, through Rasa's REST channel (`weiyuan eval dialogue`).",
        "",
        "| set | IP questions | " + " | ".join(SHOWN.values()) + " | confident (wrong) | non-IP (answered) |",
        "|" + "---|" * (len(SHOWN) + 4),
        *rows,
    ]
    chart = plots.stacked_shares(
        plot_dir / "dialogue.png",
        names,
        {label: [summary[n]["in_domain"][o] for n in names] for o, label in SHOWN.items()},
        "How IP questions ended",
    )
    if chart:
        section.plots.append((chart, "outcome of each IP question, per set"))
    section.seconds = time.perf_counter() - started
    return section
