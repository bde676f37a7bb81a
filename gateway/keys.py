"""Typed keys for what the application and each request carry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:  # names used in the string type arguments below
    from core.settings import Settings  # noqa: F401
    from desk.accounts import Principal  # noqa: F401
    from gateway.jobs import JobManager  # noqa: F401
    from gateway.metrics import Metrics  # noqa: F401
    from gateway.ratelimit import Limiter  # noqa: F401
    from index.lookup import Lookup  # noqa: F401
    from store.db import Database  # noqa: F401

SETTINGS = web.AppKey["Settings"]("settings")
DB = web.AppKey["Database"]("db")
#: Search and cited passages: the action server's index (or an in-process one in tests).
LOOKUP = web.AppKey["Lookup"]("lookup")
JOBS = web.AppKey["JobManager"]("jobs")
#: This process's Prometheus metrics (gateway/metrics.py).
METRICS = web.AppKey["Metrics"]("metrics")
CHAT_LIMITER = web.AppKey["Limiter"]("chat_limiter")
LOGIN_LIMITER = web.AppKey["Limiter"]("login_limiter")
HTTP = web.AppKey[aiohttp.ClientSession]("http")
#: The expert desk (optional: present once the desk is enabled).
DESK = web.AppKey[Any]("desk")
PRINCIPAL = web.RequestKey["Principal | None"]("principal")
#: The generated OpenAPI document, built on first request (the route table is final by then).
SPEC = web.AppKey[dict[str, str]]("openapi_spec")
