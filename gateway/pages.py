"""HTML pages: landing, demo site, login/logout, agent lookup, admin console, public citation pages."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp_jinja2
from aiohttp import web

from core.settings import Settings
from core.vocabulary import IP_TYPE_LABELS, KIND_LABELS, REGIONS
from desk.accounts import ROLE_LABELS, ROLES, login, logout, set_password
from gateway import keys
from gateway.agent import chunk_json, lookup_chunk
from gateway.api import operation, read_body, reply
from gateway.clients import client_address, over_tls
from gateway.contracts import HealthResponse, Ok, PasswordChangeRequest
from gateway.errors import ApiError
from gateway.security import current, require, set_session_cookie
from index.lookup import Lookup

routes = web.RouteTableDef()
STATIC = Path(__file__).resolve().parent / "static"
LOGIN_CSRF = "weiyuan_login_csrf"


def context(request: web.Request, **extra: Any) -> dict[str, Any]:
    principal = current(request)
    return {
        "user": principal,
        "role_label": ROLE_LABELS.get(principal.role, "") if principal else "",
        "csrf_token": principal.csrf_token if principal else "",
        **extra,
    }


def safe_next(value: str | None) -> str:
    """Only local paths: never redirect a user off-site after login."""
    if not value or not value.startswith("/") or value.startswith("//") or urlparse(value).netloc:
        return "/"
    return value


@routes.get("/")
@aiohttp_jinja2.template("index.html")
async def home(request: web.Request) -> dict[str, Any]:
    lookup: Lookup = request.app[keys.LOOKUP]
    info = None
    try:
        version, manifest = lookup.version, lookup.manifest()
        by_kind = manifest.get("counts", {}).get("by_kind", {})
        info = {"version": version, **{k: by_kind.get(k, 0) for k in ("policy", "entry", "case")}}
    except Exception:
        info = None
    return context(request, index=info)


@routes.get("/healthz")
@operation("网关存活且索引已加载（进程监管用）", HealthResponse, errors=(503,), tag="service")
async def healthz(request: web.Request) -> web.Response:
    """Healthy when the index is loaded (used by the process supervisor and load balancers)."""
    lookup: Lookup = request.app[keys.LOOKUP]
    try:
        version = lookup.version
    except Exception:
        return reply(HealthResponse(ok=False, message="索引未就绪"), status=503)
    return reply(HealthResponse(ok=True, index_version=version))


@routes.get("/demo")
async def demo(request: web.Request) -> web.Response:
    response = aiohttp_jinja2.render_template("demo.html", request, {"base_url": f"{request.scheme}://{request.host}"})
    return response


_DEFAULTS_SLOT = re.compile(r"/\*WEIYUAN_DEFAULTS\*/\{[^\n]*\};")


def privacy_notice(settings: Settings) -> str:
    """What the widget tells every user about their data, from the retention setting (true by construction)."""
    days = round(settings.privacy.retention_days)
    return f"对话内容用于解答和转交人工处理，保存 {days} 天后删除；请不要发送身份证号、银行卡号等敏感信息。"


def widget_script(settings: Settings) -> str:
    """widget.js with the configured title, colour and welcome as its defaults (``data-*`` still win)."""
    defaults = {
        "title": settings.gateway.widget_title,
        "color": settings.gateway.widget_color,
        "welcome": settings.gateway.widget_welcome,
        "privacy": privacy_notice(settings),
    }
    # JSON is a JavaScript literal; "<" is escaped so the text can never close a <script> element
    literal = json.dumps(defaults, ensure_ascii=False).replace("<", "\\u003c")
    source = (STATIC / "widget.js").read_text("utf-8")
    return _DEFAULTS_SLOT.sub(lambda _match: literal + ";", source, count=1)


@routes.get("/widget.js")
async def widget(request: web.Request) -> web.Response:
    settings: Settings = request.app[keys.SETTINGS]
    response = web.Response(text=widget_script(settings), content_type="application/javascript")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = aiohttp_jinja2.render_template(
        "login.html", request, context(request, login_csrf=token, next=safe_next(request.query.get("next")))
    )
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="Strict", max_age=1800, path="/login")
    return response


@routes.post("/login")
async def login_submit(request: web.Request) -> web.StreamResponse:
    settings: Settings = request.app[keys.SETTINGS]
    form = await request.post()
    username = str(form.get("username", "")).strip()
    target = safe_next(str(form.get("next", "/")))
    sent, expected = str(form.get("csrf_token", "")), request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(sent, expected):
        raise ApiError(403, "安全校验失败，请刷新登录页后重试")
    # failures are limited per client, not per username: rotating usernames buys no more password
    # checks; successful sign-ins use nothing up (a centre's staff share one address behind NAT)
    limiter, client = request.app[keys.LOGIN_LIMITER], client_address(request)
    if not await limiter.peek(client):
        return _login_error(request, username[:64], target, "尝试次数太多，请一分钟后再试")
    password = str(form.get("password", ""))
    if not 1 <= len(username) <= 64 or len(password) > 256:
        await limiter.allow(client)
        return _login_error(request, username[:64], target, "用户名或密码不正确")
    # argon2 takes about 0.2 s of CPU: off the event loop, so other users are not kept waiting
    result = await asyncio.to_thread(login, request.app[keys.DB], username, password, settings.gateway.session_hours)
    if result is None:
        await limiter.allow(client)
        return _login_error(request, username, target, "用户名或密码不正确")
    token, principal = result
    if target == "/":
        target = {"admin": "/admin", "expert": "/desk", "agent": "/agent"}[principal.role]
    response = web.HTTPFound(target)
    secure = settings.gateway.secure_cookies or over_tls(request)  # Secure whenever the browser used HTTPS
    set_session_cookie(response, token, settings.gateway.session_hours, secure)
    response.del_cookie(LOGIN_CSRF, path="/login")
    raise response


def _login_error(request: web.Request, username: str, target: str, message: str) -> web.Response:
    token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)
    response = aiohttp_jinja2.render_template(
        "login.html",
        request,
        context(request, login_csrf=token, next=target, error=message, username=username),
        status=401,
    )
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="Strict", max_age=1800, path="/login")
    return response


@routes.post("/api/account/password")
@operation(
    "修改自己的密码（须提供当前密码；成功后所有会话失效，需重新登录）",
    Ok,
    body=PasswordChangeRequest,
    errors=(429,),
    tag="account",
    signed_in=True,
)
async def change_own_password(request: web.Request) -> web.Response:
    """Any signed-in staff member changes their own password (the current one is required)."""
    principal = current(request)
    if principal is None:
        raise ApiError(401)
    sent = request.headers.get("X-CSRF-Token", "")
    if not secrets.compare_digest(sent, principal.csrf_token):
        raise ApiError(403, "安全校验失败（CSRF），请刷新页面后重试")
    data = await read_body(request, PasswordChangeRequest)
    limiter, client = request.app[keys.LOGIN_LIMITER], client_address(request)
    if not await limiter.peek(client):
        raise ApiError(429, "尝试次数太多，请一分钟后再试")
    try:
        done = await asyncio.to_thread(
            set_password,
            request.app[keys.DB],
            principal.username,
            data.new_password,
            principal.username,
            data.current_password,
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    if not done:
        await limiter.allow(client)
        raise ApiError(403, "当前密码不正确")
    response = reply(Ok(hint="密码已修改，请用新密码重新登录。"))
    response.del_cookie("weiyuan_session", path="/")
    return response


@routes.post("/logout")
async def logout_submit(request: web.Request) -> web.StreamResponse:
    principal = current(request)
    if principal is not None:
        form = await request.post()
        if secrets.compare_digest(str(form.get("csrf_token", "")), principal.csrf_token):
            logout(request.app[keys.DB], request.cookies.get("weiyuan_session"))
    response = web.HTTPFound("/login")
    response.del_cookie("weiyuan_session", path="/")
    raise response


@routes.get("/agent")
@require("agent")
@aiohttp_jinja2.template("agent.html")
async def agent_page(request: web.Request) -> dict[str, Any]:
    return context(
        request,
        ip_types=[(k, v) for k, v in IP_TYPE_LABELS.items()],
        kinds=[(k, v) for k, v in KIND_LABELS.items()],
        regions=REGIONS,
    )


@routes.get("/admin")
@require("admin")
@aiohttp_jinja2.template("admin.html")
async def admin_page(request: web.Request) -> dict[str, Any]:
    return context(request, roles=[(r, ROLE_LABELS[r]) for r in ROLES])


@routes.get("/kb")
async def kb_page(request: web.Request) -> web.Response:
    """A cited article or entry, for the links under the widget's answers (public knowledge)."""
    lookup: Lookup = request.app[keys.LOOKUP]
    try:
        chunk = await lookup_chunk(
            lookup, request.query.get("id"), request.query.get("law"), request.query.get("article")
        )
    except ApiError:
        raise web.HTTPNotFound(text="找不到这条内容（可能已在新版本中删除）。") from None
    return aiohttp_jinja2.render_template(
        "kb.html", request, context(request, chunk=chunk_json(chunk).model_dump(), version=lookup.version)
    )
