"""Okapi BM25 over jieba tokens, stored as a sparse document-term matrix.

Weights are precomputed per (document, term), so a query only sums the
columns of its terms: a few sparse column reads, fast even at a million
chunks.  Lexical matching complements the dense model on exact legal
terms and article numbers.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse


class BM25:
    def __init__(self, vocab: dict[str, int], matrix: sparse.csc_matrix) -> None:
        self.vocab = vocab
        self.matrix = matrix

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> BM25:
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        lengths = np.zeros(len(documents), dtype=np.float32)
        for row, tokens in enumerate(documents):
            lengths[row] = len(tokens)
            for term, tf in Counter(tokens).items():
                col = vocab.setdefault(term, len(vocab))
                rows.append(row)
                cols.append(col)
                tfs.append(tf)
        n = len(documents)
        avgdl = float(lengths.mean()) if n else 1.0
        tf_arr = np.asarray(tfs, dtype=np.float32)
        row_arr = np.asarray(rows, dtype=np.int64)
        col_arr = np.asarray(cols, dtype=np.int64)
        df = np.bincount(col_arr, minlength=len(vocab)).astype(np.float32)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = k1 * (1 - b + b * lengths[row_arr] / max(avgdl, 1e-6))
        weights = idf[col_arr] * tf_arr * (k1 + 1) / (tf_arr + norm)
        matrix = sparse.csc_matrix((weights, (row_arr, col_arr)), shape=(n, len(vocab)), dtype=np.float32)
        return cls(vocab, matrix)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens."""
        cols = sorted({self.vocab[t] for t in tokens if t in self.vocab})
        out = np.zeros(self.size, dtype=np.float32)
        if not cols:
            return out
        indptr = self.matrix.indptr
        for col in cols:
            start, end = indptr[col], indptr[col + 1]
            out[self.matrix.indices[start:end]] += self.matrix.data[start:end]
        return out

    def top(self, tokens: Sequence[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, doc ids) of the best ``k`` documents with a positive score."""
        scores = self.scores(tokens)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if len(positive) == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        if len(positive) > k:
            part = np.argpartition(-scores[positive], k - 1)[:k]
            positive = positive[part]
        order = positive[np.argsort(-scores[positive], kind="stable")]
        return scores[order], order

    def max_possible(self, tokens: Sequence[str]) -> float:
        """Upper bound of a query's score (sum of its terms' best weights), for normalising."""
        total = 0.0
        for term in set(tokens):
            col = self.vocab.get(term)
            if col is not None:
                start, end = self.matrix.indptr[col], self.matrix.indptr[col + 1]
                if end > start:
                    total += float(self.matrix.data[start:end].max())
        return total

    def coverage(self, tokens: Sequence[str]) -> float:
        """Share of the query's tokens that occur anywhere in the corpus."""
        unique = set(tokens)
        if not unique:
            return 0.0
        return sum(1 for t in unique if t in self.vocab) / len(unique)

    def save(self, directory: Path) -> None:
        sparse.save_npz(directory / "bm25.npz", self.matrix.tocsc(), compressed=False)
        (directory / "bm25_vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, directory: Path) -> BM25:
        matrix = sparse.load_npz(directory / "bm25.npz").tocsc()
        vocab = json.loads((directory / "bm25_vocab.json").read_text("utf-8"))
        return cls(vocab, matrix)


def idf_of(bm25: BM25, term: str) -> float:
    """Inverse document frequency of ``term`` (0 when unseen)."""
    col = bm25.vocab.get(term)
    if col is None:
        return 0.0
    df = bm25.matrix.indptr[col + 1] - bm25.matrix.indptr[col]
    return math.log1p((bm25.size - df + 0.5) / (df + 0.5))
