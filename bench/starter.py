"""The starter index (shipped knowledge/) built once into bench/.work, reused by the benchmarks."""

from __future__ import annotations

from pathlib import Path

from bench.common import ROOT
from core.settings import Settings
from index.builder import build
from index.embedder import Embedder
from index.runtime import embedder_factory

WORK = ROOT / "bench" / ".work"


def starter_settings(name: str = "starter", knowledge: Path | None = None) -> Settings:
    return Settings(data_dir=WORK / name, knowledge_dir=knowledge or ROOT / "knowledge")


def load_model(settings: Settings) -> Embedder:
    # share the converted model with var/models (conversion happens once per machine)
    settings_model = Settings(data_dir=ROOT / "var")
    return embedder_factory(settings_model)()


def ensure_starter(settings: Settings, embedder: Embedder) -> None:
    build(settings, lambda: embedder, incremental=True)
