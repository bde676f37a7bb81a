"""Shared fixtures: throw-away knowledge folders and settings rooted in tmp dirs."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.settings import EmbeddingSettings, Settings
from index.embedder import Embedder, HashingEmbedder

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A writable copy of the small fixture corpus."""
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURES / "knowledge_small", target)
    return target


@pytest.fixture
def settings(tmp_path: Path, knowledge: Path) -> Settings:
    """Settings on the fixture corpus with the instant hashing embedder."""
    return Settings(
        knowledge_dir=knowledge,
        data_dir=tmp_path / "var",
        embedding=EmbeddingSettings(model="hashing"),
    )


class CountingEmbedder(HashingEmbedder):
    """Counts how many texts it embeds (to check what a refresh re-embeds)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_views(self, views, progress=None):  # type: ignore[no-untyped-def]
        self.embedded += len(views)
        return super().embed_views(views, progress)


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def factory(embedder: CountingEmbedder) -> Callable[[], Embedder]:
    return lambda: embedder


def cli_env(settings: Settings) -> dict[str, str]:
    """Environment that points a `weiyuan` subprocess at a test's settings."""
    env = dict(os.environ)
    env.update(
        {
            "WEIYUAN_KNOWLEDGE_DIR": str(settings.knowledge_dir),
            "WEIYUAN_DATA_DIR": str(settings.data_dir),
            "WEIYUAN_EMBEDDING__MODEL": settings.embedding.model,
            "COLUMNS": "160",
        }
    )
    return env


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start training the Rasa model as soon as the session is known to need it.

    Training is mostly one core's work; the index build that the same tests need uses
    both. Started here, the training overlaps the build and the unit tests instead of
    following them (about a third of a fresh CI run's test time). ``scripts/rasa_model.sh``
    serialises callers, so the ``stack`` fixture later waits for this training and then
    finds its model; if it failed, the fixture trains again and reports the error.
    """
    if not any("stack" in getattr(item, "fixturenames", ()) for item in items):
        return
    if not (ROOT / ".venv-rasa" / "bin" / "rasa").is_file():
        return

    def train() -> None:
        from weiyuan.stack import rasa_model

        with contextlib.suppress(Exception):  # the fixture trains again and reports the error
            rasa_model(Settings())

    threading.Thread(target=train, name="rasa-train", daemon=True).start()


@pytest.fixture(scope="session")
def shipped_index() -> Settings:
    """The index of the shipped knowledge/ under var/ (built on first use, refreshed incrementally)."""
    from index.builder import build
    from index.runtime import embedder_factory

    settings = Settings()
    build(settings, embedder_factory(settings, build=True), incremental=True)
    return settings


@pytest.fixture(scope="session")
def stack(shipped_index: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The real stack: action server, Rasa server (trained model), gateway; private data and knowledge."""
    from weiyuan.sandbox import sandbox_settings as e2e_settings
    from weiyuan.stack import full_stack, rasa_model

    settings = e2e_settings(tmp_path_factory.mktemp("stack") / "var")
    model = rasa_model(settings)
    with full_stack(settings, model):
        yield settings
