"""Rasa's own tests: ``rasa test nlu`` on the held-out and the blind split, ``rasa test core`` on the test stories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import WeiyuanError
from core.settings import Settings
from weiyuan.evalreport.model import Metric, Section

#: (name, file, what it is); quick mode runs the blind split only
NLU_SPLITS = (
    ("holdout", "bot/tests/nlu_holdout.yml", "held out from training; its errors were looked at while writing data"),
    ("blind", "eval/nlu_blind_test.yml", "written without seeing any training data"),
)


def _rasa(settings: Settings, args: list[str], timeout: float) -> None:
    env = os.environ | {
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
    }
    rasa = settings.root / ".venv-rasa" / "bin" / "rasa"
    done = subprocess.run(
        [str(rasa), *args], cwd=settings.root, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise WeiyuanError(f"rasa {args[0]} {args[1]} 失败：\n{done.stderr[-1500:]}")


def _read(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}


def rasa_tests(settings: Settings, out_dir: Path, quick: bool, tick: Callable[[str], None]) -> Section:
    from weiyuan.stack import rasa_model

    started = time.perf_counter()
    section = Section("NLU and stories (`rasa test`)")
    if not (settings.root / ".venv-rasa" / "bin" / "rasa").is_file():
        section.skipped = "the Rasa virtualenv is not installed (scripts/setup.sh rasa)"
        return section
    tick("rasa model")
    model = rasa_model(settings)
    rows = []
    for name, data, what in NLU_SPLITS[1:] if quick else NLU_SPLITS:
        tick(f"rasa test nlu ({name})")
        folder = out_dir / f"nlu_{name}"
        shutil.rmtree(folder, ignore_errors=True)
        _rasa(settings, ["test", "nlu", "--model", str(model), "--nlu", data, "--out", str(folder)], 900)
        intents = _read(folder / "intent_report.json")
        entities = _read(folder / "DIETClassifier_report.json").get("micro avg", {})
        macro = intents.get("macro avg", {})
        section.metrics += [
            Metric(f"nlu.{name}.intent_macro_f1", f"intent macro-F1, {name}", macro.get("f1-score")),
            Metric(f"nlu.{name}.entity_micro_f1", f"entity micro-F1, {name}", entities.get("f1-score")),
        ]
        rows.append(
            f"| {name} (`{data}`: {what}) | {macro.get('support', 0)} | {intents.get('accuracy', 0):.3f} | "
            f"{macro.get('f1-score', 0):.3f} | {entities.get('f1-score', 0):.3f} |"
        )
        if (folder / "intent_confusion_matrix.png").is_file():
            section.plots.append((folder / "intent_confusion_matrix.png", f"intent confusion matrix, {name} (Rasa)"))
    section.lines = [
        "| split | examples | intent accuracy | intent macro-F1 | entity micro-F1 |",
        "|---|---|---|---|---|",
        *rows,
    ]
    if not quick:
        tick("rasa test core")
        folder = out_dir / "core"
        shutil.rmtree(folder, ignore_errors=True)
        _rasa(
            settings,
            ["test", "core", "--model", str(model), "--stories", "bot/tests/test_stories.yml", "--out", str(folder)],
            900,
        )
        stories = _read(folder / "story_report.json")
        conversations = stories.get("conversation_accuracy", {})
        section.metrics += [
            Metric(
                "stories.conversation_accuracy", "test stories fully correct", conversations.get("accuracy"), "share"
            ),
            Metric("stories.action_accuracy", "next-action accuracy in test stories", stories.get("accuracy"), "share"),
        ]
        section.lines += [
            "",
            f"Test stories (`bot/tests/test_stories.yml`): {conversations.get('correct', 0)} of "
            f"{conversations.get('total', 0)} conversations fully correct; next-action accuracy "
            f"{stories.get('accuracy', 0):.3f}.",
        ]
    section.seconds = time.perf_counter() - started
    return section
