"""The aiohttp application: one front door for the widget, agents, experts and admins."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from core.settings import Settings
from desk.service import Desk
from gateway import admin, agent, analytics, chat, clusters, desk_routes, health, keys, pages
from gateway.errors import Handler, error_middleware, json_error
from gateway.jobs import JobManager, law_date_watch
from gateway.lookup_client import RemoteLookup
from gateway.metrics import Metrics
from gateway.metrics import routes as metrics_routes
from gateway.openapi import add_viewer_assets, openapi_routes
from gateway.ratelimit import make_limiter
from gateway.security import auth_middleware, headers_middleware
from index.lookup import LocalLookup, Lookup
from index.retriever import Retriever
from index.runtime import make_retriever
from store.db import Database, open_database

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent

#: Paths other sites may call from the browser (the widget); everything else is same-origin only.
PUBLIC_CROSS_ORIGIN = ("/api/chat/",)


def cors_middleware(settings: Settings) -> object:
    allowed = {o.rstrip("/") for o in settings.gateway.allowed_origins}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = (request.headers.get("Origin") or "").rstrip("/")
        cross = bool(origin) and origin != f"{request.scheme}://{request.host}"
        if cross and request.path.startswith(PUBLIC_CROSS_ORIGIN):
            if origin not in allowed and "*" not in allowed:
                return json_error(403, "该网站未被允许嵌入咨询窗口（请管理员把它加入 gateway.allowed_origins）")
            headers = {
                "Access-Control-Allow-Origin": origin,
                "Vary": "Origin",
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600",
            }
            if request.method == "OPTIONS":
                return web.Response(status=204, headers=headers)
            response = await handler(request)
            response.headers.update(headers)
            return response
        return await handler(request)

    return middleware


def make_lookup(settings: Settings, retriever: Retriever | None) -> Lookup:
    """The action server answers lookups (one model per machine) unless a retriever is given or configured."""
    if retriever is not None:
        return LocalLookup(retriever)
    if settings.gateway.lookup == "local":
        return LocalLookup(make_retriever(settings))
    return RemoteLookup(settings)


def create_app(settings: Settings, retriever: Retriever | None = None) -> web.Application:
    app = web.Application(
        client_max_size=4 * 1024 * 1024,
        # CORS outermost: error responses (429, 502 …) carry its headers too, so a widget embedded on
        # another site shows their Chinese message instead of a generic network error
        middlewares=[cors_middleware(settings), error_middleware, headers_middleware, auth_middleware],  # type: ignore[list-item]
    )
    app[keys.SETTINGS] = settings
    app[keys.DB] = Database(
        settings.database_url, settings.database.echo
    )  # migrated by _lifecycle (off the event loop)
    app[keys.LOOKUP] = make_lookup(settings, retriever)
    app[keys.JOBS] = JobManager(settings)
    app[keys.METRICS] = Metrics()
    app[keys.DESK] = Desk(settings, app[keys.DB])
    gateway = settings.gateway
    app[keys.CHAT_LIMITER] = make_limiter(
        gateway.redis_url, gateway.chat_per_minute, gateway.chat_burst, "weiyuan:chat:"
    )
    app[keys.LOGIN_LIMITER] = make_limiter(
        gateway.redis_url, gateway.login_attempts_per_minute, gateway.login_attempts_per_minute, "weiyuan:login:"
    )
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    )
    app.add_routes(chat.routes)
    app.add_routes(agent.routes)
    app.add_routes(admin.routes)
    app.add_routes(pages.routes)
    app.add_routes(health.routes)
    app.add_routes(metrics_routes)
    app.add_routes(desk_routes.routes)
    app.add_routes(openapi_routes)
    app.add_routes(analytics.routes)
    app.add_routes(clusters.routes)
    app[keys.SPEC] = {}
    analytics.add_chart_assets(app)  # before /static, whose prefix it shares
    app.router.add_static("/static", HERE / "static", append_version=False)
    add_viewer_assets(app)
    app.cleanup_ctx.append(_lifecycle)
    app.cleanup_ctx.append(desk_routes.sweeper)
    app.cleanup_ctx.append(desk_routes.retention)
    app.cleanup_ctx.append(chat.redelivery)
    app.cleanup_ctx.append(law_date_watch)
    return app


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    db: Database = app[keys.DB]
    await asyncio.to_thread(open_database, db.url)
    app[keys.HTTP] = aiohttp.ClientSession()
    lookup = app[keys.LOOKUP]
    if isinstance(lookup, LocalLookup):  # load the model and index now, so the first search is fast
        await asyncio.to_thread(_warm, lookup.retriever)
    yield
    await app[keys.HTTP].close()
    for key in (keys.CHAT_LIMITER, keys.LOGIN_LIMITER):
        close = getattr(app[key], "close", None)
        if close is not None:
            await close()


def _warm(retriever: Retriever) -> None:
    try:
        retriever.search("知识产权维权援助", k=1)
    except Exception as exc:
        log.warning("search not ready yet: %s", exc)


class AccessLogger(AbstractAccessLogger):
    """Method, path (never the query string: it carries what callers said), status, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.1fms", request.method, request.path, response.status, time * 1000)


def run(settings: Settings) -> None:
    from core.redact import install

    install(logging.INFO, json_lines=settings.server.log_format == "json", process="gateway")
    web.run_app(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.gateway_port,
        access_log_class=AccessLogger,
        print=None,
    )
