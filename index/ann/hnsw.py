"""HNSW graph: sub-linear search with high recall, no training step."""

from __future__ import annotations

from typing import Any

import numpy as np

from index.ann._faiss import faiss
from index.ann.base import ANNIndex


class HNSWIndex(ANNIndex):
    backend = "hnsw"

    def build(self, vectors: np.ndarray) -> None:
        m = int(self.params.setdefault("m", 32))
        self.index = faiss.IndexHNSWFlat(self.dim, m, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = int(self.params.setdefault("ef_construction", 80))
        self._after_load()
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def _after_load(self) -> None:
        self.index.hnsw.efSearch = int(self.params.setdefault("ef_search", 96))

    def _search_params(self, selector: Any | None) -> Any:
        params = faiss.SearchParametersHNSW()
        params.efSearch = int(self.params["ef_search"])
        if selector is not None:
            params.sel = selector
        return params
