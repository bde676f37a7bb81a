"""Cross-references: which version of which text a citation means, and whether it may be cited.

Every ``references`` entry must name an article of a text that was in force when
its file was checked (``checked_on``); a reference to a superseded or repealed
text fails the build unless it says ``historical: true``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from core.errors import KnowledgeProblem
from core.vocabulary import LAW_STATUS_LABELS
from index.corpus import Corpus
from index.schema import ArticleQuestions, Case, Citation, Entry, Policy

_VERSIONED = re.compile(r"（\d{4}年文本）$")


def cited_policy(corpus: Corpus, citation: Citation, checked_on: dt.date | None = None) -> Policy | None:
    """The version a citation means: the one it names by year, else the one in force when its file
    was checked, else the one in force on the law date."""
    if _VERSIONED.search(citation.law):
        return corpus.policy_by_title().get(citation.law.strip("《》"))
    if checked_on is not None and not citation.historical:
        version = corpus.version_on(citation.law, checked_on)
        if version is not None:
            return version
    return corpus.policy_by_title().get(citation.law.strip("《》"))


def resolve_citation(corpus: Corpus, citation: Citation, checked_on: dt.date | None = None) -> Citation | None:
    """The canonical form of ``citation`` if the article exists in the corpus."""
    policy = cited_policy(corpus, citation, checked_on)
    if policy is None:
        return None
    if not any(a.label == citation.article for a in policy.articles):
        return None
    return Citation(law=policy.cite_as, article=citation.article, historical=citation.historical)


def check_references(
    corpus: Corpus,
    lines_by_file: dict[str, dict[Any, int]],
    checked: dict[str, dt.date],
    skip_unknown_laws: bool = False,
) -> list[KnowledgeProblem]:
    """Every reference names an article of a text in force when its file was checked (or on the law date).

    A text revised since then stays citable (answers say it has changed); one that was
    already superseded or repealed is an error unless the reference is marked historical.
    A promulgated text not yet in force may be cited by its year (商标法（2026年文本）);
    answers say from when it applies.
    """
    problems: list[KnowledgeProblem] = []
    by_title = corpus.policy_by_title()
    ids = {e.id for e in corpus.entries}
    records: list[tuple[str, Entry | Case]] = [("entries", e) for e in corpus.entries]
    records += [("cases", c) for c in corpus.cases]
    for group, record in records:
        where = corpus.locations[record.id]
        position = where.index
        lines = lines_by_file.get(where.path, {})
        checked_on = checked.get(where.path)
        for j, ref in enumerate(record.references):
            line = lines.get((group, position, "references", j), where.line)
            named = by_title.get(ref.law.strip("《》"))
            policy = cited_policy(corpus, ref, checked_on) if named is not None else None
            # revised after the file was checked: still citable, answers say the text has changed
            then = corpus.version_on(ref.law, checked_on) if checked_on and named is not None else None
            was_current = policy is not None and then is not None and then.path == policy.path
            if policy is None and not skip_unknown_laws:
                problems.append(KnowledgeProblem(where.path, line, f"引用的法规“{ref.law}”不在知识库中"))
            elif (
                policy is not None
                and policy.status in ("superseded", "repealed")
                and not ref.historical
                and not was_current
            ):
                label = LAW_STATUS_LABELS[policy.status]
                problems.append(
                    KnowledgeProblem(
                        where.path,
                        line,
                        f"引用的《{policy.cite_as}》{label}（{policy.status_note}）；请引用现行文本，"
                        "或在引用中写明 historical: true",
                    )
                )
            elif policy is not None and not any(a.label == ref.article for a in policy.articles):
                problems.append(KnowledgeProblem(where.path, line, f"《{policy.cite_as}》中没有“{ref.article}”"))
        if isinstance(record, Entry):
            for j, rid in enumerate(record.related):
                if rid not in ids:
                    line = lines.get((group, position, "related", j), where.line)
                    problems.append(KnowledgeProblem(where.path, line, f"相关条目“{rid}”不存在"))
    return problems


def attach_article_questions(corpus: Corpus, views: list[tuple[str, int, ArticleQuestions]]) -> list[KnowledgeProblem]:
    """Key each set of questions by the canonical article it names; unknown articles are errors."""
    problems = []
    for rel, line, item in views:
        citation = resolve_citation(corpus, Citation(law=item.law, article=item.article))
        if citation is None:
            problems.append(KnowledgeProblem(rel, line, f"《{item.law}》中没有“{item.article}”"))
            continue
        key = (citation.law, citation.article)
        if key in corpus.article_questions:
            problems.append(KnowledgeProblem(rel, line, f"《{citation.law}》{citation.article}的问题重复列出"))
            continue
        corpus.article_questions[key] = list(item.questions)
    return problems


def canonical_refs(corpus: Corpus, record: Any, checked_on: dt.date | None) -> Any:
    refs = [resolve_citation(corpus, r, checked_on) or r for r in record.references]
    return record.model_copy(update={"references": refs})
