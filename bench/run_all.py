"""Run every benchmark, each in its own process (so peak memory is per benchmark).

python -m bench.run_all        # or: make bench
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    "bench.build_throughput",
    "bench.refresh",
    "bench.search_latency",
    "bench.ef_sweep",
    "bench.dialogue_latency",
]


def main() -> None:
    for name in BENCHMARKS:
        print(f"==> {name}", flush=True)
        subprocess.run([sys.executable, "-m", name], check=True)


if __name__ == "__main__":
    main()
