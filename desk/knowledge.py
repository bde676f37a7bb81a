"""Edits to ``knowledge/`` by people (admins in the console, the draft workflow): validated, backed up, audited.

The engine (:mod:`index.editing`) knows how to change a file safely; this is
who may change what, where backups go, and the audit trail.
"""

from __future__ import annotations

from typing import Any

import yaml

from core.settings import Settings
from index import editing
from index.editing import KnowledgeFile
from store.audit import audit
from store.db import Database


class KnowledgeEditor:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def files(self) -> list[KnowledgeFile]:
        return editing.list_files(self.settings.knowledge_dir)

    def read(self, rel: str) -> str | None:
        """The file's text, or ``None`` if it does not exist (an unsafe path raises)."""
        path = editing.check_path(self.settings.knowledge_dir, rel)
        return path.read_text("utf-8") if path.is_file() else None

    def validate(self, rel: str, content: str | None) -> None:
        """Raise :class:`core.errors.KnowledgeError` (every problem, file and line) if the change breaks the corpus."""
        editing.validate_change(self.settings.knowledge_dir, rel, content)

    def save(self, rel: str, content: str, actor: str) -> bool:
        """Create or replace a file after validation (the old one is kept); ``True`` if it was created."""
        existed = editing.check_path(self.settings.knowledge_dir, rel).exists()
        self._write(rel, content)
        audit(self.db, actor, "knowledge.update" if existed else "knowledge.create", "file", rel)
        return not existed

    def delete(self, rel: str, actor: str) -> bool:
        """Delete a file (kept in the history); ``False`` if there was none."""
        if not editing.check_path(self.settings.knowledge_dir, rel).exists():
            return False
        self._write(rel, None)
        audit(self.db, actor, "knowledge.delete", "file", rel)
        return True

    def append_entry(self, rel: str, entry: dict[str, Any], provenance: str) -> None:
        """Add one knowledge-base entry to an entry file (created with ``provenance`` if new)."""
        text = self.read(rel)
        current = yaml.safe_load(text) if text else None
        data: dict[str, Any] = current if isinstance(current, dict) else {}
        data.setdefault("provenance", provenance)
        data.setdefault("entries", []).append(entry)
        self._write(rel, yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000))

    def _write(self, rel: str, content: str | None) -> None:
        editing.write_file(self.settings.knowledge_dir, rel, content, self.settings.data_dir / "knowledge-history")
