"""The production storage configuration on the real local PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from desk.tickets import create_ticket, open_ticket_for
from store.db import Database, schema_is_current
from store.models import Ticket

pytestmark = pytest.mark.postgres

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of this test's own, dropped afterwards."""
    name = f"weiyuan_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        from store import db as store_db

        engine = store_db._engines.pop(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", None)
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_and_tickets_on_postgresql(pg_url: str) -> None:
    db = Database(pg_url)
    assert not schema_is_current(pg_url)
    db.upgrade()
    db.upgrade()  # idempotent
    assert schema_is_current(pg_url)
    ticket = create_ticket(
        db,
        kind="handoff",
        reason="user_request",
        conversation_id="pg-conv",
        transcript=[{"role": "user", "text": "你好"}],
        retrieval={"hits": []},
    )
    assert ticket.number
    with Database(pg_url).session() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored is not None and stored.transcript == [{"role": "user", "text": "你好"}]
    assert open_ticket_for(db, "pg-conv") is not None
