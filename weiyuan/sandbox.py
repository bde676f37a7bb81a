"""A private stack for end-to-end tests, evaluations and benchmarks.

A throw-away data folder (database, tracker store, logs) that shares the built
index and the embedding model read-only, free loopback ports, and a client that
talks to the real Rasa server through its REST channel.
"""

from __future__ import annotations

import json
import shutil
import socket
import urllib.request
from pathlib import Path
from typing import Any

from core.messages import BotMessage, pair_rest_messages
from core.settings import PROJECT_ROOT, ServerSettings, Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_settings(tmp: Path) -> Settings:
    """A private copy of knowledge/ and of the built index, a fresh database and tracker store.

    Tests may edit knowledge files and refresh the index without touching the
    repository's knowledge/ or var/; the embedding model is shared read-only.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("models", "wheels"):
        link = tmp / name
        if not link.exists():
            link.symlink_to(PROJECT_ROOT / "var" / name)
    if not (tmp / "index").exists():
        shutil.copytree(PROJECT_ROOT / "var" / "index", tmp / "index", ignore=shutil.ignore_patterns(".lock", ".tmp-*"))
    knowledge = tmp.parent / "knowledge"
    if not knowledge.exists():
        shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    return Settings(
        data_dir=tmp,
        knowledge_dir=knowledge,
        server=ServerSettings(rasa_port=free_port(), action_port=free_port(), gateway_port=free_port()),
    )


def reading_settings(settings: Settings, workdir: Path) -> Settings:
    """A throw-away data folder that reads the index and model of ``settings`` (not a copy), on free ports."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("index", "models", "wheels"):
        link = workdir / name
        if not link.exists():
            link.symlink_to(settings.data_dir / name)
    return Settings(
        data_dir=workdir,
        knowledge_dir=settings.knowledge_dir,
        server=ServerSettings(host=settings.server.host, rasa_port=free_port(), action_port=free_port()),
    )


def post_json(url: str, body: dict[str, Any], timeout: float = 60) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode())


class RestUser:
    """A user talking to the real Rasa server through the REST channel."""

    def __init__(self, settings: Settings, sender: str, timeout: float = 60) -> None:
        self.url = f"http://{settings.server.host}:{settings.server.rasa_port}/webhooks/rest/webhook"
        self.sender = sender
        self.timeout = timeout

    def say(self, text: str) -> list[BotMessage]:
        return pair_rest_messages(post_json(self.url, {"sender": self.sender, "message": text}, self.timeout))
