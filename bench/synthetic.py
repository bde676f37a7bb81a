"""Synthetic index versions of 100k and 1M chunks, derived from the real starter index.

No one can embed a million texts on two cores in reasonable time, so the
vectors are synthesised from the real ones: each synthetic vector mixes two
real chunk embeddings (weights 1 and U(0, 0.6)) plus Gaussian noise
(sigma 0.03 per dimension) and is re-normalised, which keeps the clustered,
anisotropic shape of real e5 vectors.  Texts (for BM25) are real chunk texts
sampled with replacement, so lexical postings have realistic lengths.
The version is written with the same code as a real build.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from core.settings import Settings
from index import ann
from index.bm25 import BM25
from index.schema import Chunk
from index.store import MANIFEST, VersionStore, utc_now
from index.versiondata import VersionFiles, read_chunks, write_json


def synthesize(starter: Settings, target: Settings, n: int, seed: int = 0) -> dict[str, float]:
    store = VersionStore(target.index_dir)
    if store.current() is not None:
        manifest = store.manifest(store.current() or "")
        if manifest["counts"]["chunks"] == n:
            return {"reused": 1.0}
    source = VersionFiles(VersionStore(starter.index_dir).path(VersionStore(starter.index_dir).current() or ""))
    chunks = read_chunks(source.root)
    vectors = np.asarray(source.vectors())
    view_chunk = source.view_chunk()
    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    a = rng.integers(0, len(vectors), n)
    b = rng.integers(0, len(vectors), n)
    out = np.empty((n, vectors.shape[1]), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        sl = slice(start, min(n, start + step))
        lam = rng.uniform(0, 0.6, sl.stop - sl.start).astype(np.float32)[:, None]
        block = vectors[a[sl]] + lam * vectors[b[sl]]
        block += 0.03 * rng.standard_normal(block.shape, dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[sl] = block
    timings["vectors"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # BM25 rows are copied from the real chunk each synthetic vector mostly comes from (weights as in
    # the real index), so postings have realistic lengths without tokenising a million texts.
    source_rows = view_chunk[a].astype(np.int64)
    real_bm25 = source.bm25()
    bm25 = BM25(real_bm25.vocab, real_bm25.matrix.tocsr()[source_rows].tocsc())
    synth_chunks: list[Chunk] = [
        chunks[int(row)].model_copy(update={"id": f"synthetic/{i}", "views": chunks[int(row)].views[:1]})
        for i, row in enumerate(source_rows)
    ]
    timings["bm25"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    backend, params = ann.choose_backend(n, ann.Sizing(**target.index.sizing()))
    index = ann.create(backend, out.shape[1], params)
    index.build(out)
    timings["ann_build"] = time.perf_counter() - t0

    version = store.new_version_id()
    with store.staging() as tmp:
        VersionFiles(tmp).write(
            synth_chunks, out, np.arange(n, dtype=np.int32), [f"s{i}" for i in range(n)], index, bm25
        )
        write_json(
            tmp / MANIFEST,
            {
                "format": 1,
                "version": version,
                "created_at": utc_now(),
                "mode": "synthetic",
                "model": source.manifest()["model"],
                "ann": index.describe(),
                "counts": {"chunks": n, "views": n},
                "documents": {},
            },
        )
        store.publish(tmp, version, "build")
    return {k: round(v, 1) for k, v in timings.items()}


def synthetic_settings(root: Path, n: int) -> Settings:
    return Settings(data_dir=root / f"synthetic-{n}")


if __name__ == "__main__":  # python -m bench.synthetic N  (run by search_latency in its own process)
    import sys

    from bench.starter import WORK, starter_settings

    size = int(sys.argv[1])
    print(synthesize(starter_settings(), synthetic_settings(WORK, size), size))
