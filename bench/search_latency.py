"""Search latency (p50/p95, query embedding included) and ANN recall vs exact search.

* starter corpus (the shipped knowledge/), every eval question;
* synthetic 100k and 1M chunk corpora (see bench/synthetic.py), same questions;
* at 1M: recall@10 of the ANN index against exact (flat) search over the same
  vectors for the same query vectors, and the latency ratio.

    python -m bench.search_latency [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

from bench.common import ROOT, peak_rss_mb, percentiles, rss_mb, save
from bench.starter import WORK, ensure_starter, load_model, starter_settings
from bench.synthetic import synthetic_settings
from index.ann import create
from index.retriever import Retriever


def questions() -> list[str]:
    out = []
    for split in ("dev", "test"):
        for line in (ROOT / "eval" / f"retrieval_{split}.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["query"])
    return out


def measure(retriever: Retriever, queries: list[str]) -> dict[str, object]:
    for q in queries[:20]:  # warm-up: caches, first-touch of memory maps
        retriever.search(q, k=10)
    totals, embeds = [], []
    for q in queries:
        start = time.perf_counter()
        result = retriever.search(q, k=10)
        totals.append((time.perf_counter() - start) * 1000)
        embeds.append(result.timings_ms["embed"])
    return {"total": percentiles(totals), "query_embedding": percentiles(embeds)}


def ann_recall(retriever: Retriever, queries: list[str]) -> dict[str, object]:
    loaded = retriever.loaded()
    vectors = np.ascontiguousarray(np.asarray(loaded.vectors), dtype=np.float32)
    qv = retriever.embedder.embed_queries(queries)
    exact = create("flat", vectors.shape[1])
    exact.build(vectors)
    truth, exact_ms = [], []
    for q in qv:
        start = time.perf_counter()
        _, ids = exact.search(q[None, :], 10)
        exact_ms.append((time.perf_counter() - start) * 1000)
        truth.append(ids[0])
    found, ann_ms = [], []
    for q in qv:
        start = time.perf_counter()
        _, ids = loaded.ann.search(q[None, :], 10)
        ann_ms.append((time.perf_counter() - start) * 1000)
        found.append(ids[0])
    recall = float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))
    exact_p50 = percentiles(exact_ms)["p50_ms"]
    ann_p50 = percentiles(ann_ms)["p50_ms"]
    return {
        "backend": loaded.ann.describe(),
        "recall_at_10": round(recall, 4),
        "exact": percentiles(exact_ms),
        "ann": percentiles(ann_ms),
        "speedup_p50": round(exact_p50 / ann_p50, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    queries = questions()
    starter = starter_settings()
    embedder = load_model(starter)
    ensure_starter(starter, embedder)
    report: dict[str, object] = {"command": "python -m bench.search_latency", "queries": len(queries)}
    retriever = Retriever(starter, lambda: embedder)
    report["starter"] = {
        "chunks": len(retriever.loaded().chunks),
        "backend": retriever.loaded().ann.backend,
        **measure(retriever, queries),
    }
    for n in [int(s) for s in args.sizes.split(",") if s]:
        target = synthetic_settings(WORK, n)
        # synthesise in a separate process, so this one's memory is only what serving needs
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.synthetic", str(n)], check=True)
        build_seconds = round(time.perf_counter() - started, 1)
        before = rss_mb()
        retriever = Retriever(target, lambda: embedder)
        retriever.loaded()
        entry: dict[str, object] = {
            "chunks": n,
            "synthesis_seconds_incl_ann_build": build_seconds,
            "index_rss_mb": round(rss_mb() - before),
            **measure(retriever, queries),
        }
        if n >= 1_000_000:
            entry["ann_vs_exact"] = ann_recall(retriever, queries)
        report[f"synthetic_{n}"] = entry
        del retriever
    report["peak_rss_mb_serving_process"] = round(peak_rss_mb())
    save("search_latency", report)


if __name__ == "__main__":
    main()
