"""Read and validate the whole knowledge corpus, or fail with every problem found.

Nothing is indexed unless the corpus loads cleanly: a malformed file is
reported with its path, line and a reason in Chinese, and the caller keeps
serving the previous index.  Cross-file rules are checked here too: ids are
unique, and every ``references`` entry names an article that exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.errors import KnowledgeError, KnowledgeProblem, problems_from_validation
from core.yamlio import YamlSyntaxError, load_with_lines
from index.corpus import LAW_STATUS_DOCUMENT, Corpus, Located
from index.lawdate import apply_law_date, resolve_law_date
from index.policy_text import parse_policy, sha256_bytes
from index.references import attach_article_questions, canonical_refs, check_references
from index.schema import ArticleQuestions, ArticleQuestionsFile, CaseFile, EntryFile, ExpertFile

POLICY_DIR = "policies"
ENTRY_DIR = "entries"
CASE_DIR = "cases"
EXPERT_DIR = "experts"
ARTICLE_VIEWS_DIR = "article_views"

__all__ = ["Corpus", "Located", "load_corpus", "load_yaml"]


def load_yaml(
    rel: str, text: str, model: type[EntryFile] | type[CaseFile] | type[ExpertFile] | type[ArticleQuestionsFile]
) -> tuple[Any, dict[Any, int], list[KnowledgeProblem]]:
    """Parse and validate one YAML knowledge file: (record, line of each key path, problems)."""
    try:
        data, lines = load_with_lines(text)
    except YamlSyntaxError as exc:
        return None, {}, [KnowledgeProblem(rel, exc.line, exc.reason)]
    if not isinstance(data, dict):
        return None, lines, [KnowledgeProblem(rel, 1, "文件内容应为键值映射（包含 provenance 等字段）")]
    try:
        return model.model_validate(data), lines, []
    except ValidationError as exc:
        return None, lines, problems_from_validation(rel, exc, lines)


def _files(root: Path, sub: str, patterns: Iterable[str]) -> list[Path]:
    base = root / sub
    if not base.is_dir():
        return []
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in base.rglob(pattern) if p.is_file())
    return sorted(found)


def _read(path: Path, rel: str) -> tuple[str | None, bytes, KnowledgeProblem | None]:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8"), raw, None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, raw, KnowledgeProblem(rel, line, "文件不是 UTF-8 编码")


def load_corpus(root: Path, law_date: dt.date | None = None) -> Corpus:
    """Load and validate ``root`` (the knowledge directory); raise KnowledgeError on any problem.

    Statuses and citation keys are worked out for ``law_date`` (default today).
    """
    if not root.is_dir():
        raise KnowledgeError([KnowledgeProblem(str(root), 0, "知识库目录不存在")])
    corpus = Corpus(root=root, law_date=resolve_law_date(law_date))
    problems: list[KnowledgeProblem] = []
    lines_by_file: dict[str, dict[Any, int]] = {}

    for path in _files(root, POLICY_DIR, ["*.md"]):
        rel = path.relative_to(root).as_posix()
        text, raw, problem = _read(path, rel)
        corpus.documents[rel] = sha256_bytes(raw)
        if problem or text is None:
            problems.append(problem or KnowledgeProblem(rel, 1, "无法读取"))
            continue
        policy, found = parse_policy(rel, text)
        problems.extend(found)
        if policy:
            corpus.policies.append(policy)

    yaml_dirs: tuple[tuple[str, Any], ...] = (
        (ENTRY_DIR, EntryFile),
        (CASE_DIR, CaseFile),
        (EXPERT_DIR, ExpertFile),
        (ARTICLE_VIEWS_DIR, ArticleQuestionsFile),
    )
    article_views: list[tuple[str, int, ArticleQuestions]] = []
    checked: dict[str, dt.date] = {}
    for sub, model in yaml_dirs:
        for path in _files(root, sub, ["*.yaml", "*.yml"]):
            rel = path.relative_to(root).as_posix()
            text, raw, problem = _read(path, rel)
            corpus.documents[rel] = sha256_bytes(raw)
            if problem or text is None:
                problems.append(problem or KnowledgeProblem(rel, 1, "无法读取"))
                continue
            parsed, lines, found = load_yaml(rel, text, model)
            problems.extend(found)
            lines_by_file[rel] = lines
            if isinstance(parsed, EntryFile) and parsed.checked_on:
                checked[rel] = parsed.checked_on
            if isinstance(parsed, EntryFile):
                for i, entry in enumerate(parsed.entries):
                    problems.extend(_register(corpus, entry.id, Located(rel, lines.get(("entries", i), 1), i)))
                    corpus.entries.append(entry)
            elif isinstance(parsed, CaseFile):
                for i, case in enumerate(parsed.cases):
                    problems.extend(_register(corpus, case.id, Located(rel, lines.get(("cases", i), 1), i)))
                    corpus.cases.append(case)
            elif isinstance(parsed, ArticleQuestionsFile):
                article_views += [(rel, lines.get(("articles", i), 1), a) for i, a in enumerate(parsed.articles)]
            elif isinstance(parsed, ExpertFile):
                for i, expert in enumerate(parsed.experts):
                    key = f"expert:{expert.id}"
                    problems.extend(_register(corpus, key, Located(rel, lines.get(("experts", i), 1), i)))
                    corpus.experts.append(expert)

    for extra in sorted([*root.glob("lexicon/*.txt"), root / "synonyms.yaml"]):
        if extra.is_file():
            corpus.documents[extra.relative_to(root).as_posix()] = sha256_bytes(extra.read_bytes())

    paths = {p.path for p in corpus.policies}
    for policy in corpus.policies:
        target = policy.meta.superseded_by
        if (
            target
            and not policy.meta.superseded_on
            and target not in paths
            and not any(p.path.startswith(POLICY_DIR + "/") for p in problems)
        ):
            problems.append(KnowledgeProblem(policy.path, 2, f"superseded_by 指向的文件不存在：{target}"))
    corpus.policies, corpus.next_change = apply_law_date(corpus.policies, corpus.law_date)
    # a change of status (a revision taking effect) must make a refresh publish a new version
    statuses = ";".join(f"{p.path}={p.status}" for p in sorted(corpus.policies, key=lambda p: p.path))
    corpus.documents[LAW_STATUS_DOCUMENT] = sha256_bytes(statuses.encode("utf-8"))
    titles = set()
    for policy in corpus.policies:
        if policy.status != "in_force":
            continue
        if policy.meta.title in titles:
            problems.append(KnowledgeProblem(policy.path, 2, f"有两份现行文件同名：{policy.meta.title}"))
        titles.add(policy.meta.title)

    # If a policy file could not be parsed, references to it would only add noise.
    policy_broken = any(p.path.startswith(POLICY_DIR + "/") for p in problems)
    problems.extend(check_references(corpus, lines_by_file, checked, skip_unknown_laws=policy_broken))
    if not policy_broken:
        problems.extend(attach_article_questions(corpus, article_views))
    if problems:
        raise KnowledgeError(problems)
    corpus.entries = [canonical_refs(corpus, e, checked.get(corpus.locations[e.id].path)) for e in corpus.entries]
    corpus.cases = [canonical_refs(corpus, c, None) for c in corpus.cases]
    return corpus


def _register(corpus: Corpus, key: str, where: Located) -> list[KnowledgeProblem]:
    if key in corpus.locations:
        first = corpus.locations[key]
        reason = f"id “{key}” 重复（{first.path} 第 {first.line} 行已使用）"
        return [KnowledgeProblem(where.path, where.line, reason)]
    corpus.locations[key] = where
    return []
