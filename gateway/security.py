"""Accounts, sessions, roles, CSRF and security headers.

* Passwords are hashed with argon2; the first admin is created on the
  command line (``weiyuan user add``), never with a default password.
* A login sets an HttpOnly, SameSite=Lax cookie holding a random token; the
  server stores only its sha256, so logout and deactivation take effect at once.
* Every state-changing request of a signed-in user must carry the session's
  CSRF token (hidden form field or ``X-CSRF-Token`` header).
* Role checks: agent pages need agent/expert/admin, the desk needs
  expert/admin, the console needs admin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from gateway import keys
from gateway.errors import ApiError, wants_json
from store.db import Database
from store.models import AuditEntry, User, WebSession, utcnow

COOKIE = "weiyuan_session"
ROLES = ("agent", "expert", "admin")
ROLE_LABELS = {"agent": "热线坐席", "expert": "专家", "admin": "管理员"}
#: Which roles may enter which area.
AREAS = {
    "agent": {"agent", "expert", "admin"},
    "desk": {"expert", "admin"},
    "admin": {"admin"},
}

_hasher = PasswordHasher()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    expert_id: str | None
    csrf_token: str


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValueError("密码至少 10 个字符")
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    db: Database,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    expert_id: str | None = None,
    actor: str = "cli",
) -> User:
    if role not in ROLES:
        raise ValueError(f"角色必须是 {', '.join(ROLES)} 之一")
    if not username or len(username) > 64 or not username.replace("_", "").replace("-", "").isalnum():
        raise ValueError("用户名只能包含字母、数字、- 和 _")
    with db.session() as session:
        if session.scalar(select(User).where(User.username == username)):
            raise ValueError(f"用户 {username} 已存在")
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            role=role,
            expert_id=expert_id,
        )
        session.add(user)
        session.add(
            AuditEntry(actor=actor, action="user.create", target_type="user", target_id=username, detail={"role": role})
        )
    return user


def login(db: Database, username: str, password: str, hours: int) -> tuple[str, Principal] | None:
    """Check the password; on success store a new session and return its cookie token."""
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if user is None or not verify_password(user.password_hash, password):
            # same work whether or not the user exists
            if user is None:
                verify_password(_DUMMY_HASH, password)
            return None
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        session.add(
            WebSession(
                id=_digest(token),
                user_id=user.id,
                csrf_token=csrf,
                expires_at=utcnow() + dt.timedelta(hours=hours),
            )
        )
        user.last_login_at = utcnow()
        session.add(AuditEntry(actor=user.username, action="user.login", target_type="user", target_id=user.username))
        principal = Principal(user.id, user.username, user.display_name, user.role, user.expert_id, csrf)
    return token, principal


_DUMMY_HASH = _hasher.hash("not-a-real-password-0123456789")


def principal_for(db: Database, token: str | None) -> Principal | None:
    if not token:
        return None
    with db.session() as session:
        row = session.execute(
            select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.id == _digest(token))
        ).first()
        if row is None:
            return None
        web_session, user = row
        expires = web_session.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        if expires < utcnow() or not user.active:
            session.delete(web_session)
            return None
        return Principal(user.id, user.username, user.display_name, user.role, user.expert_id, web_session.csrf_token)


def logout(db: Database, token: str | None) -> None:
    if token:
        with db.session() as session:
            session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def current(request: web.Request) -> Principal | None:
    return request.get(keys.PRINCIPAL)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the signed-in user (if any) to the request."""
    db: Database = request.app[keys.DB]
    request[keys.PRINCIPAL] = principal_for(db, request.cookies.get(COOKIE))
    return await handler(request)


async def check_csrf(request: web.Request, expected: str) -> None:
    """State-changing requests must echo the session's token (header or form field)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.post()).get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise ApiError(403, "安全校验失败（CSRF），请刷新页面后重试")


def require(area: str) -> Callable[[Handler], Handler]:
    """Decorator: only signed-in users whose role may enter ``area``."""
    allowed = AREAS[area]

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            principal = current(request)
            if principal is None:
                if wants_json(request):
                    raise ApiError(401, "请先登录")
                raise web.HTTPFound(f"/login?next={request.path_qs}")
            if principal.role not in allowed:
                if wants_json(request):
                    raise ApiError(403, "当前账号没有权限访问这里")
                raise web.HTTPForbidden(text="当前账号没有权限访问这个页面。")
            await check_csrf(request, principal.csrf_token)
            return await handler(request)

        guarded.__name__ = handler.__name__
        guarded.__doc__ = handler.__doc__
        guarded.area = area  # type: ignore[attr-defined]
        return guarded

    return wrap


def set_session_cookie(response: web.StreamResponse, token: str, hours: int, secure: bool) -> None:
    response.set_cookie(COOKIE, token, max_age=hours * 3600, httponly=True, samesite="Lax", secure=secure, path="/")


#: Pages other than the demo may not be framed; the widget script is loaded by other sites.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def audit(db: Database, actor: str, action: str, target_type: str, target_id: str | None, **detail: Any) -> None:
    with db.session() as session:
        session.add(AuditEntry(actor=actor, action=action, target_type=target_type, target_id=target_id, detail=detail))
