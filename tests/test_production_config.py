"""The production configuration on the real local PostgreSQL and Redis.

Rasa keeps conversations in PostgreSQL (tracker store) with a Redis lock
store (bot/endpoints.production.yml); tickets, accounts and chat history are
in PostgreSQL; the public chat rate limit is shared through Redis.  Two Rasa
servers (replicas) serve the widget; kill -9 of one under load loses nothing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, select, text

from core.settings import Settings
from gateway.ratelimit import RedisLimiter
from store.db import Database
from store.models import ChatMessage, Ticket
from weiyuan.sandbox import free_port, post_json
from weiyuan.sandbox import sandbox_settings as e2e_settings
from weiyuan.stack import full_stack, rasa_model

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/2"


async def test_redis_rate_limit_is_shared_between_gateways() -> None:
    prefix = f"weiyuan:test:{uuid.uuid4().hex[:8]}:"
    first, second = RedisLimiter(REDIS, 60, 3, prefix), RedisLimiter(REDIS, 60, 3, prefix)
    results = [
        await first.allow("1.2.3.4"),
        await second.allow("1.2.3.4"),
        await first.allow("1.2.3.4"),
        await second.allow("1.2.3.4"),
    ]
    assert results == [True, True, True, False]  # the fourth request is refused whichever process gets it
    assert not await second.peek("1.2.3.4") and await second.peek("9.9.9.9")  # looking takes nothing
    assert await first.allow("5.6.7.8")  # other clients are not affected
    await first.close()
    await second.close()


@pytest.fixture(scope="module")
def production(shipped_index: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    name = f"weiyuan_prod_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = e2e_settings(tmp_path_factory.mktemp("prod") / "var")
    settings = base.model_copy(
        update={
            "database": base.database.model_copy(update={"url": f"{PG}/{name}"}),
            # the widget users of the kill test all come from 127.0.0.1: lift the per-client limit
            "gateway": base.gateway.model_copy(
                update={"redis_url": REDIS, "chat_per_minute": 10_000, "chat_burst": 10_000}
            ),
            "server": base.server.model_copy(
                update={"rasa_endpoints": "bot/endpoints.production.yml", "rasa_replica_ports": [free_port()]}
            ),
        }
    )
    # Rasa's tracker and lock stores are derived from these settings (weiyuan/stack.py), nothing else is set
    try:
        with full_stack(settings, rasa_model(settings)):
            yield settings
    finally:
        from store import db as store_db

        engine = store_db._engines.pop(settings.database.url, None)
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        redis.Redis.from_url(REDIS).flushdb()


def test_conversation_and_hand_off_are_stored_in_postgresql(production: Settings) -> None:
    base = f"http://{production.server.host}:{production.server.gateway_port}"
    session = post_json(f"{base}/api/chat/start", {})["session"]
    answered = post_json(f"{base}/api/chat/send", {"session": session, "text": "商标被抢注了怎么办"})
    assert any(m["meta"].get("type") in ("answer", "handoff") for m in answered["messages"])
    handed = post_json(f"{base}/api/chat/send", {"session": session, "text": "/request_human", "display": "转人工"})
    assert any(m["meta"].get("type") == "handoff" for m in handed["messages"])
    db = Database(production.database.url)
    with db.session() as s:
        (ticket,) = s.scalars(select(Ticket).where(Ticket.conversation_id == session))
        assert ticket.number and ticket.assigned_expert and ticket.bot_paused
        assert s.query(ChatMessage).filter_by(conversation_id=session).count() >= 4
        # Rasa's tracker store wrote this conversation's events into the same PostgreSQL database
        events = s.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": session}).scalar()
        assert events and events > 0


def replica_group(settings: Settings, port: int) -> int:
    """The process group of the Rasa server listening on ``port`` (the supervisor starts each in its own)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"run_rasa.py") for part in command) and str(port).encode() in command:
            return os.getpgid(int(entry.name))
    raise AssertionError(f"no Rasa server on port {port}")


class WidgetUser(threading.Thread):
    """One conversation through the gateway's widget API, a message every 0.3-1 s until told to stop."""

    QUESTIONS = ("商标被抢注了怎么办", "专利侵权怎么起诉", "网店卖假货怎么投诉", "软件著作权怎么登记", "你好", "谢谢")

    def __init__(self, base: str, seed: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.rng, self.stop = base, random.Random(seed), stop
        self.session = post_json(f"{base}/api/chat/start", {})["session"]
        self.sent: list[str] = []
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            text = f"{self.rng.choice(self.QUESTIONS)}（{len(self.sent) + 1}）"
            try:
                reply = post_json(f"{self.base}/api/chat/send", {"session": self.session, "text": text}, timeout=90)
                if not any(m["role"] == "bot" for m in reply["messages"]):
                    self.failures.append(f"no reply to {text}")
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                self.failures.append(f"{text}: {exc}")
            self.sent.append(text)
            time.sleep(self.rng.uniform(0.3, 1.0))

    def history(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.base}/api/chat/history?session={self.session}&after=0", timeout=30) as r:
            return list(json.loads(r.read())["messages"])


def test_kill_9_of_one_rasa_replica_under_load_loses_no_message(production: Settings) -> None:
    base = f"http://{production.server.host}:{production.server.gateway_port}"
    stop = threading.Event()
    users = [WidgetUser(base, seed, stop) for seed in range(8)]
    for user in users:
        user.start()
    time.sleep(6)
    before = sum(len(u.sent) for u in users)
    victim = production.server.rasa_ports[0]
    os.killpg(replica_group(production, victim), signal.SIGKILL)  # mid-turn for some of the users
    time.sleep(10)  # the other replica carries every conversation meanwhile
    stop.set()
    for user in users:
        user.join(timeout=120)
    sent = sum(len(u.sent) for u in users)
    assert sent > before + 8, "users kept talking after the kill"
    assert [f for u in users for f in u.failures] == []  # every message was answered at once
    for user in users:
        history = user.history()
        said = [m["text"] for m in history if m["role"] == "user"]
        assert said == user.sent  # each message stored once, in order
        assert not any(m["meta"].get("pending") for m in history if m["role"] == "user")
        # every user message is followed by a bot reply before the next user message
        roles = [m["role"] for m in history]
        assert all(roles[i + 1] == "bot" for i, role in enumerate(roles) if role == "user")
