"""Change knowledge files safely: validate the whole corpus with the change first, then write atomically.

A change that would make the corpus invalid is refused with every problem
(file, line, reason) and nothing is written.  Each accepted change keeps the
previous content under ``var/knowledge-history`` so it can be restored.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.errors import KnowledgeError, KnowledgeProblem, WeiyuanError
from index.loader import load_corpus
from index.textnorm import load_synonyms

#: What may be edited from the console, by folder and suffix.
EDITABLE = {
    "policies": (".md",),
    "entries": (".yaml", ".yml"),
    "cases": (".yaml", ".yml"),
    "experts": (".yaml", ".yml"),
    "lexicon": (".txt",),
}
TOP_LEVEL = ("synonyms.yaml",)
MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class KnowledgeFile:
    path: str
    folder: str
    size: int
    modified: str


def clean_rel(rel: str) -> str:
    """The one spelling of a knowledge path that validation, backup and writing all use."""
    return rel.strip().lstrip("/")


def check_path(root: Path, rel: str) -> Path:
    """The absolute path of an editable file, or a clear error (no escaping the folder)."""
    rel = clean_rel(rel)
    parts = Path(rel).parts
    if not parts or any(p in ("..", "") or p.startswith(".") for p in parts):
        raise WeiyuanError(f"文件路径无效：{rel}")
    if rel in TOP_LEVEL:
        return root / rel
    folder = parts[0]
    if folder not in EDITABLE or len(parts) < 2:
        raise WeiyuanError(f"只能编辑 {', '.join(EDITABLE)} 目录下的文件或 synonyms.yaml")
    if not rel.endswith(EDITABLE[folder]):
        raise WeiyuanError(f"{folder} 目录下的文件应以 {' 或 '.join(EDITABLE[folder])} 结尾")
    path = (root / rel).resolve()
    if root.resolve() not in path.parents:
        raise WeiyuanError(f"文件路径无效：{rel}")
    return path


def list_files(root: Path) -> list[KnowledgeFile]:
    out = []
    for folder, suffixes in EDITABLE.items():
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix in suffixes:
                stat = path.stat()
                modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(timespec="seconds")
                out.append(KnowledgeFile(path.relative_to(root).as_posix(), folder, stat.st_size, modified))
    for name in TOP_LEVEL:
        path = root / name
        if path.is_file():
            stat = path.stat()
            modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(timespec="seconds")
            out.append(KnowledgeFile(name, "", stat.st_size, modified))
    return out


def validate_change(root: Path, rel: str, content: str | None) -> None:
    """Load a copy of the corpus with the change applied; raise KnowledgeError if anything is wrong."""
    rel = clean_rel(rel)
    check_path(root, rel)
    if content is not None and len(content.encode("utf-8")) > MAX_BYTES:
        raise KnowledgeError([KnowledgeProblem(rel, 1, f"文件太大（上限 {MAX_BYTES // 1_000_000} MB）")])
    with tempfile.TemporaryDirectory(prefix="weiyuan-check-") as tmp:
        copy = Path(tmp) / "knowledge"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".*"))
        target = copy / rel
        if content is None:
            if target.exists():
                target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        load_corpus(copy)
        load_synonyms(copy / "synonyms.yaml")


def write_file(root: Path, rel: str, content: str | None, history_dir: Path) -> Path:
    """Validate, back up the old version, then replace (or delete) the file atomically."""
    rel = clean_rel(rel)
    path = check_path(root, rel)
    validate_change(root, rel, content)
    if path.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = history_dir / stamp / rel
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, backup)
    if content is None:
        if path.exists():
            path.unlink()
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".edit-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
