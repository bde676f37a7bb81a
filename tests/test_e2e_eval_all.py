"""``weiyuan eval all --quick``: the CI subset of the evaluation report, on the real index, Rasa model and stack.

It measures retrieval and calibration on the first questions of the test splits,
runs ``rasa test nlu`` on the blind split, asks the first test questions through
a private Rasa server and action server, reads the benchmarks' results, and
compares everything with the previous quick report.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from core.settings import Settings

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_report_measures_every_part_and_compares_with_the_last_one(
    shipped_index: Settings, tmp_path: Path
) -> None:
    previous = {
        "stem": "2026-01-01-0000-quick",
        "started": "2026-01-01T00:00:00+00:00",
        "mode": "quick",
        "commit": "0000000",
        "metrics": {
            "retrieval.test.realistic.mrr10": {"value": 0.5},
            "nlu.blind.intent_macro_f1": {"value": 0.5},
        },
    }
    (tmp_path / "2026-01-01-0000-quick.json").write_text(json.dumps(previous), encoding="utf-8")
    env = os.environ | {"COLUMNS": "160", "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "weiyuan"), "eval", "all", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data_file = next(p for p in tmp_path.glob("*-quick.json") if p.name != "2026-01-01-0000-quick.json")
    data = json.loads(data_file.read_text(encoding="utf-8"))
    markdown = data_file.with_suffix(".md").read_text(encoding="utf-8")
    assert data["skipped"] == {}, data["skipped"]
    metrics = {key: m["value"] for key, m in data["metrics"].items()}
    # every part measured something
    for key in (
        "retrieval.test.faq.mrr10",
        "retrieval.test.realistic.mrr10",
        "retrieval.test2.realistic.mrr10",
        "calibration.test.auroc",
        "nlu.blind.intent_macro_f1",
        "dialogue.all.answered_correct",
        "dialogue.test.realistic.silent",
        "bench.load.50.p95_ms",
    ):
        assert metrics.get(key) is not None, key
    # the NLU goals on the blind split (written without seeing the training data)
    assert metrics["nlu.blind.intent_macro_f1"] >= 0.90 and metrics["nlu.blind.entity_micro_f1"] >= 0.90
    # the bot is never silent, and answers most of even the first few test questions from a correct source
    assert metrics["dialogue.test.faq.silent"] == 0 and metrics["dialogue.test.realistic.silent"] == 0
    assert metrics["dialogue.all.answered_correct"] >= 0.5
    assert 0.5 < metrics["calibration.test.auroc"] <= 1
    # compared with the planted previous quick report
    assert "compared with the report of 2026-01-01 00:00 UTC, commit 0000000" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| intent macro-F1, blind |"))
    assert row.split(" | ")[1] == "0.500" and row.endswith("better |")
    # the plots exist, are PNG and are linked from the report
    for name in ("retrieval.png", "calibration.png", "dialogue.png"):
        plot = data_file.with_suffix("") / name
        assert plot.read_bytes()[:4] == b"\x89PNG", name
        assert f"]({data_file.stem}/{name})" in markdown
