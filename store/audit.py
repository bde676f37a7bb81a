"""The audit trail: one function writes every entry (who did what to which record)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from store.db import Database
from store.models import AuditEntry


def record_audit(
    session: Session, actor: str, action: str, target_type: str, target_id: str | None, **detail: Any
) -> None:
    """Add an audit entry to ``session`` (committed with the change it records)."""
    session.add(AuditEntry(actor=actor, action=action, target_type=target_type, target_id=target_id, detail=detail))


def audit(db: Database, actor: str, action: str, target_type: str, target_id: str | None, **detail: Any) -> None:
    """Write one audit entry in its own transaction (for actions that change no row)."""
    with db.session() as session:
        record_audit(session, actor, action, target_type, target_id, **detail)
