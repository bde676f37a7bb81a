"""Hotline agent lookup: search with filters, full article view, public citation pages."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from core.vocabulary import IP_TYPE_LABELS, KIND_LABELS, LAW_STATUS_LABELS
from gateway import keys
from gateway.api import operation, read_query, reply
from gateway.contracts import ChunkQuery, ChunkResponse, CitationOut, HitOut, SearchQuery, SearchResponse
from gateway.errors import ApiError
from gateway.security import require
from index.lookup import Lookup
from index.results import Hit
from index.schema import Chunk, Citation

routes = web.RouteTableDef()


def hit_json(hit: Hit) -> HitOut:
    return HitOut(
        id=hit.id,
        kind=hit.kind,
        kind_label=KIND_LABELS.get(hit.kind, hit.kind),
        title=hit.title,
        heading=hit.heading,
        text=hit.text,
        score=round(hit.score, 6),
        citations=[CitationOut(**c, label=Citation(**c).label()) for c in hit.citations],
        ip_types=hit.ip_types,
        ip_labels=[IP_TYPE_LABELS.get(t, t) for t in hit.ip_types],
        region=hit.region,
        source=hit.source,
        services=hit.services,
        status=hit.status,
        status_label=LAW_STATUS_LABELS.get(hit.status, ""),
    )


def chunk_json(chunk: Chunk) -> ChunkResponse:
    return ChunkResponse(
        id=chunk.id,
        kind=chunk.kind,
        kind_label=KIND_LABELS.get(chunk.kind, chunk.kind),
        title=chunk.title,
        heading=chunk.heading,
        text=chunk.text,
        citations=[CitationOut(**c.model_dump(), label=c.label()) for c in chunk.citations],
        ip_types=chunk.ip_types,
        region=chunk.region,
        source=chunk.source,
        questions=[v.text for v in chunk.views if v.role == "question"],
    )


@routes.get("/api/search")
@operation(
    "坐席检索：来电内容的最佳段落与出处，可按类型、地区、时效筛选", SearchResponse, query=SearchQuery, tag="lookup"
)
@require("agent")
async def search(request: web.Request) -> web.Response:
    """Best passages for what the caller says, with filters (agents, experts, admins)."""
    q = read_query(request, SearchQuery)
    query = q.q.strip()
    if not query:
        raise ApiError(400, "请输入要检索的内容")
    lookup: Lookup = request.app[keys.LOOKUP]
    started = time.perf_counter()
    result, highlight = await asyncio.to_thread(
        lookup.search_with_highlight,
        query[:500],
        q.k,
        kind=q.kind,
        ip_type=q.ip_type,
        region=q.region,
        current_only=q.current_only == "1",
    )
    request.app[keys.METRICS].search_seconds.observe(time.perf_counter() - started)
    return reply(
        SearchResponse(
            query=query,
            confidence=round(result.confidence, 4),
            answerable=result.answerable,
            tier=result.tier,
            version=result.version,
            took_ms=result.timings_ms.get("total"),
            highlight=highlight,
            hits=[hit_json(h) for h in result.hits],
        )
    )


async def lookup_chunk(lookup: Lookup, chunk_id: str | None, law: str | None, article: str | None) -> Chunk:
    chunk = None
    if chunk_id:
        chunk = await asyncio.to_thread(lookup.chunk, chunk_id)
    elif law and article:
        chunk = await asyncio.to_thread(lookup.article, law, article)
    if chunk is None:
        raise ApiError(404, "找不到这条内容（可能已在新版本中删除）")
    return chunk


@routes.get("/api/chunk")
@operation("一条法规条文、知识库条目或案例的全文（公开）", ChunkResponse, query=ChunkQuery, errors=(404,), tag="lookup")
async def get_chunk(request: web.Request) -> web.Response:
    """Full text of an article or entry (public: the knowledge is public, the widget links to it)."""
    q = read_query(request, ChunkQuery)
    return reply(chunk_json(await lookup_chunk(request.app[keys.LOOKUP], q.id, q.law, q.article)))
