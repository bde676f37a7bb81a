"""The files of one index version and how they are written and read."""

from __future__ import annotations

import json
import mmap
import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from core.vocabulary import IP_TYPES, KINDS
from index import ann
from index.ann.base import ANNIndex
from index.bm25 import BM25
from index.schema import Chunk

CHUNKS = "chunks.jsonl"
CHUNK_OFFSETS = "chunk_offsets.npy"
CHUNK_META = "chunk_meta.npz"
VECTORS = "vectors.npy"
VIEW_CHUNK = "view_chunk.npy"
VIEW_KEYS = "view_keys.txt"
ANN_FILE = "ann.faiss"


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def read_chunks(root: Path) -> list[Chunk]:
    path = root / CHUNKS
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [Chunk.model_validate_json(line) for line in handle if line.strip()]


class VersionFiles:
    """Read/write access to one version directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(
        self,
        chunks: list[Chunk],
        vectors: np.ndarray,
        view_chunk: np.ndarray,
        keys: list[str],
        ann_index: ANNIndex,
        bm25: BM25,
    ) -> None:
        offsets = [0]
        with (self.root / CHUNKS).open("wb") as handle:
            for chunk in chunks:
                line = (chunk.model_dump_json() + "\n").encode("utf-8")
                handle.write(line)
                offsets.append(offsets[-1] + len(line))
        np.save(self.root / CHUNK_OFFSETS, np.asarray(offsets, dtype=np.int64))
        write_chunk_meta(self.root / CHUNK_META, chunks)
        np.save(self.root / VECTORS, vectors)
        np.save(self.root / VIEW_CHUNK, view_chunk)
        (self.root / VIEW_KEYS).write_text("\n".join(keys), encoding="utf-8")
        if ann_index.backend != "flat":  # a flat index is rebuilt from vectors.npy on load
            ann_index.save(self.root / ANN_FILE)
        bm25.save(self.root)

    def manifest(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        return data

    def model_fingerprint(self) -> str:
        return str(self.manifest().get("model", {}).get("fingerprint", ""))

    def chunks(self) -> list[Chunk]:
        return read_chunks(self.root)

    def chunk_table(self) -> ChunkTable:
        return ChunkTable(self.root)

    def vectors(self) -> np.ndarray:
        vectors: np.ndarray = np.load(self.root / VECTORS, mmap_mode="r")
        return vectors

    def view_chunk(self) -> np.ndarray:
        view_chunk: np.ndarray = np.load(self.root / VIEW_CHUNK)
        return view_chunk

    def key_rows(self) -> dict[str, int]:
        text = (self.root / VIEW_KEYS).read_text(encoding="utf-8")
        return {key: row for row, key in enumerate(text.split("\n")) if key}

    def ann_index(self, search_params: dict[str, Any] | None = None) -> ANNIndex:
        """The ANN index; ``search_params`` (ef_search, nprobe) override what the build recorded."""
        info = self.manifest()["ann"]
        params = {k: v for k, v in info.items() if k not in ("backend", "dim")}
        params.update({k: v for k, v in (search_params or {}).items() if k in params})
        index = ann.create(info["backend"], int(info["dim"]), params)
        if info["backend"] == "flat":
            index.build(np.asarray(self.vectors()))
        else:
            index.load(self.root / ANN_FILE)
        return index

    def bm25(self) -> BM25:
        return BM25.load(self.root)

    @cached_property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.iterdir() if p.is_file())


def write_chunk_meta(path: Path | Any, chunks: list[Chunk]) -> None:
    """Filterable fields as compact arrays, so filters never need the chunk texts in memory."""
    regions = sorted({c.region for c in chunks})
    region_code = {r: i for i, r in enumerate(regions)}
    ip_bit = {t: 1 << i for i, t in enumerate(IP_TYPES)}
    np.savez(
        path,
        kind=np.asarray([KINDS.index(c.kind) for c in chunks], dtype=np.uint8),
        region=np.asarray([region_code[c.region] for c in chunks], dtype=np.uint16),
        region_names=np.asarray(regions),
        ip_bits=np.asarray([sum(ip_bit.get(t, 0) for t in c.ip_types) for c in chunks], dtype=np.uint32),
        ids=np.asarray([c.id for c in chunks]),
        current=np.asarray([c.status == "in_force" for c in chunks], dtype=bool),
    )


def _legacy_arrays(root: Path) -> tuple[np.ndarray, Any]:
    """Offsets and filter arrays for versions written before they were stored (format 1)."""
    import io

    data = (root / CHUNKS).read_bytes()
    offsets = [0]
    for line in data.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    buffer = io.BytesIO()
    write_chunk_meta(buffer, read_chunks(root))
    buffer.seek(0)
    return np.asarray(offsets, dtype=np.int64), np.load(buffer)


class ChunkTable:
    """Chunks of a version, parsed from chunks.jsonl only when asked for (memory-mapped, LRU-cached).

    A million-chunk index keeps only small arrays in memory; a search
    materialises just the chunks it returns.
    """

    def __init__(self, root: Path) -> None:
        if (root / CHUNK_OFFSETS).is_file() and (root / CHUNK_META).is_file():
            self._offsets, meta = np.load(root / CHUNK_OFFSETS), np.load(root / CHUNK_META)
        else:
            self._offsets, meta = _legacy_arrays(root)
        self.kinds = meta["kind"]
        self.regions = meta["region"]
        self.region_names = [str(r) for r in meta["region_names"]]
        self.ip_bits = meta["ip_bits"]
        # versions written before texts had a status hold only texts in force
        self.current = meta["current"] if "current" in meta else np.ones(len(self.kinds), dtype=bool)
        self._ids = meta["ids"]
        self._by_id: dict[str, int] | None = None
        self._file = (root / CHUNKS).open("rb")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if self._offsets[-1] else None
        self._cache: OrderedDict[int, Chunk] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> Chunk:
        with self._lock:
            cached = self._cache.get(index)
            if cached is not None:
                self._cache.move_to_end(index)
                return cached
        if self._map is None or not 0 <= index < len(self):
            raise IndexError(index)
        raw = self._map[int(self._offsets[index]) : int(self._offsets[index + 1])]
        chunk = Chunk.model_validate_json(raw)
        with self._lock:
            self._cache[index] = chunk
            if len(self._cache) > 4096:
                self._cache.popitem(last=False)
        return chunk

    def index_of(self, chunk_id: str) -> int | None:
        if self._by_id is None:
            self._by_id = {str(i): n for n, i in enumerate(self._ids)}
        return self._by_id.get(chunk_id)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        self._file.close()
