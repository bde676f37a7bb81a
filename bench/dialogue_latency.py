"""Turn latency through Rasa's REST channel with the real action server; memory of each process.

A turn is one POST /webhooks/rest/webhook, answered by the Rasa server and (for
questions) the custom action that searches the index.  Single user: 60 turns
one after another.  20 concurrent users: each sends 10 turns.  Memory: VmRSS
and VmHWM (peak) of the Rasa server, the action server and the gateway after
the load.

    python -m bench.dialogue_latency
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.common import ROOT, percentiles, save
from weiyuan.sandbox import RestUser
from weiyuan.sandbox import sandbox_settings as e2e_settings
from weiyuan.stack import full_stack, rasa_model

QUESTIONS = [
    line["query"]
    for split in ("dev", "test")
    for line in map(json.loads, (ROOT / "eval" / f"retrieval_{split}.jsonl").read_text("utf-8").splitlines())
    if "ood" not in line
]
SMALL_TALK = ["你好", "谢谢", "那商标呢？", "需要什么材料？"]


def script(n: int, seed: int) -> list[str]:
    out = []
    for i in range(n):
        out.append(SMALL_TALK[i % len(SMALL_TALK)] if i % 5 == 4 else QUESTIONS[(seed * 37 + i) % len(QUESTIONS)])
    return out


def turns(settings, texts: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    user = RestUser(settings, f"bench-{uuid.uuid4().hex[:10]}")
    out = []
    for text in texts:
        start = time.perf_counter()
        user.say(text)
        out.append((time.perf_counter() - start) * 1000)
    return out


def memory(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            fields[key] = round(int(value.split()[0]) / 1024)
    return {"rss_mb": fields.get("VmRSS", 0), "peak_mb": fields.get("VmHWM", 0)}


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="weiyuan-bench-"))
    settings = e2e_settings(tmp / "var")
    model = rasa_model(settings)
    with full_stack(settings, model) as stack:
        turns(settings, script(10, 99))  # warm-up
        single = turns(settings, script(60, 1))
        results: list[list[float]] = []
        lock = threading.Lock()

        def user(seed: int) -> None:
            measured = turns(settings, script(10, seed))
            with lock:
                results.append(measured)

        threads = [threading.Thread(target=user, args=(seed,)) for seed in range(20)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        concurrent = [t for r in results for t in r]
        mem = {s.name: memory(s.process.pid) for s in stack.services if s.process}
    save(
        "dialogue_latency",
        {
            "command": "python -m bench.dialogue_latency",
            "single_user": percentiles(single),
            "concurrent_20_users": {
                **percentiles(concurrent),
                "turns": len(concurrent),
                "turns_per_second": round(len(concurrent) / wall, 1),
            },
            "memory": mem,
            "median_single_ms": round(statistics.median(single), 1),
        },
    )


if __name__ == "__main__":
    main()
