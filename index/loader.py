"""Read and validate the whole knowledge corpus, or fail with every problem found.

Nothing is indexed unless the corpus loads cleanly: a malformed file is
reported with its path, line and a reason in Chinese, and the caller keeps
serving the previous index.  Cross-file rules are checked here too: ids are
unique, and every ``references`` entry names an article that exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.errors import KnowledgeError, KnowledgeProblem, problems_from_validation
from core.vocabulary import LAW_STATUS_LABELS
from core.yamlio import YamlSyntaxError, load_with_lines
from index.lawdate import apply_law_date, resolve_law_date
from index.schema import (
    Article,
    ArticleQuestions,
    ArticleQuestionsFile,
    Case,
    CaseFile,
    Citation,
    Entry,
    EntryFile,
    Expert,
    ExpertFile,
    Policy,
    PolicyMeta,
)

POLICY_DIR = "policies"
ENTRY_DIR = "entries"
CASE_DIR = "cases"
EXPERT_DIR = "experts"
ARTICLE_VIEWS_DIR = "article_views"

_CN_NUM = "零〇一二三四五六七八九十百千"
ARTICLE_START = re.compile(rf"^(第[{_CN_NUM}]+条(?:之[一二三四五六七八九十]+)?)[\s\u3000]+(.*)$")
ITEM_START = re.compile(rf"^([{_CN_NUM}]+)、(.*)$")
CHAPTER = re.compile(r"^#{2,3}\s+(.+?)\s*$")


@dataclass(frozen=True)
class Located:
    """A validated record with the file and line it came from."""

    path: str
    line: int
    #: Position in the file's list (entries / cases / experts).
    index: int = 0


#: pseudo-document in ``Corpus.documents``: the hash of every text's status on the law date
LAW_STATUS_DOCUMENT = "@法规施行状态"


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


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Return (front matter YAML, body, line number where the body starts)."""
    if not text.startswith("---\n"):
        return None, text, 1
    end = text.find("\n---\n", 4)
    if end < 0:
        return None, text, 1
    front = text[4 : end + 1]
    body = text[end + 5 :]
    body_line = front.count("\n") + 3
    return front, body, body_line


def parse_policy(rel: str, text: str) -> tuple[Policy | None, list[KnowledgeProblem]]:
    """Parse one policy Markdown file (front matter + articles or sections)."""
    problems: list[KnowledgeProblem] = []
    front, body, body_line = split_front_matter(text)
    if front is None:
        return None, [KnowledgeProblem(rel, 1, "缺少 YAML 头部元数据（文件应以 --- 开始）")]
    try:
        data, lines = load_with_lines(front, first_line=2)
    except YamlSyntaxError as exc:
        return None, [KnowledgeProblem(rel, exc.line, exc.reason)]
    if not isinstance(data, dict):
        return None, [KnowledgeProblem(rel, 2, "头部元数据应为键值映射")]
    try:
        meta = PolicyMeta.model_validate(data)
    except ValidationError as exc:
        return None, problems_from_validation(rel, exc, lines)

    body_lines = body.splitlines()
    heading = next((i for i, line in enumerate(body_lines) if line.strip()), None)
    if heading is None or not body_lines[heading].startswith("# "):
        problems.append(KnowledgeProblem(rel, body_line, "正文应以“# 标题”开始"))
        return None, problems
    title = body_lines[heading][2:].strip()
    if title != meta.title:
        problems.append(KnowledgeProblem(rel, body_line + heading, f"正文标题“{title}”与元数据 title 不一致"))
    start = heading + 1
    for i, line in enumerate(body_lines):
        if line.strip() == "<!-- INFO END -->":
            start = i + 1
            break
    if meta.doc_type == "guide":
        articles = _sections(body_lines, start, body_line)
    else:
        articles = _articles(body_lines, start, body_line)
        if not articles:
            articles = _items(body_lines, start, body_line)
        if not articles:
            articles = _whole(body_lines, start, body_line)
    if not articles:
        problems.append(KnowledgeProblem(rel, body_line, "没有找到任何条文（“第X条”）或章节"))
    seen: dict[str, int] = {}
    for article in articles:
        if article.label in seen:
            problems.append(
                KnowledgeProblem(
                    rel, article.line, f"条文序号“{article.label}”重复（第 {seen[article.label]} 行已出现）"
                )
            )
        seen[article.label] = article.line
    if problems:
        return None, problems
    digest = sha256_bytes(text.encode("utf-8"))
    return Policy(meta=meta, path=rel, articles=articles, content_hash=digest), []


def _articles(lines: list[str], start: int, offset: int) -> list[Article]:
    """Statute articles: each starts a line with 第X条 and runs to the next one."""
    out: list[Article] = []
    chapter: str | None = None
    current: dict[str, Any] | None = None

    def close() -> None:
        if current and current["text"]:
            out.append(Article(**{**current, "text": "\n".join(current["text"])}))

    for i in range(start, len(lines)):
        line = lines[i].strip()
        if not line:
            continue
        heading = CHAPTER.match(line)
        if heading:
            close()
            current = None
            title = _clean_heading(heading[1])
            # "## 第二章" starts a chapter; "### 第一节" is a section within the current chapter
            parent = chapter.split(" / ")[0] if chapter and not line.startswith("## ") else None
            chapter = f"{parent} / {title}" if parent else title
            continue
        match = ARTICLE_START.match(line)
        if match:
            close()
            current = {"label": match[1], "chapter": chapter, "text": [line], "line": offset + i}
        elif current is not None:
            current["text"].append(line)
    close()
    return out


def _clean_heading(text: str) -> str:
    """``第一章　总 则`` -> ``第一章 总则`` (the source spaces headings inconsistently)."""
    parts = text.replace("\u3000", " ").split(None, 1)
    if len(parts) == 2 and re.match(r"^第.+[章节编]$", parts[0]):
        return parts[0] + " " + re.sub(r"\s+", "", parts[1])
    return re.sub(r"\s+", " ", text).strip()


def _items(lines: list[str], start: int, offset: int) -> list[Article]:
    """Replies (批复) number their points 一、二、…; cite them as 第一条, 第二条…"""
    out: list[Article] = []
    current: dict[str, Any] | None = None
    for i in range(start, len(lines)):
        line = lines[i].strip()
        if not line:
            continue
        match = ITEM_START.match(line)
        if match:
            if current:
                out.append(Article(**{**current, "text": "\n".join(current["text"])}))
            current = {"label": f"第{match[1]}条", "chapter": None, "text": [line], "line": offset + i}
        elif current is not None:
            current["text"].append(line)
    if current:
        out.append(Article(**{**current, "text": "\n".join(current["text"])}))
    return out


def _whole(lines: list[str], start: int, offset: int) -> list[Article]:
    """A short reply with no numbered points is cited as a whole (全文)."""
    text = [line.strip() for line in lines[start:] if line.strip()]
    first = next((i for i in range(start, len(lines)) if lines[i].strip()), start)
    return [Article(label="全文", text="\n".join(text), line=offset + first)] if text else []


def _sections(lines: list[str], start: int, offset: int) -> list[Article]:
    """Guides: every ``## heading`` section is one citable unit."""
    out: list[Article] = []
    current: dict[str, Any] | None = None
    for i in range(start, len(lines)):
        raw = lines[i].rstrip()
        if raw.startswith("## "):
            if current and current["text"]:
                out.append(Article(**{**current, "text": "\n".join(current["text"])}))
            current = {"label": raw[3:].strip(), "chapter": None, "text": [], "line": offset + i}
        elif current is not None and raw.strip():
            current["text"].append(raw.strip())
    if current and current["text"]:
        out.append(Article(**{**current, "text": "\n".join(current["text"])}))
    return out


def _load_yaml(
    rel: str, text: str, model: type[EntryFile] | type[CaseFile] | type[ExpertFile] | type[ArticleQuestionsFile]
) -> tuple[Any, dict[Any, int], list[KnowledgeProblem]]:
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
            parsed, lines, found = _load_yaml(rel, text, model)
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
        if target and target not in paths and not any(p.path.startswith(POLICY_DIR + "/") for p in problems):
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
    problems.extend(_check_references(corpus, lines_by_file, checked, skip_unknown_laws=policy_broken))
    if not policy_broken:
        problems.extend(_attach_article_questions(corpus, article_views))
    if problems:
        raise KnowledgeError(problems)
    corpus.entries = [_canonical_refs(corpus, e, checked.get(corpus.locations[e.id].path)) for e in corpus.entries]
    corpus.cases = [_canonical_refs(corpus, c, None) for c in corpus.cases]
    return corpus


def _register(corpus: Corpus, key: str, where: Located) -> list[KnowledgeProblem]:
    if key in corpus.locations:
        first = corpus.locations[key]
        reason = f"id “{key}” 重复（{first.path} 第 {first.line} 行已使用）"
        return [KnowledgeProblem(where.path, where.line, reason)]
    corpus.locations[key] = where
    return []


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


def _check_references(
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


def _attach_article_questions(corpus: Corpus, views: list[tuple[str, int, ArticleQuestions]]) -> list[KnowledgeProblem]:
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


def _canonical_refs(corpus: Corpus, record: Any, checked_on: dt.date | None) -> Any:
    refs = [resolve_citation(corpus, r, checked_on) or r for r in record.references]
    return record.model_copy(update={"references": refs})
