"""Prometheus metrics of one gateway process: what widget users and agents experience.

``GET /metrics`` in Prometheus's text format, for a scraper that sends the installation's
metrics token (``Authorization: Bearer …``; ``weiyuan metrics-token`` prints it).  Every
widget turn passes through the gateway, so the turn latency, the outcome of each turn (answer
tiers, clarifications, hand-overs, declines, forms, silent turns), the retrieval confidence
and the errors users saw are counted here; the queue depth is the number of turns waiting for
Rasa right now and of messages kept for later.  Nothing personal is recorded: labels are
fixed vocabularies, never text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from core.secrets import metrics_token
from core.settings import Settings
from gateway import keys
from gateway.chat import pending_messages

routes = web.RouteTableDef()

#: Turn latency buckets (seconds): the widget's target is well under a second, Rasa's timeout 60 s.
TURN_BUCKETS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
CONFIDENCE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))
OUTCOMES = ("answer", "clarify", "handoff", "out_of_scope", "form", "info", "silent", "other")


class Metrics:
    """One registry per application (tests run several apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.turn_seconds = Histogram(
            "weiyuan_chat_turn_seconds",
            "Widget turn: user message in, bot replies out",
            buckets=TURN_BUCKETS,
            registry=r,
        )
        self.turns = Counter(
            "weiyuan_chat_turns", "Widget turns by outcome and answer tier", ["outcome", "tier"], registry=r
        )
        self.confidence = Histogram(
            "weiyuan_retrieval_confidence",
            "Calibrated confidence of answered turns",
            buckets=CONFIDENCE_BUCKETS,
            registry=r,
        )
        self.errors = Counter("weiyuan_chat_errors", "Turns the user saw fail, by reason", ["reason"], registry=r)
        self.in_flight = Gauge("weiyuan_chat_turns_in_flight", "Turns sent to Rasa and not answered yet", registry=r)
        self.pending = Gauge(
            "weiyuan_chat_pending_messages", "User messages kept while the bot was down (last 24 h)", registry=r
        )
        self.search_seconds = Histogram(
            "weiyuan_agent_search_seconds", "Agent search through the action server", buckets=TURN_BUCKETS, registry=r
        )

    def observe_turn(self, seconds: float, replies: list[dict[str, Any]]) -> None:
        """Count one answered turn by what its main bot message was."""
        self.turn_seconds.observe(seconds)
        metas = [r.get("meta") or {} for r in replies]
        main = next((m for m in metas if m.get("type") in OUTCOMES), {})
        outcome = "silent" if main.get("silent_turn") else str(main.get("type") or "other")
        tier = str(main.get("tier") or "") if outcome == "answer" else ""
        self.turns.labels(outcome if outcome in OUTCOMES else "other", tier).inc()
        confidence = main.get("confidence")
        if outcome == "answer" and isinstance(confidence, int | float):
            self.confidence.observe(float(confidence))


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format; 401 without the metrics token (the counts describe the service's use)."""
    settings: Settings = request.app[keys.SETTINGS]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given, metrics_token(settings)):
        raise web.HTTPUnauthorized(text="需要监控令牌（Authorization: Bearer …）")
    board: Metrics = request.app[keys.METRICS]
    # the database down: the gauge keeps its last value, the scrape still works
    with contextlib.suppress(Exception):
        board.pending.set(len(await asyncio.to_thread(pending_messages, request.app[keys.DB])))
    body = generate_latest(board.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
