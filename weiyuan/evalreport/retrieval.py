"""Retrieval metrics per split and set, and how well the serving confidence separates right from wrong.

Questions are searched as the bot searches a message (its query plan, the most
confident result); each search is done once and shared by both sections.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.settings import Settings
from index.evaluate import (
    SETS,
    Question,
    SearchFn,
    calibration_rows,
    corpus_article_map,
    evaluate_retrieval,
    load_split,
    shown_relevant,
    split_files,
    threshold_report,
)
from index.results import SearchResult
from weiyuan.evalreport import plots
from weiyuan.evalreport.model import Metric, Section

#: in quick mode (CI) each split and set is cut to its first questions
QUICK_QUESTIONS = 30
SPLITS = ("dev", "test", "test2")
QUICK_SPLITS = ("test", "test2")


def _memo(search: SearchFn) -> SearchFn:
    cache: dict[tuple[str, int], SearchResult] = {}

    def cached(query: str, k: int) -> SearchResult:
        if (query, k) not in cache:
            cache[(query, k)] = search(query, k)
        return cache[(query, k)]

    return cached


def _sets(
    settings: Settings, split: str, article_map: dict[str, dict[str, str]], quick: bool
) -> dict[str, list[Question]]:
    eval_dir = settings.root / "eval"
    out = {}
    for which in SETS:
        if not all(path.is_file() for path in split_files(eval_dir, split, which)):
            continue  # test2 holds realistic questions only
        questions = load_split(eval_dir, split, which, article_map)
        out[which] = questions[:QUICK_QUESTIONS] if quick else questions
    return out


def retrieval_and_calibration(
    settings: Settings, plot_dir: Path, quick: bool, tick: Callable[[str], None]
) -> list[Section]:
    from consult.service import Consultant
    from index.runtime import make_retriever

    started = time.perf_counter()
    retriever = make_retriever(settings)
    consultant = Consultant(settings, retriever)
    search = _memo(lambda query, k: consultant.search_message(query, k=k)[1])
    article_map = corpus_article_map(retriever, settings.root / "eval")

    retrieval = Section("Retrieval")
    rows: list[str] = []
    bars: dict[str, list[float]] = {"R@1": [], "R@10": [], "MRR@10": []}
    groups = []
    test_questions: list[Question] = []
    for split in QUICK_SPLITS if quick else SPLITS:
        for which, questions in _sets(settings, split, article_map, quick).items():
            tick(f"retrieval {split}/{which}")
            scores = evaluate_retrieval(retriever, questions, search)["overall"]
            key = f"retrieval.{split}.{which}"
            retrieval.metrics += [
                Metric(f"{key}.mrr10", f"retrieval MRR@10, {split} {which}", scores["MRR@10"]),
                Metric(f"{key}.r1", f"retrieval R@1, {split} {which}", scores["R@1"]),
            ]
            rows.append(
                f"| {split} | {which} | {int(scores['n'])} | "
                + " | ".join(f"{scores[m]:.3f}" for m in ("R@1", "R@5", "R@10", "MRR@10"))
                + " |"
            )
            groups.append(f"{split} {which}")
            for name in bars:
                bars[name].append(scores[name])
            if split == "test":
                test_questions += questions
    retrieval.lines = [
        "In-domain questions, searched as the bot searches a message. `faq` questions were written next to the "
        "entries; `realistic` ones without seeing them (eval/README.md).",
        "",
        "| split | set | n | R@1 | R@5 | R@10 | MRR@10 |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    chart = plots.grouped_bars(plot_dir / "retrieval.png", groups, bars, "Retrieval", "score")
    if chart:
        retrieval.plots.append((chart, "R@1, R@10 and MRR@10 per split and set"))
    retrieval.seconds = time.perf_counter() - started

    started = time.perf_counter()
    tick("calibration on test")
    calibration = _calibration(settings, search, test_questions, plot_dir)
    calibration.seconds = time.perf_counter() - started
    return [retrieval, calibration]


def _calibration(settings: Settings, search: SearchFn, questions: list[Question], plot_dir: Path) -> Section:
    """The serving calibration (eval/calibration.json) scored on the test split it was not fitted on."""
    from index.confidence import Calibration

    section = Section("Calibration (serving model, test split)")
    model = Calibration.load(settings.retrieval.calibration_file)
    if model is None or not questions:
        section.skipped = "no calibration file or no test questions"
        return section
    _, labels, results = calibration_rows(search, questions)
    scores = np.array([r.confidence if r.hits else 0.0 for r in results])
    y = np.asarray(labels)
    shown = np.array([shown_relevant(q, r) for q, r in zip(questions, results, strict=True)])
    confident = threshold_report(questions, y, scores, model.threshold)
    probable_threshold = model.probable_threshold if model.probable_threshold is not None else model.threshold
    probable = threshold_report(questions, shown, scores, probable_threshold)
    section.metrics = [
        Metric("calibration.test.auroc", "confidence AUROC (top hit relevant), test", confident["auroc"]),
        Metric(
            "calibration.test.auroc_domain",
            "confidence AUROC (IP vs not IP), test",
            confident["auroc_in_vs_out_of_domain"],
        ),
        Metric(
            "calibration.test.confident_precision",
            "precision above the confident threshold, test",
            confident["answered_precision"],
            "share",
        ),
        Metric(
            "calibration.test.confident_coverage",
            "IP questions above the confident threshold, test",
            confident["answered_share_in_domain"],
            "share",
        ),
        Metric(
            "calibration.test.probable_precision",
            "a relevant source among those shown, above the probable threshold, test",
            probable["answered_precision"],
            "share",
        ),
        Metric("calibration.threshold", "confident threshold (fitted on dev)", model.threshold, better=None),
        Metric("calibration.probable_threshold", "probable threshold (fitted on dev)", probable_threshold, better=None),
    ]
    section.lines = [
        f"The thresholds were fitted on dev (`weiyuan eval calibrate`); here they are applied to {len(questions)} "
        f"test questions (IP and not IP). Fitted with: `{model.metrics.get('threshold_rule', '')}`"[:600],
        "",
        "| threshold | precision | IP questions answered | non-IP declined |",
        "|---|---|---|---|",
        *(
            f"| {row['threshold']} | {row['precision']} | {row['answered_in_domain']} | {row['ood_declined']} |"
            for row in confident["tradeoff"]
        ),
    ]
    chart = plots.roc_and_scores(
        plot_dir / "calibration.png",
        list(y),
        list(scores),
        {"confident": model.threshold, "probable": probable_threshold},
        f"Confidence on the test split (AUROC {confident['auroc']:.3f})",
    )
    if chart:
        section.plots.append((chart, "ROC of the confidence and the score distributions"))
    return section
