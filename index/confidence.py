"""A calibrated probability that the top search result answers the question.

Raw e5 cosines are compressed (relevant ~0.85-0.89, unrelated up to 0.85),
so a fixed cosine threshold is a poor confidence.  Instead a logistic
regression over a few retrieval signals is fitted on a dev set of in-domain
IP questions (label: the top hit is relevant) and out-of-domain questions
(other legal areas, chit-chat, gibberish, other languages; label 0) by
``weiyuan eval calibrate``.  Its coefficients, the chosen threshold and the
cross-validated AUROC are stored in ``eval/calibration.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FEATURES: tuple[str, ...] = (
    "dense_top",  # cosine of the fused top hit's best view
    "dense_max",  # best cosine of any candidate
    "dense_gap",  # best minus second-best chunk cosine
    "bm25_top",  # BM25 of the fused top hit / the query's maximum possible score
    "coverage",  # share of query tokens that occur in the corpus
    "domain",  # share of query tokens that are IP terms of the lexicon
    "agree",  # dense and BM25 rank the same chunk first
    "top_entry",  # the top hit is a knowledge-base entry
    "query_len",  # log(1 + number of query tokens)
)


@dataclass
class Calibration:
    """Standardised logistic regression over :data:`FEATURES`."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float
    model_fingerprint: str = ""
    #: below ``threshold`` but at least this: show the best sources as "possibly relevant"
    probable_threshold: float | None = None
    #: at or above this, retrieval alone marks a message as an IP matter
    domain_threshold: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def confidence(self, signals: dict[str, float]) -> float:
        z = self.intercept
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            z += w * (signals.get(name, 0.0) - mu) / sd
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def tier(self, confidence: float) -> str:
        """confident / probable / low, by the two calibrated thresholds."""
        if confidence >= self.threshold:
            return "confident"
        if self.probable_threshold is not None and confidence >= self.probable_threshold:
            return "probable"
        return "low"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Calibration | None:
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**data)


#: Used only when no calibration fitted for the current model exists: it
#: leans on the top cosine alone and flags itself as uncalibrated.
FALLBACK = Calibration(
    features=["dense_top"],
    mean=[0.85],
    scale=[0.03],
    coef=[2.0],
    intercept=0.0,
    threshold=0.5,
    metrics={"uncalibrated": True},
)


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (probability a positive outranks a negative)."""
    labels = np.asarray(labels).astype(bool)
    pos, neg = scores[labels], scores[~labels]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    # average ranks for ties
    values = np.concatenate([pos, neg])
    for value in np.unique(values):
        tie = values == value
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def matrix(rows: list[dict[str, float]], names: list[str] | tuple[str, ...] = FEATURES) -> np.ndarray:
    return np.array([[row.get(n, 0.0) for n in names] for row in rows], dtype=np.float64)


def fit(rows: list[dict[str, float]], labels: list[int], c: float = 1.0) -> Calibration:
    """Fit the logistic calibration on all rows (threshold chosen separately)."""
    from sklearn.linear_model import LogisticRegression

    x = matrix(rows)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, np.asarray(labels))
    return Calibration(
        features=list(FEATURES),
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=model.coef_[0].tolist(),
        intercept=float(model.intercept_[0]),
        threshold=0.5,
    )


def cross_validated(rows: list[dict[str, float]], labels: list[int], folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold confidences: each row scored by a model that never saw it."""
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    # stratified folds
    assignment = np.empty(len(y), dtype=int)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        assignment[idx] = np.arange(len(idx)) % folds
    out = np.zeros(len(y))
    for fold in range(folds):
        train = assignment != fold
        model = fit([rows[i] for i in np.flatnonzero(train)], y[train].tolist())
        for i in np.flatnonzero(~train):
            out[i] = model.confidence(rows[i])
    return out


def choose_threshold(
    labels: np.ndarray, scores: np.ndarray, min_precision: float = 0.85, min_share: float = 0.1
) -> float:
    """Lowest threshold whose answered questions are right at least ``min_precision`` of the time.

    Answering wrongly is worse than the next-best reply (a list of possible
    sources, or a person), so a tier is used only above a threshold where
    at least ``min_precision`` of the dev questions it covers (out-of-fold)
    are right.  Only thresholds that still cover ``min_share`` of the
    questions count (a precision measured on a handful proves nothing); if
    none of them reaches the precision, the one with the best precision.
    """
    labels = np.asarray(labels).astype(bool)
    best_precision, best_t = -1.0, 1.0
    for t in sorted(set(np.round(scores, 3).tolist())):
        answered = scores >= t
        if answered.sum() == 0:
            continue
        if answered.mean() < min_share:
            break  # thresholds only get higher from here: too few questions left to judge
        precision = labels[answered].mean()
        if precision >= min_precision:
            return float(t)
        if precision > best_precision:
            best_precision, best_t = precision, t
    return float(best_t)


def domain_threshold(out_of_domain_scores: np.ndarray, max_share: float = 0.01) -> float:
    """Lowest threshold that at most ``max_share`` of the non-IP dev questions reach."""
    scores = np.sort(np.asarray(out_of_domain_scores))
    if len(scores) == 0:
        return 1.0
    allowed = int(np.floor(max_share * len(scores)))
    # the (allowed+1)-th highest score must fall below the threshold
    return float(np.round(scores[len(scores) - allowed - 1] + 1e-3, 3))
