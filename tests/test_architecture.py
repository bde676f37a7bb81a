"""The floors of the code base: an import that points up a layer fails the suite.

The contract lives in ``pyproject.toml`` (``[tool.importlinter]``): adapters
(CLI, gateway, Rasa actions) over services (consultation, desk) over the engine
(index) and storage (store) over the shared core.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_import_points_up_a_layer() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout
