"""The corpus loader accepts good files and names file, line and reason for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import KnowledgeError
from index.loader import load_corpus


def test_fixture_corpus_loads(knowledge: Path) -> None:
    corpus = load_corpus(knowledge)
    titles = {p.meta.title for p in corpus.policies}
    assert "中华人民共和国专利法" in titles
    patent = next(p for p in corpus.policies if p.meta.title == "中华人民共和国专利法")
    labels = [a.label for a in patent.articles]
    assert labels == ["第一条", "第二条", "第六十五条", "第七十一条"]
    # an article keeps its continuation paragraphs and its chapter
    second = patent.articles[1]
    assert "发明，是指" in second.text and second.chapter == "第一章 总则"
    assert patent.articles[2].chapter == "第七章 专利权的保护"
    assert len(corpus.entries) == 4 and len(corpus.cases) == 1 and len(corpus.experts) == 1
    # references given by alias are stored under the canonical title
    entry = next(e for e in corpus.entries if e.id == "patent-counterfeit")
    assert entry.references[0].law == "中华人民共和国专利法"
    assert all(len(h) == 64 for h in corpus.documents.values())


def _problems(knowledge: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_corpus(knowledge)
    return [str(p) for p in caught.value.problems]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_wrong_ip_type_names_file_and_line(knowledge: Path) -> None:
    entries = knowledge / "entries" / "test-entries.yaml"
    _edit(entries, "ip_type: trademark", "ip_type: trademak")
    line = next(i for i, text in enumerate(entries.read_text("utf-8").splitlines(), 1) if "trademak" in text)
    problems = _problems(knowledge)
    assert problems == [
        f"entries/test-entries.yaml 第 {line} 行：字段 ip_type（知识产权类型）的取值 'trademak' 无效，"
        f"应为：'patent', 'trademark', 'copyright', 'trade_secret', 'geographical_indication', "
        f"'plant_variety', 'ic_layout', 'unfair_competition', 'ecommerce' or 'general'"
    ]


def test_yaml_syntax_error_names_line(knowledge: Path) -> None:
    entries = knowledge / "entries" / "test-entries.yaml"
    _edit(entries, "    variants: [专利侵权赔偿怎么算]", "    variants: [专利侵权赔偿怎么算")
    (problem,) = _problems(knowledge)
    assert problem.startswith("entries/test-entries.yaml 第 ")
    assert "YAML 格式错误" in problem


def test_missing_answer_is_reported(knowledge: Path) -> None:
    entries = knowledge / "entries" / "test-entries.yaml"
    text = entries.read_text("utf-8")
    start = text.index("    answer: 赔偿数额")
    end = text.index("\n", start)
    entries.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    (problem,) = _problems(knowledge)
    assert "缺少必填字段 answer（回答）" in problem
    assert problem.startswith("entries/test-entries.yaml 第 ")


def test_unknown_article_reference(knowledge: Path) -> None:
    entries = knowledge / "entries" / "test-entries.yaml"
    _edit(entries, "article: 第七十一条", "article: 第九百条")
    lines = entries.read_text("utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "第九百条" in text)
    assert _problems(knowledge) == [f"entries/test-entries.yaml 第 {line} 行：《中华人民共和国专利法》中没有“第九百条”"]


def test_unknown_law_reference(knowledge: Path) -> None:
    _edit(knowledge / "entries" / "test-entries.yaml", "{law: 商标法,", "{law: 商标条例,")
    (problem,) = _problems(knowledge)
    assert "引用的法规“商标条例”不在知识库中" in problem


def test_duplicate_id_across_files(knowledge: Path) -> None:
    (knowledge / "entries" / "more.yaml").write_text(
        "provenance: test\nentries:\n  - id: patent-damages\n    question: 重复的条目问题\n"
        "    answer: 这是一个重复编号的条目，用来检查重复检测能否指出两处位置。\n"
        "    ip_type: patent\n    services: [consultation]\n",
        encoding="utf-8",
    )
    (problem,) = _problems(knowledge)
    assert "id “patent-damages” 重复" in problem
    assert "entries/more.yaml 第 3 行" in problem and "entries/test-entries.yaml 第 " in problem


def test_unknown_related_entry(knowledge: Path) -> None:
    _edit(knowledge / "entries" / "test-entries.yaml", "related: [patent-damages]", "related: [nope-entry]")
    (problem,) = _problems(knowledge)
    assert "相关条目“nope-entry”不存在" in problem


def test_policy_without_front_matter(knowledge: Path) -> None:
    (knowledge / "policies" / "law" / "bare.md").write_text("# 某法\n\n第一条 内容。\n", encoding="utf-8")
    assert _problems(knowledge) == ["policies/law/bare.md 第 1 行：缺少 YAML 头部元数据（文件应以 --- 开始）"]


def test_policy_title_mismatch_and_duplicate_article(knowledge: Path) -> None:
    path = knowledge / "policies" / "law" / "trademark-excerpt.md"
    _edit(path, "# 中华人民共和国商标法", "# 中华人民共和国商标法（草案）")
    _edit(path, "第六十三条 侵犯", "第五十七条 侵犯")
    problems = _problems(knowledge)
    assert any("正文标题“中华人民共和国商标法（草案）”与元数据 title 不一致" in p for p in problems)
    assert any("条文序号“第五十七条”重复" in p for p in problems)


def test_policy_front_matter_field_error(knowledge: Path) -> None:
    path = knowledge / "policies" / "law" / "patent-excerpt.md"
    _edit(path, "doc_type: law", "doc_type: statute")
    (problem,) = _problems(knowledge)
    assert problem.startswith("policies/law/patent-excerpt.md 第 3 行：字段 doc_type")


def test_non_utf8_file(knowledge: Path) -> None:
    (knowledge / "entries" / "gbk.yaml").write_bytes("provenance: 测试\n".encode("gbk"))
    (problem,) = _problems(knowledge)
    assert problem == "entries/gbk.yaml 第 1 行：文件不是 UTF-8 编码"


def test_case_needs_verifiable_source(knowledge: Path) -> None:
    _edit(
        knowledge / "cases" / "test-cases.yaml",
        "source: {name: test fixture, path: tests/fixtures/knowledge_small/cases/test-cases.yaml}",
        "source: {name: test fixture}",
    )
    (problem,) = _problems(knowledge)
    assert "案例必须注明可核查的出处" in problem


def test_demo_expert_file_must_label_every_expert(knowledge: Path) -> None:
    _edit(knowledge / "experts" / "demo.yaml", "capacity: 3, demo: true", "capacity: 3")
    (problem,) = _problems(knowledge)
    assert "演示数据文件中的每位专家都必须标注 demo: true" in problem


def test_all_problems_reported_at_once(knowledge: Path) -> None:
    _edit(knowledge / "entries" / "test-entries.yaml", "ip_type: trademark", "ip_type: x")
    _edit(knowledge / "experts" / "demo.yaml", "capacity: 3", "capacity: 0")
    assert len(_problems(knowledge)) == 2


def test_lay_questions_become_question_views_of_their_article(knowledge: Path) -> None:
    from index.chunker import chunk_corpus

    (knowledge / "article_views").mkdir()
    (knowledge / "article_views" / "questions.yaml").write_text(
        "provenance: written for this test\n"
        "articles:\n"
        "  - law: 专利法\n"
        "    article: 第六十五条\n"
        "    questions:\n"
        "      - 别人仿了我的专利产品能告吗\n",
        encoding="utf-8",
    )
    chunk = next(c for c in chunk_corpus(load_corpus(knowledge)) if c.id == "policy/中华人民共和国专利法/第六十五条")
    assert [v.text for v in chunk.views if v.role == "question"] == ["别人仿了我的专利产品能告吗"]
    assert "别人仿了我的专利产品能告吗" in chunk.lexical


def test_lay_questions_for_a_missing_article_name_file_and_line(knowledge: Path) -> None:
    (knowledge / "article_views").mkdir()
    (knowledge / "article_views" / "questions.yaml").write_text(
        "provenance: written for this test\n"
        "articles:\n"
        "  - law: 专利法\n"
        "    article: 第一条\n"
        "    questions: [专利法是干什么的]\n"
        "  - law: 专利法\n"
        "    article: 第九百条\n"
        "    questions: [这条不存在吧]\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as caught:
        load_corpus(knowledge)
    (problem,) = caught.value.problems
    assert problem.path == "article_views/questions.yaml" and problem.line == 6 and "第九百条" in problem.reason
