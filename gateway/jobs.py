"""Index refreshes started from the admin console, with progress the browser can watch live.

One build at a time (the index store's lock refuses a second one); the
build runs in a child process (``index.build_job``), followed by a thread, while
the gateway keeps serving searches and chats: the gateway never loads the
embedding model, and a build that crashes takes nothing else with it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from core.errors import Conflict, WeiyuanError
from core.settings import Settings
from gateway import keys
from gateway.periodic import every
from index.lookup import Lookup

log = logging.getLogger(__name__)

#: The project root: ``index.build_job`` is run from here, like every other process of the stack.
ROOT = Path(__file__).resolve().parent.parent

#: How often the gateway checks whether a revision has taken effect since the index was built.


@dataclass
class Job:
    id: str
    kind: str
    user: str
    started_at: float = field(default_factory=time.time)
    status: str = "running"  # running | done | failed
    stage: str = ""
    stage_label: str = ""
    total: int | None = None
    done: int = 0
    notes: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0  # increases on every change (for the event stream)

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "user": self.user,
            "status": self.status,
            "stage": self.stage,
            "stage_label": self.stage_label,
            "total": self.total,
            "done": self.done,
            "percent": round(100 * self.done / self.total, 1) if self.total else None,
            "notes": self.notes[-20:],
            "result": self.result,
            "error": self.error,
            "problems": self.problems,
            "elapsed": round(time.time() - self.started_at, 1),
        }


class JobProgress:
    """Adapts the engine's Progress interface onto a Job."""

    def __init__(self, job: Job, changed: threading.Condition) -> None:
        self.job = job
        self.changed = changed

    def _bump(self) -> None:
        with self.changed:
            self.job.version += 1
            self.changed.notify_all()

    def stage(self, key: str, label: str, total: int | None = None) -> None:
        self.job.stage, self.job.stage_label, self.job.total, self.job.done = key, label, total, 0
        self._bump()

    def advance(self, amount: int = 1) -> None:
        self.job.done += amount
        self._bump()

    def note(self, message: str) -> None:
        self.job.notes.append(message)
        self._bump()


class JobManager:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.jobs: dict[str, Job] = {}
        self.changed = threading.Condition()
        self._running: Job | None = None

    @property
    def running(self) -> Job | None:
        return self._running if self._running and self._running.status == "running" else None

    def start_refresh(self, user: str, full: bool = False) -> Job:
        if self.running is not None:
            raise Conflict("已有一个索引刷新正在进行，请等待它完成")
        job = Job(id=uuid.uuid4().hex[:12], kind="build" if full else "refresh", user=user)
        self.jobs[job.id] = job
        self._running = job
        threading.Thread(target=self._run, args=(job, full), daemon=True, name=f"refresh-{job.id}").start()
        return job

    def _run(self, job: Job, full: bool) -> None:
        progress = JobProgress(job, self.changed)
        try:
            self._build_in_child(job, full, progress)
        except Exception as exc:
            job.status, job.error = "failed", f"构建失败（当前版本继续服务）：{exc}"
        finally:
            if job.status == "running":
                job.status, job.error = "failed", "构建进程意外中断（当前版本继续服务），请重试"
            with self.changed:
                job.version += 1
                self.changed.notify_all()

    def _build_in_child(self, job: Job, full: bool, progress: JobProgress) -> None:
        """Run ``index.build_job`` and follow its JSON lines: the model lives only as long as the build."""
        config = self.settings.export(self.settings.data_dir / "run" / "build-settings.json")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEIYUAN_")} | {"WEIYUAN_CONFIG": str(config)}
        command = [sys.executable, "-m", "index.build_job", "--user", job.user, *(["--full"] if full else [])]
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT, text=True, encoding="utf-8"
        ) as child:
            assert child.stdout is not None
            for line in child.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a library printing to stdout: not an event
                self._apply(job, progress, event)
            child.wait()

    @staticmethod
    def _apply(job: Job, progress: JobProgress, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "stage":
            progress.stage(str(event["key"]), str(event["label"]), event.get("total"))
        elif kind == "advance":
            progress.advance(int(event.get("amount", 1)))
        elif kind == "note":
            progress.note(str(event["message"]))
        elif kind == "done":
            job.result, job.status = dict(event["result"]), "done"
        elif kind == "problems":
            job.status, job.error = "failed", "知识库文件有错误，未建立新索引，当前版本继续服务"
            job.problems = list(event["problems"])
        elif kind == "error":
            job.status, job.error = "failed", str(event["message"])

    async def wait_change(self, job: Job, seen: int, timeout: float = 15.0) -> int:
        """Wait (without blocking the event loop) until the job changed after ``seen``."""

        def waiter() -> int:
            with self.changed:
                self.changed.wait_for(lambda: job.version != seen, timeout=timeout)
                return job.version

        return await asyncio.to_thread(waiter)


def law_change_due(manifest: dict[str, Any], today: dt.date) -> dt.date | None:
    """The date a text in the serving index changes status, if it has come (the index is then stale)."""
    value = manifest.get("next_change")
    if not value:
        return None
    day = dt.date.fromisoformat(str(value))
    return day if day <= today else None


async def law_date_watch(app: web.Application) -> AsyncIterator[None]:
    """On the day a revision takes effect (2027-01-01: 商标法), refresh the index by itself.

    Statuses are worked out when the index is built; the manifest records the next date one
    changes.  Once a day has come, an ordinary incremental refresh publishes a version built for
    today (the previous one keeps serving until it is complete).  A fixed ``law_date`` setting
    means "as of that date", so nothing is refreshed.
    """
    settings: Settings = app[keys.SETTINGS]
    jobs: JobManager = app[keys.JOBS]
    lookup: Lookup = app[keys.LOOKUP]
    tried: set[dt.date] = set()

    async def check() -> None:
        try:
            manifest = await asyncio.to_thread(lookup.manifest)
        except WeiyuanError:
            return  # no index yet
        due = law_change_due(manifest, dt.date.today())
        if settings.law_date is None and due is not None and due not in tried and jobs.running is None:
            tried.add(due)
            log.info("a text changes status on %s: refreshing the index", due)
            jobs.start_refresh(user="法规施行日期")

    async with every(settings.gateway.law_date_check_seconds, "law-date check", check):
        yield
