"""The loaded knowledge corpus: every validated record, where it came from, and which law is in force."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from core.experts import Expert
from index.lawdate import apply_law_date
from index.schema import Case, Entry, Policy

#: pseudo-document in ``Corpus.documents``: the hash of every text's status on the law date
LAW_STATUS_DOCUMENT = "@法规施行状态"


@dataclass(frozen=True)
class Located:
    """A validated record with the file and line it came from."""

    path: str
    line: int
    #: Position in the file's list (entries / cases / experts).
    index: int = 0


@dataclass
class Corpus:
    """Everything in ``knowledge/``, validated and cross-checked."""

    root: Path
    policies: list[Policy] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    experts: list[Expert] = field(default_factory=list)
    #: Relative path -> sha256 of the file bytes (recorded in each build manifest).
    documents: dict[str, str] = field(default_factory=dict)
    #: Entry / case id -> (path, line), for error messages and the admin pages.
    locations: dict[str, Located] = field(default_factory=dict)
    #: (law title, article) -> lay questions that article answers (embedded as extra views of it).
    article_questions: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: the date the statuses were worked out for, and the next date on which one changes
    law_date: dt.date = field(default_factory=dt.date.today)
    next_change: dt.date | None = None

    def policy_by_title(self) -> dict[str, Policy]:
        """Title, citation key and every alias -> policy (the version in force wins a shared title)."""
        out: dict[str, Policy] = {}
        ordered = sorted(self.policies, key=lambda p: p.status != "in_force")
        for policy in ordered:
            out.setdefault(policy.meta.title, policy)
            out.setdefault(policy.cite_as, policy)
            for alias in policy.meta.aliases:
                out.setdefault(alias, policy)
        # every version also answers to its year (商标法（2026年文本）), whatever its status: a
        # reference naming the year keeps meaning the same text when that text comes into force
        for policy in ordered:
            if policy.meta.promulgated is None:
                continue
            for name in (policy.meta.title, *policy.meta.aliases):
                out.setdefault(f"{name}（{policy.meta.promulgated.year}年文本）", policy)
        return out

    def version_on(self, law: str, day: dt.date) -> Policy | None:
        """The version of ``law`` (title or alias) that was in force on ``day``."""
        named = self.policy_by_title().get(law.strip("《》"))
        if named is None:
            return None
        title = named.meta.title
        versions, _ = apply_law_date([p for p in self.policies if p.meta.title == title], day)
        current = [v for v in versions if v.status == "in_force"]
        if not current:
            return None
        return next(p for p in self.policies if p.path == current[0].path)
