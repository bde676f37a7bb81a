"""A learned re-ranker over the fused candidates.

Reciprocal-rank fusion treats every chunk alike; a question phrased like
an entry's question view, a statute article whose own words share the
query's terms, a local regulation for a national question … each of these
says something about relevance that fixed fusion weights cannot.  A
logistic regression over a few per-candidate features (below) is fitted
on the dev split by ``weiyuan eval rank`` (label: the candidate is a
relevant source) and re-orders the top fused candidates.  Its
coefficients and the model fingerprint are stored in ``eval/ranker.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FEATURES: tuple[str, ...] = (
    "dense",  # best cosine over all the candidate's views
    "dense_question",  # best cosine over its question views (0 without any)
    "dense_passage",  # best cosine over its passage views
    "dense_rank",  # 1 / (1 + rank) in the dense ranking (0 if not among the dense candidates)
    "bm25",  # BM25 score / the query's maximum possible score
    "bm25_rank",  # 1 / (1 + rank) in the BM25 ranking
    "fused_rank",  # 1 / (1 + rank) after reciprocal-rank fusion
    "both",  # among both the dense and the BM25 candidates
    "entry",  # a knowledge-base entry
    "case",  # a published case
    "judicial",  # a judicial interpretation (SPC / SPP)
    "local",  # a local regulation (region other than nationwide)
    "guide",  # the assistance service guide
    "title_overlap",  # share of the query's tokens that occur in the title
)


@dataclass
class Ranker:
    """Standardised logistic regression over :data:`FEATURES`."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    model_fingerprint: str = ""
    #: how many fused candidates are re-ranked
    depth: int = 30
    metrics: dict[str, Any] = field(default_factory=dict)

    def score(self, rows: list[dict[str, float]]) -> np.ndarray:
        x = np.array([[row.get(n, 0.0) for n in self.features] for row in rows], dtype=np.float64)
        z = self.intercept + ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef)
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Ranker | None:
        if not path.is_file():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def fit(rows: list[dict[str, float]], labels: list[int], c: float = 1.0) -> Ranker:
    """Fit on candidate rows of the dev questions (1 = a relevant source)."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[row.get(n, 0.0) for n in FEATURES] for row in rows], dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit((x - mean) / scale, np.asarray(labels))
    return Ranker(
        features=list(FEATURES),
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=model.coef_[0].tolist(),
        intercept=float(model.intercept_[0]),
    )


def reciprocal(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / (1.0 + rank)


def overlap(query_tokens: list[str], title_tokens: list[str]) -> float:
    unique = {t for t in query_tokens if t.strip()}
    if not unique:
        return 0.0
    title = set(title_tokens)
    return sum(1 for t in unique if t in title) / len(unique)
