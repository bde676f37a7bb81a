"""Start, watch and stop the processes of the stack (Rasa server, action server, gateway).

Used by ``weiyuan serve`` (the README's run command) and by the end-to-end
tests, so both run exactly the same commands.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from core.errors import WeiyuanError
from core.redact import redact
from core.secrets import service_token
from core.settings import Settings


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    log: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    #: seconds to wait for health (Rasa loads TensorFlow and the model: ~30-60 s)
    timeout: float = 180.0


def rasa_model(settings: Settings) -> Path:
    """Train if needed (cached by input hash) and return the model path."""
    out = subprocess.run(
        [str(settings.root / "scripts" / "rasa_model.sh")], cwd=settings.root, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise WeiyuanError(f"Rasa 模型训练失败：\n{out.stderr[-2000:]}")
    return settings.root / out.stdout.strip().splitlines()[-1]


def rasa_endpoint_env(settings: Settings) -> dict[str, str]:
    """The variables ``bot/endpoints*.yml`` read, derived from the one configuration."""
    env = {
        "WEIYUAN_ACTION_URL": f"http://{settings.server.host}:{settings.server.action_port}/webhook",
        # Rasa sends it with every call to the action server, which refuses calls without it
        "WEIYUAN_ACTION_TOKEN": service_token(settings, "actions"),
        "WEIYUAN_RASA_TRACKER_DB": str(settings.data_dir / "rasa" / "tracker.db"),
        "WEIYUAN_TRACKER_CACHE_SIZE": str(settings.server.tracker_cache_size),
        "WEIYUAN_TRACKER_CACHE_SECONDS": str(settings.server.tracker_cache_seconds),
    }
    if settings.database.url.startswith("postgresql"):
        url = make_url(settings.database.url)
        env |= {
            "WEIYUAN_PG_HOST": url.host or "127.0.0.1",
            "WEIYUAN_PG_PORT": str(url.port or 5432),
            "WEIYUAN_PG_DB": url.database or "",
            "WEIYUAN_PG_USER": url.username or "",
            "WEIYUAN_PG_PASSWORD": url.password or "",
        }
    if settings.gateway.redis_url:
        redis = urlsplit(settings.gateway.redis_url)
        env |= {"WEIYUAN_REDIS_HOST": redis.hostname or "127.0.0.1", "WEIYUAN_REDIS_PORT": str(redis.port or 6379)}
    return env


def base_env(settings: Settings) -> dict[str, str]:
    """The environment of a child process: the whole configuration as one file, nothing hand-picked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIYUAN_")}
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONWARNINGS": "ignore",
            "WEIYUAN_CONFIG": str(settings.export(settings.data_dir / "run" / "settings.json")),
            **rasa_endpoint_env(settings),
        }
    )
    return env


def tf_threads(threads: int) -> dict[str, str]:
    """Rasa reads these at start-up (``rasa.utils.tensorflow.environment``); 0 keeps TensorFlow's default."""
    if threads <= 0:
        return {}
    return {"TF_INTRA_OP_PARALLELISM_THREADS": str(threads), "TF_INTER_OP_PARALLELISM_THREADS": str(threads)}


def rasa_service(settings: Settings, model: Path, replica: int = 0) -> Service:
    """Rasa server number ``replica`` (0: the first, on ``rasa_port``; then ``rasa_replica_ports``)."""
    server = settings.server
    root = settings.root
    # the SQLite tracker store cannot create its folder; without it Rasa silently keeps conversations in memory
    (settings.data_dir / "rasa").mkdir(parents=True, exist_ok=True)
    port = server.rasa_ports[replica]
    return Service(
        name="Rasa 服务" if replica == 0 else f"Rasa 服务 {replica + 1}",
        command=[
            # ``rasa run`` with its action-response schema check built once (bot/run_rasa.py)
            str(root / ".venv-rasa" / "bin" / "python"),
            str(root / "bot" / "run_rasa.py"),
            "run",
            "--model",
            str(model),
            "--enable-api",
            # the HTTP API reads and writes any conversation: never without the installation's token
            "--auth-token",
            service_token(settings, "rasa"),
            "--interface",
            server.host,
            "--port",
            str(port),
            "--endpoints",
            str(root / server.rasa_endpoints),
            "--credentials",
            str(root / "bot" / "credentials.yml"),
        ],
        health_url=f"http://{server.host}:{port}/status?token={service_token(settings, 'rasa')}",
        env=base_env(settings)
        | tf_threads(server.rasa_threads)
        # with replicas, a killed one's conversation locks (Redis) must expire before the gateway gives up
        | ({"TICKET_LOCK_LIFETIME": str(server.rasa_lock_seconds)} if server.rasa_replica_ports else {}),
        log=settings.data_dir / "logs" / ("rasa.log" if replica == 0 else f"rasa-{replica + 1}.log"),
    )


def action_service(settings: Settings) -> Service:
    server = settings.server
    env = base_env(settings)
    env["SANIC_HOST"] = server.host  # rasa-sdk has no --interface option
    return Service(
        name="动作服务",
        command=[
            str(settings.root / ".venv" / "bin" / "python"),
            "-m",
            "actions.server",
            "--port",
            str(server.action_port),
        ],
        health_url=f"http://{server.host}:{server.action_port}/health",
        env=env,
        log=settings.data_dir / "logs" / "actions.log",
    )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _pump(source: IO[bytes], log: Path) -> None:
    """Copy a process's output to its log, line by line, with personal data redacted.

    Rasa's own logging knows nothing of our redaction filter; this is where its lines
    (and any process's tracebacks) pass before they reach the disk.
    """
    with log.open("ab") as sink:
        for raw in iter(source.readline, b""):
            sink.write(redact(raw.decode("utf-8", errors="replace")).encode("utf-8"))
            sink.flush()


class Stack:
    """A set of services started together, kept running, and stopped together."""

    #: Seconds before restarting a process that died, doubling up to the last value.
    BACKOFF: tuple[float, ...] = (1.0, 2.0, 5.0, 15.0, 30.0)

    def __init__(self, settings: Settings, services: list[Service]) -> None:
        self.settings = settings
        self.services = services
        self.restarts: dict[str, int] = {}

    def start(self) -> None:
        from store.db import open_database

        # migrate before the services start: they would otherwise race to create the same tables
        open_database(self.settings.database_url)
        for service in self.services:
            self._spawn(service)
        for service in self.services:
            self._wait(service)

    def _spawn(self, service: Service) -> None:
        assert service.log is not None
        service.log.parent.mkdir(parents=True, exist_ok=True)
        service.process = subprocess.Popen(
            service.command,
            cwd=self.settings.root,
            env=service.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert service.process.stdout is not None
        threading.Thread(target=_pump, args=(service.process.stdout, service.log), daemon=True).start()

    def _wait(self, service: Service) -> None:
        deadline = time.monotonic() + service.timeout
        while time.monotonic() < deadline:
            if service.process is not None and service.process.poll() is not None:
                time.sleep(0.2)  # let the pump write the last lines
                tail = service.log.read_text("utf-8", errors="replace")[-3000:] if service.log else ""
                self.stop()
                raise WeiyuanError(f"{service.name}启动失败（退出码 {service.process.returncode}）：\n{tail}")
            if _healthy(service.health_url):
                return
            time.sleep(0.5)
        self.stop()
        raise WeiyuanError(f"{service.name}在 {service.timeout:.0f} 秒内没有就绪（日志：{service.log}）")

    def stop(self) -> None:
        for service in reversed(self.services):
            process = service.process
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def watch(
        self,
        stop: threading.Event,
        interval: float = 1.0,
        on_restart: Callable[[Service, int], None] | None = None,
    ) -> None:
        """Keep every service running until ``stop`` is set: one that dies is restarted with back-off,
        and the others keep serving (users of the restarting one get the gateway's Chinese message)."""
        next_try: dict[str, float] = {}
        while not stop.wait(interval):
            for service in self.services:
                if service.process is None or service.process.poll() is None:
                    continue
                now = time.monotonic()
                count = self.restarts.get(service.name, 0)
                if service.name not in next_try:
                    next_try[service.name] = now + self.BACKOFF[min(count, len(self.BACKOFF) - 1)]
                    continue
                if now < next_try[service.name]:
                    continue
                del next_try[service.name]
                self.restarts[service.name] = count + 1
                if on_restart is not None:
                    on_restart(service, count + 1)
                self._spawn(service)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def gateway_service(settings: Settings) -> Service:
    server = settings.server
    return Service(
        name="网关",
        command=[str(settings.root / ".venv" / "bin" / "python"), "-m", "gateway"],
        health_url=f"http://{server.host}:{server.gateway_port}/healthz",
        env=base_env(settings),
        log=settings.data_dir / "logs" / "gateway.log",
    )


def full_stack(settings: Settings, model: Path) -> Stack:
    """Action server, Rasa server(s) and gateway, started in that order."""
    server = settings.server
    if server.rasa_replica_ports and not (
        settings.database.url.startswith("postgresql") and settings.gateway.redis_url
    ):
        raise WeiyuanError(
            "多个 Rasa 副本需要生产配置：PostgreSQL 数据库（对话存储）和 Redis（对话锁），"
            "请设置 database.url、gateway.redis_url 和 server.rasa_endpoints"
        )
    rasa = [rasa_service(settings, model, replica) for replica in range(len(server.rasa_ports))]
    return Stack(settings, [action_service(settings), *rasa, gateway_service(settings)])
