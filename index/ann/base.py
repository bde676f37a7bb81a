"""The interface every ANN backend implements (one small class per backend)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from index.ann._faiss import faiss


def bitmap_selector(allowed: np.ndarray) -> Any:
    """A FAISS selector that lets through the ids whose mask entry is True."""
    packed = np.packbits(allowed.astype(np.uint8), bitorder="little")
    selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(packed))
    selector._keepalive = packed  # the selector does not copy the bitmap
    return selector


class ANNIndex(ABC):
    """Inner-product search over L2-normalised vectors (so scores are cosines)."""

    backend: ClassVar[str]

    def __init__(self, dim: int, params: dict[str, Any] | None = None) -> None:
        self.dim = dim
        self.params: dict[str, Any] = dict(params or {})
        self.index: Any = None

    @abstractmethod
    def build(self, vectors: np.ndarray) -> None:
        """Index ``vectors`` (row i gets id i)."""

    @abstractmethod
    def _search_params(self, selector: Any | None) -> Any: ...

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query; ids are -1 where fewer matched."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        selector = bitmap_selector(allowed) if allowed is not None else None
        params = self._search_params(selector)
        if params is None:
            scores, ids = self.index.search(queries, k)
        else:
            scores, ids = self.index.search(queries, k, params=params)
        return scores, ids

    @property
    def size(self) -> int:
        return int(self.index.ntotal) if self.index is not None else 0

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    def load(self, path: Path) -> None:
        self.index = faiss.read_index(str(path))
        self._after_load()

    def _after_load(self) -> None:  # noqa: B027 - optional hook, most backends need nothing
        """Re-apply search-time parameters that are not stored in the file."""

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "dim": self.dim, **self.params}
