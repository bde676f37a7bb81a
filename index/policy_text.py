"""Parse one policy Markdown file: YAML front matter, then its citable units.

A statute is split into articles (第X条), a reply (批复) into numbered points
(一、二、…, cited as 第一条 …) or taken whole (全文), a guide into ``##``
sections.  The four are one splitter with different ideas of where a unit
starts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from pydantic import ValidationError

from core.errors import KnowledgeProblem, problems_from_validation
from core.yamlio import YamlSyntaxError, load_with_lines
from index.schema import Article, Policy, PolicyMeta

_CN_NUM = "零〇一二三四五六七八九十百千"
ARTICLE_START = re.compile(rf"^(第[{_CN_NUM}]+条(?:之[一二三四五六七八九十]+)?)[\s\u3000]+(.*)$")
ITEM_START = re.compile(rf"^([{_CN_NUM}]+)、(.*)$")
CHAPTER = re.compile(r"^#{2,3}\s+(.+?)\s*$")


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
        articles = split_units(body_lines, start, body_line, _section_label, keep_first_line=False)
    else:
        articles = split_units(body_lines, start, body_line, _article_label, chapters=_chapter)
        if not articles:
            articles = split_units(body_lines, start, body_line, _item_label)
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


def split_units(
    lines: list[str],
    start: int,
    offset: int,
    label_of: Callable[[str], str | None],
    *,
    chapters: Callable[[str, str | None], str | None] | None = None,
    keep_first_line: bool = True,
) -> list[Article]:
    """Accumulate lines into units: ``label_of`` names the line that opens one (``None``: it continues
    the current unit); ``chapters`` returns the new chapter for a heading line (which closes the unit)."""
    out: list[Article] = []
    chapter: str | None = None
    label: str | None = None
    text: list[str] = []
    line_no = 0

    def close() -> None:
        if label is not None and text:
            out.append(Article(label=label, chapter=chapter, text="\n".join(text), line=line_no))

    for i in range(start, len(lines)):
        line = lines[i].strip()
        if not line:
            continue
        new_chapter = chapters(line, chapter) if chapters else None
        if new_chapter is not None:
            close()
            label, text, chapter = None, [], new_chapter
            continue
        opened = label_of(line)
        if opened is not None:
            close()
            label, text, line_no = opened, [line] if keep_first_line else [], offset + i
        elif label is not None:
            text.append(line)
    close()
    return out


def _article_label(line: str) -> str | None:
    """Statute articles: each starts a line with 第X条 and runs to the next one."""
    match = ARTICLE_START.match(line)
    return match[1] if match else None


def _item_label(line: str) -> str | None:
    """Replies (批复) number their points 一、二、…; cite them as 第一条, 第二条…"""
    match = ITEM_START.match(line)
    return f"第{match[1]}条" if match else None


def _section_label(line: str) -> str | None:
    """Guides: every ``## heading`` section is one citable unit."""
    return line[3:].strip() if line.startswith("## ") else None


def _chapter(line: str, chapter: str | None) -> str | None:
    """ "## 第二章" starts a chapter; "### 第一节" is a section within the current chapter."""
    heading = CHAPTER.match(line)
    if not heading:
        return None
    title = _clean_heading(heading[1])
    parent = chapter.split(" / ")[0] if chapter and not line.startswith("## ") else None
    return f"{parent} / {title}" if parent else title


def _clean_heading(text: str) -> str:
    """``第一章　总 则`` -> ``第一章 总则`` (the source spaces headings inconsistently)."""
    parts = text.replace("\u3000", " ").split(None, 1)
    if len(parts) == 2 and re.match(r"^第.+[章节编]$", parts[0]):
        return parts[0] + " " + re.sub(r"\s+", "", parts[1])
    return re.sub(r"\s+", " ", text).strip()


def _whole(lines: list[str], start: int, offset: int) -> list[Article]:
    """A short reply with no numbered points is cited as a whole (全文)."""
    text = [line.strip() for line in lines[start:] if line.strip()]
    first = next((i for i in range(start, len(lines)) if lines[i].strip()), start)
    return [Article(label="全文", text="\n".join(text), line=offset + first)] if text else []
