"""Personal data goes after the retention time; what the centre's statistics need stays (issue 11, PIPL)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from sqlalchemy import select

from consult.feedback import record_feedback
from core.settings import Settings
from desk.retention import purge_personal_data
from desk.service import Desk
from store.models import ChatMessage, Feedback, Ticket, TicketMessage
from tests.test_desk import desk  # noqa: F401  (fixture)

DAY = dt.timedelta(days=1)


def test_old_personal_data_is_removed_and_recent_data_kept(desk: Desk, settings: Settings, tmp_path: Path) -> None:  # noqa: F811
    now = dt.datetime.now(dt.UTC)
    old_ticket = desk.open_ticket(
        kind="application", reason="application", conversation_id="c-old", channel="widget",
        fields={"contact_name": "王女士", "phone": "13812345678", "description": "外观专利被仿冒"},
        transcript=[{"role": "user", "text": "我的电话 13812345678"}],
    )  # fmt: skip
    open_ticket = desk.open_ticket(
        kind="handoff", reason="user_request", conversation_id="c-open", channel="widget",
        transcript=[{"role": "user", "text": "还在处理中"}],
    )  # fmt: skip
    record_feedback(desk.db, "c-old", None, 0, "回答不错，我电话 13812345678")
    with desk.db.session() as session:
        session.add_all(
            [
                ChatMessage(conversation_id="c-old", role="user", text="我叫王五", created_at=now - 200 * DAY),
                ChatMessage(conversation_id="c-open", role="user", text="旧消息但工单未结", created_at=now - 200 * DAY),
                ChatMessage(conversation_id="c-new", role="user", text="最近的消息", created_at=now - DAY),
                TicketMessage(ticket_id=old_ticket.id, author_role="user", body="补充：身份证…"),
            ]
        )
        stored = session.get(Ticket, old_ticket.id)
        assert stored is not None
        stored.status, stored.resolved_at, stored.resolution = "resolved", now - 190 * DAY, "answered"
        # the client pseudonym serves only the 24-hour ticket limit: gone after a day, even on open tickets
        stored.client_ref, stored.created_at = "ab" * 12, now - 195 * DAY
        recent = session.get(Ticket, open_ticket.id)
        assert recent is not None
        recent.client_ref, recent.created_at = "cd" * 12, now - 2 * DAY
        for row in session.scalars(select(Feedback)):
            row.created_at = now - 200 * DAY
    tracker = tmp_path / "tracker.db"
    with sqlite3.connect(tracker) as connection:
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, timestamp REAL, data TEXT)")
        connection.execute("INSERT INTO events VALUES (1, 'c-old', ?, '我叫王五')", ((now - 200 * DAY).timestamp(),))
        connection.execute("INSERT INTO events VALUES (2, 'c-new', ?, '最近')", ((now - DAY).timestamp(),))

    counts = purge_personal_data(desk.db, 180, now=now, tracker_url=f"sqlite:///{tracker}")

    assert counts == {
        "chat_messages": 1,
        "tickets": 1,
        "feedback_comments": 1,
        "client_refs": 2,
        "tracker_events": 1,
    }
    with desk.db.session() as session:
        kept = {m.text for m in session.scalars(select(ChatMessage))}
        assert kept == {"旧消息但工单未结", "最近的消息"}
        purged = session.get(Ticket, old_ticket.id)
        assert purged is not None
        assert (purged.phone, purged.contact_name, purged.description, purged.transcript) == (None, None, None, [])
        assert (purged.kind, purged.resolution) == ("application", "answered")  # statistics stay
        assert not list(session.scalars(select(TicketMessage).where(TicketMessage.ticket_id == old_ticket.id)))
        still = session.get(Ticket, open_ticket.id)
        assert still is not None and still.transcript  # a ticket being handled keeps its conversation
        assert [f.comment for f in session.scalars(select(Feedback))] == [None]
        assert [t.client_ref for t in session.scalars(select(Ticket))] == [None, None]
    with sqlite3.connect(tracker) as connection:
        assert [r[0] for r in connection.execute("SELECT sender_id FROM events")] == ["c-new"]
    # running again removes nothing more
    assert set(purge_personal_data(desk.db, 180, now=now, tracker_url=f"sqlite:///{tracker}").values()) == {0}


def test_a_draft_entry_never_carries_the_users_personal_data(desk: Desk) -> None:  # noqa: F811
    from desk.service import Actor
    from store.models import KnowledgeDraft

    expert = Actor("expert1", "专家", "expert", "demo-patent-gd")
    draft_id = desk.create_draft(
        None,
        expert,
        {
            "question": "我是王五 13812345678，外观专利被仿冒怎么办",
            "answer": "可以先固定证据，再向平台投诉或向法院起诉；如需帮助请联系 wang@example.com 之外的官方渠道。",
            "variants": ["身份证 110101199003071234 的用户问：怎么维权"],
        },
    )
    with desk.db.session() as session:
        draft = session.get(KnowledgeDraft, draft_id)
        assert draft is not None
        stored = " ".join([draft.question, draft.answer, *draft.variants])
    for secret in ("13812345678", "wang@example.com", "110101199003071234"):
        assert secret not in stored
