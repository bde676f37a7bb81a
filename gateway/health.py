"""Readiness of the gateway for load balancers and operators.

``GET /healthz`` (in :mod:`gateway.pages`) says the process is up and which index version it serves.
``GET /readyz`` says whether it can do its job now: the index is loaded and the database answers.
The dialogue service (Rasa, and the action server behind it) is reported but does not make the
gateway unready: while Rasa is down the gateway still takes and keeps every message and relays it
once Rasa is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text

from core.errors import WeiyuanError
from core.settings import Settings
from gateway import keys
from gateway.api import operation, reply
from gateway.contracts import Response
from index.lookup import Lookup
from store.db import Database

routes = web.RouteTableDef()

#: Seconds a probe of Rasa or the action server may take before it counts as failed.
CHECK_TIMEOUT = 1.0
#: Seconds the database gets (a PostgreSQL that has just restarted may take a moment to connect).
DATABASE_TIMEOUT = 3.0
#: Seconds the index gets (the first call after an admin switched versions loads the new one).
INDEX_TIMEOUT = 5.0

NOT_READY = "服务暂时不可用：{what}。请稍后再试；情况紧急可以拨打 12330 知识产权维权援助热线。"
WHAT = {"index": "知识库索引未加载", "database": "数据库无法连接"}


class Check(Response):
    ok: bool
    ms: float
    error: str | None = None


class IndexCheck(Check):
    version: str | None = None
    chunks: int | None = None


class DialogueCheck(Response):
    ok: bool
    rasa: Check
    actions: Check


class ReadyChecks(Response):
    index: IndexCheck
    database: Check
    dialogue: DialogueCheck


class ReadyResponse(Response):
    ready: bool
    message: str | None = None
    checks: ReadyChecks


async def _timed(check: Awaitable[dict[str, Any] | None], timeout: float) -> dict[str, Any]:
    """Run ``check`` with a deadline: ``ok``, how long it took, and why it failed (never raises)."""
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check, timeout)
        result: dict[str, Any] = {"ok": True, **(detail or {})}
    except TimeoutError:
        result = {"ok": False, "error": f"超过 {timeout:g} 秒没有响应"}
    except WeiyuanError as exc:  # our own errors carry a Chinese message
        result = {"ok": False, "error": str(exc)}
    except Exception as exc:  # any other failure is a failed check (never a 500); no details leak
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


async def check_index(lookup: Lookup) -> dict[str, Any]:
    """A version is published (the action server, which serves it, reports under ``dialogue``)."""
    manifest = await asyncio.to_thread(lookup.manifest)
    return {"version": manifest.get("version") or lookup.version, "chunks": manifest.get("counts", {}).get("chunks")}


def _select_one(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


async def check_database(db: Database) -> None:
    await asyncio.to_thread(_select_one, db)


async def _get(http: aiohttp.ClientSession, url: str) -> None:
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT)) as response:
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")


async def check_dialogue(app: web.Application) -> dict[str, Any]:
    """Rasa's liveness (``/``) and the action server's (``/health``, answered once it is warmed up).

    ``ok`` follows Rasa: while Rasa is down the gateway keeps messages for later.
    """
    settings: Settings = app[keys.SETTINGS]
    http: aiohttp.ClientSession = app[keys.HTTP]
    server = settings.server
    actions, *replicas = await asyncio.gather(
        _timed(_get(http, f"http://{server.host}:{server.action_port}/health"), CHECK_TIMEOUT),
        *(_timed(_get(http, f"http://{server.host}:{port}/"), CHECK_TIMEOUT) for port in server.rasa_ports),
    )
    # one Rasa server answering is enough: the gateway fails over to it
    rasa = next((r for r in replicas if r["ok"]), replicas[0])
    return {"ok": rasa["ok"], "rasa": rasa, "actions": actions}


async def actions_alive(app: web.Application) -> bool:
    """Whether the action server answers its health check (within ``CHECK_TIMEOUT``).

    When it is down, Rasa runs the turn anyway and sends back nothing (it logs the failed action
    and carries on): the chat uses this to keep such a message for later instead of telling the
    user that the bot had no answer.
    """
    settings: Settings = app[keys.SETTINGS]
    url = f"http://{settings.server.host}:{settings.server.action_port}/health"
    return bool((await _timed(_get(app[keys.HTTP], url), CHECK_TIMEOUT))["ok"])


@routes.get("/readyz")
@operation(
    "网关可以工作：索引已加载、数据库可用（负载均衡用；对话服务只报告）", ReadyResponse, errors=(503,), tag="service"
)
async def readyz(request: web.Request) -> web.Response:
    """200 when the index is loaded and the database answers; 503 with a Chinese message otherwise."""
    app = request.app
    index, database, dialogue = await asyncio.gather(
        _timed(check_index(app[keys.LOOKUP]), INDEX_TIMEOUT),
        _timed(check_database(app[keys.DB]), DATABASE_TIMEOUT),
        check_dialogue(app),
    )
    checks = ReadyChecks.model_validate({"index": index, "database": database, "dialogue": dialogue})
    failed = [name for name, check in (("index", checks.index), ("database", checks.database)) if not check.ok]
    if failed:
        message = NOT_READY.format(what="、".join(WHAT[name] for name in failed))
        return reply(ReadyResponse(ready=False, message=message, checks=checks), status=503)
    return reply(ReadyResponse(ready=True, checks=checks))
