"""Versioned index builds on disk, with an atomic switch of the serving version.

Layout under ``var/index``::

    CURRENT                  # the serving version id (replaced atomically)
    history.jsonl            # every switch: build, refresh, rollback
    .lock                    # held while a build runs (one build at a time)
    versions/<id>/           # finished, immutable builds (manifest.json + data)
    versions/.tmp-*/         # a build in progress; never served, removed if abandoned

A build writes everything into a temporary directory, fsyncs it, renames it
into ``versions/`` and only then replaces ``CURRENT``.  Killing the process
at any point therefore leaves the previous version serving.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import Conflict, NotFound, WeiyuanError

CURRENT = "CURRENT"
HISTORY = "history.jsonl"
MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class VersionInfo:
    """Summary of one finished build, for ``index status`` and the admin page."""

    version: str
    created_at: str
    mode: str
    chunks: int
    serving: bool
    manifest: dict[str, Any]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file under ``path`` (and the directories) to disk."""
    for root, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class VersionStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions_dir = root / "versions"

    # -- reading --------------------------------------------------------------
    def current(self) -> str | None:
        """The serving version id, or None before the first build."""
        try:
            value = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return value or None

    def current_marker_mtime(self) -> float:
        """Modification time of ``CURRENT`` (cheap check for hot reload)."""
        try:
            return (self.root / CURRENT).stat().st_mtime_ns / 1e9
        except FileNotFoundError:
            return 0.0

    def path(self, version: str) -> Path:
        if not version or "/" in version or version.startswith("."):
            raise WeiyuanError(f"无效的版本号：{version!r}")
        return self.versions_dir / version

    def exists(self, version: str) -> bool:
        return (self.path(version) / MANIFEST).is_file()

    def manifest(self, version: str) -> dict[str, Any]:
        path = self.path(version) / MANIFEST
        if not path.is_file():
            raise NotFound(f"索引版本 {version} 不存在")
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def versions(self) -> list[VersionInfo]:
        """Finished versions, newest first."""
        if not self.versions_dir.is_dir():
            return []
        serving = self.current()
        out = []
        for child in sorted(self.versions_dir.iterdir(), reverse=True):
            if child.name.startswith(".") or not (child / MANIFEST).is_file():
                continue
            manifest = self.manifest(child.name)
            out.append(
                VersionInfo(
                    version=child.name,
                    created_at=str(manifest.get("created_at", "")),
                    mode=str(manifest.get("mode", "")),
                    chunks=int(manifest.get("counts", {}).get("chunks", 0)),
                    serving=child.name == serving,
                    manifest=manifest,
                )
            )
        return out

    def history(self) -> list[dict[str, Any]]:
        path = self.root / HISTORY
        if not path.is_file():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                out.append(json.loads(line))
        return out

    # -- writing --------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive build lock; a second concurrent build is refused, not queued."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / ".lock").open("a+")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict("另一个索引构建正在进行，请稍后再试") from None
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def clean_abandoned(self) -> int:
        """Remove temporary directories left by interrupted builds (call under the lock)."""
        if not self.versions_dir.is_dir():
            return 0
        removed = 0
        for child in self.versions_dir.iterdir():
            if child.name.startswith(TMP_PREFIX):
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
        return removed

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh temporary build directory, removed again if the build fails."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=self.versions_dir))
        try:
            yield tmp
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def new_version_id(self) -> str:
        """A new id that sorts after every existing one (``YYYYmmdd-HHMMSS-NN``, UTC)."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        names = []
        if self.versions_dir.is_dir():
            names = sorted(p.name for p in self.versions_dir.iterdir() if not p.name.startswith("."))
        latest = names[-1] if names else ""
        if latest[:15] >= stamp:  # same second (or the clock went back): count on from the latest
            stamp, seq = latest[:15], int(latest[16:] or 0) + 1
        else:
            seq = 1
        return f"{stamp}-{seq:02d}"

    def publish(self, tmp: Path, version: str, action: str) -> None:
        """Make a finished staging directory a version and switch to it atomically."""
        fsync_tree(tmp)
        target = self.path(version)
        os.replace(tmp, target)
        _fsync_dir(self.versions_dir)
        self.switch(version, action)

    def switch(self, version: str, action: str, user: str | None = None) -> None:
        """Atomically point ``CURRENT`` at ``version`` and record it in the history."""
        if not self.exists(version):
            raise NotFound(f"索引版本 {version} 不存在")
        previous = self.current()
        tmp = self.root / f".{CURRENT}.{os.getpid()}"
        tmp.write_text(version + "\n", encoding="utf-8")
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.root / CURRENT)
        _fsync_dir(self.root)
        event = {"time": utc_now(), "action": action, "from": previous, "to": version}
        if user:
            event["user"] = user
        with (self.root / HISTORY).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")

    def rollback(self, version: str | None = None, user: str | None = None) -> str:
        """Serve ``version`` again, or the newest version older than the serving one."""
        current = self.current()
        if version is None:
            older = [v.version for v in self.versions() if current is None or v.version < current]
            if not older:
                raise Conflict("没有更早的索引版本可以回滚")
            version = older[0]
        if not self.exists(version):
            raise NotFound(f"索引版本 {version} 不存在，可用版本见 weiyuan index status")
        if version == current:
            raise WeiyuanError(f"版本 {version} 已在服务中")
        self.switch(version, "rollback", user)
        return version

    def prune(self, keep: int) -> list[str]:
        """Delete old versions beyond the newest ``keep`` (never the serving one)."""
        serving = self.current()
        removed = []
        for info in self.versions()[keep:]:
            if info.version != serving:
                shutil.rmtree(self.path(info.version), ignore_errors=True)
                removed.append(info.version)
        return removed
