"""Expert desk pages and API: queue with SLA timers, claim, reply into the chat, notes, close, drafts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from core.vocabulary import IP_TYPE_LABELS, REGIONS
from desk.analytics.retention import purge_analytics_text
from desk.retention import purge_personal_data
from desk.service import RESOLUTIONS, Actor, Desk
from gateway import keys
from gateway.api import operation, read_body, read_path, read_query, reply
from gateway.contracts import (
    DraftPath,
    DraftsQuery,
    DraftsResponse,
    HotlineRequest,
    HotlineResponse,
    Ok,
    PublishRequest,
    PublishResponse,
    RejectRequest,
    TicketActionPath,
    TicketActionRequest,
    TicketActionResponse,
    TicketOut,
    TicketPath,
    TicketsQuery,
    TicketsResponse,
)
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
@operation(
    "工单队列：按紧急程度、再按回复时限排序（scope=mine|open|pool|all，可按类型、地区、优先级筛选）",
    TicketsResponse,
    query=TicketsQuery,
    tag="desk",
)
@require("desk")
async def queue(request: web.Request) -> web.Response:
    q = read_query(request, TicketsQuery)
    tickets = await asyncio.to_thread(
        desk_of(request).queue,
        actor(request),
        q.scope,
        ip_type=q.ip_type,
        region=q.region,
        priority=q.priority,
        kind=q.kind,
    )
    return reply(TicketsResponse.model_validate({"tickets": tickets}))


@routes.get("/api/desk/tickets/{number}")
@operation(
    "工单详情：对话记录、机器人检索到的依据与置信度；联系人只对负责的专家和管理员显示（每次查看都记入审计）",
    TicketOut,
    path=TicketPath,
    tag="desk",
)
@require("desk")
async def ticket(request: web.Request) -> web.Response:
    number = read_path(request, TicketPath).number
    return reply(TicketOut.model_validate(await asyncio.to_thread(desk_of(request).detail, number, actor(request))))


def _act(desk: Desk, number: str, action: str, who: Actor, data: TicketActionRequest) -> int | None:
    """Run one ticket action; the draft id when the action creates a knowledge draft."""
    if action == "claim":
        desk.claim(number, who)
    elif action == "reply":
        desk.reply(number, who, data.text or "")
    elif action == "note":
        desk.note(number, who, data.text or "")
    elif action == "hand-back":
        desk.hand_back(number, who)
    elif action == "close":
        desk.close(number, who, data.resolution or "")
    else:  # "draft" (the path model admits no other action)
        return desk.create_draft(number, who, data.model_dump(exclude_none=True))
    return None


@routes.post("/api/desk/tickets/{number}/{action}")
@operation(
    "认领 claim、回复 reply、内部备注 note、交还机器人 hand-back、结案 close、存为知识草稿 draft",
    TicketActionResponse,
    body=TicketActionRequest,
    path=TicketActionPath,
    tag="desk",
)
@require("desk")
async def ticket_action(request: web.Request) -> web.Response:
    where = read_path(request, TicketActionPath)
    data = await read_body(request, TicketActionRequest)
    desk, who = desk_of(request), actor(request)
    draft_id = await asyncio.to_thread(_act, desk, where.number, where.action, who, data)
    if draft_id is not None:
        return reply(TicketActionResponse(draft=draft_id), status=201)
    detail = await asyncio.to_thread(desk.detail, where.number, who)
    return reply(TicketActionResponse(ticket=TicketOut.model_validate(detail)))


@routes.post("/api/desk/hotline")
@operation("坐席为来电人开工单（联系方式须经来电人同意）", HotlineResponse, body=HotlineRequest, status=201, tag="desk")
@require("agent")
async def hotline(request: web.Request) -> web.Response:
    """An agent opens a ticket for a caller (from the lookup page)."""
    data = await read_body(request, HotlineRequest)
    ticket = await asyncio.to_thread(
        desk_of(request).open_hotline_ticket, actor(request), data.model_dump(exclude_none=True)
    )
    return reply(HotlineResponse(number=ticket.number, assigned_expert=ticket.assigned_expert), status=201)


@routes.get("/api/admin/drafts")
@operation("专家回复形成的知识草稿", DraftsResponse, query=DraftsQuery, tag="admin")
@require("admin")
async def drafts(request: web.Request) -> web.Response:
    q = read_query(request, DraftsQuery)
    return reply(DraftsResponse.model_validate({"drafts": await asyncio.to_thread(desk_of(request).drafts, q.status)}))


@routes.post("/api/admin/drafts/{draft_id}/publish")
@operation(
    "发布草稿为知识库条目并增量刷新索引",
    PublishResponse,
    body=PublishRequest,
    path=DraftPath,
    errors=(422,),
    tag="admin",
)
@require("admin")
async def publish(request: web.Request) -> web.Response:
    """Publish a reviewed draft as an entry, then refresh the index incrementally."""
    draft_id = read_path(request, DraftPath).draft_id
    data = await read_body(request, PublishRequest)
    who = actor(request)
    entry_id = await asyncio.to_thread(
        desk_of(request).publish_draft, draft_id, who, data.model_dump(exclude_none=True)
    )
    job = request.app[keys.JOBS].start_refresh(who.username)
    await asyncio.to_thread(
        audit, request.app[keys.DB], who.username, "index.refresh.start", "index", job.id, reason="draft"
    )
    return reply(PublishResponse.model_validate({"entry_id": entry_id, "job": job.snapshot()}))


@routes.post("/api/admin/drafts/{draft_id}/reject")
@operation("退回草稿", Ok, body=RejectRequest, path=DraftPath, tag="admin")
@require("admin")
async def reject(request: web.Request) -> web.Response:
    draft_id = read_path(request, DraftPath).draft_id
    data = await read_body(request, RejectRequest)
    await asyncio.to_thread(desk_of(request).reject_draft, draft_id, actor(request), data.note)
    return reply(Ok())


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
        await asyncio.to_thread(purge_analytics_text, app[keys.DB], settings.privacy.retention_days)

    async with every(settings.privacy.purge_every_hours * 3600, "retention purge", purge):
        yield
