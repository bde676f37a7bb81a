"""The public chat API behind the website widget.

The widget keeps a random conversation id in the embedding site's
localStorage; every message is stored here first (nothing is lost if Rasa
is down) and relayed to Rasa's REST channel; Rasa's replies (text plus
metadata) are stored too, so the widget can replay the conversation after a
reload and pick up replies that arrive later (an expert's, after a hand-over).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import String, cast, select

from consult.feedback import record_feedback
from consult.handoff import handoff_message
from core.messages import pair_rest_messages
from core.settings import Settings
from gateway import keys
from gateway.clients import client_address
from gateway.errors import ApiError, json_object
from gateway.periodic import every
from store.audit import audit
from store.db import Database
from store.models import ChatMessage, utcnow

SESSION_RE = re.compile(r"^w-[A-Za-z0-9_-]{16,40}$")
routes = web.RouteTableDef()
log = logging.getLogger(__name__)


def message_json(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "role": message.role,
        "text": message.text,
        "buttons": message.buttons or [],
        "meta": message.meta or {},
        "author": message.author,
        "time": message.created_at.isoformat() if message.created_at else None,
    }


#: Payloads the widget always offers (its permanent 转人工 button).
ALWAYS_OFFERED = frozenset({"/request_human"})


def offered_payloads(db: Database, conversation: str, recent: int = 20) -> set[str]:
    """Button payloads the bot offered in this conversation's recent messages, and the widget's own."""
    with db.session() as session:
        rows = session.scalars(
            select(ChatMessage.buttons)
            .where(ChatMessage.conversation_id == conversation, ChatMessage.role == "bot")
            .order_by(ChatMessage.id.desc())
            .limit(recent)
        )
        offered = {str(b.get("payload")) for buttons in rows for b in (buttons or []) if isinstance(b, dict)}
    return offered | ALWAYS_OFFERED


def client_key(request: web.Request) -> str:
    return client_address(request)


def _session_of(value: object) -> str:
    if not isinstance(value, str) or not SESSION_RE.match(value):
        raise ApiError(400, "会话编号无效，请刷新页面")
    return value


def history(db: Database, conversation: str, after: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation, ChatMessage.id > after)
            .order_by(ChatMessage.id)
            .limit(limit)
        )
        return [message_json(m) for m in rows]


def store_messages(db: Database, conversation: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with db.session() as session:
        stored = [ChatMessage(conversation_id=conversation, **row) for row in rows]
        session.add_all(stored)
        session.flush()
        return [message_json(m) for m in stored]


async def relay_to_rasa(app: web.Application, conversation: str, text: str) -> list[dict[str, Any]]:
    """Send one user message to Rasa's REST channel; return the bot messages (text + metadata)."""
    settings: Settings = app[keys.SETTINGS]
    url = f"http://{settings.server.host}:{settings.server.rasa_port}/webhooks/rest/webhook"
    http: aiohttp.ClientSession = app[keys.HTTP]
    try:
        async with http.post(
            url,
            json={"sender": conversation, "message": text, "metadata": {"channel": "widget"}},
            timeout=aiohttp.ClientTimeout(total=settings.gateway.rasa_timeout_seconds),
        ) as response:
            if response.status != 200:
                raise ApiError(502)
            output = await response.json()
    except (aiohttp.ClientError, TimeoutError):
        raise ApiError(502, "对话服务暂时不可用，您的消息已保存，请稍后重试") from None
    return [
        {"role": "bot", "text": m.text, "buttons": m.buttons, "meta": m.meta}
        for m in pair_rest_messages(output if isinstance(output, list) else [])
    ]


CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
PENDING_TEXT = (
    "对话服务暂时不可用。您的消息已经保存，服务恢复后会自动回复，回复会显示在这里；"
    "情况紧急可以拨打 12330 知识产权维权援助热线。"
)


def find_by_client_id(db: Database, conversation: str, client_id: str) -> ChatMessage | None:
    """The user message the widget already sent with this id (a retry), if any."""
    with db.session() as session:
        for message in session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation, ChatMessage.role == "user")
            .order_by(ChatMessage.id.desc())
            .limit(50)
        ):
            if (message.meta or {}).get("client_id") == client_id:
                return message
    return None


def set_pending(db: Database, message_id: int, pending: bool) -> None:
    """Mark a user message as waiting for the bot (Rasa was down) or as answered."""
    with db.session() as session:
        message = session.get(ChatMessage, message_id)
        if message is not None:
            meta = dict(message.meta or {})
            if pending:
                meta["pending"] = True
            else:
                meta.pop("pending", None)
            message.meta = meta


def pending_messages(db: Database, since_hours: float = 24) -> list[ChatMessage]:
    """User messages still waiting for the bot, oldest first."""
    cutoff = utcnow() - dt.timedelta(hours=since_hours)
    with db.session() as session:
        rows = session.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.role == "user",
                ChatMessage.created_at >= cutoff,
                # narrowed in the database (this runs every few seconds), confirmed below
                cast(ChatMessage.meta, String).contains('"pending"'),
            )
            .order_by(ChatMessage.id)
        )
        return [m for m in rows if (m.meta or {}).get("pending")]


async def deliver_pending(app: web.Application, now: dt.datetime | None = None) -> dict[str, int]:
    """Relay messages kept while Rasa was down, in order, once it answers again; a message that has
    waited longer than ``gateway.pending_handoff_minutes`` goes to a person instead."""
    settings: Settings = app[keys.SETTINGS]
    db: Database = app[keys.DB]
    now = now or utcnow()
    counts = {"delivered": 0, "handed_over": 0}
    blocked: set[str] = set()
    for message in await asyncio.to_thread(pending_messages, db):
        conversation = message.conversation_id
        if conversation in blocked:
            continue  # keep each conversation's order
        created = message.created_at if message.created_at.tzinfo else message.created_at.replace(tzinfo=dt.UTC)
        waited = (now - created).total_seconds() / 60
        try:
            replies = await relay_to_rasa(app, conversation, str((message.meta or {}).get("sent") or message.text))
        except ApiError:
            blocked.add(conversation)
            if waited >= settings.gateway.pending_handoff_minutes and keys.DESK in app:
                await asyncio.to_thread(_hand_over_pending, app, message)
                counts["handed_over"] += 1
            continue
        if not replies:
            replies = [await asyncio.to_thread(silent_turn_reply, db, conversation)]
        await asyncio.to_thread(store_messages, db, conversation, replies)
        await asyncio.to_thread(set_pending, db, message.id, False)
        counts["delivered"] += 1
    return counts


async def redelivery(app: web.Application) -> AsyncIterator[None]:
    """Background: relay the messages kept while Rasa was down (gateway.pending_retry_seconds)."""

    async def step() -> None:
        counts = await deliver_pending(app)
        if any(counts.values()):
            log.info("pending messages: %s", counts)

    async with every(app[keys.SETTINGS].gateway.pending_retry_seconds, "pending delivery", step):
        yield


def _hand_over_pending(app: web.Application, message: ChatMessage) -> None:
    """Rasa stayed down: a person takes the conversation (ticket first, then the user is told)."""
    db: Database = app[keys.DB]
    ticket = app[keys.DESK].open_ticket(
        kind="handoff",
        reason="error",
        conversation_id=message.conversation_id,
        channel="widget",
        transcript=[{"role": "user", "text": message.text}],
        retrieval={"query": message.text[:500], "error": "dialogue service unavailable"},
        actor="gateway",
    )
    text, meta = handoff_message(ticket, "error", round(app[keys.SETTINGS].desk.first_response_hours))
    store_messages(db, message.conversation_id, [{"role": "bot", "text": text, "buttons": [], "meta": meta}])
    set_pending(db, message.id, False)


SILENT_TURN_TEXT = (
    "抱歉，这条消息我没能给出回复。您的消息已经保存；可以换个说法再问一次，"
    "或点击“转人工”由专家继续处理，也可以拨打 12330 知识产权维权援助热线。"
)


def silent_turn_reply(db: Database, conversation: str) -> dict[str, Any]:
    """The bot said nothing for a user turn: tell the user, and record it for the team."""
    log.warning("silent bot turn in conversation %s", conversation)
    audit(db, "gateway", "chat.silent_turn", "conversation", conversation)
    return {
        "role": "bot",
        "text": SILENT_TURN_TEXT,
        "buttons": [{"title": "转人工", "payload": "/request_human"}],
        "meta": {"type": "info", "silent_turn": True},
    }


@routes.post("/api/chat/start")
async def start(request: web.Request) -> web.Response:
    """Resume the conversation the browser remembers, or begin a new one."""
    data = await json_object(request)
    db: Database = request.app[keys.DB]
    existing = data.get("session")
    if isinstance(existing, str) and SESSION_RE.match(existing):
        return web.json_response({"session": existing, "messages": await asyncio.to_thread(history, db, existing)})
    return web.json_response({"session": "w-" + secrets.token_urlsafe(18), "messages": []})


@routes.get("/api/chat/history")
async def chat_history(request: web.Request) -> web.Response:
    """Messages after ``after`` (the widget polls this for replies that arrive later)."""
    conversation = _session_of(request.query.get("session"))
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise ApiError(400, "参数 after 应为整数") from None
    return web.json_response({"messages": await asyncio.to_thread(history, request.app[keys.DB], conversation, after)})


@routes.post("/api/chat/send")
async def send(request: web.Request) -> web.Response:
    """A user message: stored, relayed to the bot (unless an expert has the conversation)."""
    settings: Settings = request.app[keys.SETTINGS]
    if not await request.app[keys.CHAT_LIMITER].allow(client_key(request)):
        raise ApiError(429, "您发送得太快了，请稍等几秒再发")
    data = await json_object(request)
    conversation = _session_of(data.get("session"))
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "消息不能为空")
    text = text.strip()
    if len(text) > settings.gateway.max_message_chars:
        raise ApiError(413, f"消息太长了（最多 {settings.gateway.max_message_chars} 个字），请分几次发送")
    db: Database = request.app[keys.DB]
    if text.startswith("/") and text not in await asyncio.to_thread(offered_payloads, db, conversation):
        # Rasa reads "/intent{...}" as a forced intent with entities: only buttons the bot offered
        # may send one; anything else a user types is passed on as plain text
        text = "／" + text[1:]
    shown = data.get("display")
    display = shown if isinstance(shown, str) and text.startswith("/") and len(shown) <= 100 else text
    client_id = data.get("client_id")
    client_id = client_id if isinstance(client_id, str) and CLIENT_ID_RE.match(client_id) else None
    earlier = await asyncio.to_thread(find_by_client_id, db, conversation, client_id) if client_id else None
    if earlier is not None:
        # a retry of a message we already have: never stored twice, relayed again only if still pending
        if not (earlier.meta or {}).get("pending"):
            return web.json_response({"messages": [], "duplicate": True})
        stored_user = [message_json(earlier)]
    else:
        meta = {"sent": text, **({"client_id": client_id} if client_id else {})}
        stored_user = await asyncio.to_thread(
            store_messages, db, conversation, [{"role": "user", "text": display, "meta": meta}]
        )
    desk = request.app.get(keys.DESK)
    if desk is not None and await desk.route_user_message(conversation, display):
        return web.json_response({"messages": stored_user, "waiting_for_expert": True})
    try:
        replies = await relay_to_rasa(request.app, conversation, text)
    except ApiError:
        await asyncio.to_thread(set_pending, db, stored_user[0]["id"], True)
        raise ApiError(502, PENDING_TEXT) from None
    if not replies:
        replies = [await asyncio.to_thread(silent_turn_reply, db, conversation)]
    stored = await asyncio.to_thread(store_messages, db, conversation, replies)
    if earlier is not None:
        await asyncio.to_thread(set_pending, db, earlier.id, False)
    return web.json_response({"messages": stored_user + stored})


@routes.post("/api/chat/feedback")
async def feedback(request: web.Request) -> web.Response:
    """👍 / 👎 on one answer (no personal data is stored with it)."""
    if not await request.app[keys.CHAT_LIMITER].allow("fb:" + client_key(request)):
        raise ApiError(429)
    data = await json_object(request)
    conversation = _session_of(data.get("session"))
    rating = data.get("rating")
    if rating not in (1, -1):
        raise ApiError(400, "评价只能是 1（有帮助）或 -1（没帮助）")
    answer_id = data.get("answer_id")
    if not isinstance(answer_id, str) or not re.fullmatch(r"[0-9a-f]{32}", answer_id):
        raise ApiError(400, "无效的回答编号")
    comment = data.get("comment")
    record_feedback(
        request.app[keys.DB], conversation, answer_id, rating, comment if isinstance(comment, str) else None, limit=1000
    )
    return web.json_response({"ok": True})
