"""Fuzz every public and staff endpoint from the generated OpenAPI document (schemathesis).

A real gateway serves on a loopback port (fixture corpus, instant hashing
embedder, a small stand-in for Rasa's REST channel that answers every
message); schemathesis generates requests from the document, valid and
invalid, and checks each answer: never a 5xx, never a stack trace, the
status code and the body are the ones the document promises.  Staff
endpoints are called signed in as an admin, with the CSRF token.  After
the run nothing is half-written: the knowledge base still loads, the
database passes its integrity check and the serving index still answers.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from core.settings import EmbeddingSettings, Settings
from desk.accounts import create_user, list_users
from gateway.api import build_spec
from gateway.app import create_app
from index.builder import build
from index.embedder import HashingEmbedder
from index.loader import load_corpus
from index.retriever import Retriever
from store.db import Database
from tests.conftest import FIXTURES
from weiyuan.sandbox import free_port

PASSWORD = "correct horse battery"


class Server:
    """The gateway and a Rasa stand-in on their own event loop in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.runners: list[web.AppRunner] = []
        self.app: web.Application | None = None

    async def _start(self) -> None:
        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            return web.json_response(
                [
                    {
                        "recipient_id": body["sender"],
                        "text": "收到",
                        "buttons": [{"title": "转人工", "payload": "/request_human"}],
                    },
                    {"recipient_id": body["sender"], "custom": {"type": "info"}},
                ]
            )

        rasa = web.Application()
        rasa.router.add_post("/webhooks/rest/webhook", webhook)
        self.app = create_app(self.settings, Retriever(self.settings, HashingEmbedder))
        for app, port in ((rasa, self.settings.server.rasa_port), (self.app, self.settings.server.gateway_port)):
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            self.runners.append(runner)

    def __enter__(self) -> Server:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self._start())
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        assert ready.wait(60)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            for runner in reversed(self.runners):
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, requests.Session]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(FIXTURES / "knowledge_small", tmp / "knowledge")
    settings = Settings(
        knowledge_dir=tmp / "knowledge", data_dir=tmp / "var", embedding=EmbeddingSettings(model="hashing")
    )
    settings.server.gateway_port, settings.server.rasa_port = free_port(), free_port()
    settings.gateway.chat_per_minute = settings.gateway.chat_burst = 100_000  # exercise the handlers, not the limiter
    build(settings, HashingEmbedder, incremental=True)
    db = Database(settings.database_url)
    db.upgrade()
    create_user(db, "admin1", PASSWORD, "admin")
    base = f"http://127.0.0.1:{settings.server.gateway_port}"
    with Server(settings) as server:
        session = requests.Session()
        page = session.get(f"{base}/login", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        home = session.post(
            f"{base}/login",
            data={"username": "admin1", "password": PASSWORD, "csrf_token": token[1], "next": "/admin"},
            timeout=30,
        )
        csrf = re.search(r'<meta name="csrf-token" content="([^"]*)"', home.text)
        assert csrf and csrf[1]
        session.headers["X-CSRF-Token"] = csrf[1]
        yield server, base, session


def _document() -> dict[str, Any]:
    """The document as the route table makes it (no server needed to list the operations)."""
    with tempfile.TemporaryDirectory() as tmp:
        return build_spec(create_app(Settings(data_dir=Path(tmp) / "var")))


SCHEMA = schemathesis.openapi.from_dict(_document())
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
#: Operations whose input is checked beyond what the document can say (they answer 400/422 in Chinese).
CHECKED_BEYOND_THE_SCHEMA = {
    "PUT /api/admin/knowledge/file",  # the content must keep the whole corpus valid
    "POST /api/desk/hotline",  # at least 5 characters after trimming, a valid phone if one is given
    "POST /api/desk/tickets/{number}/{action}",  # reply and note need text, close needs a resolution
    "GET /api/admin/analytics",  # dates from 2000 to 2099, the start not after the end, at most 400 days
    "GET /api/admin/analytics/export.csv",  # the same range
    "GET /api/admin/analytics/clusters",  # the same range
    "POST /api/admin/analytics/clusters/draft",  # the question records must exist and still have their text
    "POST /api/chat/feedback",  # only an answer the bot gave in that conversation can be rated
}
TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_request_breaks_the_gateway(label: str, gateway: tuple[Server, str, requests.Session]) -> None:
    _, base, session = gateway

    @given(case=OPERATIONS[label].as_strategy())
    @settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        # the document declares the session cookie, so schemathesis would send a made-up one: use the real one
        case.cookies = {**(case.cookies or {}), "weiyuan_session": session.cookies["weiyuan_session"]}
        response = case.call(base_url=base, session=session, timeout=60)
        where = f"{case.method} {case.formatted_path}"
        assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
        assert not TRACE.search(response.text), f"{where}: a stack trace reached the client"
        if response.status_code >= 400 and "json" in response.headers.get("Content-Type", ""):
            message = response.json()["error"]["message"]
            assert re.search(r"[\u4e00-\u9fff]", message), f"{where}: error message not in Chinese: {message}"
        # status codes, content types and bodies as documented; a schema-valid request is accepted unless
        # its meaning is checked beyond the schema (a knowledge file's content, a ticket action's text)
        excluded = [checks.positive_data_acceptance] if label in CHECKED_BEYOND_THE_SCHEMA else []
        case.validate_response(response, excluded_checks=excluded)

    check()


def test_nothing_is_half_written_after_the_fuzzing(gateway: tuple[Server, str, requests.Session]) -> None:
    server, base, session = gateway
    settings_ = server.settings
    corpus = load_corpus(settings_.knowledge_dir)  # raises with file and line if a file was left broken
    assert corpus.entries
    with sqlite3.connect(Path(settings_.data_dir) / "weiyuan.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    found = session.get(f"{base}/api/search", params={"q": "专利侵权"}, timeout=30)
    assert found.status_code == 200 and found.json()["hits"]
    assert session.get(f"{base}/healthz", timeout=30).json()["ok"]
    # the staff endpoints were reached signed in (accounts created by generated requests), not only refused
    assert len(list_users(Database(settings_.database_url))) > 1
