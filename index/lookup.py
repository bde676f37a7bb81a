"""What the web gateway asks of the index: search, one passage, the serving version.

The gateway does not load the embedding model and the index itself: one process per
machine (the action server) holds them and answers the gateway's lookups over
loopback (``gateway.lookup = "actions"``), so memory is one copy, not two.  Tests and
single-process tools use :class:`LocalLookup` over an in-process retriever.

Both sides share the wire format defined here (``result_to_wire`` / ``result_from_wire``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Protocol

from core.errors import WeiyuanError
from index.results import Candidate, Hit, SearchResult
from index.retriever import Retriever
from index.schema import Chunk
from index.store import VersionStore
from index.textnorm import normalize


class Lookup(Protocol):
    def search_with_highlight(
        self,
        query: str,
        k: int = 5,
        *,
        kind: str | None = None,
        ip_type: str | None = None,
        region: str | None = None,
        current_only: bool = False,
    ) -> tuple[SearchResult, list[str]]:
        """The best ``k`` hits and the query's words (and synonyms) to mark in them."""
        ...

    def chunk(self, chunk_id: str) -> Chunk | None: ...

    def article(self, law: str, article: str) -> Chunk | None: ...

    @property
    def version(self) -> str:
        """The serving version (raises :class:`WeiyuanError` when none is published)."""
        ...

    def manifest(self) -> dict[str, Any]:
        """The serving version's manifest (counts, law dates)."""
        ...


def highlight_terms(retriever: Retriever, query: str) -> list[str]:
    """Query terms to highlight in passages (the page marks them; it never injects HTML)."""
    terms = {t for t in retriever.tokenizer.tokens(normalize(query)) if len(t) >= 2}
    for extra in retriever.synonyms.expansions(normalize(query)):
        terms.update(t for t in extra.split() if len(t) >= 2)
    return sorted(terms, key=len, reverse=True)[:20]


class PublishedVersion:
    """Version and manifest read from the index directory, without loading the index."""

    def __init__(self, store: VersionStore) -> None:
        self.store = store
        self._manifest: tuple[str, dict[str, Any]] | None = None

    @property
    def version(self) -> str:
        version = self.store.current()
        if version is None:
            raise WeiyuanError("还没有可用的索引，请先运行 weiyuan index build")
        return version

    def manifest(self) -> dict[str, Any]:
        version, cached = self.version, self._manifest
        if cached is None or cached[0] != version:
            cached = self._manifest = (version, self.store.manifest(version))
        return cached[1]


class LocalLookup(PublishedVersion):
    """Lookups answered by a retriever in this process."""

    def __init__(self, retriever: Retriever) -> None:
        super().__init__(retriever.store)
        self.retriever = retriever

    def search_with_highlight(
        self,
        query: str,
        k: int = 5,
        *,
        kind: str | None = None,
        ip_type: str | None = None,
        region: str | None = None,
        current_only: bool = False,
    ) -> tuple[SearchResult, list[str]]:
        result = self.retriever.search(query, k, kind=kind, ip_type=ip_type, region=region, current_only=current_only)
        return result, highlight_terms(self.retriever, query)

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self.retriever.chunk(chunk_id)

    def article(self, law: str, article: str) -> Chunk | None:
        return self.retriever.article(law, article)


# -- wire format (action server ⇄ gateway) ------------------------------------------


def result_to_wire(result: SearchResult, highlight: list[str]) -> dict[str, Any]:
    return {"result": asdict(result), "highlight": highlight}


def result_from_wire(data: dict[str, Any]) -> tuple[SearchResult, list[str]]:
    raw = dict(data["result"])
    raw["hits"] = [Hit(**h) for h in raw.get("hits", [])]
    raw["candidates"] = [Candidate(**c) for c in raw.get("candidates", [])]
    return SearchResult(**raw), list(data.get("highlight", []))


def chunk_to_wire(chunk: Chunk | None) -> dict[str, Any]:
    return {"chunk": chunk.model_dump(mode="json") if chunk is not None else None}


def chunk_from_wire(data: dict[str, Any]) -> Chunk | None:
    raw = data.get("chunk")
    return Chunk.model_validate(raw) if raw is not None else None
