"""Versioned builds: atomic switch, incremental refresh, rollback, failures leave the old version serving."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import KnowledgeError, WeiyuanError
from core.settings import Settings
from index.builder import build
from index.retriever import Retriever
from index.store import VersionStore
from tests.conftest import CountingEmbedder


def _edit_entry(knowledge: Path, old: str, new: str) -> None:
    path = knowledge / "entries" / "test-entries.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_first_build_publishes_a_complete_version(settings: Settings, factory, embedder: CountingEmbedder) -> None:
    result = build(settings, factory, incremental=True)
    store = VersionStore(settings.index_dir)
    assert store.current() == result.version
    manifest = store.manifest(result.version)
    assert manifest["mode"] == "full"
    assert manifest["model"] == {"name": "hashing", "fingerprint": "hashing-64", "dim": 64}
    assert manifest["ann"]["backend"] == "flat"
    assert manifest["counts"]["chunks"] == result.chunks == 8 + 4 + 3
    assert manifest["counts"]["by_kind"] == {"policy": 8, "entry": 4, "case": 3}
    assert set(manifest["documents"]) >= {"entries/test-entries.yaml", "policies/law/patent-excerpt.md"}
    assert embedder.embedded == result.views == manifest["counts"]["views"]
    files = {p.name for p in store.path(result.version).iterdir()}
    assert {"manifest.json", "chunks.jsonl", "vectors.npy", "view_chunk.npy", "bm25.npz"} <= files


def test_refresh_without_changes_creates_no_version(settings: Settings, factory, embedder) -> None:
    first = build(settings, factory, incremental=True)
    embedder.embedded = 0
    again = build(settings, factory, incremental=True)
    assert again.unchanged and again.version == first.version
    assert embedder.embedded == 0
    assert len(VersionStore(settings.index_dir).versions()) == 1


def test_refresh_reembeds_only_the_changed_entry(settings: Settings, factory, embedder) -> None:
    first = build(settings, factory, incremental=True)
    _edit_entry(settings.knowledge_dir, "专利被人山寨了怎么维权", "专利产品被人山寨了怎么维权")
    embedder.embedded = 0
    second = build(settings, factory, incremental=True)
    assert second.changed == ["entry/patent-counterfeit"] and not second.added and not second.removed
    # one variant view changed; the other views of the entry and everything else are reused
    assert embedder.embedded == 1
    assert second.reused == second.views - 1
    store = VersionStore(settings.index_dir)
    assert store.current() == second.version != first.version
    assert store.manifest(second.version)["parent"] == first.version
    # reused vectors are identical to a fresh embedding of the same text
    full = build(settings, factory, incremental=False)
    a = np.load(store.path(second.version) / "vectors.npy")
    b = np.load(store.path(full.version) / "vectors.npy")
    assert np.allclose(a, b)


def test_refresh_drops_removed_entries(settings: Settings, factory) -> None:
    build(settings, factory, incremental=True)
    path = settings.knowledge_dir / "entries" / "test-entries.yaml"
    text = path.read_text("utf-8")
    start = text.index("  - id: general-guangdong-protection")
    path.write_text(text[:start], encoding="utf-8")
    result = build(settings, factory, incremental=True)
    assert result.removed == ["entry/general-guangdong-protection"]
    retriever = Retriever(settings, factory)
    assert retriever.chunk("entry/general-guangdong-protection") is None
    assert retriever.chunk("entry/patent-damages") is not None


def test_malformed_file_leaves_serving_version_untouched(settings: Settings, factory) -> None:
    good = build(settings, factory, incremental=True)
    _edit_entry(settings.knowledge_dir, "ip_type: trademark", "ip_type: brand")
    with pytest.raises(KnowledgeError) as caught:
        build(settings, factory, incremental=True)
    assert "entries/test-entries.yaml 第" in str(caught.value)
    store = VersionStore(settings.index_dir)
    assert store.current() == good.version
    assert [v.version for v in store.versions()] == [good.version]
    assert not any(p.name.startswith(".tmp-") for p in store.versions_dir.iterdir())


class ExplodingEmbedder(CountingEmbedder):
    def embed_views(self, views, progress=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("power cut during embedding")


def test_build_failing_midway_keeps_previous_version(settings: Settings, factory) -> None:
    good = build(settings, factory, incremental=True)
    _edit_entry(settings.knowledge_dir, "专利侵权赔偿怎么算", "专利侵权赔偿到底怎么算")
    with pytest.raises(RuntimeError):
        build(settings, lambda: ExplodingEmbedder(), incremental=True)
    store = VersionStore(settings.index_dir)
    assert store.current() == good.version
    assert not any(p.name.startswith(".tmp-") for p in store.versions_dir.iterdir())
    # and the next build succeeds and switches
    assert build(settings, factory, incremental=True).version != good.version


def test_abandoned_staging_dirs_are_cleaned_by_next_build(settings: Settings, factory) -> None:
    build(settings, factory, incremental=True)
    store = VersionStore(settings.index_dir)
    stale = store.versions_dir / ".tmp-killed"
    stale.mkdir()
    (stale / "vectors.npy").write_bytes(b"half written")
    _edit_entry(settings.knowledge_dir, "专利侵权赔偿怎么算", "专利侵权赔偿如何计算")
    build(settings, factory, incremental=True)
    assert not stale.exists()


def test_rollback_to_previous_and_named_version(settings: Settings, factory) -> None:
    v1 = build(settings, factory, incremental=True).version
    _edit_entry(settings.knowledge_dir, "专利侵权赔偿怎么算", "专利侵权赔偿如何计算")
    v2 = build(settings, factory, incremental=True).version
    store = VersionStore(settings.index_dir)
    retriever = Retriever(settings, factory)
    assert retriever.version == v2
    assert store.rollback() == v1
    retriever._checked_at = 0.0  # do not wait for the 1 s reload check in a test
    assert retriever.version == v1
    assert store.rollback(v2) == v2
    with pytest.raises(WeiyuanError, match="不存在"):
        store.rollback("20000101-000000-01")
    with pytest.raises(WeiyuanError, match="已在服务中"):
        store.rollback(v2)
    actions = [e["action"] for e in store.history()]
    assert actions == ["refresh", "refresh", "rollback", "rollback"]


def test_old_versions_are_pruned_but_never_the_serving_one(settings: Settings, factory) -> None:
    settings.index.keep_versions = 2
    versions = []
    for i in range(4):
        _edit_entry(settings.knowledge_dir, "专利侵权赔偿", f"专利侵权赔偿{i}")
        versions.append(build(settings, factory, incremental=True).version)
    store = VersionStore(settings.index_dir)
    assert [v.version for v in store.versions()] == versions[::-1][:2]


def test_concurrent_build_is_refused(settings: Settings, factory) -> None:
    store = VersionStore(settings.index_dir)
    with store.lock(), pytest.raises(WeiyuanError, match="另一个索引构建正在进行"):
        build(settings, factory, incremental=True)


def test_manifest_is_valid_json_with_timings(settings: Settings, factory) -> None:
    version = build(settings, factory, incremental=True).version
    data = json.loads((VersionStore(settings.index_dir).path(version) / "manifest.json").read_text("utf-8"))
    assert set(data["seconds"]) >= {"load", "model", "embed", "index"}
    assert data["aliases"]["专利法"] == "中华人民共和国专利法"
