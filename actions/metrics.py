"""Prometheus metrics of the action server: how long each custom action and each lookup takes.

``GET /metrics`` with the installation's metrics token (``Authorization: Bearer …``), like the
gateway's.  The action name is the only label (a fixed vocabulary from the domain).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from core.secrets import metrics_token
from core.settings import Settings

BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)


def add_metrics(app: Any, settings: Settings) -> None:
    from sanic import response

    registry = CollectorRegistry()
    actions = Histogram(
        "weiyuan_action_seconds", "One custom action run for Rasa", ["action"], buckets=BUCKETS, registry=registry
    )
    lookups = Histogram(
        "weiyuan_lookup_seconds",
        "One gateway lookup (agent search, passage)",
        ["kind"],
        buckets=BUCKETS,
        registry=registry,
    )
    failures = Counter("weiyuan_action_failures", "Requests answered with a 5xx", ["path"], registry=registry)
    token = metrics_token(settings)

    @app.on_request  # type: ignore[untyped-decorator]
    async def started(request: Any) -> None:
        request.ctx.started = time.perf_counter()

    @app.on_response  # type: ignore[untyped-decorator]
    async def finished(request: Any, reply: Any) -> None:
        began = getattr(request.ctx, "started", None)
        if began is None:
            return
        seconds = time.perf_counter() - began
        if request.path == "/webhook":
            try:
                name = (request.json or {}).get("next_action")
            except Exception:  # not JSON: rasa-sdk refused it already
                name = None
            actions.labels(str(name or "unknown")).observe(seconds)
        elif request.path.startswith("/lookup/"):
            lookups.labels(request.path.removeprefix("/lookup/")).observe(seconds)
        if reply is not None and reply.status >= 500:
            failures.labels(request.path if request.path in ("/webhook", "/lookup/search") else "other").inc()

    async def metrics(request: Any) -> Any:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given, token):
            return response.text("需要监控令牌", status=401)
        return response.raw(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.add_route(metrics, "/metrics", methods=["GET"])
