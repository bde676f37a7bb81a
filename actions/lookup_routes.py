"""The gateway's lookups (agent search, cited passages), answered from the action server's index.

The action server already holds the embedding model and the serving index for the
dialogue; answering the gateway from the same copy keeps one copy per machine.  The
routes sit behind the action server's token (``require_token``), like ``/webhook``.
Searches run in worker threads so a slow one never stalls the actions' event loop.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import numpy as np

from core.errors import WeiyuanError
from index.lookup import LocalLookup, chunk_to_wire, result_to_wire
from index.retriever import Retriever

#: The gateway asks for at most this many hits (its own contract caps the agent's ``k``).
MAX_K = 50
#: Texts embedded per ``/lookup/vectors`` call (the gateway sends more in several calls), and their length.
MAX_TEXTS = 256
MAX_TEXT_CHARS = 1000


def message_vectors(retriever: Retriever, texts: list[str]) -> dict[str, Any]:
    """The query vectors search uses for these texts, embedded in one batch (for clustering questions).

    Sent as little-endian float32 in base64: exact, and a third of the size of JSON numbers.
    """
    prepared = [retriever.search_text(t) or t for t in texts]
    matrix = np.ascontiguousarray(retriever.embedder.embed_queries(prepared), dtype="<f4")
    return {
        "count": int(matrix.shape[0]),
        "dim": int(matrix.shape[1]),
        "vectors": base64.b64encode(matrix.tobytes()).decode("ascii"),
        "model": retriever.embedder.fingerprint,
    }


def _flag(value: str | None) -> bool:
    return value in ("1", "true")


def add_lookup_routes(app: Any, retriever: Retriever) -> None:
    from sanic import response

    lookup = LocalLookup(retriever)

    def bad(message: str) -> Any:
        return response.json({"message": message}, status=400)

    async def search(request: Any) -> Any:
        args = request.args
        query = (args.get("q") or "").strip()
        try:
            k = int(args.get("k") or 5)
        except ValueError:
            return bad("k 必须是整数")
        if not query or not 1 <= k <= MAX_K:
            return bad("请输入要检索的内容（k 在 1 到 50 之间）")
        try:
            result, highlight = await asyncio.to_thread(
                lookup.search_with_highlight,
                query,
                k,
                kind=args.get("kind"),
                ip_type=args.get("ip_type"),
                region=args.get("region"),
                current_only=_flag(args.get("current_only")),
            )
        except WeiyuanError as exc:
            return bad(str(exc))
        return response.json(result_to_wire(result, highlight), ensure_ascii=False)

    async def chunk(request: Any) -> Any:
        args = request.args
        chunk_id, law, article = args.get("id"), args.get("law"), args.get("article")
        if chunk_id:
            found = await asyncio.to_thread(lookup.chunk, chunk_id)
        elif law and article:
            found = await asyncio.to_thread(lookup.article, law, article)
        else:
            return bad("需要 id，或 law 和 article")
        return response.json(chunk_to_wire(found), ensure_ascii=False)

    async def vectors(request: Any) -> Any:
        """Vectors of the admin's unanswered questions: the gateway clusters them without a model of its own."""
        try:
            body = request.json
        except Exception:  # not JSON
            body = None
        texts = body.get("texts") if isinstance(body, dict) else None
        if (
            not isinstance(texts, list)
            or not 1 <= len(texts) <= MAX_TEXTS
            or not all(isinstance(t, str) and t.strip() and len(t) <= MAX_TEXT_CHARS for t in texts)
        ):
            return bad(f"texts 应为 1 到 {MAX_TEXTS} 条非空文字（每条不超过 {MAX_TEXT_CHARS} 字）")
        return response.json(await asyncio.to_thread(message_vectors, retriever, texts))

    app.add_route(search, "/lookup/search", methods=["GET"])
    app.add_route(vectors, "/lookup/vectors", methods=["POST"])
    app.add_route(chunk, "/lookup/chunk", methods=["GET"])
