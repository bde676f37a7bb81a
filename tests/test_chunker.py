"""Chunks carry what a citation needs: law, article, chapter; entries have one view per phrasing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import KnowledgeError
from index.chunker import chunk_corpus
from index.loader import load_corpus


def _chunks(knowledge: Path):  # type: ignore[no-untyped-def]
    return {c.id: c for c in chunk_corpus(load_corpus(knowledge))}


def test_statute_chunk_per_article_with_law_and_chapter(knowledge: Path) -> None:
    chunks = _chunks(knowledge)
    art = chunks["policy/中华人民共和国专利法/第六十五条"]
    assert art.kind == "policy"
    assert art.title == "中华人民共和国专利法 第六十五条"
    assert art.heading == "第七章 专利权的保护"
    assert [c.model_dump() for c in art.citations] == [{"law": "中华人民共和国专利法", "article": "第六十五条"}]
    assert art.ip_types == ["patent"] and art.region == "全国"
    assert art.source == "policies/law/patent-excerpt.md"
    # the embedded text names the law and chapter, so "专利法" in a query can match
    assert art.views[0].text.startswith("《中华人民共和国专利法》第七章 专利权的保护 第六十五条")


def test_entry_chunk_has_question_views_and_answer_view(knowledge: Path) -> None:
    chunk = _chunks(knowledge)["entry/patent-counterfeit"]
    roles = [v.role for v in chunk.views]
    assert roles == ["question", "question", "question", "passage"]
    assert chunk.views[0].text == "我们的专利产品被人仿冒了怎么办？"
    assert chunk.citations[0].label() == "《中华人民共和国专利法》第六十五条"
    assert chunk.services == ["consultation", "infringement_judgment"]
    assert chunk.related == ["entry/patent-damages"]
    assert "山寨" in chunk.lexical


def test_case_chunked_by_section(knowledge: Path) -> None:
    chunks = _chunks(knowledge)
    ids = sorted(i for i in chunks if i.startswith("case/"))
    assert ids == [
        "case/fixture-case-patent/facts",
        "case/fixture-case-patent/holding",
        "case/fixture-case-patent/key_points",
    ]
    assert chunks["case/fixture-case-patent/key_points"].text == "测试要点一\n测试要点二"


def test_local_regulation_keeps_region(knowledge: Path) -> None:
    chunk = _chunks(knowledge)["policy/广东省知识产权保护条例/第一条"]
    assert chunk.region == "广东"


def test_ids_and_hashes_are_stable_and_content_sensitive(knowledge: Path) -> None:
    first = _chunks(knowledge)
    again = _chunks(knowledge)
    assert {k: v.content_hash for k, v in first.items()} == {k: v.content_hash for k, v in again.items()}
    path = knowledge / "entries" / "test-entries.yaml"
    path.write_text(path.read_text("utf-8").replace("怎么维权", "怎么维权呢"), encoding="utf-8")
    changed = _chunks(knowledge)
    differ = [k for k in first if first[k].content_hash != changed[k].content_hash]
    assert differ == ["entry/patent-counterfeit"]


def test_repealed_policies_are_indexed_marked_and_not_citable(knowledge: Path) -> None:
    path = knowledge / "policies" / "law" / "trademark-excerpt.md"
    path.write_text(
        path.read_text("utf-8").replace("aliases: [商标法]", "aliases: [商标法]\nrepealed_on: 2020-01-01"),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as caught:
        load_corpus(knowledge)
    assert "引用的《中华人民共和国商标法》已废止" in str(caught.value)
    entries = knowledge / "entries" / "test-entries.yaml"
    entries.write_text(
        entries.read_text("utf-8").replace("{law: 商标法, article: 第五十七条}", "{law: 专利法, article: 第六十五条}"),
        encoding="utf-8",
    )
    chunks = _chunks(knowledge)
    repealed = [c for i, c in chunks.items() if i.startswith("policy/中华人民共和国商标法/")]
    assert repealed and all(c.status == "repealed" and "已废止" in c.title for c in repealed)
