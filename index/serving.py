"""One published index version loaded for searching: vectors, BM25, chunk table and filter masks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from core.vocabulary import IP_TYPES, KINDS, NATIONWIDE
from index.ann.base import ANNIndex
from index.bm25 import BM25
from index.results import Filters
from index.textnorm import normalize
from index.versiondata import ChunkTable, VersionFiles


class LoadedVersion:
    """One index version in memory."""

    def __init__(self, version: str, files: VersionFiles, search_params: dict[str, Any] | None = None) -> None:
        self.version = version
        self.manifest = files.manifest()
        self.chunks: ChunkTable = files.chunk_table()
        self.vectors = files.vectors()
        self.view_chunk = files.view_chunk()
        self.ann: ANNIndex = files.ann_index(search_params)
        self.bm25: BM25 = files.bm25()
        self.fingerprint = str(self.manifest["model"]["fingerprint"])
        self.law_notes: dict[str, str] = dict(self.manifest.get("law_notes") or {})
        owners = np.asarray(self.view_chunk)
        # views are written chunk by chunk, so each chunk's views are one contiguous run of rows
        self._view_start: np.ndarray | None = (
            np.searchsorted(owners, np.arange(len(self.chunks) + 1))
            if len(owners) == 0 or bool(np.all(owners[1:] >= owners[:-1]))
            else None
        )
        self._title_tokens: dict[int, list[str]] = {}
        self._mask_cache: dict[tuple[str | None, str | None, str | None, bool], np.ndarray | None] = {}

    def view_rows(self, chunk: int) -> np.ndarray:
        """Rows of ``vectors`` that embed one chunk's views, in the chunk's view order."""
        if self._view_start is not None:
            return np.arange(self._view_start[chunk], self._view_start[chunk + 1])
        return np.flatnonzero(np.asarray(self.view_chunk) == chunk)

    def title_tokens(self, chunk: int, tokenize: Callable[[str], list[str]]) -> list[str]:
        cached = self._title_tokens.get(chunk)
        if cached is None:
            cached = tokenize(normalize(self.chunks[chunk].title))
            if len(self._title_tokens) < 100_000:
                self._title_tokens[chunk] = cached
        return cached

    def chunk_mask(self, filters: Filters) -> np.ndarray | None:
        key = (filters.kind, filters.ip_type, filters.region, filters.current_only)
        if key in self._mask_cache:
            return self._mask_cache[key]
        if not filters.active():
            return None
        table = self.chunks
        mask = np.ones(len(table), dtype=bool)
        if filters.kind:
            mask &= table.kinds == KINDS.index(filters.kind)
        if filters.ip_type:
            mask &= (table.ip_bits & (1 << IP_TYPES.index(filters.ip_type))) != 0
        if filters.current_only:
            mask &= table.current
        if filters.region:
            # National material applies everywhere; local material only in its region.
            wanted = [i for i, name in enumerate(table.region_names) if name in (filters.region, NATIONWIDE)]
            mask &= np.isin(table.regions, wanted)
        self._mask_cache[key] = mask
        return mask
