"""Search results: filters, citations, hot reload, errors (pipeline checked with the hashing embedder)."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import WeiyuanError
from core.settings import Settings
from index.builder import build
from index.confidence import Calibration
from index.retriever import Retriever


@pytest.fixture
def retriever(settings: Settings, factory) -> Retriever:
    build(settings, factory, incremental=True)
    return Retriever(settings, factory)


def test_hits_carry_citations_and_sources(retriever: Retriever) -> None:
    result = retriever.search("专利侵权赔偿怎么算", k=3)
    top = result.hits[0]
    assert top.id == "entry/patent-damages"
    assert top.citations == [{"law": "中华人民共和国专利法", "article": "第七十一条"}]
    assert top.source == "entries/test-entries.yaml"
    data = result.as_json()
    assert set(data) == {"query", "confidence", "answerable", "tier", "version", "hits"}
    assert set(data["hits"][0]) >= {"id", "kind", "title", "score", "citations", "text", "source"}
    assert 0.0 <= data["confidence"] <= 1.0


def test_filters_restrict_kind_ip_type_and_region(retriever: Retriever) -> None:
    only_policies = retriever.search("专利", k=10, kind="policy")
    assert only_policies.hits and {h.kind for h in only_policies.hits} == {"policy"}
    trademark = retriever.search("侵权赔偿", k=10, ip_type="trademark")
    assert trademark.hits and all("trademark" in h.ip_types for h in trademark.hits)
    # a region filter keeps national material and that region's local material only
    shanghai = retriever.search("知识产权保护条例", k=20, region="上海")
    assert all(h.region in ("全国", "上海") for h in shanghai.hits)
    guangdong = retriever.search("广东省知识产权保护条例", k=20, region="广东")
    assert "policy/广东省知识产权保护条例/第一条" in [h.id for h in guangdong.hits]


def test_traditional_and_full_width_queries_find_the_same_entry(retriever: Retriever) -> None:
    simplified = retriever.search("专利侵权赔偿怎么算", k=1).hits[0].id
    traditional = retriever.search("專利侵權賠償怎麼算？", k=1).hits[0].id
    assert simplified == traditional


def test_bad_input_is_a_clear_error(retriever: Retriever) -> None:
    with pytest.raises(WeiyuanError, match="查询内容不能为空"):
        retriever.search("   ")
    with pytest.raises(WeiyuanError, match="未知的知识产权类型"):
        retriever.search("专利", ip_type="patents")
    with pytest.raises(WeiyuanError, match="未知的文档类别"):
        retriever.search("专利", kind="law")


def test_no_index_yet_is_a_clear_error(settings: Settings, factory) -> None:
    with pytest.raises(WeiyuanError, match="还没有可用的索引"):
        Retriever(settings, factory).search("专利")


def test_serving_process_picks_up_a_new_version(settings: Settings, factory, retriever: Retriever) -> None:
    assert retriever.chunk("entry/new-entry") is None
    path = settings.knowledge_dir / "entries" / "test-entries.yaml"
    path.write_text(
        path.read_text("utf-8") + "  - id: new-entry\n    question: 新加的条目能被检索到吗\n"
        "    answer: 管理员新加的条目在增量刷新后，无需重启就能被正在运行的服务检索到。\n"
        "    ip_type: general\n    services: [consultation]\n",
        encoding="utf-8",
    )
    new_version = build(settings, factory, incremental=True).version
    retriever._checked_at = 0.0  # skip the once-a-second check interval
    assert retriever.search("新加的条目能被检索到吗", k=1).hits[0].id == "entry/new-entry"
    assert retriever.version == new_version


def test_article_lookup_by_title_or_alias(retriever: Retriever) -> None:
    by_alias = retriever.article("专利法", "第六十五条")
    by_title = retriever.article("《中华人民共和国专利法》", "第六十五条")
    assert by_alias is not None and by_alias == by_title
    assert retriever.article("专利法", "第九百条") is None


def test_confidence_uses_the_calibration(settings: Settings, factory) -> None:
    build(settings, factory, incremental=True)
    always_sure = Calibration(["dense_top"], [0.0], [1.0], [0.0], 10.0, 0.5)
    never_sure = Calibration(["dense_top"], [0.0], [1.0], [0.0], -10.0, 0.5)
    assert Retriever(settings, factory, always_sure).search("专利").answerable
    assert not Retriever(settings, factory, never_sure).search("专利").answerable
    signals = Retriever(settings, factory).search("专利侵权赔偿怎么算").signals
    assert set(signals) >= {"dense_top", "dense_gap", "bm25_top", "coverage", "domain", "agree"}
    assert all(np.isfinite(v) for v in signals.values())
