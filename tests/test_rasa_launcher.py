"""bot/run_rasa.py starts Rasa with its action-response check built once (issue 12, a third of
Rasa's CPU per turn): the check must decide exactly as Rasa's own does, valid or not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent

CHECK = r"""
import sys
sys.path.insert(0, "bot")
import jsonschema
from rasa.core.actions.action import RemoteAction

responses = [
    {"events": [{"event": "slot", "name": "ip_type", "value": "patent"}], "responses": [{"text": "您好"}]},
    {"events": [], "responses": [{"custom": {"type": "answer", "citations": [{"law": "专利法"}]}}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "utter_x"}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": ["not an object"]},
    {"events": [{"event": "slot"}]},
]
action = RemoteAction("action_answer_question", None)

def decisions():
    out = []
    for response in responses:
        try:
            out.append(action._validate_action_result(response))
        except jsonschema.ValidationError as exc:
            out.append("refused: " + ("rasa text" if "Failed to validate Action server response" in exc.message else "?"))
    return out

before = decisions()
import run_rasa
run_rasa.install()
after = decisions()
print(before)
assert after == before, (before, after)
assert before.count(True) == 3 and before.count("refused: rasa text") == 4, before
"""


def test_the_launchers_response_check_decides_as_rasas_own() -> None:
    python = ROOT / ".venv-rasa" / "bin" / "python"
    out = subprocess.run([str(python), "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
