"""The production configuration on the real local PostgreSQL and Redis.

Rasa keeps conversations in PostgreSQL (tracker store) with a Redis lock
store (bot/endpoints.production.yml); tickets, accounts and chat history are
in PostgreSQL; the public chat rate limit is shared through Redis.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import create_engine, select, text

from core.settings import Settings
from gateway.ratelimit import RedisLimiter
from store.db import Database
from store.models import ChatMessage, Ticket
from weiyuan.sandbox import post_json
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
            "gateway": base.gateway.model_copy(update={"redis_url": REDIS}),
            "server": base.server.model_copy(update={"rasa_endpoints": "bot/endpoints.production.yml"}),
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
