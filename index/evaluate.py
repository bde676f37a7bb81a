"""Retrieval evaluation and confidence calibration on the eval/ question sets.

``eval/retrieval_dev.jsonl`` tunes (fusion weights, calibration);
``eval/retrieval_test.jsonl`` is held out and only reported.  Each in-domain
question lists the statute articles that answer it (``relevant``) and may
list knowledge-base entries (``relevant_entries``); out-of-domain questions
carry an ``ood`` category.  A hit is relevant when it *is* a listed entry,
or when it is (or, for an unlabelled entry, cites) a listed article.
Service questions about the centres themselves (``topic: service``) are
answered by the service guide or by entries that cite it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import WeiyuanError
from index.confidence import (
    FEATURES,
    Calibration,
    auroc,
    choose_threshold,
    cross_validated,
    domain_threshold,
    fit,
)
from index.ranker import Ranker
from index.ranker import fit as fit_ranker_model
from index.results import Hit, SearchResult
from index.retriever import GUIDE_TITLE, Retriever

KS = (1, 5, 10)
#: How many sources the probable tier shows (the label of its threshold rule).
SHOWN = 3
#: The two evaluation sets: short FAQ-style questions written beside the entries, and
#: realistic public-style questions written without looking at them (eval/README.md).
SETS = ("faq", "realistic")

#: Precision rules of the two thresholds (docs/dialogue.md).
CONFIDENT_PRECISION = 0.95
PROBABLE_PRECISION = 0.80

#: Search one query for ``k`` hits (the plain retriever, or the consultation's message search).
SearchFn = Callable[[str, int], SearchResult]


@dataclass
class Question:
    id: str
    query: str
    ip_type: str | None
    relevant: set[tuple[str, str]]
    relevant_entries: set[str]
    topic: str | None
    ood: str | None

    @property
    def in_domain(self) -> bool:
        return self.ood is None


def split_files(eval_dir: Path, split: str, which: str = "all") -> list[Path]:
    """The question files of a split: ``faq``, ``realistic`` or ``all`` of them."""
    names = {"faq": f"retrieval_{split}.jsonl", "realistic": f"realistic_{split}.jsonl"}
    chosen = list(SETS) if which == "all" else [which]
    if any(name not in names for name in chosen):
        raise WeiyuanError(f"未知的评测集 {which!r}，可选：faq、realistic、all")
    paths = [eval_dir / names[name] for name in chosen]
    if which == "all":
        # a later split (test2) may hold only realistic questions
        paths = [path for path in paths if path.is_file()] or paths
    return paths


#: law -> {article in force: article of the serving corpus}; a law listed here has been renumbered
ArticleMap = dict[str, dict[str, str]]


def corpus_article_map(retriever: Retriever, eval_dir: Path) -> ArticleMap:
    """For laws the index still serves in an older numbering (``eval/renumbering.json``).

    Labels cite the law in force; while the serving corpus holds the older
    text, a label is mapped to the article with the same content there, or
    dropped when that text has no counterpart.
    """
    path = eval_dir / "renumbering.json"
    if not path.is_file():
        return {}
    laws = json.loads(path.read_text(encoding="utf-8"))["laws"]
    return {
        law: table["new_to_old"]
        for law, table in laws.items()
        if retriever.article(law, table["present_only_in_new_text"]) is None
    }


def labels_in_force(path: Path) -> bool:
    """The realistic set cites the law in force; the faq set cites the corpus it was written against."""
    return path.name.startswith("realistic_")


def load_split(eval_dir: Path, split: str, which: str = "all", article_map: ArticleMap | None = None) -> list[Question]:
    return [
        q
        for path in split_files(eval_dir, split, which)
        for q in load_questions(path, article_map if labels_in_force(path) else None)
    ]


def _mapped(labels: set[tuple[str, str]], article_map: ArticleMap | None) -> set[tuple[str, str]]:
    if not article_map:
        return labels
    out = set()
    for law, article in labels:
        if law not in article_map:
            out.add((law, article))
        elif article in article_map[law]:
            out.add((law, article_map[law][article]))
    return out


def load_questions(path: Path, article_map: ArticleMap | None = None) -> list[Question]:
    if not path.is_file():
        raise WeiyuanError(f"找不到评测集 {path}")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise WeiyuanError(f"{path} 第 {number} 行不是有效的 JSON：{exc}") from exc
        out.append(
            Question(
                id=row["id"],
                query=row["query"],
                ip_type=row.get("ip_type"),
                relevant=_mapped({(r["law"], r["article"]) for r in row.get("relevant", [])}, article_map),
                relevant_entries={f"entry/{e}" for e in row.get("relevant_entries", [])},
                topic=row.get("topic"),
                ood=row.get("ood"),
            )
        )
    return out


def is_relevant(question: Question, hit: Hit) -> bool:
    return is_relevant_source(question, hit.id, hit.kind, hit.citations)


def is_relevant_source(question: Question, source_id: str, kind: str, citations: list[dict[str, str]]) -> bool:
    """A source answers the question: it is a listed entry, or it is (or cites) a listed article."""
    if source_id in question.relevant_entries:
        return True
    cited = {(c["law"], c["article"]) for c in citations}
    if question.topic == "service" and any(law == GUIDE_TITLE for law, _ in cited):
        return True
    if kind == "entry" and question.relevant_entries:
        return False
    return bool(cited & question.relevant)


def first_relevant_rank(question: Question, hits: Iterable[Hit]) -> int | None:
    for rank, hit in enumerate(hits, start=1):
        if is_relevant(question, hit):
            return rank
    return None


@dataclass
class Scores:
    n: int = 0
    hits_at: dict[int, int] = field(default_factory=lambda: dict.fromkeys(KS, 0))
    reciprocal: float = 0.0

    def add(self, rank: int | None) -> None:
        self.n += 1
        for k in KS:
            if rank is not None and rank <= k:
                self.hits_at[k] += 1
        if rank is not None and rank <= 10:
            self.reciprocal += 1.0 / rank

    def as_dict(self) -> dict[str, float]:
        n = max(self.n, 1)
        out: dict[str, float] = {"n": self.n}
        out.update({f"R@{k}": self.hits_at[k] / n for k in KS})
        out["MRR@10"] = self.reciprocal / n
        return out


def plain_search(retriever: Retriever) -> SearchFn:
    return lambda query, k: retriever.search(query, k=k)


def evaluate_retrieval(
    retriever: Retriever, questions: list[Question], search: SearchFn | None = None
) -> dict[str, Any]:
    """R@1/5/10 and MRR@10 overall, per IP type, and per kind (searching one kind only)."""
    search = search or plain_search(retriever)
    overall = Scores()
    per_type: dict[str, Scores] = defaultdict(Scores)
    per_kind: dict[str, Scores] = defaultdict(Scores)
    misses = []
    for question in (q for q in questions if q.in_domain):
        result = search(question.query, 10)
        rank = first_relevant_rank(question, result.hits)
        overall.add(rank)
        per_type[question.ip_type or "general"].add(rank)
        if rank != 1:
            misses.append(
                {
                    "id": question.id,
                    "query": question.query,
                    "rank": rank,
                    "top": result.hits[0].title if result.hits else None,
                }
            )
        for kind in ("policy", "entry"):
            if kind == "policy" and not question.relevant and question.topic != "service":
                continue
            kind_result = retriever.search(question.query, k=10, kind=kind)
            per_kind[kind].add(first_relevant_rank(question, kind_result.hits))
    return {
        "overall": overall.as_dict(),
        "by_ip_type": {k: v.as_dict() for k, v in sorted(per_type.items())},
        "by_kind": {k: v.as_dict() for k, v in sorted(per_kind.items())},
        "misses": misses,
    }


def calibration_rows(
    search: SearchFn, questions: list[Question]
) -> tuple[list[dict[str, float]], list[int], list[SearchResult]]:
    """Signals and labels (1 = top hit relevant) for every question."""
    rows, labels, results = [], [], []
    for question in questions:
        result = search(question.query, 10)
        rows.append(result.signals)
        label = int(question.in_domain and bool(result.hits) and is_relevant(question, result.hits[0]))
        labels.append(label)
        results.append(result)
    return rows, labels, results


def shown_relevant(question: Question, result: SearchResult, shown: int = SHOWN) -> int:
    """1 if a relevant source is among the first ``shown`` hits (what the probable tier shows)."""
    return int(question.in_domain and first_relevant_rank(question, result.hits[:shown]) is not None)


def calibrate(
    retriever: Retriever,
    dev: list[Question],
    test: list[Question] | None = None,
    search: SearchFn | None = None,
) -> tuple[Calibration, dict[str, Any]]:
    """Fit the confidence on ``dev``; choose both thresholds; report cross-validated and held-out figures.

    * confident: the lowest threshold at which >= 95% of dev questions at or
      above it have a relevant top hit (out-of-fold scores);
    * probable: the lowest threshold at which >= 80% of dev questions at or
      above it (IP and non-IP alike) have a relevant source among the three shown.
    """
    search = search or plain_search(retriever)
    rows, labels, results = calibration_rows(search, dev)
    y = np.asarray(labels)
    oof = cross_validated(rows, labels)
    threshold = choose_threshold(y, oof, min_precision=CONFIDENT_PRECISION)
    shown = np.array([shown_relevant(q, r) for q, r in zip(dev, results, strict=True)])
    probable = min(choose_threshold(shown, oof, min_precision=PROBABLE_PRECISION), threshold)
    model = fit(rows, labels)
    model.threshold = round(threshold, 3)
    model.probable_threshold = round(probable, 3)
    # at most 1% of non-IP dev questions by out-of-fold scores and by the final model's own scores
    outside = ~np.array([q.in_domain for q in dev])
    fitted = np.array([model.confidence(r) for r in rows])
    model.domain_threshold = max(domain_threshold(oof[outside]), domain_threshold(fitted[outside]))
    model.model_fingerprint = retriever.loaded().fingerprint
    report: dict[str, Any] = {
        "dev": threshold_report(dev, y, oof, threshold),
        "dev_probable": threshold_report(dev, shown, oof, probable),
        "features": list(FEATURES),
        "coefficients": dict(zip(FEATURES, [round(c, 3) for c in model.coef], strict=True)),
    }
    if test:
        test_rows, test_labels, test_results = calibration_rows(search, test)
        scores = np.array([model.confidence(r) for r in test_rows])
        report["test"] = threshold_report(test, np.asarray(test_labels), scores, threshold)
        test_shown = np.array([shown_relevant(q, r) for q, r in zip(test, test_results, strict=True)])
        report["test_probable"] = threshold_report(test, test_shown, scores, probable)
    model.metrics = {
        "dev_auroc_cv": report["dev"]["auroc"],
        "test_auroc": report.get("test", {}).get("auroc"),
        "threshold_rule": (
            f"confident: lowest threshold with >={CONFIDENT_PRECISION:.0%} of dev questions above it answered by "
            f"a relevant top hit; probable: lowest with >={PROBABLE_PRECISION:.0%} having a relevant source among "
            f"the {SHOWN} shown (out-of-fold scores, IP and non-IP dev questions); if a rule cannot be met, the "
            "threshold with the best precision still covering 10% of dev questions; domain: reached by at most 1% "
            "of non-IP dev questions"
        ),
        "dev_size": len(dev),
        "test_size": len(test or []),
    }
    return model, report


def threshold_report(
    questions: list[Question], labels: np.ndarray, scores: np.ndarray, threshold: float
) -> dict[str, Any]:
    """Precision, coverage and AUROC of one threshold over scored questions (and a small trade-off table)."""
    answered = scores >= threshold
    in_domain = np.array([q.in_domain for q in questions])
    by_ood: dict[str, dict[str, float]] = {}
    for category in sorted({q.ood for q in questions if q.ood}):
        mask = np.array([q.ood == category for q in questions])
        by_ood[category] = {"n": int(mask.sum()), "declined": float((~answered[mask]).mean())}
    precision = float(labels[answered].mean()) if answered.any() else float("nan")
    tradeoff = []
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        ans = scores >= t
        tradeoff.append(
            {
                "threshold": t,
                "precision": round(float(labels[ans].mean()), 3) if ans.any() else None,
                "answered_in_domain": round(float(ans[in_domain].mean()), 3) if in_domain.any() else None,
                "ood_declined": round(float((~ans[~in_domain]).mean()), 3) if (~in_domain).any() else None,
            }
        )
    return {
        "tradeoff": tradeoff,
        "n": len(questions),
        "positives": int(labels.sum()),
        "auroc": round(auroc(labels, scores), 4),
        "auroc_in_vs_out_of_domain": round(auroc(in_domain, scores), 4),
        "threshold": round(threshold, 3),
        "answered_precision": round(precision, 4),
        "answered_share_in_domain": round(float(answered[in_domain].mean()), 4) if in_domain.any() else None,
        "correct_answered_share": round(float((answered & (labels == 1)).sum() / max(labels.sum(), 1)), 4),
        "ood_declined": by_ood,
    }


def sweep_fusion(
    retriever: Retriever,
    questions: list[Question],
    settings_grid: list[tuple[str, dict[str, float]]],
) -> list[dict[str, Any]]:
    """Retrieval metrics for each fusion setting (query vectors are cached between runs)."""
    rows = []
    original = retriever.settings.retrieval.model_copy()
    try:
        for name, overrides in settings_grid:
            for key, value in overrides.items():
                setattr(retriever.settings.retrieval, key, value)
            scores = Scores()
            for question in (q for q in questions if q.in_domain):
                scores.add(first_relevant_rank(question, retriever.search(question.query, k=10).hits))
            rows.append({"setting": name, **overrides, **scores.as_dict()})
    finally:
        for key, value in original.model_dump().items():
            setattr(retriever.settings.retrieval, key, value)
    return rows


FUSION_GRID: list[tuple[str, dict[str, float]]] = [
    ("dense only", {"dense_weight": 1.0, "bm25_weight": 0.0}),
    ("BM25 only", {"dense_weight": 0.0, "bm25_weight": 1.0}),
    ("RRF dense 1 + BM25 0.15", {"dense_weight": 1.0, "bm25_weight": 0.15}),
    ("RRF dense 1 + BM25 0.3", {"dense_weight": 1.0, "bm25_weight": 0.3}),
    ("RRF dense 1 + BM25 0.5", {"dense_weight": 1.0, "bm25_weight": 0.5}),
    ("RRF dense 1 + BM25 0.75", {"dense_weight": 1.0, "bm25_weight": 0.75}),
    ("RRF equal weights", {"dense_weight": 1.0, "bm25_weight": 1.0}),
]


def ranker_rows(
    retriever: Retriever, questions: list[Question], query_of: Callable[[str], str] = lambda q: q
) -> list[tuple[Question, list[tuple[int, dict[str, float]]]]]:
    """Per in-domain question: (label, features) of each fused candidate, in fused order."""
    out = []
    for question in (q for q in questions if q.in_domain):
        result = retriever.search(query_of(question.query), k=10, features=True)
        rows = [(int(is_relevant_source(question, c.id, c.kind, c.citations)), c.features) for c in result.candidates]
        out.append((question, rows))
    return out


def _rank_scores(ranks: list[int | None]) -> dict[str, float]:
    scores = Scores()
    for rank in ranks:
        scores.add(rank)
    return scores.as_dict()


def fit_ranker(
    retriever: Retriever, dev: list[Question], query_of: Callable[[str], str] = lambda q: q, folds: int = 5
) -> tuple[Ranker, dict[str, Any]]:
    """Fit the re-ranker on the dev questions; report fused vs re-ranked order, cross-validated by question."""
    data = ranker_rows(retriever, dev, query_of)
    rng = np.random.default_rng(0)
    fold_of = rng.permutation(len(data)) % folds
    fused_ranks: list[int | None] = []
    reranked: list[int | None] = []
    for fold in range(folds):
        train = [row for i, (_q, rows) in enumerate(data) if fold_of[i] != fold for row in rows]
        model = fit_ranker_model([f for _label, f in train], [label for label, _f in train])
        for i, (_q, rows) in enumerate(data):
            if fold_of[i] != fold or not rows:
                continue
            labels = [label for label, _f in rows]
            order = np.argsort(-model.score([f for _label, f in rows]), kind="stable")
            fused_ranks.append(next((r + 1 for r, label in enumerate(labels) if label), None))
            reranked.append(next((r + 1 for r, j in enumerate(order) if labels[j]), None))
    everything = [row for _q, rows in data for row in rows]
    model = fit_ranker_model([f for _label, f in everything], [label for label, _f in everything])
    model.model_fingerprint = retriever.loaded().fingerprint
    report = {
        "questions": len(data),
        "candidates": len(everything),
        "fused_order_cv": _rank_scores(fused_ranks),
        "reranked_cv": _rank_scores(reranked),
        "coefficients": dict(zip(model.features, [round(c, 3) for c in model.coef], strict=True)),
    }
    model.metrics = {"dev_cv": report["reranked_cv"], "dev_fused_cv": report["fused_order_cv"]}
    return model, report
