"""Validated formats of the knowledge corpus and of the chunks built from it.

The corpus has four kinds of file (see ``knowledge/README.md``):

* policies: Markdown with a YAML front matter (statutes, regulations,
  judicial interpretations, policy documents, service guides);
* knowledge-base entries: YAML lists of question / variants / answer units;
* published cases: YAML, real cases only, each with its source;
* experts: YAML profiles for the hand-off desk (demo data says so).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from core.experts import Expert
from core.vocabulary import NATIONWIDE, DocType, IpType, Kind, LawStatus, RecordId, Service

ARTICLE_LABEL = re.compile(r"^第[零〇一二三四五六七八九十百千]+条(之[一二三四五六七八九十]+)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Citation(_Strict):
    """A reference to one article of one policy document."""

    law: str = Field(min_length=2)
    article: str = Field(min_length=1)
    #: deliberately cites a text no longer in force (e.g. "the old law said ..."): allowed by the build
    historical: bool = False

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``historical`` only when set: citations stay {law, article} in payloads and hashes."""
        data: dict[str, Any] = handler(self)
        if not self.historical:
            data.pop("historical", None)
        return data

    def label(self) -> str:
        """Human-readable form, e.g. ``《中华人民共和国专利法》第六十五条``."""
        if self.article.startswith("第") or self.article.startswith("§"):
            return f"《{self.law}》{self.article}"
        return f"《{self.law}》「{self.article}」"


class Source(_Strict):
    """Where a file came from, for provenance."""

    name: str = Field(min_length=2)
    url: str | None = None
    repo: str | None = None
    path: str | None = None
    commit: str | None = None
    sha256: str | None = None
    #: for an excerpt: the hash of the excerpt as shipped (``sha256`` is the whole original's)
    body_sha256: str | None = None
    retrieved: dt.date | None = None


class PolicyMeta(_Strict):
    """Front matter of a policy Markdown file."""

    title: str = Field(min_length=2)
    doc_type: DocType
    issuer: str = Field(min_length=2)
    doc_number: str | None = None
    promulgated: dt.date | None = None
    effective_date: dt.date | None = None
    region: str = NATIONWIDE
    ip_types: list[IpType] = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    #: which revision this text is (shown next to a superseded or future text)
    version: str | None = None
    #: the file of the text that replaces this one (``policies/...``); it applies from its effective_date
    superseded_by: str | None = None
    #: for a successor that is not shipped: the day it took effect (``superseded_by`` then names it in words)
    superseded_on: dt.date | None = None
    #: what repealed this text, and from when
    repealed_by: str | None = None
    repealed_on: dt.date | None = None
    #: for an excerpt: the articles kept
    excerpt: list[str] | None = None
    caveat: str | None = None
    source: Source
    provenance: str = Field(min_length=4)


class Article(_Strict):
    """One article (or one section of a guide) of a policy."""

    label: str
    chapter: str | None = None
    text: str = Field(min_length=1)
    line: int


class Policy(_Strict):
    meta: PolicyMeta
    path: str
    articles: list[Article]
    content_hash: str
    #: on the law date the corpus was loaded for (index/lawdate.py)
    status: LawStatus = "in_force"
    #: how citations name this text: the title for the text in force, title + version otherwise
    key: str = ""
    #: e.g. "2027-01-01 起由新版本取代" / "2025-10-15 起已被修订" (empty for an unchanging text in force)
    status_note: str = ""

    @property
    def cite_as(self) -> str:
        return self.key or self.meta.title


class Entry(_Strict):
    """A knowledge-base entry: one question an SME asks, answered for an SME."""

    id: RecordId
    question: str = Field(min_length=4)
    variants: list[str] = Field(default_factory=list)
    answer: str = Field(min_length=20)
    ip_type: IpType
    services: list[Service] = Field(min_length=1)
    region: str = NATIONWIDE
    references: list[Citation] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)


class EntryFile(_Strict):
    provenance: str = Field(min_length=4)
    #: when the references were last checked against the law; a text revised after it is flagged
    checked_on: dt.date | None = None
    entries: list[Entry] = Field(min_length=1)


class ArticleQuestions(_Strict):
    """Questions a lay person would ask that one statute article answers (extra search views)."""

    law: str = Field(min_length=2)
    article: str = Field(min_length=1)
    questions: list[str] = Field(min_length=1, max_length=8)

    @field_validator("questions")
    @classmethod
    def _sensible(cls, value: list[str]) -> list[str]:
        for question in value:
            if not 4 <= len(question.strip()) <= 120:
                raise ValueError(f"问题长度应为 4–120 个字：{question[:30]}")
        return [q.strip() for q in value]


class ArticleQuestionsFile(_Strict):
    provenance: str = Field(min_length=4)
    articles: list[ArticleQuestions] = Field(min_length=1)


class Case(_Strict):
    """A published case (real, with a source: never invented)."""

    id: RecordId
    title: str = Field(min_length=4)
    #: how the case is known, e.g. 指导案例83号
    label: str | None = None
    court_or_agency: str = Field(min_length=2)
    date: dt.date
    case_number: str | None = None
    ip_type: IpType
    region: str = NATIONWIDE
    facts: str = Field(min_length=10)
    holding: str = Field(min_length=10)
    key_points: list[str] = Field(default_factory=list)
    reasoning: str | None = None
    #: the articles as the decision cited them (older numbering); ``references`` are the current ones
    original_references: str | None = None
    caveats: list[str] = Field(default_factory=list)
    references: list[Citation] = Field(default_factory=list)
    source: Source

    @model_validator(mode="after")
    def _has_source_link(self) -> Case:
        if not (self.source.url or self.source.path):
            raise ValueError("案例必须注明可核查的出处（source.url 或 source.path）")
        return self


class CaseFile(_Strict):
    provenance: str = Field(min_length=4)
    cases: list[Case] = Field(default_factory=list)


class ExpertFile(_Strict):
    provenance: str = Field(min_length=4)
    demo: bool = False
    experts: list[Expert] = Field(min_length=1)

    @model_validator(mode="after")
    def _demo_is_labelled(self) -> ExpertFile:
        if self.demo and not all(e.demo for e in self.experts):
            raise ValueError("演示数据文件中的每位专家都必须标注 demo: true")
        return self


class View(_Strict):
    """One text embedded for a chunk: a question phrasing or a passage."""

    text: str
    role: Literal["question", "passage"] = "passage"


class Chunk(_Strict):
    """The unit that is embedded, indexed, retrieved and cited."""

    id: str
    kind: Kind
    doc_id: str
    title: str
    heading: str | None = None
    text: str
    #: Texts embedded for this chunk (one vector each; the best-scoring view counts).
    views: list[View] = Field(min_length=1)
    #: Text indexed by BM25.
    lexical: str
    citations: list[Citation]
    ip_types: list[str]
    region: str
    source: str
    services: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    #: a policy text's status on the law date of the build; only in-force text answers SMEs
    status: LawStatus = "in_force"
    status_note: str = ""
    content_hash: str
