"""The expert desk: routing, SLA re-routing, durability, replies into the chat, reusable answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import KnowledgeError, WeiyuanError
from core.experts import Expert
from core.settings import Settings
from desk.routing import choose_expert
from desk.service import Actor, Desk
from index.builder import build
from index.retriever import Retriever
from store.db import Database
from store.models import AuditEntry, ChatMessage, Ticket

EXPERTS = """provenance: 演示数据（测试）
demo: true
experts:
  - {id: demo-patent-gd, name: 演示专家·专利广东, specialties: [patent], regions: [广东], capacity: 2, demo: true}
  - {id: demo-patent-cn, name: 演示专家·专利全国, specialties: [patent], regions: [全国], capacity: 2, demo: true}
  - {id: demo-trademark, name: 演示专家·商标, specialties: [trademark], regions: [全国], capacity: 1, demo: true}
  - {id: demo-pool, name: 演示专家·值班, specialties: [general, copyright], regions: [全国], capacity: 5, demo: true}
"""


def expert(eid: str, specialties: list[str], regions: list[str], capacity: int = 3) -> Expert:
    return Expert(id=eid, name=f"演示{eid}", specialties=specialties, regions=regions, capacity=capacity, demo=True)


def test_routing_prefers_specialty_and_region_then_load() -> None:
    experts = [
        expert("gd-patent", ["patent"], ["广东"]),
        expert("cn-patent", ["patent"], ["全国"]),
        expert("pool", ["general"], ["全国"], 10),
    ]
    assert choose_expert(experts, {}, "patent", "广东").id == "gd-patent"  # type: ignore[union-attr]
    assert choose_expert(experts, {}, "patent", "浙江").id == "cn-patent"  # type: ignore[union-attr]
    # the regional expert is full: the nationwide patent expert takes it
    assert choose_expert(experts, {"gd-patent": 3}, "patent", "广东").id == "cn-patent"  # type: ignore[union-attr]
    # nobody covers plant varieties: the general pool does
    assert choose_expert(experts, {}, "plant_variety", "广东").id == "pool"  # type: ignore[union-attr]
    # unknown type goes to whoever handles general questions
    assert choose_expert(experts, {}, None, None).id == "pool"  # type: ignore[union-attr]
    # lower relative load wins between equals
    two = [expert("ex-a", ["patent"], ["全国"], 4), expert("ex-b", ["patent"], ["全国"], 4)]
    assert choose_expert(two, {"ex-a": 2, "ex-b": 1}, "patent", None).id == "ex-b"  # type: ignore[union-attr]
    # everyone full: the ticket waits in the shared pool
    assert choose_expert(two, {"ex-a": 4, "ex-b": 4}, "patent", None) is None
    # re-routing skips the expert who did not claim it
    assert choose_expert(two, {}, "patent", None, exclude=["ex-a"]).id == "ex-b"  # type: ignore[union-attr]


@pytest.fixture
def desk(settings: Settings) -> Desk:
    (settings.knowledge_dir / "experts" / "demo.yaml").write_text(EXPERTS, "utf-8")
    db = Database(settings.database_url)
    db.upgrade()
    return Desk(settings, db)


def open_handoff(
    desk: Desk, conversation: str, ip_type: str | None, region: str | None, reason: str = "low_confidence"
) -> Ticket:
    return desk.open_ticket(
        kind="handoff",
        reason=reason,
        conversation_id=conversation,
        channel="widget",
        ip_type=ip_type,
        region=region,
        transcript=[{"role": "user", "text": "我们的外观专利被抄了"}],
    )


def test_new_tickets_are_routed_with_sla_clocks(desk: Desk) -> None:
    ticket = open_handoff(desk, "c-1", "patent", "广东")
    assert ticket.assigned_expert == "demo-patent-gd" and ticket.status == "assigned" and ticket.bot_paused
    created = ticket.created_at.replace(tzinfo=None)
    assert ticket.due_first_response_at.replace(tzinfo=None) - created == dt.timedelta(hours=4)  # type: ignore[union-attr]
    urgent = open_handoff(desk, "c-2", "trademark", None, reason="needs_person")
    assert urgent.priority == "high" and urgent.assigned_expert == "demo-trademark"
    assert urgent.due_first_response_at.replace(tzinfo=None) - urgent.created_at.replace(tzinfo=None) == dt.timedelta(
        hours=2
    )  # type: ignore[union-attr]
    # the trademark expert (capacity 1) is full now: the next trademark ticket goes to the fallback pool
    fallback = open_handoff(desk, "c-3", "trademark", None)
    assert fallback.assigned_expert == "demo-pool"


def test_unclaimed_tickets_are_rerouted_after_the_timeout(desk: Desk) -> None:
    ticket = open_handoff(desk, "c-1", "patent", "广东")
    assert ticket.assigned_expert == "demo-patent-gd"
    now = dt.datetime.now(dt.UTC)
    assert desk.sweep(now + dt.timedelta(minutes=10)) == {"routed": 0, "rerouted": 0}
    moved = desk.sweep(now + dt.timedelta(minutes=31))
    assert moved["rerouted"] == 1
    detail = desk.detail(ticket.number or "")
    assert detail["assigned_expert"] == "demo-patent-cn" and detail["reroutes"] == 1
    # a claimed ticket stays where it is
    desk.claim(ticket.number or "", Actor("expert-cn", "专家乙", "expert", "demo-patent-cn"))
    assert desk.sweep(now + dt.timedelta(hours=5))["rerouted"] == 0


def test_a_crash_between_ticket_write_and_routing_loses_nothing(
    desk: Desk, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ticket is committed first; if the process dies before routing, the sweeper routes it."""

    def crash(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("process killed")

    monkeypatch.setattr(desk, "route", crash)
    with pytest.raises(SystemExit):
        open_handoff(desk, "c-crash", "patent", "广东")
    monkeypatch.undo()
    fresh = Desk(settings, Database(settings.database_url))  # a new process
    with fresh.db.session() as session:
        (ticket,) = session.scalars(select(Ticket).where(Ticket.conversation_id == "c-crash"))
        assert ticket.number and ticket.transcript and ticket.assigned_expert is None
    assert fresh.sweep()["routed"] == 1
    assert fresh.paused_ticket("c-crash") is not None


async def test_expert_reply_reaches_the_chat_and_the_bot_stays_quiet(desk: Desk) -> None:
    ticket = open_handoff(desk, "c-9", "patent", "广东")
    number = ticket.number or ""
    expert = Actor("expert1", "演示专家甲", "expert", "demo-patent-gd")
    with pytest.raises(WeiyuanError, match="请先认领"):
        desk.reply(number, expert, "您好")
    # before an expert takes it, the bot keeps answering follow-ups; the ticket still gets them
    assert not desk.route_user_message("c-9", "那需要准备哪些证据？")
    desk.claim(number, expert)
    with pytest.raises(WeiyuanError, match="已由 expert1 认领"):
        desk.claim(number, Actor("expert2", "乙", "expert", "demo-patent-cn"))
    # while the expert has it, user messages go to the ticket, not to the bot
    assert desk.route_user_message("c-9", "我还有图片证据")
    desk.reply(number, expert, "您好，请把购买凭证和网页截图发给我们。")
    desk.note(number, expert, "对方可能是批发商，建议查 1688")
    with desk.db.session() as session:
        chat = list(session.scalars(select(ChatMessage).where(ChatMessage.conversation_id == "c-9")))
        assert [(m.role, m.author) for m in chat] == [("expert", "演示专家甲")]  # the note is internal
    detail = desk.detail(number)
    assert [m["role"] for m in detail["messages"]] == ["user", "user", "expert", "expert"]
    assert detail["messages"][3]["internal"] is True and detail["first_response_at"]
    desk.hand_back(number, expert)
    assert not desk.route_user_message("c-9", "谢谢")
    desk.close(number, expert, "answered")
    assert desk.detail(number)["status"] == "resolved"
    with desk.db.session() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry).where(AuditEntry.target_id == number))]
    assert actions[:2] == ["ticket.create.handoff", "ticket.route"]
    assert {"ticket.claim", "ticket.reply", "ticket.note", "ticket.hand_back", "ticket.close"} <= set(actions)


def test_hotline_ticket_from_an_agent(desk: Desk) -> None:
    agent = Actor("agent1", "坐席甲", "agent")
    with pytest.raises(WeiyuanError, match="来电人反映的情况"):
        desk.open_hotline_ticket(agent, {"description": "短"})
    ticket = desk.open_hotline_ticket(
        agent,
        {
            "description": "来电人说商标被抢注，想咨询异议程序",
            "ip_type": "trademark",
            "phone": "13812345678",
            "priority": "high",
        },
    )
    assert ticket.kind == "hotline" and ticket.created_by == "agent1" and ticket.priority == "high"
    assert ticket.assigned_expert == "demo-trademark" and not ticket.bot_paused


def test_reusable_answer_is_published_and_found_by_search(desk: Desk, settings: Settings, factory: Any) -> None:
    build(settings, factory, incremental=True)
    ticket = open_handoff(desk, "c-5", "patent", "广东")
    expert = Actor("expert1", "演示专家甲", "expert", "demo-patent-gd")
    draft_id = desk.create_draft(
        ticket.number,
        expert,
        {
            "question": "外观设计专利产品在展会上被人拍照仿制怎么办",
            "answer": "先在展会现场固定证据（拍照、索取对方宣传册、记录展位号），再向展会知识产权投诉站投诉；"
            "需要时申请诉前行为保全。",
            "ip_type": "patent",
            "references": [{"law": "中华人民共和国专利法", "article": "第六十五条"}],
        },
    )
    admin = Actor("admin1", "管理员", "admin")
    bad = desk.drafts()[0]
    assert bad["id"] == draft_id
    with pytest.raises(KnowledgeError):
        desk.publish_draft(draft_id, admin, {"references": [{"law": "专利法", "article": "第九百条"}]})
    assert desk.drafts()[0]["status"] == "draft"  # nothing half-published
    entry_id = desk.publish_draft(draft_id, admin, {"variants": ["展会上外观专利被仿了"]})
    build(settings, factory, incremental=True)
    result = Retriever(settings, factory).search("外观设计专利产品在展会上被人拍照仿制怎么办", k=1)
    assert result.hits[0].id == f"entry/{entry_id}"
    assert result.hits[0].citations == [{"law": "中华人民共和国专利法", "article": "第六十五条"}]
    assert (Path(settings.knowledge_dir) / "entries" / "expert-answers.yaml").exists()
