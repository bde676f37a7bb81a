"""Inverted file (k-means cells): least memory per vector for very large corpora."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from index.ann._faiss import faiss
from index.ann.base import ANNIndex


class IVFIndex(ANNIndex):
    backend = "ivf"

    def build(self, vectors: np.ndarray) -> None:
        n = len(vectors)
        nlist = int(self.params.setdefault("nlist", max(16, min(65536, int(4 * math.sqrt(max(n, 1)))))))
        quantizer = faiss.IndexFlatIP(self.dim)
        self.index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        sample = min(n, max(nlist * 40, 50_000))
        rng = np.random.default_rng(0)
        train = data[rng.choice(n, sample, replace=False)] if sample < n else data
        self.index.train(train)
        self.index.add(data)
        self._after_load()

    def _after_load(self) -> None:
        self.index.nprobe = int(self.params.setdefault("nprobe", 32))

    def _search_params(self, selector: Any | None) -> Any:
        params = faiss.SearchParametersIVF()
        params.nprobe = int(self.params["nprobe"])
        if selector is not None:
            params.sel = selector
        return params
