"""Rasa's own check of the training data (NLU quality on the blind split: tests/test_e2e_eval_all.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

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


# The NLU goals on the blind split are checked on the quick evaluation report (tests/test_e2e_eval_all.py).
