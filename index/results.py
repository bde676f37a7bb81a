"""What a search returns (hits with their sources and status, confidence) and the filters it accepts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.errors import WeiyuanError
from core.vocabulary import IP_TYPES, KINDS


@dataclass
class Hit:
    id: str
    kind: str
    title: str
    text: str
    score: float
    citations: list[dict[str, str]]
    source: str
    ip_types: list[str]
    region: str
    heading: str | None = None
    dense: float = 0.0
    bm25: float = 0.0
    services: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    #: a policy text's status on the law date ("in_force", "superseded", ...) and what changes when
    status: str = "in_force"
    status_note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Candidate:
    """One fused candidate with the features the ranker sees (for fitting it)."""

    id: str
    kind: str
    citations: list[dict[str, str]]
    features: dict[str, float]


@dataclass
class SearchResult:
    query: str
    normalized: str
    confidence: float
    answerable: bool
    hits: list[Hit]
    version: str
    signals: dict[str, float]
    timings_ms: dict[str, float]
    calibrated: bool = True
    #: "confident" (answer from the top hit), "probable" (show the best few as possibly relevant) or "low"
    tier: str = "low"
    #: with ``features=True``: the re-ranked candidates' ids, kinds, citations and ranker features
    candidates: list[Candidate] = field(default_factory=list)
    #: law cited by a hit -> what has changed or will change about it (answers must say so)
    law_notes: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The batch/API form: query, confidence and hits with citations."""
        return {
            "query": self.query,
            "confidence": round(self.confidence, 4),
            "answerable": self.answerable,
            "tier": self.tier,
            "version": self.version,
            "hits": [
                {
                    "id": h.id,
                    "kind": h.kind,
                    "title": h.title,
                    "score": round(h.score, 6),
                    "citations": h.citations,
                    "text": h.text,
                    "source": h.source,
                    "ip_types": h.ip_types,
                    "region": h.region,
                    "status": h.status,
                    "status_note": h.status_note,
                }
                for h in self.hits
            ],
        }


@dataclass
class Filters:
    kind: str | None = None
    ip_type: str | None = None
    region: str | None = None
    #: only texts in force on the law date (what answers an SME); the agent page sees all, labelled
    current_only: bool = False

    def validate(self) -> None:
        if self.kind and self.kind not in KINDS:
            raise WeiyuanError(f"未知的文档类别 {self.kind!r}，可选：{', '.join(KINDS)}")
        if self.ip_type and self.ip_type not in IP_TYPES:
            raise WeiyuanError(f"未知的知识产权类型 {self.ip_type!r}，可选：{', '.join(IP_TYPES)}")

    def active(self) -> bool:
        return bool(self.kind or self.ip_type or self.region or self.current_only)
