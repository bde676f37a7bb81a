"""Exact search: every vector is compared (best for small corpora)."""

from __future__ import annotations

from typing import Any

import numpy as np

from index.ann._faiss import faiss
from index.ann.base import ANNIndex


class FlatIndex(ANNIndex):
    backend = "flat"

    def build(self, vectors: np.ndarray) -> None:
        self.index = faiss.IndexFlatIP(self.dim)
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def _search_params(self, selector: Any | None) -> Any:
        return faiss.SearchParameters(sel=selector) if selector is not None else None
