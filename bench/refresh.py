"""Incremental refresh after editing one knowledge-base entry (goal <= 3 s excluding model load).

A copy of knowledge/ is indexed once; then five times an entry's answer is
edited and ``refresh`` runs with the model already loaded.

    python -m bench.refresh
"""

from __future__ import annotations

import re
import shutil
import time

from bench.common import median, peak_rss_mb, save
from bench.starter import WORK, load_model, starter_settings
from index.builder import build


def main() -> None:
    knowledge = WORK / "refresh-knowledge"
    if knowledge.exists():
        shutil.rmtree(knowledge)
    shutil.copytree(starter_settings().knowledge_dir, knowledge)
    settings = starter_settings("refresh", knowledge)
    embedder = load_model(settings)
    build(settings, lambda: embedder, incremental=True)
    target = sorted((knowledge / "entries").glob("*.yaml"))[0]
    times, results = [], []
    for i in range(5):
        text = target.read_text("utf-8")
        text = re.sub(r"(\n    answer: [|>]-?\n      )", rf"\1（修订 {i}）", text, count=1)
        target.write_text(text, "utf-8")
        start = time.perf_counter()
        result = build(settings, lambda: embedder, incremental=True)
        times.append(time.perf_counter() - start)
        results.append(result)
    last = results[-1]
    save(
        "refresh",
        {
            "command": "python -m bench.refresh",
            "chunks": last.chunks,
            "views": last.views,
            "seconds": [round(t, 3) for t in times],
            "median_seconds": round(median(times), 3),
            "embedded_views_per_refresh": [r.embedded for r in results],
            "changed": [r.changed for r in results],
            "breakdown_s": {k: round(v, 3) for k, v in last.seconds.items()},
            "peak_rss_mb": round(peak_rss_mb()),
        },
    )


if __name__ == "__main__":
    main()
