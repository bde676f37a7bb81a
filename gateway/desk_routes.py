"""Expert desk pages and API: queue with SLA timers, claim, reply into the chat, notes, close, drafts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from core.vocabulary import IP_TYPE_LABELS, REGIONS
from desk.retention import purge_personal_data
from desk.service import RESOLUTIONS, Actor, Desk
from gateway import keys
from gateway.errors import ApiError, json_object
from gateway.openapi import register
from gateway.pages import context
from gateway.periodic import every
from gateway.security import current, require
from store.audit import audit

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def actor(request: web.Request) -> Actor:
    principal = current(request)
    assert principal is not None
    return Actor(principal.username, principal.display_name, principal.role, principal.expert_id)


def desk_of(request: web.Request) -> Desk:
    desk: Desk = request.app[keys.DESK]
    return desk


@routes.get("/desk")
@require("desk")
@aiohttp_jinja2.template("desk.html")
async def desk_page(request: web.Request) -> dict[str, Any]:
    return context(
        request, ip_types=list(IP_TYPE_LABELS.items()), regions=REGIONS, resolutions=list(RESOLUTIONS.items())
    )


@routes.get("/desk/new")
@require("agent")
@aiohttp_jinja2.template("desk_new.html")
async def new_ticket_page(request: web.Request) -> dict[str, Any]:
    return context(
        request, ip_types=list(IP_TYPE_LABELS.items()), regions=REGIONS, query=request.query.get("query", "")[:500]
    )


@routes.get("/api/desk/tickets")
@require("desk")
async def queue(request: web.Request) -> web.Response:
    q = request.query
    tickets = desk_of(request).queue(
        actor(request),
        q.get("scope", "mine"),
        ip_type=q.get("ip_type"),
        region=q.get("region"),
        priority=q.get("priority"),
        kind=q.get("kind"),
    )
    return web.json_response({"tickets": tickets})


@routes.get("/api/desk/tickets/{number}")
@require("desk")
async def ticket(request: web.Request) -> web.Response:
    return web.json_response(desk_of(request).detail(request.match_info["number"], actor(request)))


@routes.post("/api/desk/tickets/{number}/{action}")
@require("desk")
async def ticket_action(request: web.Request) -> web.Response:
    number, action = request.match_info["number"], request.match_info["action"]
    data = await json_object(request)
    desk, who = desk_of(request), actor(request)
    if action == "claim":
        desk.claim(number, who)
    elif action == "reply":
        desk.reply(number, who, str(data.get("text", "")))
    elif action == "note":
        desk.note(number, who, str(data.get("text", "")))
    elif action == "hand-back":
        desk.hand_back(number, who)
    elif action == "close":
        desk.close(number, who, str(data.get("resolution", "")))
    elif action == "draft":
        draft_id = desk.create_draft(number, who, data)
        return web.json_response({"ok": True, "draft": draft_id}, status=201)
    else:
        raise ApiError(404)
    return web.json_response({"ok": True, "ticket": desk.detail(number, who)})


@routes.post("/api/desk/hotline")
@require("agent")
async def hotline(request: web.Request) -> web.Response:
    """An agent opens a ticket for a caller (from the lookup page)."""
    ticket = desk_of(request).open_hotline_ticket(actor(request), await json_object(request))
    return web.json_response(
        {"ok": True, "number": ticket.number, "assigned_expert": ticket.assigned_expert}, status=201
    )


@routes.get("/api/admin/drafts")
@require("admin")
async def drafts(request: web.Request) -> web.Response:
    return web.json_response({"drafts": desk_of(request).drafts(request.query.get("status", "draft"))})


@routes.post("/api/admin/drafts/{draft_id}/publish")
@require("admin")
async def publish(request: web.Request) -> web.Response:
    """Publish a reviewed draft as an entry, then refresh the index incrementally."""
    data = await json_object(request)
    entry_id = desk_of(request).publish_draft(int(request.match_info["draft_id"]), actor(request), data)
    job = request.app[keys.JOBS].start_refresh(actor(request).username)
    audit(request.app[keys.DB], actor(request).username, "index.refresh.start", "index", job.id, reason="draft")
    return web.json_response({"ok": True, "entry_id": entry_id, "job": job.snapshot()})


@routes.post("/api/admin/drafts/{draft_id}/reject")
@require("admin")
async def reject(request: web.Request) -> web.Response:
    data = await json_object(request)
    desk_of(request).reject_draft(int(request.match_info["draft_id"]), actor(request), str(data.get("note", "")))
    return web.json_response({"ok": True})


async def sweeper(app: web.Application) -> AsyncIterator[None]:
    """Route waiting tickets and re-route unclaimed ones, every few seconds."""
    desk: Desk = app[keys.DESK]

    async def sweep() -> None:
        moved = await asyncio.to_thread(desk.sweep)
        if any(moved.values()):
            log.info("desk sweep: %s", moved)

    async with every(app[keys.SETTINGS].desk.sweep_seconds, "desk sweep", sweep):
        yield


async def retention(app: web.Application) -> AsyncIterator[None]:
    """Remove personal data past the retention time (privacy.retention_days), every few hours."""
    settings = app[keys.SETTINGS]

    async def purge() -> None:
        await asyncio.to_thread(
            purge_personal_data,
            app[keys.DB],
            settings.privacy.retention_days,
            tracker_url=settings.tracker_store_url,
        )

    async with every(settings.privacy.purge_every_hours * 3600, "retention purge", purge):
        yield


for _path, _method, _summary in [
    ("/api/desk/tickets", "get", "工单队列（专家、管理员；scope=mine|open|pool|all，可按类型、地区、优先级筛选）"),
    ("/api/desk/tickets/{number}", "get", "工单详情：对话记录、机器人检索到的依据与置信度、联系人"),
    (
        "/api/desk/tickets/{number}/{action}",
        "post",
        "认领 claim、回复 reply、内部备注 note、交还机器人 hand-back、结案 close、存为知识草稿 draft",
    ),
    ("/api/desk/hotline", "post", "坐席为来电人开工单"),
    ("/api/admin/drafts", "get", "待审核的知识草稿（管理员）"),
    ("/api/admin/drafts/{draft_id}/publish", "post", "发布草稿为知识库条目并增量刷新索引（管理员）"),
    ("/api/admin/drafts/{draft_id}/reject", "post", "退回草稿（管理员）"),
]:
    register(
        _path,
        _method,
        {
            "summary": _summary,
            "security": [{"cookieAuth": []}],
            "responses": {
                "200": {"description": "成功"},
                "401": {"description": "未登录"},
                "403": {"description": "无权限"},
            },
        },
    )
