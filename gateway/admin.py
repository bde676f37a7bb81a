"""Admin console API: index versions, live refresh, rollback, diffs, knowledge files, accounts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from core.errors import KnowledgeError
from core.settings import Settings
from desk import accounts
from desk.accounts import ROLES, create_user, list_users
from desk.knowledge import KnowledgeEditor
from gateway import keys
from gateway.errors import ApiError, json_object
from gateway.jobs import JobManager
from gateway.security import current, require
from index.diff import diff_versions
from index.store import VersionStore
from store.audit import audit

routes = web.RouteTableDef()


def _store(request: web.Request) -> VersionStore:
    settings: Settings = request.app[keys.SETTINGS]
    return VersionStore(settings.index_dir)


def _editor(request: web.Request) -> KnowledgeEditor:
    return KnowledgeEditor(request.app[keys.SETTINGS], request.app[keys.DB])


def _actor(request: web.Request) -> str:
    principal = current(request)
    return principal.username if principal else "?"


@routes.get("/api/admin/index")
@require("admin")
async def index_status(request: web.Request) -> web.Response:
    store = _store(request)
    jobs: JobManager = request.app[keys.JOBS]
    versions = [
        {
            "version": v.version,
            "created_at": v.created_at,
            "mode": v.mode,
            "chunks": v.chunks,
            "serving": v.serving,
            "user": v.manifest.get("user"),
            "counts": v.manifest.get("counts", {}),
            "changes": v.manifest.get("changes", {}),
            "model": v.manifest.get("model", {}),
            "ann": v.manifest.get("ann", {}),
            "seconds": v.manifest.get("seconds", {}),
        }
        for v in store.versions()
    ]
    running = jobs.running
    return web.json_response(
        {
            "current": store.current(),
            "versions": versions,
            "history": store.history()[-30:][::-1],
            "running_job": running.snapshot() if running else None,
        }
    )


@routes.post("/api/admin/index/refresh")
@require("admin")
async def start_refresh(request: web.Request) -> web.Response:
    data = await json_object(request)
    jobs: JobManager = request.app[keys.JOBS]
    job = jobs.start_refresh(_actor(request), full=bool(data.get("full")))
    audit(request.app[keys.DB], _actor(request), "index.refresh.start", "index", job.id, full=bool(data.get("full")))
    return web.json_response({"job": job.snapshot()}, status=202)


def _job(request: web.Request) -> Any:
    jobs: JobManager = request.app[keys.JOBS]
    job = jobs.jobs.get(request.match_info["job_id"])
    if job is None:
        raise ApiError(404, "找不到这个任务")
    return job


@routes.get("/api/admin/jobs/{job_id}")
@require("admin")
async def job_status(request: web.Request) -> web.Response:
    return web.json_response({"job": _job(request).snapshot()})


@routes.get("/api/admin/jobs/{job_id}/events")
@require("admin")
async def job_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one snapshot per change until the job ends."""
    job = _job(request)
    jobs: JobManager = request.app[keys.JOBS]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    while True:
        seen = job.version
        snapshot = job.snapshot()
        await response.write(f"data: {json.dumps(snapshot, ensure_ascii=False)}\n\n".encode())
        # Decide from what was sent: the build thread may finish while the write
        # awaits, and the final "done" snapshot must still reach the browser.
        if snapshot["status"] != "running":
            break
        await jobs.wait_change(job, seen)
    return response


@routes.post("/api/admin/index/rollback")
@require("admin")
async def rollback(request: web.Request) -> web.Response:
    data = await json_object(request)
    jobs: JobManager = request.app[keys.JOBS]
    if jobs.running is not None:
        raise ApiError(409, "索引正在刷新，完成后再回滚")
    version = data.get("version") or None
    store = _store(request)
    with store.lock():
        restored = store.rollback(version, user=_actor(request))
    audit(request.app[keys.DB], _actor(request), "index.rollback", "index", restored)
    return web.json_response({"current": restored})


@routes.get("/api/admin/index/diff")
@require("admin")
async def diff(request: web.Request) -> web.Response:
    old, new = request.query.get("from"), request.query.get("to")
    if not old or not new:
        raise ApiError(400, "请指定要比较的两个版本（from、to）")
    return web.json_response(diff_versions(_store(request), old, new))


@routes.get("/api/admin/knowledge")
@require("admin")
async def knowledge_files(request: web.Request) -> web.Response:
    return web.json_response({"files": [f.__dict__ for f in _editor(request).files()]})


@routes.get("/api/admin/knowledge/file")
@require("admin")
async def read_file(request: web.Request) -> web.Response:
    content = _editor(request).read(request.query.get("path", ""))
    if content is None:
        raise ApiError(404, "文件不存在")
    return web.json_response({"path": request.query["path"], "content": content})


@routes.post("/api/admin/knowledge/validate")
@require("admin")
async def validate(request: web.Request) -> web.Response:
    """Check a change without saving it: every problem with file and line."""
    data = await json_object(request)
    try:
        # the whole corpus is loaded to check one change (about 0.5 s): not on the event loop
        await asyncio.to_thread(_editor(request).validate, str(data.get("path", "")), _content(data))
    except KnowledgeError as exc:
        return web.json_response({"ok": False, "problems": [p.as_dict() for p in exc.problems]})
    return web.json_response({"ok": True, "problems": []})


def _content(data: dict[str, Any]) -> str:
    content = data.get("content")
    if not isinstance(content, str):
        raise ApiError(400, "缺少文件内容")
    return content


@routes.put("/api/admin/knowledge/file")
@require("admin")
async def save_file(request: web.Request) -> web.Response:
    """Save (create or replace) a knowledge file; refused with problems if the corpus would be invalid."""
    data = await json_object(request)
    rel = str(data.get("path", ""))
    await asyncio.to_thread(_editor(request).save, rel, _content(data), _actor(request))
    return web.json_response({"ok": True, "path": rel, "hint": "已保存。点击“刷新索引”让新内容生效。"})


@routes.delete("/api/admin/knowledge/file")
@require("admin")
async def delete_file(request: web.Request) -> web.Response:
    if not await asyncio.to_thread(_editor(request).delete, request.query.get("path", ""), _actor(request)):
        raise ApiError(404, "文件不存在")
    return web.json_response({"ok": True})


@routes.get("/api/admin/users")
@require("admin")
async def users(request: web.Request) -> web.Response:
    return web.json_response({"users": list_users(request.app[keys.DB])})


@routes.post("/api/admin/users")
@require("admin")
async def add_user(request: web.Request) -> web.Response:
    data = await json_object(request)
    role = str(data.get("role", ""))
    if role not in ROLES:
        raise ApiError(400, f"角色必须是 {', '.join(ROLES)} 之一")
    try:
        create_user(
            request.app[keys.DB],
            str(data.get("username", "")),
            str(data.get("password", "")),
            role,
            display_name=str(data.get("display_name", "")),
            expert_id=str(data["expert_id"]) if data.get("expert_id") else None,
            actor=_actor(request),
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return web.json_response({"ok": True}, status=201)


@routes.post("/api/admin/users/{username}/active")
@require("admin")
async def set_active(request: web.Request) -> web.Response:
    data = await json_object(request)
    username = request.match_info["username"]
    if username == _actor(request):
        raise ApiError(400, "不能停用自己的账号")
    if not accounts.set_active(request.app[keys.DB], username, bool(data.get("active")), _actor(request)):
        raise ApiError(404, "用户不存在")
    return web.json_response({"ok": True})


@routes.post("/api/admin/users/{username}/password")
@require("admin")
async def reset_password(request: web.Request) -> web.Response:
    """An admin sets a new password for an account (all its sessions end)."""
    data = await json_object(request)
    try:
        done = await asyncio.to_thread(
            accounts.set_password,
            request.app[keys.DB],
            request.match_info["username"],
            str(data.get("password", "")),
            _actor(request),
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    if not done:
        raise ApiError(404, "用户不存在")
    return web.json_response({"ok": True})
