"""Each ANN backend finds what exact search finds; sizing follows the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.settings import IndexSettings
from index import ann


def _data(n: int, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(20, dim))
    x = centers[rng.integers(0, 20, n)] + 0.3 * rng.normal(size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.integers(0, n, 50)] + 0.05 * rng.normal(size=(50, dim))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x.astype(np.float32), q.astype(np.float32)


@pytest.mark.parametrize("backend", ["flat", "hnsw", "ivf"])
def test_backend_recall_against_exact(backend: str, tmp_path: Path) -> None:
    x, q = _data(5000)
    exact = np.argsort(-(q @ x.T), axis=1)[:, :10]
    index = ann.create(backend, 32, {"nlist": 64, "nprobe": 16} if backend == "ivf" else {})
    index.build(x)
    index.save(tmp_path / "i.faiss")
    loaded = ann.create(backend, 32, index.params)
    loaded.load(tmp_path / "i.faiss")
    _, ids = loaded.search(q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact, strict=True)])
    assert recall >= 0.9


@pytest.mark.parametrize("backend", ["flat", "hnsw", "ivf"])
def test_filtered_search_only_returns_allowed_ids(backend: str) -> None:
    x, q = _data(3000)
    index = ann.create(backend, 32, {"nlist": 32, "nprobe": 32} if backend == "ivf" else {})
    index.build(x)
    allowed = np.zeros(len(x), dtype=bool)
    allowed[::3] = True
    _, ids = index.search(q, 10, allowed)
    found = ids[ids >= 0]
    assert found.size > 0 and np.all(found % 3 == 0)


def test_sizing_is_chosen_from_the_data() -> None:
    settings = ann.Sizing(**IndexSettings(flat_max_vectors=1000, ivf_min_vectors=100_000).sizing())
    assert ann.choose_backend(500, settings)[0] == "flat"
    assert ann.choose_backend(5000, settings)[0] == "hnsw"
    assert ann.choose_backend(200_000, settings)[0] == "ivf"
