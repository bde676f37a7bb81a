"""Rasa's own checks on the trained model: clean training data, NLU quality on the blind split."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from core.settings import Settings
from weiyuan.stack import rasa_model

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
RASA = str(ROOT / ".venv-rasa" / "bin" / "rasa")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


def test_training_data_validates_without_warnings() -> None:
    out = subprocess.run(
        [
            RASA,
            "data",
            "validate",
            "--config",
            "config.yml",
            "--domain",
            "bot/domain.yml",
            "--data",
            "bot/data",
            "--fail-on-warnings",
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_nlu_on_the_blind_split_meets_the_goals(tmp_path: Path) -> None:
    """Intent macro-F1 and entity F1 >= 0.90 on questions written without seeing the training data."""
    model = rasa_model(Settings())
    out = subprocess.run(
        [RASA, "test", "nlu", "--model", str(model), "--nlu", "eval/nlu_blind_test.yml", "--out", str(tmp_path)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    intents = json.loads((tmp_path / "intent_report.json").read_text("utf-8"))
    entities = json.loads((tmp_path / "DIETClassifier_report.json").read_text("utf-8"))
    assert intents["macro avg"]["f1-score"] >= 0.90
    assert entities["micro avg"]["f1-score"] >= 0.90
