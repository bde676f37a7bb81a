"""The consultation service the custom actions call: search, decide, record.

One instance per action-server process (the embedding model and the index
are loaded once).  Like rasa-sdk's knowledge-base actions, the actions only
translate between the tracker and this object.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Literal

from consult.forms import IP_WORDS
from desk.service import Desk
from index.retriever import Retriever, SearchResult
from index.textnorm import normalize
from store.db import Database
from weiyuan.runtime import make_retriever
from weiyuan.settings import Settings, get_settings

log = logging.getLogger(__name__)

Decision = Literal["answer", "clarify", "handoff"]

#: Below this many characters a question without any IP word is too vague to answer.
VAGUE_MAX_CHARS = 12


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    result: SearchResult


class Consultant:
    def __init__(self, settings: Settings, retriever: Retriever | None = None, db: Database | None = None) -> None:
        self.settings = settings
        self.retriever = retriever or make_retriever(settings)
        self.db = db or Database(settings.database_url)
        self.desk = Desk(settings, self.db)

    @property
    def threshold(self) -> float:
        override = self.settings.dialogue.retrieval_threshold
        if override is not None:
            return override
        self.retriever.loaded()
        return self.retriever.calibration.threshold

    def search(self, query: str, ip_type: str | None = None, region: str | None = None) -> SearchResult:
        ip = ip_type if ip_type and ip_type != "general" else None
        result = self.retriever.search(query, k=5, ip_type=ip, region=region)
        if ip and (not result.hits or result.confidence < self.threshold):
            # the IP type may have been guessed wrong: an unfiltered search can do better
            unfiltered = self.retriever.search(query, k=5, region=region)
            if unfiltered.confidence > result.confidence:
                return unfiltered
        return result

    def decide(self, query: str, result: SearchResult, ip_type: str | None, clarified: bool) -> Decision:
        """Answer when confident; ask once which IP type when the question is vague; else hand over."""
        if result.hits and result.confidence >= self.threshold:
            return "answer"
        if not clarified and not ip_type and is_vague(query):
            return "clarify"
        return "handoff"

    def consult(
        self,
        query: str,
        *,
        ip_type: str | None = None,
        region: str | None = None,
        clarified: bool = False,
    ) -> Outcome:
        result = self.search(query, ip_type, region)
        return Outcome(self.decide(query, result, ip_type, clarified), result)


def is_vague(query: str) -> bool:
    text = normalize(query)
    mentions_ip = any(word in text for words in IP_WORDS.values() for word in words)
    return len(text) <= VAGUE_MAX_CHARS and not mentions_ip


_lock = threading.Lock()
_instance: Consultant | None = None


def get_consultant() -> Consultant:
    """The process-wide consultant (created on first use)."""
    global _instance
    with _lock:
        if _instance is None:
            settings = get_settings()
            _instance = Consultant(settings)
            _instance.db.upgrade()
            log.info("consultant ready (index %s)", _instance.retriever.version)
        return _instance
