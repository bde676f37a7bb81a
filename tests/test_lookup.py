"""The gateway's lookups through the action server (issue 12): what crosses the wire, and a restart.

The real action server answering a real gateway is in tests/test_e2e_lookup.py and the
browser tests; here the wire format keeps every field a hit carries, and an agent whose
search arrives while the action server restarts gets a Chinese 503, not a 500.
"""

from __future__ import annotations

import json
from typing import Any

from core.settings import Settings
from desk.accounts import create_user
from gateway.app import create_app
from index.builder import build
from index.lookup import LocalLookup, chunk_from_wire, chunk_to_wire, result_from_wire, result_to_wire
from index.retriever import Retriever
from store.db import Database
from tests.test_gateway import PASSWORD, login
from weiyuan.sandbox import free_port


def test_a_search_result_crosses_the_wire_unchanged(settings: Settings, factory: Any) -> None:
    build(settings, factory, incremental=True)
    lookup = LocalLookup(Retriever(settings, factory))
    result, highlight = lookup.search_with_highlight("专利侵权赔偿怎么算", 5, current_only=True)
    assert result.hits and highlight
    again, terms = result_from_wire(json.loads(json.dumps(result_to_wire(result, highlight), ensure_ascii=False)))
    assert again == result and terms == highlight
    chunk = lookup.chunk(result.hits[0].id)
    assert chunk is not None and chunk_from_wire(json.loads(json.dumps(chunk_to_wire(chunk)))) == chunk
    assert chunk_from_wire(chunk_to_wire(None)) is None


async def test_search_while_the_action_server_restarts_is_a_chinese_503(
    settings: Settings, factory: Any, aiohttp_client: Any
) -> None:
    build(settings, factory, incremental=True)
    settings.server.action_port = free_port()  # nothing listens there: the action server is down
    db = Database(settings.database_url)
    db.upgrade()
    create_user(db, "agent1", PASSWORD, "agent")
    client = await aiohttp_client(create_app(settings))  # default: lookups go to the action server
    await login(client, "agent1")
    response = await client.get("/api/search", params={"q": "商标被抢注了怎么办"})
    assert response.status == 503
    assert "检索服务" in (await response.json())["error"]["message"]
    page = await client.get("/kb", params={"id": "entry/patent-damages"})
    assert page.status == 503 and "检索服务" in await page.text()
    home = await client.get("/healthz")  # the gateway itself is alive and knows the published version
    assert home.status == 200 and (await home.json())["index_version"]
