"""Reusable answers: an expert's reply becomes a draft entry; an admin reviews and publishes it to the knowledge base."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.errors import NotFound, WeiyuanError
from core.redact import redact
from core.vocabulary import IP_TYPES
from desk.analytics.clusters import ANSWER_PLACEHOLDER
from desk.knowledge import KnowledgeEditor
from desk.lifecycle import Actor, TicketLifecycle, aware
from store.audit import record_audit
from store.models import KnowledgeDraft, utcnow


class DraftWorkflow(TicketLifecycle):
    def create_draft(self, number: str | None, actor: Actor, data: dict[str, Any]) -> int:
        # a draft becomes a public entry: the user's phone, ID or e-mail never travels with it
        question = redact(str(data.get("question") or "").strip())
        answer = redact(str(data.get("answer") or "").strip())
        ip_type = str(data.get("ip_type") or "general")
        if len(question) < 4 or len(answer) < 20:
            raise WeiyuanError("请填写问题（至少 4 个字）和回答（至少 20 个字）")
        if ip_type not in IP_TYPES:
            raise WeiyuanError("知识产权类型无效")
        references = [
            r for r in data.get("references") or [] if isinstance(r, dict) and r.get("law") and r.get("article")
        ]
        variants = [redact(str(v).strip()) for v in data.get("variants") or [] if str(v).strip()]
        with self.db.session() as session:
            ticket_id = self._get(session, number).id if number else None
            draft = KnowledgeDraft(
                question=question,
                answer=answer,
                ip_type=ip_type,
                ticket_id=ticket_id,
                created_by=actor.username,
                references=[{"law": r["law"], "article": r["article"]} for r in references],
                variants=variants,
            )
            session.add(draft)
            session.flush()
            record_audit(session, actor.username, "draft.create", "draft", str(draft.id), ticket=number)
            return draft.id

    def drafts(self, status: str = "draft") -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(
                select(KnowledgeDraft).where(KnowledgeDraft.status == status).order_by(KnowledgeDraft.id.desc())
            )
            return [
                {
                    "id": d.id,
                    "status": d.status,
                    "question": d.question,
                    "variants": d.variants,
                    "answer": d.answer,
                    "ip_type": d.ip_type,
                    "references": d.references,
                    "created_by": d.created_by,
                    "created_at": aware(d.created_at).isoformat() if d.created_at else None,  # type: ignore[union-attr]
                    "entry_id": d.entry_id,
                }
                for d in rows
            ]

    def publish_draft(self, draft_id: int, actor: Actor, edits: dict[str, Any]) -> str:
        """Append the (edited) draft to the expert-answers file; validated like any knowledge change."""
        with self.db.session() as session:
            draft = session.get(KnowledgeDraft, draft_id)
            if draft is None or draft.status != "draft":
                raise NotFound("这条草稿不存在或已处理")
            for key in ("question", "answer", "ip_type", "references", "variants"):
                if key in edits and edits[key] is not None:
                    setattr(draft, key, edits[key])
            if ANSWER_PLACEHOLDER in draft.answer:  # a draft mined from unanswered questions has no answer yet
                raise WeiyuanError("请先撰写回答（替换“【待撰写】”占位文字）再发布")
            entry_id = f"expert-answer-{draft.id}"
            KnowledgeEditor(self.settings, self.db).append_entry(
                self.settings.desk.drafts_file,
                {
                    "id": entry_id,
                    "question": draft.question,
                    "variants": list(draft.variants or []),
                    "answer": draft.answer,
                    "ip_type": draft.ip_type,
                    "services": ["consultation"],
                    "region": "全国",
                    "references": list(draft.references or []),
                },
                provenance="由本中心专家在人工答复中撰写，经管理员审核后发布（weiyuan 专家工作台）。",
            )
            draft.status, draft.reviewed_by, draft.reviewed_at, draft.entry_id = (
                "published",
                actor.username,
                utcnow(),
                entry_id,
            )
            record_audit(session, actor.username, "draft.publish", "draft", str(draft.id), entry=entry_id)
            return entry_id

    def reject_draft(self, draft_id: int, actor: Actor, note: str) -> None:
        with self.db.session() as session:
            draft = session.get(KnowledgeDraft, draft_id)
            if draft is None or draft.status != "draft":
                raise NotFound("这条草稿不存在或已处理")
            draft.status, draft.reviewed_by, draft.reviewed_at, draft.note = "rejected", actor.username, utcnow(), note
            record_audit(session, actor.username, "draft.reject", "draft", str(draft.id))
