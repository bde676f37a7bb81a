"""Helpers for end-to-end tests: a private data dir sharing the built index, free ports, REST turns."""

from __future__ import annotations

import json
import shutil
import socket
import urllib.request
from pathlib import Path
from typing import Any

from consult.messages import BotMessage, pair_rest_messages
from weiyuan.settings import ServerSettings, Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def e2e_settings(tmp: Path) -> Settings:
    """A private copy of knowledge/ and of the built index, a fresh database and tracker store.

    Tests may edit knowledge files and refresh the index without touching the
    repository's knowledge/ or var/; the embedding model is shared read-only.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("models", "wheels"):
        link = tmp / name
        if not link.exists():
            link.symlink_to(ROOT / "var" / name)
    if not (tmp / "index").exists():
        shutil.copytree(ROOT / "var" / "index", tmp / "index", ignore=shutil.ignore_patterns(".lock", ".tmp-*"))
    knowledge = tmp.parent / "knowledge"
    if not knowledge.exists():
        shutil.copytree(ROOT / "knowledge", knowledge)
    return Settings(
        data_dir=tmp,
        knowledge_dir=knowledge,
        server=ServerSettings(rasa_port=free_port(), action_port=free_port(), gateway_port=free_port()),
    )


def post_json(url: str, body: dict[str, Any], timeout: float = 60) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode())


class RestUser:
    """A user talking to the real Rasa server through the REST channel."""

    def __init__(self, settings: Settings, sender: str) -> None:
        self.url = f"http://{settings.server.host}:{settings.server.rasa_port}/webhooks/rest/webhook"
        self.sender = sender

    def say(self, text: str) -> list[BotMessage]:
        return pair_rest_messages(post_json(self.url, {"sender": self.sender, "message": text}))
