"""Weighted reciprocal-rank fusion of the dense and the lexical ranking (weights: docs/retrieval.md)."""

from __future__ import annotations


def fuse(
    dense: list[tuple[int, float]], lexical: list[int], dense_weight: float, lexical_weight: float, rrf_k: int
) -> list[tuple[int, float]]:
    """Chunk indices with their fused score, best first (ties: lower index first)."""
    scores: dict[int, float] = {}
    for rank, (index, _cos) in enumerate(dense):
        scores[index] = scores.get(index, 0.0) + dense_weight / (rrf_k + rank + 1)
    if lexical_weight > 0:
        for rank, index in enumerate(lexical):
            scores[index] = scores.get(index, 0.0) + lexical_weight / (rrf_k + rank + 1)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
