"""Which text is in force follows the law date: revisions take over on their day, repealed texts never answer.

The fixture gets a second 商标法 (a made-up renumbered revision in force from
2027-01-01) and a repealed interpretation; the real corpus is checked for the
2025/2027 changes the centres must get right.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.errors import KnowledgeError
from index.chunker import chunk_corpus
from index.loader import load_corpus

ROOT = Path(__file__).resolve().parent.parent

NEW_TRADEMARK = """---
title: 中华人民共和国商标法
doc_type: law
issuer: 全国人民代表大会常务委员会
promulgated: '2026-06-26'
effective_date: '2027-01-01'
region: 全国
ip_types: [trademark]
aliases: [商标法]
source: {name: "test fixture: a revision made up for this test"}
provenance: 测试用文本，不是真实法律。
---
# 中华人民共和国商标法

<!-- INFO END -->

第七十二条 有下列行为之一的，均属侵犯注册商标专用权：（一）未经许可在同一种商品上使用相同商标的。
"""

REPEALED = """---
title: 测试用已废止解释
doc_type: judicial_interpretation
issuer: 最高人民法院
promulgated: '2004-12-08'
repealed_by: 测试用新解释
repealed_on: '2025-04-26'
region: 全国
ip_types: [trademark]
source: {name: "test fixture"}
provenance: 测试用文本，不是真实法律。
---
# 测试用已废止解释

<!-- INFO END -->

第一条 假冒注册商标，非法经营数额在五万元以上的，属于情节严重。
"""


@pytest.fixture
def revised(knowledge: Path) -> Path:
    (knowledge / "policies" / "law" / "trademark-2026.md").write_text(NEW_TRADEMARK, encoding="utf-8")
    old = knowledge / "policies" / "law" / "trademark-excerpt.md"
    old.write_text(
        old.read_text("utf-8").replace(
            "aliases: [商标法]\n", "aliases: [商标法]\nsuperseded_by: policies/law/trademark-2026.md\n", 1
        ),
        encoding="utf-8",
    )
    entries = knowledge / "entries" / "test-entries.yaml"
    entries.write_text("checked_on: 2026-11-29\n" + entries.read_text("utf-8"), encoding="utf-8")
    return knowledge


def _statuses(knowledge: Path, day: dt.date) -> dict[str, str]:
    corpus = load_corpus(knowledge, day)
    return {p.path.rsplit("/", 1)[-1]: p.status for p in corpus.policies}


def test_the_revision_takes_over_on_its_effective_date(revised: Path) -> None:
    before = _statuses(revised, dt.date(2026, 12, 31))
    assert before["trademark-excerpt.md"] == "in_force" and before["trademark-2026.md"] == "not_yet_in_force"
    after = _statuses(revised, dt.date(2027, 1, 1))
    assert after["trademark-excerpt.md"] == "superseded" and after["trademark-2026.md"] == "in_force"


def test_only_text_in_force_is_cited_by_title(revised: Path) -> None:
    chunks = {c.id: c for c in chunk_corpus(load_corpus(revised, dt.date(2026, 12, 1)))}
    assert chunks["policy/中华人民共和国商标法/第五十七条"].status == "in_force"
    assert "2027-01-01" in chunks["policy/中华人民共和国商标法/第五十七条"].status_note
    future = chunks["policy/中华人民共和国商标法（2026年文本）/第七十二条"]
    assert future.status == "not_yet_in_force" and "尚未施行" in future.title
    chunks = {c.id: c for c in chunk_corpus(load_corpus(revised, dt.date(2027, 1, 2)))}
    assert chunks["policy/中华人民共和国商标法/第七十二条"].status == "in_force"
    assert chunks["policy/中华人民共和国商标法（2019年文本）/第五十七条"].status == "superseded"


def test_an_entry_checked_before_a_revision_keeps_its_article_and_says_the_law_changed(revised: Path) -> None:
    corpus = load_corpus(revised, dt.date(2027, 1, 2))
    entry = next(e for e in corpus.entries if any("商标法" in r.law for r in e.references))
    ref = next(r for r in entry.references if "商标法" in r.law)
    # the article the entry was written against, named with its version, not the new 第五十七条
    assert (ref.law, ref.article) == ("中华人民共和国商标法（2019年文本）", "第五十七条")
    old = next(p for p in corpus.policies if p.cite_as == ref.law)
    assert old.status == "superseded" and "2027-01-01" in old.status_note


def test_a_reference_to_a_repealed_text_fails_the_build_with_file_and_line(knowledge: Path) -> None:
    (knowledge / "policies" / "judicial_interpretation").mkdir(parents=True, exist_ok=True)
    (knowledge / "policies" / "judicial_interpretation" / "old.md").write_text(REPEALED, encoding="utf-8")
    entries = knowledge / "entries" / "test-entries.yaml"
    text = entries.read_text("utf-8").replace(
        "      - {law: 商标法, article: 第五十七条}",
        "      - {law: 商标法, article: 第五十七条}\n      - {law: 测试用已废止解释, article: 第一条}",
        1,
    )
    entries.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_corpus(knowledge, dt.date(2026, 11, 29))
    (problem,) = caught.value.problems
    assert problem.path == "entries/test-entries.yaml" and problem.line == 30
    assert "已废止" in problem.reason and "historical" in problem.reason
    # marked as historical, the same reference is accepted
    entries.write_text(text.replace("article: 第一条}", "article: 第一条, historical: true}"), encoding="utf-8")
    assert load_corpus(knowledge, dt.date(2026, 11, 29))


def test_a_text_replaced_by_one_the_corpus_lacks_stops_answering_on_that_day(knowledge: Path) -> None:
    # a local regulation revised by a text that is not shipped: no successor file, a date and a name
    old = knowledge / "policies" / "law" / "trademark-excerpt.md"
    old.write_text(
        old.read_text("utf-8").replace(
            "aliases: [商标法]\n",
            "aliases: [商标法]\nsuperseded_by: 测试用修订文本\nsuperseded_on: '2026-01-01'\n",
            1,
        ),
        encoding="utf-8",
    )
    assert _statuses(knowledge, dt.date(2025, 12, 31))["trademark-excerpt.md"] == "in_force"
    with pytest.raises(KnowledgeError) as caught:  # the entries cite it as current
        load_corpus(knowledge, dt.date(2026, 1, 1))
    problem = caught.value.problems[0]
    assert problem.path == "entries/test-entries.yaml" and "historical" in problem.reason
    assert "2026-01-01" in problem.reason and "测试用修订文本" in problem.reason and "未收录新文本" in problem.reason


def test_shipped_corpus_today_and_on_the_trademark_law_day() -> None:
    today = load_corpus(ROOT / "knowledge", dt.date(2026, 11, 29))
    status = {(p.meta.title, p.meta.promulgated.year if p.meta.promulgated else None): p.status for p in today.policies}
    assert status[("中华人民共和国反不正当竞争法", 2025)] == "in_force"
    assert status[("中华人民共和国反不正当竞争法", 2019)] == "superseded"
    assert status[("中华人民共和国商标法", 2019)] == "in_force"
    assert status[("中华人民共和国商标法", 2026)] == "not_yet_in_force"
    assert status[("中华人民共和国植物新品种保护条例", 2025)] == "in_force"
    assert status[("山东省专利条例", 2013)] == "superseded"  # revised 2025, in force 2026-01-01, not shipped
    repealed = [p for p in today.policies if "具体应用法律若干问题的解释" in p.meta.title and "刑事" in p.meta.title]
    assert repealed and all(p.status == "repealed" for p in repealed)
    assert today.next_change == dt.date(2027, 1, 1)
    # no entry cites a repealed or superseded text as current (a promulgated future text, by its year, is fine)
    status_of = {p.cite_as: p.status for p in today.policies}
    for entry in today.entries:
        for ref in entry.references:
            assert status_of[ref.law] in ("in_force", "not_yet_in_force") or ref.historical, (entry.id, ref)
    later = load_corpus(ROOT / "knowledge", dt.date(2027, 1, 1))
    assert {
        p.meta.promulgated.year
        for p in later.policies
        if p.meta.title == "中华人民共和国商标法" and p.status == "in_force"
    } == {2026}  # type: ignore[union-attr]


def test_consultation_searches_the_law_in_force_and_says_what_will_change(revised: Path, settings, factory) -> None:  # type: ignore[no-untyped-def]
    from consult.answers import compose_probable
    from index.builder import build
    from index.retriever import Retriever

    settings = settings.model_copy(update={"law_date": dt.date(2026, 12, 1)})
    build(settings, factory, incremental=True)
    retriever = Retriever(settings, factory)
    everything = retriever.search("侵犯注册商标专用权的行为", k=20, kind="policy")
    statuses = {h.id: h.status for h in everything.hits}
    assert statuses.get("policy/中华人民共和国商标法（2026年文本）/第七十二条") == "not_yet_in_force"
    current = retriever.search("侵犯注册商标专用权的行为", k=20, kind="policy", current_only=True)
    assert current.hits and all(h.status == "in_force" for h in current.hits)
    assert "policy/中华人民共和国商标法/第五十七条" in {h.id for h in current.hits}
    assert "2027-01-01" in current.law_notes["中华人民共和国商标法"]
    text = compose_probable(current).text
    assert "注意：《中华人民共和国商标法》修订后的新版本将于 2027-01-01 起施行" in text


def test_the_gateway_knows_when_the_serving_index_is_due_for_the_law_date() -> None:
    from gateway.jobs import law_change_due

    manifest = {"law_date": "2026-11-29", "next_change": "2027-01-01"}
    assert law_change_due(manifest, dt.date(2026, 12, 31)) is None
    assert law_change_due(manifest, dt.date(2027, 1, 1)) == dt.date(2027, 1, 1)
    assert law_change_due({"next_change": None}, dt.date(2030, 1, 1)) is None


def test_a_text_not_yet_in_force_can_be_cited_by_its_year_before_and_after_it_takes_effect(revised: Path) -> None:
    entries = revised / "entries" / "test-entries.yaml"
    entries.write_text(
        entries.read_text("utf-8").replace(
            "      - {law: 商标法, article: 第五十七条}",
            "      - {law: 商标法, article: 第五十七条}\n      - {law: 商标法（2026年文本）, article: 第七十二条}",
            1,
        ),
        encoding="utf-8",
    )
    before = load_corpus(revised, dt.date(2026, 12, 1))
    cited = {(r.law, r.article) for e in before.entries for r in e.references}
    assert ("中华人民共和国商标法（2026年文本）", "第七十二条") in cited
    after = load_corpus(revised, dt.date(2027, 1, 2))
    cited = {(r.law, r.article) for e in after.entries for r in e.references}
    # the same reference now names the text in force, by its title
    assert ("中华人民共和国商标法", "第七十二条") in cited


async def test_the_agent_page_can_show_only_the_texts_in_force(
    revised: Path, settings, factory, aiohttp_client
) -> None:  # type: ignore[no-untyped-def]
    from desk.accounts import create_user
    from gateway.app import create_app
    from index.builder import build
    from index.retriever import Retriever
    from store.db import open_database
    from tests.test_gateway import PASSWORD, login

    settings = settings.model_copy(update={"law_date": dt.date(2026, 12, 1)})
    build(settings, factory, incremental=True)
    create_user(open_database(settings.database_url), "agent1", PASSWORD, "agent")
    client = await aiohttp_client(create_app(settings, Retriever(settings, factory)))
    await login(client, "agent1")
    query = "/api/search?q=侵犯注册商标专用权的行为&kind=policy&k=20"
    everything = (await (await client.get(query)).json())["hits"]
    assert {"not_yet_in_force"} <= {h["status"] for h in everything}
    future = next(h for h in everything if h["status"] == "not_yet_in_force")
    assert future["status_label"] == "尚未施行" and "尚未施行" in future["title"]
    current = (await (await client.get(query + "&current_only=1")).json())["hits"]
    assert current and {h["status_label"] for h in current} == {"现行有效"}
