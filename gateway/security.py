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

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from desk.accounts import Principal, principal_for
from gateway import keys
from gateway.errors import ApiError, wants_json
from store.db import Database

COOKIE = "weiyuan_session"
#: Which roles may enter which area.
AREAS = {
    "agent": {"agent", "expert", "admin"},
    "desk": {"expert", "admin"},
    "admin": {"admin"},
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def current(request: web.Request) -> Principal | None:
    return request.get(keys.PRINCIPAL)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the signed-in user (if any) to the request."""
    db: Database = request.app[keys.DB]
    gateway = request.app[keys.SETTINGS].gateway
    request[keys.PRINCIPAL] = principal_for(
        db, request.cookies.get(COOKIE), idle_minutes=gateway.idle_minutes, hours=gateway.session_hours
    )
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
