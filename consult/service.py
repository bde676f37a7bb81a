"""The consultation service the custom actions call: search, decide, record.

One instance per action-server process (the embedding model and the index
are loaded once).  Like rasa-sdk's knowledge-base actions, the actions only
translate between the tracker and this object.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from consult.domain import DomainModel
from consult.policy import Decision, Nlu, Thresholds, decide
from consult.query import QueryPlan, plan_query
from consult.vocabulary import IP_CUES, IP_WORDS, NOT_IP_EVIDENCE
from core.settings import Settings, get_settings
from desk.service import Desk
from index.results import SearchResult
from index.retriever import Retriever
from index.runtime import make_retriever
from store.db import Database, open_database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    result: SearchResult
    plan: QueryPlan
    #: the questions of a multi-part message other than the one answered
    other_questions: list[str]
    #: P(an IP matter) from the domain model (None without a fitted one)
    ip_probability: float | None = None


class Consultant:
    def __init__(self, settings: Settings, retriever: Retriever | None = None, db: Database | None = None) -> None:
        self.settings = settings
        self.retriever = retriever or make_retriever(settings)
        self.db = db or open_database(settings.database_url, settings.database.echo)
        self.desk = Desk(settings, self.db)
        self._ip_terms: frozenset[str] | None = None
        self._domain_file: DomainModel | None = DomainModel.load(settings.dialogue.domain_file)
        self._domain_warned = False

    @property
    def thresholds(self) -> Thresholds:
        """Confident and probable cut-offs: the calibrated ones unless settings override them."""
        self.retriever.loaded()
        calibration = self.retriever.calibration
        dialogue = self.settings.dialogue
        confident = dialogue.retrieval_threshold if dialogue.retrieval_threshold is not None else calibration.threshold
        probable = dialogue.probable_threshold
        domain_model = self.domain_model
        if probable is None and domain_model is not None and domain_model.probable_threshold is not None:
            probable = domain_model.probable_threshold
        if probable is None:
            probable = calibration.probable_threshold if calibration.probable_threshold is not None else confident
        domain = calibration.domain_threshold if calibration.domain_threshold is not None else confident
        routing = domain_model.threshold if domain_model is not None else 0.5
        return Thresholds(confident=confident, probable=min(probable, confident), domain=domain, routing=routing)

    @property
    def domain_model(self) -> DomainModel | None:
        """The fitted domain model, if switched on and fitted for the serving embedding model."""
        if not self.settings.dialogue.use_domain_model:
            return None
        model = self._domain_file
        fingerprint = self.retriever.loaded().fingerprint
        if model is not None and model.model_fingerprint == fingerprint:
            return model
        if not self._domain_warned:
            self._domain_warned = True
            log.warning("no domain model fitted for model %s; run `weiyuan eval domain`", fingerprint)
        return None

    def ip_probability(self, text: str, *, mentions_ip: bool, confidence: float) -> float | None:
        """P(``text`` is an IP matter) from the domain model, or None without one."""
        model = self.domain_model
        if model is None:
            return None
        return model.probability(self.retriever.message_vector(text), mentions_ip=mentions_ip, confidence=confidence)

    @property
    def ip_terms(self) -> frozenset[str]:
        """Words that make a message an IP matter: the IP lexicon, IP-type words and IP cues.

        (Not the colloquial synonyms: 刷单, 回扣, 被告了 expand queries but happen outside IP too;
        nor platform and shop words, see NOT_IP_EVIDENCE.)
        """
        if self._ip_terms is None:
            words = {w for ws in IP_WORDS.values() for w in ws} | set(IP_CUES)
            words |= set(self.retriever.lexicon)
            self._ip_terms = frozenset(w for w in words if len(w) >= 2 and w not in NOT_IP_EVIDENCE)
        return self._ip_terms

    def mentions_ip(self, text: str) -> bool:
        value = self.retriever.correct(text)
        return any(term in value for term in self.ip_terms)

    def plan(self, text: str) -> QueryPlan:
        return plan_query(text, self.mentions_ip)

    def search(
        self, query: str, ip_type: str | None = None, region: str | None = None, k: int | None = None
    ) -> SearchResult:
        """One query; an IP-type filter is dropped again when it made things worse."""
        k = k or self.settings.dialogue.search_k
        ip = ip_type if ip_type and ip_type != "general" else None
        result = self.retriever.search(query, k=k, ip_type=ip, region=region, current_only=True)
        if ip and (not result.hits or result.confidence < self.thresholds.probable):
            # nothing even probable of the type the conversation is about: it may have been guessed wrong
            unfiltered = self.retriever.search(query, k=k, region=region, current_only=True)
            if unfiltered.confidence > result.confidence:
                return unfiltered
        return result

    def search_message(
        self,
        text: str,
        ip_type: str | None = None,
        region: str | None = None,
        k: int | None = None,
        whole: bool = False,
    ) -> tuple[QueryPlan, SearchResult]:
        """Search every query of the message's plan; the most confident result answers.

        ``whole``: search the text as it is (a follow-up already rewritten against the
        conversation; splitting it again would let the earlier question win).
        """
        plan = QueryPlan(text=text, main=text) if whole else self.plan(text)
        best: SearchResult | None = None
        for query in plan.queries[: self.settings.dialogue.max_queries]:
            result = self.search(query, ip_type, region, k)
            if best is None or result.confidence > best.confidence:
                best = result
        assert best is not None
        return plan, best

    def consult(
        self,
        text: str,
        *,
        nlu: Nlu | None = None,
        ip_type: str | None = None,
        region: str | None = None,
        clarified: bool = False,
        query: str | None = None,
    ) -> Outcome:
        """Search for ``query`` (default: the message itself) and decide how to reply.

        A ``query`` given here is a follow-up rewritten against the conversation: it is searched whole.
        """
        searched = query or text
        plan, result = self.search_message(searched, ip_type, region, whole=query is not None)
        confidence = result.confidence if result.hits else 0.0
        mentions_ip = self.mentions_ip(searched)
        ip_probability = self.ip_probability(searched, mentions_ip=mentions_ip, confidence=confidence)
        decision = decide(
            text,
            confidence,
            self.thresholds,
            nlu=nlu or Nlu(),
            mentions_ip=mentions_ip,
            clarified=clarified,
            coverage=result.signals.get("coverage", 1.0),
            best_kind=result.hits[0].kind if result.hits else "entry",
            ip_probability=ip_probability,
        )
        others = _other_questions(plan, result.query)
        return Outcome(decision, result, plan, others, ip_probability)


def _other_questions(plan: QueryPlan, answered: str) -> list[str]:
    """The questions of a multi-part message offered as buttons: all but the one answered.

    When the whole message (or its condensed form) was the query, the first question counts as
    the one answered; the rest are offered.
    """
    if not plan.multi:
        return []
    searched = dict(zip(plan.searchable, plan.questions, strict=False))
    done = searched.get(answered, answered if answered in plan.questions else plan.questions[0])
    return [q for q in plan.questions if q != done][:3]


_lock = threading.Lock()
_instance: Consultant | None = None


def get_consultant() -> Consultant:
    """The process-wide consultant (created on first use)."""
    global _instance
    with _lock:
        if _instance is None:
            settings = get_settings()
            _instance = Consultant(settings)
            log.info("consultant ready (index %s)", _instance.retriever.version)
        return _instance
