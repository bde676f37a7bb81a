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
import hashlib
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import String, cast, select

from consult.feedback import rate_answer
from consult.handoff import handoff_message
from core.messages import pair_rest_messages
from core.settings import Settings
from desk.analytics.record import classify, record_turn
from gateway import keys
from gateway.api import operation, read_body, read_query, reply
from gateway.clients import client_address, client_ref
from gateway.contracts import (
    SESSION_PATTERN,
    ChatMessageOut,
    FeedbackRequest,
    HistoryQuery,
    HistoryResponse,
    Ok,
    SendRequest,
    SendResponse,
    StartRequest,
    StartResponse,
)
from gateway.errors import ApiError
from gateway.health import actions_alive
from gateway.periodic import every
from store.audit import audit
from store.db import Database
from store.models import ChatMessage, utcnow

SESSION_RE = re.compile(SESSION_PATTERN)
routes = web.RouteTableDef()
log = logging.getLogger(__name__)


def message_json(message: ChatMessage) -> ChatMessageOut:
    return ChatMessageOut(
        id=message.id,
        role=message.role,
        text=message.text,
        buttons=message.buttons or [],
        meta=message.meta or {},
        author=message.author,
        time=message.created_at.isoformat() if message.created_at else None,
    )


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


def history(db: Database, conversation: str, after: int = 0, limit: int = 200) -> list[ChatMessageOut]:
    with db.session() as session:
        rows = session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation, ChatMessage.id > after)
            .order_by(ChatMessage.id)
            .limit(limit)
        )
        return [message_json(m) for m in rows]


def store_messages(db: Database, conversation: str, rows: list[dict[str, Any]]) -> list[ChatMessageOut]:
    with db.session() as session:
        stored = [ChatMessage(conversation_id=conversation, **row) for row in rows]
        session.add_all(stored)
        session.flush()
        return [message_json(m) for m in stored]


async def relay_to_rasa(
    app: web.Application, conversation: str, text: str, client: str | None = None
) -> list[dict[str, Any]]:
    """Send one user message to Rasa's REST channel; return the bot messages (text + metadata).

    With several Rasa servers (replicas), a conversation always goes to the same one first
    (:func:`replica_order`); when that one cannot be reached or drops the connection (killed,
    restarting), the next one answers.  A timeout is not retried: the turn may still be running.
    """
    settings: Settings = app[keys.SETTINGS]
    http: aiohttp.ClientSession = app[keys.HTTP]
    body = {
        "sender": conversation,
        "message": text,
        "metadata": {"channel": "widget", **({"client": client} if client else {})},
    }
    output: Any = None
    for port in replica_order(settings.server.rasa_ports, conversation):
        url = f"http://{settings.server.host}:{port}/webhooks/rest/webhook"
        try:
            async with http.post(
                url, json=body, timeout=aiohttp.ClientTimeout(total=settings.gateway.rasa_timeout_seconds)
            ) as response:
                if response.status != 200:  # the turn ran and failed there: not run again elsewhere
                    raise ApiError(502)
                output = await response.json()
                break
        except aiohttp.ClientConnectionError as exc:
            if isinstance(exc, aiohttp.ServerTimeoutError):
                raise ApiError(502, "对话服务暂时不可用，您的消息已保存，请稍后重试") from None
            log.warning("Rasa on port %s did not answer (%s); trying the next replica", port, type(exc).__name__)
        except (aiohttp.ClientError, TimeoutError):
            raise ApiError(502, "对话服务暂时不可用，您的消息已保存，请稍后重试") from None
    else:
        raise ApiError(502, "对话服务暂时不可用，您的消息已保存，请稍后重试")
    return [
        {"role": "bot", "text": m.text, "buttons": m.buttons, "meta": m.meta}
        for m in pair_rest_messages(output if isinstance(output, list) else [])
    ]


def replica_order(ports: list[int], conversation: str) -> list[int]:
    """The Rasa servers to try for a conversation: its own one first (stable), then the others."""
    if len(ports) < 2:
        return list(ports)
    first = int.from_bytes(hashlib.blake2b(conversation.encode(), digest_size=4).digest(), "big") % len(ports)
    return ports[first:] + ports[:first]


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


def store_replies(
    db: Database, conversation: str, answered: int, replies: list[dict[str, Any]]
) -> list[ChatMessageOut]:
    """The bot's replies and "this user message is answered", in one transaction: a crash leaves
    either both or neither, so an unanswered message is always still marked pending."""
    with db.session() as session:
        stored = [ChatMessage(conversation_id=conversation, **row) for row in replies]
        session.add_all(stored)
        message = session.get(ChatMessage, answered)
        if message is not None and (message.meta or {}).get("pending"):
            message.meta = {k: v for k, v in (message.meta or {}).items() if k not in ("pending", "undelivered")}
            # counted once: the message stops being pending in this same transaction
            record_turn(session, conversation_id=conversation, text=message.text, facts=classify(replies))
        session.flush()
        return [message_json(m) for m in stored]


def mark_with_expert(db: Database, message_id: int) -> None:
    """A user message went to the expert who has the conversation: answered, and counted as such."""
    with db.session() as session:
        message = session.get(ChatMessage, message_id)
        if message is not None and (message.meta or {}).get("pending"):
            message.meta = {k: v for k, v in (message.meta or {}).items() if k not in ("pending", "undelivered")}
            facts = classify([], with_expert=True)
            record_turn(session, conversation_id=message.conversation_id, text=message.text, facts=facts)


def set_pending(db: Database, message_id: int, pending: bool) -> None:
    """Mark a user message as waiting for the bot (Rasa was down) or as answered."""
    with db.session() as session:
        message = session.get(ChatMessage, message_id)
        if message is not None:
            meta = dict(message.meta or {})
            if pending:
                meta["pending"] = meta["undelivered"] = True
            else:
                meta.pop("pending", None)
                meta.pop("undelivered", None)
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
    # a message is pending from the moment it is stored: younger ones may still be on their way to Rasa
    in_flight = settings.gateway.rasa_timeout_seconds + 5
    pending = await asyncio.to_thread(pending_messages, db)
    # with its action server down Rasa would run the turn anyway (and record the message again): wait
    actions_up = not pending or await actions_alive(app)
    for message in pending:
        conversation = message.conversation_id
        if conversation in blocked:
            continue  # keep each conversation's order
        created = message.created_at if message.created_at.tzinfo else message.created_at.replace(tzinfo=dt.UTC)
        if not (message.meta or {}).get("undelivered") and (now - created).total_seconds() < in_flight:
            blocked.add(conversation)
            continue
        waited = (now - created).total_seconds() / 60
        try:
            if not actions_up:
                raise ApiError(502)
            meta = message.meta or {}
            replies = await relay_to_rasa(app, conversation, str(meta.get("sent") or message.text), meta.get("client"))
            if not replies and not await actions_alive(app):
                raise ApiError(502)  # Rasa answered without its action server: not delivered yet
        except ApiError:
            blocked.add(conversation)
            if waited >= settings.gateway.pending_handoff_minutes and keys.DESK in app:
                await asyncio.to_thread(_hand_over_pending, app, message)
                counts["handed_over"] += 1
            continue
        if not replies:
            replies = [await asyncio.to_thread(silent_turn_reply, db, conversation)]
        await asyncio.to_thread(store_replies, db, conversation, message.id, replies)
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
    store_replies(db, message.conversation_id, message.id, [{"role": "bot", "text": text, "buttons": [], "meta": meta}])


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
@operation("开始或恢复一次网站咨询", StartResponse, body=StartRequest)
async def start(request: web.Request) -> web.Response:
    """Resume the conversation the browser remembers, or begin a new one."""
    data = await read_body(request, StartRequest)
    db: Database = request.app[keys.DB]
    existing = data.session
    if existing and SESSION_RE.match(existing):
        return reply(StartResponse(session=existing, messages=await asyncio.to_thread(history, db, existing)))
    return reply(StartResponse(session="w-" + secrets.token_urlsafe(18), messages=[]))


@routes.get("/api/chat/history")
@operation("某条消息之后的新消息（咨询窗口轮询专家回复）", HistoryResponse, query=HistoryQuery)
async def chat_history(request: web.Request) -> web.Response:
    """Messages after ``after`` (the widget polls this for replies that arrive later)."""
    q = read_query(request, HistoryQuery)
    return reply(HistoryResponse(messages=await asyncio.to_thread(history, request.app[keys.DB], q.session, q.after)))


@routes.post("/api/chat/send")
@operation(
    "发送一条消息并得到回复（按客户端限流）",
    SendResponse,
    body=SendRequest,
    errors=(413, 429, 502, 503),
    description="消息先保存再转给对话服务；对话服务暂时不可用时返回 502 与中文说明，消息已保存，恢复后自动回复。",
)
async def send(request: web.Request) -> web.Response:
    """A user message: stored, relayed to the bot (unless an expert has the conversation)."""
    settings: Settings = request.app[keys.SETTINGS]
    if not await request.app[keys.CHAT_LIMITER].allow(client_key(request)):
        request.app[keys.METRICS].errors.labels("rate_limited").inc()
        raise ApiError(429, "您发送得太快了，请稍等几秒再发")
    data = await read_body(request, SendRequest)
    conversation = data.session
    text = data.text.strip()
    if not text:
        raise ApiError(400, "消息不能为空")
    if len(text) > settings.gateway.max_message_chars:
        raise ApiError(413, f"消息太长了（最多 {settings.gateway.max_message_chars} 个字），请分几次发送")
    db: Database = request.app[keys.DB]
    if text.startswith("/") and text not in await asyncio.to_thread(offered_payloads, db, conversation):
        # Rasa reads "/intent{...}" as a forced intent with entities: only buttons the bot offered
        # may send one; anything else a user types is passed on as plain text
        text = "／" + text[1:]
    shown = data.display
    display = shown if shown is not None and text.startswith("/") and len(shown) <= 100 else text
    client_id = data.client_id if data.client_id and CLIENT_ID_RE.match(data.client_id) else None
    client = client_ref(request)
    earlier = await asyncio.to_thread(find_by_client_id, db, conversation, client_id) if client_id else None
    if earlier is not None:
        # a retry of a message we already have: never stored twice, relayed again only if still pending
        if not (earlier.meta or {}).get("pending"):
            return reply(SendResponse(messages=[], duplicate=True))
        stored_user = [message_json(earlier)]
    else:
        # pending until the replies are stored: if this process dies in between, the message is
        # relayed again (on the widget's retry, or by the redelivery loop after a restart)
        meta = {"sent": text, "pending": True, "client": client, **({"client_id": client_id} if client_id else {})}
        stored_user = await asyncio.to_thread(
            store_messages, db, conversation, [{"role": "user", "text": display, "meta": meta}]
        )
    user_id = stored_user[0].id
    desk = request.app.get(keys.DESK)
    if desk is not None and await asyncio.to_thread(desk.route_user_message, conversation, display):
        await asyncio.to_thread(mark_with_expert, db, user_id)
        return reply(SendResponse(messages=stored_user, waiting_for_expert=True))
    board = request.app[keys.METRICS]
    started = time.perf_counter()
    board.in_flight.inc()
    try:
        replies = await relay_to_rasa(request.app, conversation, text, client)
    except ApiError:
        board.errors.labels("dialogue_down").inc()
        await asyncio.to_thread(set_pending, db, user_id, True)  # known undelivered: relayed once the bot is back
        raise ApiError(502, PENDING_TEXT) from None
    finally:
        board.in_flight.dec()
    if not replies:
        if not await actions_alive(request.app):
            # Rasa carries on without its action server and says nothing: keep the message for later
            board.errors.labels("actions_down").inc()
            await asyncio.to_thread(set_pending, db, user_id, True)
            raise ApiError(502, PENDING_TEXT)
        replies = [await asyncio.to_thread(silent_turn_reply, db, conversation)]
    stored = await asyncio.to_thread(store_replies, db, conversation, user_id, replies)
    board.observe_turn(time.perf_counter() - started, replies)
    return reply(SendResponse(messages=stored_user + stored))


@routes.post("/api/chat/feedback")
@operation(
    "对一条回答点赞或点踩，点踩时可选原因（不保存个人信息）",
    Ok,
    body=FeedbackRequest,
    errors=(404, 429),
    description="只能评价本会话中机器人给出的回答；回答所用的索引版本和所列依据由服务器按保存的回答记录。",
)
async def feedback(request: web.Request) -> web.Response:
    """👍 / 👎 on one answer of this conversation, tied server-side to its index version and sources."""
    if not await request.app[keys.CHAT_LIMITER].allow("fb:" + client_key(request)):
        raise ApiError(429)
    data = await read_body(request, FeedbackRequest)
    found = await asyncio.to_thread(
        rate_answer,
        request.app[keys.DB],
        data.session,
        data.answer_id,
        data.rating,
        data.reason,
        data.comment,
        limit=1000,
    )
    if not found:
        raise ApiError(404, "没有找到这条回答，请刷新页面后再评价")
    return reply(Ok())
