"""Approximate-nearest-neighbour backends, sized from the data.

Exact (flat) search while the corpus is small enough for it to be fast;
HNSW above ``flat_max_vectors``; IVF for very large corpora where HNSW's
graph would cost too much memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from index.ann.base import ANNIndex
from index.ann.flat import FlatIndex
from index.ann.hnsw import HNSWIndex
from index.ann.ivf import IVFIndex

BACKENDS: dict[str, type[ANNIndex]] = {cls.backend: cls for cls in (FlatIndex, HNSWIndex, IVFIndex)}


@dataclass(frozen=True)
class Sizing:
    """Where one backend gives way to the next, and their parameters: plain values, no settings
    (the defaults and their reasons live in ``core.settings.IndexSettings``)."""

    flat_max_vectors: int
    ivf_min_vectors: int
    hnsw_m: int
    hnsw_ef_construction: int
    hnsw_ef_search: int
    ivf_nprobe: int


def choose_backend(n_vectors: int, settings: Sizing) -> tuple[str, dict[str, Any]]:
    """Backend name and parameters for an index of ``n_vectors`` vectors."""
    if n_vectors <= settings.flat_max_vectors:
        return "flat", {}
    if n_vectors >= settings.ivf_min_vectors:
        return "ivf", {"nprobe": settings.ivf_nprobe}
    return "hnsw", {
        "m": settings.hnsw_m,
        "ef_construction": settings.hnsw_ef_construction,
        "ef_search": settings.hnsw_ef_search,
    }


def create(backend: str, dim: int, params: dict[str, Any] | None = None) -> ANNIndex:
    try:
        cls = BACKENDS[backend]
    except KeyError:
        raise ValueError(f"unknown ANN backend {backend!r}; expected one of {sorted(BACKENDS)}") from None
    return cls(dim, params)


__all__ = ["BACKENDS", "ANNIndex", "FlatIndex", "HNSWIndex", "IVFIndex", "Sizing", "choose_backend", "create"]
