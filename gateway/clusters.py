"""Unanswered-question clusters on the analytics page (admin only), and one click from a cluster to a draft entry.

The gateway loads no embedding model: the questions' vectors come from the action server
(``POST /lookup/vectors``, behind its token), which already holds the one copy of the model and
the index, and the nearest entry from its search.  Clusters are computed when an admin opens or
refreshes the panel; nothing but the analytics records is stored.
"""

from __future__ import annotations

import asyncio

import numpy as np
from aiohttp import web

from core.errors import Unavailable, WeiyuanError
from desk.analytics.clusters import (
    ClusterReport,
    NearestEntry,
    build_cluster_report,
    draft_from_questions,
)
from gateway import keys
from gateway.analytics import period_of
from gateway.api import operation, read_body, read_query, reply
from gateway.contracts import ClusterDraftRequest, ClusterDraftResponse, ClustersQuery
from gateway.desk_routes import actor, desk_of
from gateway.lookup_client import RemoteLookup
from gateway.security import require
from index.lookup import LocalLookup, Lookup
from store.audit import audit

routes = web.RouteTableDef()
#: Where the admin reviews drafts (the console opens its "待审条目" tab on this hash).
REVIEW_URL = "/admin#drafts"


def message_vectors(lookup: Lookup, texts: list[str]) -> np.ndarray:
    """The vectors search would use for ``texts``: from the action server, or the in-process retriever in tests."""
    if isinstance(lookup, RemoteLookup):
        return lookup.message_vectors(texts)
    if isinstance(lookup, LocalLookup):
        retriever = lookup.retriever
        return retriever.embedder.embed_queries([retriever.search_text(t) or t for t in texts])
    raise Unavailable("检索服务不可用，无法聚类")


def nearest_entry(lookup: Lookup, text: str) -> NearestEntry | None:
    """The knowledge-base entry the index finds first for ``text`` (its question, and the dense similarity)."""
    result, _ = lookup.search_with_highlight(text, 1, kind="entry")
    if not result.hits:
        return None
    hit = result.hits[0]
    return NearestEntry(id=hit.id, question=hit.title, score=round(float(hit.dense or hit.score), 3))


def _version(lookup: Lookup) -> str | None:
    try:
        return lookup.version
    except WeiyuanError:
        return None


@routes.get("/api/admin/analytics/clusters")
@operation(
    "未答好的问题聚类：列出可能依据、转人工和 👎 的问题按语义分组（规模、趋势、脱敏示例、最接近的现有条目）",
    ClusterReport,
    query=ClustersQuery,
    errors=(503,),
    tag="admin",
)
@require("admin")
async def clusters(request: web.Request) -> web.Response:
    query = read_query(request, ClustersQuery)
    period = period_of(query)
    lookup: Lookup = request.app[keys.LOOKUP]
    report = await asyncio.to_thread(
        build_cluster_report,
        request.app[keys.DB],
        period,
        lambda texts: message_vectors(lookup, texts),
        lambda text: nearest_entry(lookup, text),
        index_version=_version(lookup),
        declined=query.declined,
    )
    return reply(report)


def _create(request: web.Request, ids: list[int]) -> int:
    with request.app[keys.DB].session() as session:
        data = draft_from_questions(session, ids)
    return int(desk_of(request).create_draft(None, actor(request), data))


@routes.post("/api/admin/analytics/clusters/draft")
@operation(
    "把一个问题聚类生成待审草稿条目（回答留空待撰写，经“待审条目”审核后发布）",
    ClusterDraftResponse,
    body=ClusterDraftRequest,
    status=201,
    errors=(404,),
    tag="admin",
)
@require("admin")
async def cluster_draft(request: web.Request) -> web.Response:
    """One click: the cluster's central question, its other questions as variants, an answer to write."""
    data = await read_body(request, ClusterDraftRequest)
    draft_id = await asyncio.to_thread(_create, request, data.question_ids)
    who = actor(request).username
    await asyncio.to_thread(
        audit, request.app[keys.DB], who, "analytics.cluster.draft", "draft", str(draft_id), questions=data.question_ids
    )
    return reply(ClusterDraftResponse(draft=draft_id, review_url=REVIEW_URL), status=201)
