"""HNSW efSearch sweep on the synthetic 1M index: recall@10 vs exact search, and latency.

python -m bench.ef_sweep      (after `python -m bench.search_latency` has built the 1M index)
"""

from __future__ import annotations

import time

import numpy as np

from bench.common import percentiles, save
from bench.search_latency import questions
from bench.starter import WORK, load_model, starter_settings
from bench.synthetic import synthetic_settings
from index.store import VersionStore
from index.versiondata import VersionFiles


def main() -> None:
    target = synthetic_settings(WORK, 1_000_000)
    store = VersionStore(target.index_dir)
    files = VersionFiles(store.path(store.current() or ""))
    vectors = np.ascontiguousarray(np.asarray(files.vectors()), dtype=np.float32)
    index = files.ann_index()
    embedder = load_model(starter_settings())
    qv = embedder.embed_queries(questions())
    truth = np.argsort(-(qv @ vectors.T), axis=1)[:, :10]
    rows = []
    for ef in (96, 128, 192, 256, 384, 512, 768):
        index.params["ef_search"] = ef
        found, ms = [], []
        for q in qv:
            start = time.perf_counter()
            _, ids = index.search(q[None, :], 10)
            ms.append((time.perf_counter() - start) * 1000)
            found.append(ids[0])
        recall = float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))
        rows.append({"ef_search": ef, "recall_at_10": round(recall, 4), **percentiles(ms)})
        print(rows[-1], flush=True)
    save("ef_sweep", {"command": "python -m bench.ef_sweep", "chunks": 1_000_000, "rows": rows})


if __name__ == "__main__":
    main()
