"""Build throughput vs raw encoder throughput on the same texts (goal: build >= 90% of raw).

Raw: sentence-transformers ``encode`` over every view text of the starter corpus
(same prompts, same batch size).  Build: a full ``weiyuan index build`` of the same
corpus (validate, chunk, embed, FAISS + BM25, write, fsync, switch), model already
loaded.  Both run twice, alternating; medians are reported.

    python -m bench.build_throughput
"""

from __future__ import annotations

import time

from bench.common import median, peak_rss_mb, save
from bench.starter import load_model, starter_settings
from index.builder import build
from index.chunker import chunk_corpus
from index.loader import load_corpus


def main() -> None:
    settings = starter_settings("build")
    embedder = load_model(settings)
    model = embedder._model  # type: ignore[attr-defined]
    views = [v for c in chunk_corpus(load_corpus(settings.knowledge_dir)) for v in c.views]
    questions = [v.text for v in views if v.role == "question"]
    passages = [v.text for v in views if v.role == "passage"]
    batch = settings.embedding.batch_size
    raw, full = [], []
    for _ in range(2):
        start = time.perf_counter()
        model.encode(questions, prompt=settings.embedding.query_prompt, batch_size=batch)
        model.encode(passages, prompt=settings.embedding.passage_prompt, batch_size=batch)
        raw.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = build(settings, lambda: embedder, incremental=False)
        full.append(time.perf_counter() - start)
    n = len(views)
    save(
        "build_throughput",
        {
            "command": "python -m bench.build_throughput",
            "views": n,
            "chunks": result.chunks,
            "raw_encoder_seconds": [round(x, 2) for x in raw],
            "build_seconds": [round(x, 2) for x in full],
            "raw_views_per_s": round(n / median(raw), 1),
            "build_views_per_s": round(n / median(full), 1),
            "build_vs_raw": round(median(raw) / median(full), 3),
            "last_build_breakdown_s": {k: round(v, 2) for k, v in result.seconds.items()},
            "peak_rss_mb": round(peak_rss_mb()),
        },
    )


if __name__ == "__main__":
    main()
