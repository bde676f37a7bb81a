"""One configuration reaches every process the supervisor starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import DialogueSettings, EmbeddingSettings, GatewaySettings, Settings
from weiyuan.stack import base_env


def test_a_child_process_sees_every_setting_of_the_supervisor(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        embedding=EmbeddingSettings(batch_size=7, quantize=False),
        dialogue=DialogueSettings(search_k=9, max_sources=2),
        gateway=GatewaySettings(widget_title="测试中心咨询", chat_per_minute=3),
        database={"url": "postgresql+psycopg://alice:pw@db.example:5433/centre"},
    )
    env = base_env(settings)
    code = "from core.settings import Settings; print(Settings().model_dump_json())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == json.loads(settings.model_dump_json())
    # Rasa's tracker store is derived from the same database setting
    assert (env["WEIYUAN_PG_HOST"], env["WEIYUAN_PG_PORT"], env["WEIYUAN_PG_DB"]) == ("db.example", "5433", "centre")


def test_inherited_overrides_do_not_bypass_the_handed_over_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEIYUAN_DIALOGUE__SEARCH_K", "1")
    settings = Settings(data_dir=tmp_path / "var", dialogue=DialogueSettings(search_k=6))
    env = base_env(settings)
    assert "WEIYUAN_DIALOGUE__SEARCH_K" not in env
    code = "from core.settings import Settings; print(Settings().dialogue.search_k)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "6"


def test_a_conversation_lock_longer_than_the_gateways_wait_is_refused() -> None:
    """After a replica dies mid-turn, the other one waits out its lock: the gateway must wait longer."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="rasa_lock_seconds"):
        Settings(server={"rasa_lock_seconds": 60, "rasa_replica_ports": [5006]}, gateway={"rasa_timeout_seconds": 60})
    # one Rasa server: nothing takes a turn over, a short gateway wait (the fault tests use 20 s) is fine
    assert (
        Settings(server={"rasa_lock_seconds": 20}, gateway={"rasa_timeout_seconds": 20}).server.rasa_lock_seconds == 20
    )
    assert Settings().server.rasa_lock_seconds < Settings().gateway.rasa_timeout_seconds
