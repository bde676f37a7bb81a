"""Readiness of the gateway (``GET /readyz``, issue 11): ready when the index is loaded and the
database answers; the dialogue service is reported but never makes the gateway unready (messages
are kept while Rasa is down). The real thing under kill -9 is in tests/test_faults.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import create_engine

from core.settings import Settings
from gateway import health, keys
from gateway.app import create_app
from index.builder import build
from index.retriever import Retriever
from weiyuan.sandbox import free_port


async def gateway(settings: Settings, factory: Any, aiohttp_client: Any) -> TestClient[web.Request, web.Application]:
    app = create_app(settings, Retriever(settings, factory))
    if "/readyz" not in [r.resource.canonical for r in app.router.routes() if r.resource is not None]:
        app.add_routes(health.routes)
    client: TestClient[web.Request, web.Application] = await aiohttp_client(app)
    return client


async def test_ready_with_index_and_database_while_rasa_is_down(
    settings: Settings, factory: Any, aiohttp_client: Any
) -> None:
    build(settings, factory, incremental=True)
    settings.server.rasa_port = free_port()  # nothing listens there
    client = await gateway(settings, factory, aiohttp_client)
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 200 and body["ready"] is True
    assert body["checks"]["index"]["ok"] and body["checks"]["index"]["version"]
    assert body["checks"]["database"]["ok"]
    # Rasa is down: reported, but the gateway still takes (and keeps) messages
    assert body["checks"]["dialogue"]["ok"] is False and body["checks"]["dialogue"]["rasa"]["ok"] is False


async def test_dialogue_reported_up_when_rasa_answers(
    settings: Settings, factory: Any, aiohttp_client: Any, aiohttp_server: Any
) -> None:
    build(settings, factory, incremental=True)

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    rasa = web.Application()
    rasa.router.add_get("/", hello)
    settings.server.rasa_port = (await aiohttp_server(rasa)).port
    client = await gateway(settings, factory, aiohttp_client)
    body = await (await client.get("/readyz")).json()
    assert body["ready"] is True and body["checks"]["dialogue"]["ok"] is True


async def test_not_ready_without_an_index(settings: Settings, factory: Any, aiohttp_client: Any) -> None:
    client = await gateway(settings, factory, aiohttp_client)  # nothing built yet
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 503 and body["ready"] is False
    assert "索引" in body["message"] and body["checks"]["index"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


async def test_not_ready_when_the_database_does_not_answer(
    settings: Settings, factory: Any, aiohttp_client: Any
) -> None:
    build(settings, factory, incremental=True)
    client = await gateway(settings, factory, aiohttp_client)
    # the database goes away under the running gateway (a PostgreSQL port where nothing listens)
    client.app[keys.DB].engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone")
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 503 and body["ready"] is False
    assert "数据库" in body["message"] and body["checks"]["database"]["ok"] is False
    assert body["checks"]["index"]["ok"] is True
    assert "postgres" not in str(body["checks"]["database"])  # no connection details leak
