"""The supervisor keeps the stack up: a process killed with -9 comes back by itself, the others keep
serving, and what processes print reaches the logs with personal data redacted (issue 11)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from core.settings import Settings
from weiyuan.sandbox import free_port
from weiyuan.stack import Service, Stack, _healthy


def http_service(name: str, tmp: Path, says: str = "") -> Service:
    port = free_port()
    code = f"print({says!r}, flush=True); import http.server as h; h.test(h.SimpleHTTPRequestHandler, port={port}, bind='127.0.0.1')"
    return Service(
        name=name,
        command=[sys.executable, "-c", code],
        health_url=f"http://127.0.0.1:{port}/",
        env=dict(os.environ),
        log=tmp / f"{name}.log",
        timeout=30,
    )


def test_a_killed_process_is_restarted_and_the_others_keep_running(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    first, second = http_service("一号", tmp_path), http_service("二号", tmp_path)
    stack = Stack(settings, [first, second])
    stack.BACKOFF = (0.5,)
    stop = threading.Event()
    with stack:
        watcher = threading.Thread(target=stack.watch, args=(stop, 0.2), daemon=True)
        watcher.start()
        try:
            assert first.process is not None and second.process is not None
            survivor = second.process.pid
            os.killpg(first.process.pid, signal.SIGKILL)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not (stack.restarts.get("一号") and _healthy(first.health_url)):
                time.sleep(0.2)
            assert stack.restarts == {"一号": 1} and _healthy(first.health_url)
            assert second.process.pid == survivor and _healthy(second.health_url)  # never taken down
        finally:
            stop.set()
            watcher.join(timeout=5)


def test_process_output_reaches_the_log_redacted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    chatty = http_service("日志", tmp_path, says="tracker saved for 13812345678 / wang@example.com")
    with Stack(settings, [chatty]):
        time.sleep(0.5)
    log = (tmp_path / "日志.log").read_text("utf-8")
    assert "tracker saved for" in log
    assert "13812345678" not in log and "wang@example.com" not in log
