"""CPU and wall time of one conversation turn's commit to a SQLite tracker file, by journal mode.

Rasa's SQL tracker store commits once per turn, inserting the turn's events (about six rows
of JSON).  Rasa opens SQLite in its default rollback-journal mode; ``bot/tracker_cache.py``
switches the file to write-ahead logging, with every commit still synced (``synchronous=FULL``).
This measures what that saves, on the machine's own disk, with the standard library only::

    python -m bench.sqlite_commit            # 300 commits per mode, median of 3 runs

Results: ``bench/results/sqlite_commit.json``.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import median, save

EVENT = json.dumps(
    {
        "event": "user",
        "text": "我在淘宝上发现有人卖我们外观设计的山寨货怎么办",
        "parse_data": {"intent": {"name": "ask", "confidence": 0.9}},
    },
    ensure_ascii=False,
)


def commits(mode: str, folder: Path, count: int = 300) -> tuple[float, float]:
    """CPU and wall milliseconds per commit of six event rows, in journal ``mode``."""
    connection = sqlite3.connect(folder / f"{mode}.db", isolation_level=None)
    connection.execute(f"PRAGMA journal_mode={mode}")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, data TEXT)"
    )
    connection.execute("CREATE INDEX sender ON events (sender_id)")
    cpu, wall = time.process_time(), time.perf_counter()
    for turn in range(count):
        connection.execute("BEGIN")
        for _ in range(6):
            connection.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                (f"conversation-{turn % 50}", "user", time.time(), EVENT),
            )
        connection.execute("COMMIT")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    connection.close()
    return 1000 * cpu / count, 1000 * wall / count


def main() -> None:
    results: dict[str, dict[str, float]] = {}
    for mode in ("delete", "wal"):
        runs = []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(commits(mode, Path(tmp)))
        results[mode] = {
            "cpu_ms": round(median([c for c, _ in runs]), 3),
            "wall_ms": round(median([w for _, w in runs]), 3),
        }
        print(mode, results[mode], flush=True)
    save("sqlite_commit", {"rows_per_commit": 6, "commits": 300, "modes": results})


if __name__ == "__main__":
    main()
