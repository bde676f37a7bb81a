"""CPU per parsed message of trained Rasa models, as a served Rasa parses (one thread, no debug logs).

Runs in the Rasa virtualenv (Python 3.10), not the app's::

    .venv-rasa/bin/python bench/nlu_parse.py var/rasa/models/weiyuan-*.tar.gz [other.tar.gz ...]

Each model parses the 288 messages of ``eval/nlu_blind_test.yml`` three times after a
warm-up; the median pass is reported (process CPU time, not wall time, so that other
load on the machine matters less). Used to decide the DIET size (docs/dialogue.md).
Results: ``bench/results/nlu_parse.json``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", "1")
os.environ.setdefault("TF_INTER_OP_PARALLELISM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# after the thread settings, which TensorFlow reads on import
from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data
from rasa.utils.log_utils import configure_structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # core/machine.py is standard library only, so it imports here too
from core.machine import cpu_model  # noqa: E402

MESSAGES = ROOT / "eval" / "nlu_blind_test.yml"


def messages(path: Path) -> list[str]:
    """The plain text of every example, read by Rasa's own loader (entity annotations removed)."""
    return [str(example.get("text")) for example in load_data(str(path)).intent_examples]


async def cpu_ms_per_parse(model: str, texts: list[str], passes: int = 3) -> list[float]:
    agent = Agent.load(model)
    for text in texts[:30]:
        await agent.parse_message(text)
    runs = []
    for _ in range(passes):
        started = time.process_time()
        for text in texts:
            await agent.parse_message(text)
        runs.append((time.process_time() - started) / len(texts) * 1000)
    return runs


def main() -> None:
    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    texts = messages(MESSAGES)
    results = []
    for model in sys.argv[1:]:
        runs = asyncio.run(cpu_ms_per_parse(model, texts))
        results.append({"model": model, "messages": len(texts), "runs_ms": runs, "median_ms": statistics.median(runs)})
        print(f"{model}: {statistics.median(runs):.2f} ms of CPU per parsed message (passes {runs})")
    out = ROOT / "bench" / "results" / "nlu_parse.json"
    record = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": cpu_model()}
    out.write_text(json.dumps(record | {"results": results}, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
