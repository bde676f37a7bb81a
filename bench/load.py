"""A busy afternoon: simulated users with think time against the real stack, level by level.

Each simulated user is one conversation: it sends a message (a question from
the evaluation set, now and then small talk or a follow-up), waits for the
reply, thinks for 2-8 s, and goes on until the level's time is up.  Levels run
one after another on one stack (embedded profile: SQLite, local index).

Reported per level: answered turns per second, latency p50/p95/p99, errors,
CPU milliseconds per turn of each process (utime + stime of its process
group, from /proc) and resident memory of each process after the level.

    python -m bench.load                          # 20, 50, 100 users, 60 s each, through Rasa's REST channel
    python -m bench.load --via widget --users 20,50   # through the gateway's widget API (rate limit lifted)
    python -m bench.load --profile production --replicas 2   # PostgreSQL, Redis, two Rasa servers

Then, on the idle stack, the growth check: "你好" as the first turn of a conversation and
again as its 41st, wall time and CPU of all processes (median of ``--growth`` conversations).

Bounded in time (``--seconds`` per level) and in users; loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import tempfile
import threading
import time
import urllib.error
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text

from bench.common import ROOT, save
from core.settings import Settings
from gateway.chat import replica_order
from weiyuan.sandbox import RestUser, free_port, post_json
from weiyuan.sandbox import sandbox_settings as e2e_settings
from weiyuan.stack import Service, full_stack, rasa_model

QUESTIONS = [
    line["query"]
    for split in ("dev", "test")
    for line in map(json.loads, (ROOT / "eval" / f"retrieval_{split}.jsonl").read_text("utf-8").splitlines())
    if "ood" not in line
]
SMALL_TALK = ["你好", "谢谢", "那商标呢？", "需要准备什么材料？", "好的"]
TICK = os.sysconf("SC_CLK_TCK")
#: The production profile's services on loopback (a database is created and dropped per run).
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/3"


def group_pids(leader: int) -> list[int]:
    """Every process in the leader's process group (the supervisor starts each service in its own)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == leader:  # pgrp
            out.append(int(entry.name))
    return out


def cpu_seconds(leader: int) -> float:
    total = 0.0
    for pid in group_pids(leader):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    return total


def cpu_seconds_exact(leader: int) -> float:
    """CPU time of the live threads of a process group to the nanosecond (``schedstat``), for one turn:
    ``/proc/PID/stat`` counts in 10 ms ticks, as coarse as the turn itself."""
    total = 0
    for pid in group_pids(leader):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total / 1e9


def rss_mb(leader: int) -> float:
    total = 0
    for pid in group_pids(leader):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


class User(threading.Thread):
    def __init__(self, send: Any, deadline: float, seed: int, think: tuple[float, float]) -> None:
        super().__init__(daemon=True)
        self.send, self.deadline, self.rng, self.think = send, deadline, random.Random(seed), think
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        time.sleep(self.rng.uniform(0, self.think[1]))  # users arrive spread out, not all at once
        turn = 0
        while time.monotonic() < self.deadline:
            text = self.rng.choice(SMALL_TALK) if turn % 4 == 3 else self.rng.choice(QUESTIONS)
            started = time.perf_counter()
            try:
                if not self.send(text):
                    self.errors += 1
            except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError):
                self.errors += 1
            else:
                self.latencies.append((time.perf_counter() - started) * 1000)
            turn += 1
            time.sleep(self.rng.uniform(*self.think))


def rasa_sender(settings: Any) -> Any:
    def make() -> Any:
        sender = f"load-{uuid.uuid4().hex[:12]}"
        user = RestUser(settings, sender, timeout=60)
        # with replicas, each conversation goes to its own Rasa server, as the gateway sends it
        port = replica_order(settings.server.rasa_ports, sender)[0]
        user.url = user.url.replace(f":{settings.server.rasa_port}/", f":{port}/")
        return lambda text: bool(user.say(text))

    return make


def widget_sender(settings: Any) -> Any:
    base = f"http://{settings.server.host}:{settings.server.gateway_port}"

    def make() -> Any:
        session = post_json(f"{base}/api/chat/start", {})["session"]

        def send(text: str) -> bool:
            body = {"session": session, "text": text, "client_id": uuid.uuid4().hex}
            reply = post_json(f"{base}/api/chat/send", body, timeout=60)
            return any(m["role"] == "bot" for m in reply["messages"])

        return send

    return make


def level(services: list[Service], make: Any, users: int, seconds: float, think: tuple[float, float]) -> dict[str, Any]:
    leaders = {s.name: s.process.pid for s in services if s.process is not None}
    cpu_before = {name: cpu_seconds(pid) for name, pid in leaders.items()}
    deadline = time.monotonic() + seconds
    crowd = [User(make(), deadline, seed, think) for seed in range(users)]
    started = time.monotonic()
    for user in crowd:
        user.start()
    for user in crowd:
        user.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    latencies = [ms for u in crowd for ms in u.latencies]
    errors = sum(u.errors for u in crowd)
    turns = len(latencies)
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in leaders.items()}
    arr = np.asarray(latencies) if latencies else np.asarray([0.0])
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "turns": turns,
        "turns_per_s": round(turns / elapsed, 2),
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p95_ms": round(float(np.percentile(arr, 95)), 1),
        "p99_ms": round(float(np.percentile(arr, 99)), 1),
        "errors": errors,
        "cpu_ms_per_turn": {name: round(1000 * c / max(turns, 1), 1) for name, c in cpu.items()},
        "cpu_ms_per_turn_total": round(1000 * sum(cpu.values()) / max(turns, 1), 1),
        "rss_mb": {name: rss_mb(pid) for name, pid in leaders.items()},
    }


def timed_turn(leaders: dict[str, int], send: Any, text: str) -> tuple[float, dict[str, float]]:
    """Wall milliseconds and CPU milliseconds per process of one turn on an otherwise idle stack."""
    before = {name: cpu_seconds_exact(pid) for name, pid in leaders.items()}
    started = time.perf_counter()
    send(text)
    wall = (time.perf_counter() - started) * 1000
    time.sleep(0.3)  # let work finishing after the reply (tracker save, logs) be counted with this turn
    return wall, {name: 1000 * (cpu_seconds_exact(pid) - before[name]) for name, pid in leaders.items()}


def growth(services: list[Service], make: Any, conversations: int, turns: int) -> dict[str, Any]:
    """Does a turn cost more late in a long conversation?  "你好" as turn 1 and as turn ``turns + 1``."""
    leaders = {s.name: s.process.pid for s in services if s.process is not None}
    rng = random.Random(7)
    first, late = [], []
    for _ in range(conversations):
        send = make()
        first.append(timed_turn(leaders, send, "你好"))
        for _ in range(turns - 1):
            send(rng.choice(QUESTIONS))
        late.append(timed_turn(leaders, send, "你好"))

    def median(values: list[float]) -> float:
        return round(float(np.median(values)), 1)

    med = {
        "first_wall_ms": median([wall for wall, _ in first]),
        "first_cpu_ms": median([sum(cpu.values()) for _, cpu in first]),
        "late_wall_ms": median([wall for wall, _ in late]),
        "late_cpu_ms": median([sum(cpu.values()) for _, cpu in late]),
        "first_cpu_ms_by_process": {name: median([cpu[name] for _, cpu in first]) for name in leaders},
        "late_cpu_ms_by_process": {name: median([cpu[name] for _, cpu in late]) for name in leaders},
    }
    return {"conversations": conversations, "late_turn": turns + 1, **med}


@contextlib.contextmanager
def profile(name: str, data_dir: Path, replicas: int) -> Iterator[Settings]:
    """Embedded (SQLite, local index) or production (a fresh PostgreSQL database, Redis, Rasa replicas)."""
    settings = e2e_settings(data_dir)
    if name == "embedded":
        yield settings
        return
    database = f"weiyuan_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    settings.database.url = f"{PG}/{database}"
    settings.gateway.redis_url = REDIS
    settings.server.rasa_endpoints = "bot/endpoints.production.yml"
    settings.server.rasa_replica_ports = [free_port() for _ in range(replicas - 1)]
    try:
        yield settings
    finally:
        from store import db as store_db

        engine = store_db._engines.pop(settings.database.url, None)
        if engine is not None:
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="20,50,100")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--via", choices=("rasa", "widget"), default="rasa")
    parser.add_argument("--think", default="2,8", help="think time range in seconds")
    parser.add_argument("--profile", choices=("embedded", "production"), default="embedded")
    parser.add_argument("--replicas", type=int, default=1, help="Rasa servers (production profile)")
    parser.add_argument("--warmup", type=float, default=20, help="seconds of 10 users before the levels")
    parser.add_argument(
        "--growth", type=int, default=5, help="conversations of 41 turns for the growth check (0: skip)"
    )
    parser.add_argument(
        "--query-cache",
        action="store_true",
        help="keep the action server's full query-vector cache (by default 8 entries: the question pool repeats, real users do not)",
    )
    args = parser.parse_args()
    think_low, think_high = (float(x) for x in args.think.split(","))
    with tempfile.TemporaryDirectory() as tmp, profile(args.profile, Path(tmp) / "var", args.replicas) as settings:
        settings.gateway.chat_per_minute = settings.gateway.chat_burst = 1_000_000  # measure turns, not the limiter
        if not args.query_cache:
            # the 310 questions repeat within a run, real users' questions do not: keep only the last
            # few query vectors (a turn looks its own question up more than once), so that a question
            # is embedded again when another simulated user asks it later
            settings.retrieval.query_cache_size = 8
        stack = full_stack(settings, rasa_model(settings))
        with stack:
            make = rasa_sender(settings) if args.via == "rasa" else widget_sender(settings)
            # warm-up, not reported: TensorFlow traces its functions and caches fill on the first turns
            level(stack.services, make, 10, args.warmup, (think_low, think_high))
            results = []
            for users in (int(u) for u in args.users.split(",")):
                result = level(stack.services, make, users, args.seconds, (think_low, think_high))
                results.append(result)
                print(json.dumps(result, ensure_ascii=False), flush=True)
            grown = growth(stack.services, make, args.growth, 40) if args.growth else None
            print(json.dumps({"growth": grown}, ensure_ascii=False), flush=True)
    name = f"load_{args.via}" + ("" if args.profile == "embedded" else f"_production_{args.replicas}")
    save(
        name,
        {
            "via": args.via,
            "profile": args.profile,
            "rasa_replicas": args.replicas,
            "think_s": [think_low, think_high],
            "query_cache": args.query_cache,
            "levels": results,
            "growth": grown,
        },
    )


if __name__ == "__main__":
    main()
