"""Hybrid search over the serving index version, with filters and confidence.

Dense (FAISS over e5 vectors, best view per chunk) and lexical (BM25 over
jieba tokens) rankings are merged by weighted reciprocal-rank fusion; the
weights were chosen on the dev set (docs/retrieval.md).  Filters on kind,
IP type and region restrict both rankings.  When an admin publishes a new
version, every process serving searches picks it up on its next query
(it checks ``CURRENT`` at most once a second) without a restart.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from core.errors import WeiyuanError
from core.settings import Settings
from core.vocabulary import KINDS, NATIONWIDE
from index.confidence import FALLBACK, Calibration
from index.embedder import Embedder
from index.fusion import fuse
from index.homophones import HomophoneFixer
from index.ranker import Ranker, overlap, reciprocal
from index.results import Candidate, Filters, Hit, SearchResult
from index.schema import Chunk
from index.serving import LoadedVersion
from index.store import VersionStore
from index.textnorm import PreparedQuery, Synonyms, load_synonyms, normalize, prepare_query
from index.tokenizer import shared_tokenizer
from index.versiondata import VersionFiles

log = logging.getLogger(__name__)

#: Fused candidates described by ranker features when no fitted ranker says how many.
RANK_DEPTH = 30
#: Common IP words outside the lexicon whose homophone typos people make (侵全, 转栽, 假名排).
HOMOPHONE_EXTRA = ("侵权", "转载", "名牌", "盗版", "授权", "抄袭")
#: The service guide's title (its sections answer questions about the centres themselves).
GUIDE_TITLE = "知识产权维权援助服务指南"


class Retriever:
    """Search the serving version; safe to share between threads."""

    def __init__(
        self,
        settings: Settings,
        embedder_factory: Callable[[], Embedder],
        calibration: Calibration | None = None,
        ranker: Ranker | None = None,
    ) -> None:
        self.settings = settings
        self._ranker_override = ranker
        self.store = VersionStore(settings.index_dir)
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        self._calibration_override = calibration
        self._lock = threading.Lock()
        self._loaded: LoadedVersion | None = None
        self._checked_at = 0.0
        self._marker_mtime = -1.0
        self.tokenizer = shared_tokenizer(settings.knowledge_dir / "lexicon")
        self.synonyms: Synonyms = load_synonyms(settings.knowledge_dir / "synonyms.yaml")
        self._lexicon = _lexicon_terms(settings)
        self.homophones = HomophoneFixer([*self._lexicon, *self.synonyms.table, *HOMOPHONE_EXTRA])
        self.calibration = FALLBACK
        self.ranker: Ranker | None = None
        # Hotline agents see results as they type: repeated prefixes hit this cache.
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._corrected: OrderedDict[str, str] = OrderedDict()
        self._vector_cache_size = settings.retrieval.query_cache_size

    def clear_query_cache(self) -> None:
        with self._lock:
            self._vectors.clear()

    def _query_vector(self, text: str) -> np.ndarray:
        with self._lock:
            cached = self._vectors.get(text)
            if cached is not None:
                self._vectors.move_to_end(text)
                return cached
        vector: np.ndarray = self.embedder.embed_queries([text])[0]
        with self._lock:
            self._vectors[text] = vector
            while len(self._vectors) > self._vector_cache_size:
                self._vectors.popitem(last=False)
        return vector

    def search_text(self, text: str) -> str:
        """The text ``search`` embeds for a query (corrected and normalised)."""
        return prepare_query(self.correct(text), self.synonyms).normalized

    def message_vector(self, text: str) -> np.ndarray:
        """The query vector ``search`` uses for ``text`` (from the cache when it was just searched)."""
        return self._query_vector(self.search_text(text))

    # -- loading ----------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = self._embedder_factory()
        return self._embedder

    def loaded(self) -> LoadedVersion:
        """The serving version, reloaded if an admin switched versions."""
        now = time.monotonic()
        if self._loaded is None or now - self._checked_at >= self.settings.retrieval.reload_check_seconds:
            self._checked_at = now
            mtime = self.store.current_marker_mtime()
            if self._loaded is None or mtime != self._marker_mtime:
                self._reload(mtime)
        if self._loaded is None:
            raise WeiyuanError("还没有可用的索引，请先运行 weiyuan index build")
        return self._loaded

    def _reload(self, mtime: float) -> None:
        with self._lock:
            version = self.store.current()
            if version is None:
                return
            if self._loaded is not None and self._loaded.version == version:
                self._marker_mtime = mtime
                return
            started = time.perf_counter()
            index = self.settings.index
            search_params = {"ef_search": index.hnsw_ef_search, "nprobe": index.ivf_nprobe}
            loaded = LoadedVersion(version, VersionFiles(self.store.path(version)), search_params)
            self._loaded = loaded
            self._marker_mtime = mtime
            self.synonyms = load_synonyms(self.settings.knowledge_dir / "synonyms.yaml")
            self.calibration = self._pick_calibration(loaded)
            self.ranker = self._pick_ranker(loaded)
            log.info("serving index version %s (%.2fs to load)", version, time.perf_counter() - started)

    def _pick_calibration(self, loaded: LoadedVersion) -> Calibration:
        if self._calibration_override is not None:
            return self._calibration_override
        fitted = _fitted(
            Calibration.load(self.settings.retrieval.calibration_file),
            loaded,
            "confidence calibration",
            "weiyuan eval calibrate",
        )
        return fitted or FALLBACK

    def correct(self, text: str) -> str:
        """Normalised text with homophone typos of IP terms repaired (专力 → 专利).

        A turn corrects the same message several times (search, IP check, query vector); the
        pinyin lookup behind it is kept for recent texts.
        """
        with self._lock:
            cached = self._corrected.get(text)
        if cached is None:
            cached = self.homophones.fix(normalize(text))
            with self._lock:
                self._corrected[text] = cached
                while len(self._corrected) > 1024:
                    self._corrected.popitem(last=False)
        return cached

    def _pick_ranker(self, loaded: LoadedVersion) -> Ranker | None:
        if not self.settings.retrieval.use_ranker:
            return None
        if self._ranker_override is not None:
            return self._ranker_override
        return _fitted(Ranker.load(self.settings.retrieval.ranker_file), loaded, "re-ranker", "weiyuan eval rank")

    @property
    def lexicon(self) -> frozenset[str]:
        """The IP terms of the jieba user dictionary (knowledge/lexicon)."""
        return self._lexicon

    @property
    def version(self) -> str:
        return self.loaded().version

    def chunk(self, chunk_id: str) -> Chunk | None:
        loaded = self.loaded()
        index = loaded.chunks.index_of(chunk_id)
        return loaded.chunks[index] if index is not None else None

    def article(self, law: str, article: str) -> Chunk | None:
        """The chunk of one cited article (titles and aliases are accepted)."""
        loaded = self.loaded()
        title = loaded.manifest.get("aliases", {}).get(law.strip("《》"), law.strip("《》"))
        return self.chunk(f"policy/{title}/{article}")

    # -- searching --------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        *,
        kind: str | None = None,
        ip_type: str | None = None,
        region: str | None = None,
        features: bool = False,
        current_only: bool = False,
    ) -> SearchResult:
        """Best ``k`` chunks for ``query`` with a calibrated confidence.

        ``features=True`` also returns the fused candidates with their ranker
        features (what ``weiyuan eval rank`` fits on).
        """
        if not query or not query.strip():
            raise WeiyuanError("查询内容不能为空")
        if len(query) > 2000:
            query = query[:2000]
        filters = Filters(kind=kind, ip_type=ip_type, region=region, current_only=current_only)
        filters.validate()
        k = max(1, min(int(k), 50))
        loaded = self.loaded()
        timings: dict[str, float] = {}

        t0 = time.perf_counter()
        prepared = prepare_query(self.correct(query), self.synonyms)
        tokens = self.tokenizer.tokens(prepared.expanded)
        query_tokens = self.tokenizer.tokens(prepared.normalized)
        timings["normalize"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        vector = self._query_vector(prepared.normalized)
        timings["embed"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        chunk_mask = loaded.chunk_mask(filters)
        dense = self._dense(loaded, vector, chunk_mask)
        timings["dense"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        bm_scores, bm_ids = loaded.bm25.top(tokens, self.settings.retrieval.bm25_candidates, chunk_mask)
        timings["bm25"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        fused = self._fused(dense, bm_ids)
        candidates: list[Candidate] = []
        if self.ranker is not None or features:
            depth = self.ranker.depth if self.ranker is not None else RANK_DEPTH
            top = fused[:depth]
            rows = self._rank_features(loaded, vector, tokens, query_tokens, dense, bm_ids, bm_scores, top)
            if features:
                for (index, _score), row in zip(top, rows, strict=True):
                    chunk = loaded.chunks[index]
                    cites = [c.model_dump() for c in chunk.citations]
                    candidates.append(Candidate(chunk.id, chunk.kind, cites, row))
            if self.ranker is not None and top:
                probs = self.ranker.score(rows)
                order = np.argsort(-probs, kind="stable")
                fused = [(top[i][0], float(probs[i])) for i in order] + [(i, 0.0) for i, _ in fused[depth:]]
        bm25_of = {int(i): float(s) for i, s in zip(bm_ids, bm_scores, strict=True)}
        dense_of = dict(dense)
        hits = []
        for index, score in fused[:k]:
            chunk = loaded.chunks[index]
            hits.append(
                Hit(
                    id=chunk.id,
                    kind=chunk.kind,
                    title=chunk.title,
                    text=chunk.text,
                    score=score,
                    citations=[c.model_dump() for c in chunk.citations],
                    source=chunk.source,
                    ip_types=list(chunk.ip_types),
                    region=chunk.region,
                    heading=chunk.heading,
                    dense=dense_of.get(index, 0.0),
                    bm25=bm25_of.get(index, 0.0),
                    services=list(chunk.services),
                    related=list(chunk.related),
                    status=chunk.status,
                    status_note=chunk.status_note,
                )
            )
        signals = self._signals(loaded, prepared, tokens, query_tokens, dense, bm_ids, bm_scores, fused)
        confidence = self.calibration.confidence(signals) if hits else 0.0
        timings["fuse"] = (time.perf_counter() - t0) * 1000
        timings["total"] = sum(timings.values())
        return SearchResult(
            query=query,
            normalized=prepared.normalized,
            confidence=confidence,
            answerable=bool(hits) and confidence >= self.calibration.threshold,
            hits=hits,
            version=loaded.version,
            signals=signals,
            timings_ms={key: round(value, 3) for key, value in timings.items()},
            calibrated=not self.calibration.metrics.get("uncalibrated", False),
            tier=self.calibration.tier(confidence) if hits else "low",
            candidates=candidates,
            law_notes={
                c["law"]: loaded.law_notes[c["law"]] for h in hits for c in h.citations if c["law"] in loaded.law_notes
            },
        )

    def _rank_features(
        self,
        loaded: LoadedVersion,
        vector: np.ndarray,
        tokens: list[str],
        query_tokens: list[str],
        dense: list[tuple[int, float]],
        bm_ids: np.ndarray,
        bm_scores: np.ndarray,
        top: list[tuple[int, float]],
    ) -> list[dict[str, float]]:
        """The ranker's features (index/ranker.py) of each candidate in ``top``."""
        dense_rank = {index: rank for rank, (index, _cos) in enumerate(dense)}
        bm_rank = {int(i): rank for rank, i in enumerate(bm_ids.tolist())}
        bm_score = {int(i): float(s) for i, s in zip(bm_ids.tolist(), bm_scores.tolist(), strict=True)}
        max_possible = loaded.bm25.max_possible(tokens) or 1.0
        rows = []
        for fused_rank, (index, _score) in enumerate(top):
            chunk = loaded.chunks[index]
            view_rows = loaded.view_rows(index)
            cosines = np.asarray(loaded.vectors[view_rows]) @ vector
            roles = [v.role for v in chunk.views] if len(chunk.views) == len(view_rows) else []
            roles = roles or ["passage"] * len(view_rows)
            question = [float(c) for c, role in zip(cosines, roles, strict=True) if role == "question"]
            passage = [float(c) for c, role in zip(cosines, roles, strict=True) if role == "passage"]
            rows.append(
                {
                    "dense": float(cosines.max()) if len(cosines) else 0.0,
                    "dense_question": max(question, default=0.0),
                    "dense_passage": max(passage, default=0.0),
                    "dense_rank": reciprocal(dense_rank.get(index)),
                    "bm25": bm_score.get(index, 0.0) / max_possible,
                    "bm25_rank": reciprocal(bm_rank.get(index)),
                    "fused_rank": reciprocal(fused_rank),
                    "both": float(index in dense_rank and index in bm_rank),
                    "entry": float(chunk.kind == "entry"),
                    "case": float(chunk.kind == "case"),
                    "judicial": float(chunk.kind == "policy" and chunk.title.startswith("最高人民")),
                    "local": float(chunk.region != NATIONWIDE),
                    "guide": float(chunk.doc_id == f"policy/{GUIDE_TITLE}"),
                    "title_overlap": overlap(query_tokens, loaded.title_tokens(index, self.tokenizer.tokens)),
                }
            )
        return rows

    def _dense(
        self, loaded: LoadedVersion, vector: np.ndarray, chunk_mask: np.ndarray | None
    ) -> list[tuple[int, float]]:
        """Chunks ranked by their best view's cosine (index, score), best first."""
        wanted = self.settings.retrieval.dense_candidates
        view_mask = chunk_mask[loaded.view_chunk] if chunk_mask is not None else None
        if view_mask is not None and view_mask.sum() <= self.settings.retrieval.exact_subset_max:
            rows = np.flatnonzero(view_mask)
            if len(rows) == 0:
                return []
            if len(rows) * 4 >= len(loaded.view_chunk):
                # most views wanted (the in-force filter keeps ~90 %): one pass over the contiguous
                # matrix is cheaper than copying the wanted rows out of it first
                scores = (np.asarray(loaded.vectors) @ vector)[rows]
            else:
                scores = np.asarray(loaded.vectors[rows]) @ vector
            take = min(len(rows), wanted * 4)
            top = np.argpartition(-scores, take - 1)[:take] if take < len(rows) else np.arange(len(rows))
            view_ids, view_scores = rows[top], scores[top]
        else:
            found_scores, found_ids = loaded.ann.search(vector[None, :], wanted * 4, view_mask)
            keep = found_ids[0] >= 0
            view_ids, view_scores = found_ids[0][keep], found_scores[0][keep]
        best: dict[int, float] = {}
        for view, score in zip(view_ids.tolist(), view_scores.tolist(), strict=True):
            chunk = int(loaded.view_chunk[view])
            if score > best.get(chunk, -2.0):
                best[chunk] = float(score)
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        return ranked[:wanted]

    def _fused(self, dense: list[tuple[int, float]], bm_ids: np.ndarray) -> list[tuple[int, float]]:
        retrieval = self.settings.retrieval
        return fuse(dense, bm_ids.tolist(), retrieval.dense_weight, retrieval.bm25_weight, retrieval.rrf_k)

    def _signals(
        self,
        loaded: LoadedVersion,
        prepared: PreparedQuery,
        tokens: list[str],
        query_tokens: list[str],
        dense: list[tuple[int, float]],
        bm_ids: np.ndarray,
        bm_scores: np.ndarray,
        fused: list[tuple[int, float]],
    ) -> dict[str, float]:
        if not fused:
            return {}
        top = fused[0][0]
        dense_of = dict(dense)
        cosines = [score for _i, score in dense]
        max_possible = loaded.bm25.max_possible(tokens) or 1.0
        bm_top = 0.0
        for index, score in zip(bm_ids.tolist(), bm_scores.tolist(), strict=True):
            if index == top:
                bm_top = score / max_possible
                break
        unique = set(query_tokens)
        domain = sum(1 for t in unique if t in self._lexicon) / len(unique) if unique else 0.0
        return {
            "dense_top": dense_of.get(top, min(cosines) if cosines else 0.0),
            "dense_max": cosines[0] if cosines else 0.0,
            "dense_gap": cosines[0] - cosines[1] if len(cosines) > 1 else 0.0,
            "bm25_top": bm_top,
            "coverage": loaded.bm25.coverage(query_tokens),
            "domain": domain,
            "agree": float(bool(dense) and len(bm_ids) > 0 and dense[0][0] == int(bm_ids[0])),
            "top_entry": float(loaded.chunks.kinds[top] == KINDS.index("entry")),
            "query_len": math.log1p(len(query_tokens)),
        }


F = TypeVar("F", Calibration, Ranker)


def _fitted(fitted: F | None, loaded: LoadedVersion, what: str, command: str) -> F | None:
    """A model fitted on this version's embedding model, or None (logged, with the command that fits one)."""
    if fitted is not None and fitted.model_fingerprint == loaded.fingerprint:
        return fitted
    log.warning("no %s fitted for model %s; run `%s`", what, loaded.fingerprint, command)
    return None


def _lexicon_terms(settings: Settings) -> frozenset[str]:
    terms: set[str] = set()
    for path in sorted((settings.knowledge_dir / "lexicon").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            word = line.split(" ", 1)[0].strip()
            if word:
                terms.add(word)
    return frozenset(terms)
