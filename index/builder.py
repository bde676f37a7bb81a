"""Build and refresh index versions: corpus -> chunks -> vectors -> ANN + BM25.

``build`` embeds every chunk view.  ``refresh`` reuses the vectors of the
serving version for every view whose text (and model) is unchanged, embeds
only what was added or edited, and drops what was removed; if nothing
changed at all it creates no new version.  Either way the corpus is
validated first and the new version only starts serving once it is
completely on disk.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.settings import Settings
from index import ann
from index.bm25 import BM25
from index.chunker import chunk_corpus
from index.embedder import Embedder, view_key
from index.loader import load_corpus
from index.progress import NullProgress, Progress
from index.schema import Chunk, View
from index.store import MANIFEST, VersionStore, utc_now
from index.textnorm import load_synonyms, normalize
from index.tokenizer import Tokenizer, shared_tokenizer
from index.versiondata import VersionFiles, read_chunks, write_json

#: Version directory layout (2: chunk offsets and filter arrays stored alongside chunks.jsonl).
FORMAT = 2


@dataclass
class BuildResult:
    version: str | None
    mode: str
    chunks: int
    views: int
    embedded: int
    reused: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    unchanged: bool = False

    def summary(self) -> str:
        if self.unchanged:
            return f"知识库没有变化，继续使用版本 {self.version}"
        mode = "增量刷新" if self.mode == "incremental" else "完整构建"
        changes = f"新增 {len(self.added)}、修改 {len(self.changed)}、删除 {len(self.removed)}"
        return (
            f"已发布索引版本 {self.version}（{mode}）：{self.chunks} 个片段，{changes}；"
            f"嵌入 {self.embedded} 段文本，复用 {self.reused} 段，用时 {self.seconds.get('total', 0):.1f} 秒"
        )


def lexical_tokens(tokenizer: Tokenizer, chunk: Chunk) -> list[str]:
    return tokenizer.tokens(normalize(chunk.lexical))


def _settings_fingerprint(settings: Settings) -> dict[str, Any]:
    return {"index": settings.index.model_dump(), "embedding": settings.embedding.model_dump()}


def build(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    *,
    incremental: bool,
    progress: Progress | None = None,
    user: str | None = None,
) -> BuildResult:
    """Validate the corpus and publish a new version (or none if nothing changed)."""
    progress = progress or NullProgress()
    store = VersionStore(settings.index_dir)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with store.lock():
        store.clean_abandoned()
        progress.stage("validate", "校验知识库文件")
        corpus = load_corpus(settings.knowledge_dir, settings.law_date)
        load_synonyms(settings.knowledge_dir / "synonyms.yaml")
        chunks = chunk_corpus(corpus)
        timings["load"] = time.perf_counter() - started
        progress.note(
            f"知识库校验通过：{len(corpus.policies)} 份法规政策，{len(corpus.entries)} 条知识库条目，"
            f"{len(corpus.cases)} 个案例，共 {len(chunks)} 个片段"
        )

        current = store.current()
        previous: VersionFiles | None = None
        if current is not None:
            previous = VersionFiles(store.path(current))
        if incremental and previous is not None and _unchanged(previous, corpus.documents, settings):
            return BuildResult(current, "incremental", len(chunks), 0, 0, 0, unchanged=True)

        progress.stage("model", "加载向量模型")
        t0 = time.perf_counter()
        embedder = embedder_factory()
        timings["model"] = time.perf_counter() - t0

        views: list[View] = []
        view_chunk: list[int] = []
        for i, chunk in enumerate(chunks):
            views.extend(chunk.views)
            view_chunk.extend([i] * len(chunk.views))
        keys = [view_key(embedder.fingerprint, v) for v in views]

        vectors = np.zeros((len(views), embedder.dim), dtype=np.float32)
        todo = list(range(len(views)))
        reused = 0
        if incremental and previous is not None and previous.model_fingerprint() == embedder.fingerprint:
            known = previous.key_rows()
            old_vectors = previous.vectors()
            todo = []
            for row, key in enumerate(keys):
                old = known.get(key)
                if old is None:
                    todo.append(row)
                else:
                    vectors[row] = old_vectors[old]
                    reused += 1

        t0 = time.perf_counter()
        progress.stage("embed", "计算文本向量", total=len(todo))
        if todo:
            vectors[todo] = embedder.embed_views([views[i] for i in todo], progress=progress.advance)
        timings["embed"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        progress.stage("index", "建立向量索引与关键词索引", total=2)
        backend, params = ann.choose_backend(len(views), ann.Sizing(**settings.index.sizing()))
        ann_index = ann.create(backend, embedder.dim, params)
        ann_index.build(vectors)
        progress.advance(1)
        tokenizer = shared_tokenizer(settings.knowledge_dir / "lexicon")
        bm25 = BM25.build([lexical_tokens(tokenizer, c) for c in chunks])
        progress.advance(1)
        timings["index"] = time.perf_counter() - t0

        old_hashes = {c.id: c.content_hash for c in read_chunks(previous.root)} if previous else {}
        new_hashes = {c.id: c.content_hash for c in chunks}
        added = sorted(set(new_hashes) - set(old_hashes))
        removed = sorted(set(old_hashes) - set(new_hashes))
        changed = sorted(i for i in new_hashes if i in old_hashes and old_hashes[i] != new_hashes[i])

        progress.stage("publish", "写入并切换到新版本")
        version = store.new_version_id()
        with store.staging() as tmp:
            files = VersionFiles(tmp)
            files.write(chunks, vectors, np.asarray(view_chunk, dtype=np.int32), keys, ann_index, bm25)
            timings["total"] = time.perf_counter() - started
            manifest = {
                "format": FORMAT,
                "version": version,
                "created_at": utc_now(),
                "mode": "incremental" if incremental and previous is not None else "full",
                "parent": current,
                "user": user,
                "model": {"name": embedder.name, "fingerprint": embedder.fingerprint, "dim": embedder.dim},
                "ann": ann_index.describe(),
                "counts": {
                    "chunks": len(chunks),
                    "views": len(views),
                    "by_kind": dict(Counter(c.kind for c in chunks)),
                    "by_ip_type": dict(Counter(t for c in chunks for t in c.ip_types)),
                    "policies": len(corpus.policies),
                    "entries": len(corpus.entries),
                    "cases": len(corpus.cases),
                    "experts": len(corpus.experts),
                },
                "documents": corpus.documents,
                # statuses were worked out for this date; from next_change a refresh is due
                "law_date": corpus.law_date.isoformat(),
                "next_change": corpus.next_change.isoformat() if corpus.next_change else None,
                # what answers citing a text must say about it (revised, repealed, changing on a date)
                "law_notes": {p.cite_as: p.status_note for p in corpus.policies if p.status_note},
                "aliases": {alias: policy.meta.title for policy in corpus.policies for alias in policy.meta.aliases},
                "changes": {
                    "added": len(added),
                    "changed": len(changed),
                    "removed": len(removed),
                    "embedded_views": len(todo),
                    "reused_views": reused,
                },
                "settings": _settings_fingerprint(settings),
                "seconds": {k: round(v, 3) for k, v in timings.items()},
            }
            write_json(tmp / MANIFEST, manifest)
            store.publish(tmp, version, "refresh" if incremental else "build")
        store.prune(settings.index.keep_versions)
        progress.note(f"新版本 {version} 已开始服务")
        return BuildResult(
            version,
            str(manifest["mode"]),
            len(chunks),
            len(views),
            len(todo),
            reused,
            added,
            changed,
            removed,
            timings,
        )


def _unchanged(previous: VersionFiles, documents: dict[str, str], settings: Settings) -> bool:
    manifest = previous.manifest()
    return bool(
        manifest.get("documents") == documents
        and manifest.get("settings") == _settings_fingerprint(settings)
        and manifest.get("format") == FORMAT
    )
