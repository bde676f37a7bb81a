"""Admin console API: index versions, live refresh, rollback, diffs, knowledge files, accounts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from core.errors import KnowledgeError
from core.settings import Settings
from desk import accounts
from desk.accounts import AccountExists, create_user, list_users
from desk.knowledge import KnowledgeEditor
from gateway import keys
from gateway.api import SSE, operation, read_body, read_path, read_query, reply
from gateway.contracts import (
    ActiveRequest,
    DiffQuery,
    DiffResponse,
    IndexStatusResponse,
    JobPath,
    JobResponse,
    KnowledgeFileRequest,
    KnowledgeFileResponse,
    KnowledgeFilesResponse,
    NewUserRequest,
    Ok,
    PasswordResetRequest,
    PathQuery,
    RefreshRequest,
    RollbackRequest,
    RollbackResponse,
    SavedResponse,
    UsernamePath,
    UsersResponse,
    ValidateResponse,
)
from gateway.errors import ApiError
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
@operation("索引版本、切换记录与正在进行的刷新", IndexStatusResponse, tag="admin")
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
    return reply(
        IndexStatusResponse.model_validate(
            {
                "current": store.current(),
                "versions": versions,
                "history": store.history()[-30:][::-1],
                "running_job": running.snapshot() if running else None,
            }
        )
    )


@routes.post("/api/admin/index/refresh")
@operation(
    "开始刷新索引（增量；旧版本继续服务，完成后切换）",
    JobResponse,
    body=RefreshRequest,
    status=202,
    errors=(409,),
    tag="admin",
)
@require("admin")
async def start_refresh(request: web.Request) -> web.Response:
    data = await read_body(request, RefreshRequest)
    jobs: JobManager = request.app[keys.JOBS]
    job = jobs.start_refresh(_actor(request), full=data.full)
    await asyncio.to_thread(
        audit, request.app[keys.DB], _actor(request), "index.refresh.start", "index", job.id, full=data.full
    )
    return reply(JobResponse.model_validate({"job": job.snapshot()}), status=202)


def _job(request: web.Request) -> Any:
    jobs: JobManager = request.app[keys.JOBS]
    job = jobs.jobs.get(read_path(request, JobPath).job_id)
    if job is None:
        raise ApiError(404, "找不到这个任务")
    return job


@routes.get("/api/admin/jobs/{job_id}")
@operation("索引刷新任务的状态", JobResponse, path=JobPath, tag="admin")
@require("admin")
async def job_status(request: web.Request) -> web.Response:
    return reply(JobResponse.model_validate({"job": _job(request).snapshot()}))


@routes.get("/api/admin/jobs/{job_id}/events")
@operation(
    "刷新进度（服务器推送事件，每条 data 是一个任务快照，任务结束后关闭）", None, path=JobPath, media=SSE, tag="admin"
)
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
@operation(
    "回滚到上一个或指定的版本（立即生效）", RollbackResponse, body=RollbackRequest, errors=(404, 409), tag="admin"
)
@require("admin")
async def rollback(request: web.Request) -> web.Response:
    data = await read_body(request, RollbackRequest)
    jobs: JobManager = request.app[keys.JOBS]
    if jobs.running is not None:
        raise ApiError(409, "索引正在刷新，完成后再回滚")
    store = _store(request)
    with store.lock():
        restored = store.rollback(data.version or None, user=_actor(request))
    await asyncio.to_thread(audit, request.app[keys.DB], _actor(request), "index.rollback", "index", restored)
    return reply(RollbackResponse(current=restored))


@routes.get("/api/admin/index/diff")
@operation("比较两个版本：新增、修改、删除的条目与条文", DiffResponse, query=DiffQuery, errors=(404,), tag="admin")
@require("admin")
async def diff(request: web.Request) -> web.Response:
    q = read_query(request, DiffQuery)
    return reply(DiffResponse.model_validate(diff_versions(_store(request), q.from_, q.to)))


@routes.get("/api/admin/knowledge")
@operation("知识库文件列表", KnowledgeFilesResponse, tag="admin")
@require("admin")
async def knowledge_files(request: web.Request) -> web.Response:
    files = await asyncio.to_thread(_editor(request).files)
    return reply(KnowledgeFilesResponse.model_validate({"files": [f.__dict__ for f in files]}))


@routes.get("/api/admin/knowledge/file")
@operation("读取一个知识库文件", KnowledgeFileResponse, query=PathQuery, errors=(404,), tag="admin")
@require("admin")
async def read_file(request: web.Request) -> web.Response:
    q = read_query(request, PathQuery)
    content = await asyncio.to_thread(_editor(request).read, q.path)
    if content is None:
        raise ApiError(404, "文件不存在")
    return reply(KnowledgeFileResponse(path=q.path, content=content))


@routes.post("/api/admin/knowledge/validate")
@operation("只校验不保存：逐个列出问题（文件与行号）", ValidateResponse, body=KnowledgeFileRequest, tag="admin")
@require("admin")
async def validate(request: web.Request) -> web.Response:
    """Check a change without saving it: every problem with file and line."""
    data = await read_body(request, KnowledgeFileRequest)
    try:
        # the whole corpus is loaded to check one change (about 0.5 s): not on the event loop
        await asyncio.to_thread(_editor(request).validate, data.path, data.content)
    except KnowledgeError as exc:
        return reply(ValidateResponse.model_validate({"ok": False, "problems": [p.as_dict() for p in exc.problems]}))
    return reply(ValidateResponse(ok=True, problems=[]))


@routes.put("/api/admin/knowledge/file")
@operation(
    "保存文件（先整体校验，有错误时返回 422 与逐行错误，不写入；旧内容保留备份）",
    SavedResponse,
    body=KnowledgeFileRequest,
    errors=(422,),
    tag="admin",
)
@require("admin")
async def save_file(request: web.Request) -> web.Response:
    """Save (create or replace) a knowledge file; refused with problems if the corpus would be invalid."""
    data = await read_body(request, KnowledgeFileRequest)
    await asyncio.to_thread(_editor(request).save, data.path, data.content, _actor(request))
    return reply(SavedResponse(path=data.path, hint="已保存。点击“刷新索引”让新内容生效。"))


@routes.delete("/api/admin/knowledge/file")
@operation("删除文件（保留备份）", Ok, query=PathQuery, errors=(404,), tag="admin")
@require("admin")
async def delete_file(request: web.Request) -> web.Response:
    q = read_query(request, PathQuery)
    if not await asyncio.to_thread(_editor(request).delete, q.path, _actor(request)):
        raise ApiError(404, "文件不存在")
    return reply(Ok())


@routes.get("/api/admin/users")
@operation("账号列表", UsersResponse, tag="admin")
@require("admin")
async def users(request: web.Request) -> web.Response:
    return reply(UsersResponse.model_validate({"users": await asyncio.to_thread(list_users, request.app[keys.DB])}))


@routes.post("/api/admin/users")
@operation("添加账号", Ok, body=NewUserRequest, status=201, errors=(409,), tag="admin")
@require("admin")
async def add_user(request: web.Request) -> web.Response:
    data = await read_body(request, NewUserRequest)
    try:
        await asyncio.to_thread(
            create_user,
            request.app[keys.DB],
            data.username,
            data.password,
            data.role,
            display_name=data.display_name,
            expert_id=data.expert_id or None,
            actor=_actor(request),
        )
    except AccountExists as exc:
        raise ApiError(409, str(exc)) from None
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return reply(Ok(), status=201)


@routes.post("/api/admin/users/{username}/active")
@operation("启用或停用账号（不能停用自己）", Ok, body=ActiveRequest, path=UsernamePath, tag="admin")
@require("admin")
async def set_active(request: web.Request) -> web.Response:
    data = await read_body(request, ActiveRequest)
    username = read_path(request, UsernamePath).username
    if username == _actor(request):
        raise ApiError(400, "不能停用自己的账号")
    if not await asyncio.to_thread(accounts.set_active, request.app[keys.DB], username, data.active, _actor(request)):
        raise ApiError(404, "用户不存在")
    return reply(Ok())


@routes.post("/api/admin/users/{username}/password")
@operation(
    "重设某个账号的密码（该账号的所有会话随即失效）", Ok, body=PasswordResetRequest, path=UsernamePath, tag="admin"
)
@require("admin")
async def reset_password(request: web.Request) -> web.Response:
    """An admin sets a new password for an account (all its sessions end)."""
    data = await read_body(request, PasswordResetRequest)
    try:
        done = await asyncio.to_thread(
            accounts.set_password,
            request.app[keys.DB],
            read_path(request, UsernamePath).username,
            data.password,
            _actor(request),
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    if not done:
        raise ApiError(404, "用户不存在")
    return reply(Ok())
