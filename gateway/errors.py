"""JSON errors with a Chinese message for API routes; friendly pages for HTML routes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLTimeoutError

from core.errors import Conflict, KnowledgeError, NotFound, PermissionDenied, Unavailable, WeiyuanError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATUS_MESSAGES = {
    400: "请求格式不正确",
    401: "请先登录",
    403: "没有权限访问",
    404: "找不到请求的内容",
    405: "不支持这种请求方式",
    413: "内容太长了",
    429: "操作太频繁，请稍后再试",
    500: "服务器出错了，请稍后再试",
    502: "对话服务暂时不可用，请稍后再试",
    503: "服务暂时不可用，请稍后再试；情况紧急可以拨打 12330 知识产权维权援助热线",
}

#: When the database is unreachable (restarting, network), a chat message was not stored: say so.
UNAVAILABLE = {
    "/api/chat/send": "消息没有发送成功：服务暂时不可用，请稍后点“重试”再发一次；情况紧急可以拨打 12330 知识产权维权援助热线。",
}


class ApiError(web.HTTPException):
    """An error with a Chinese message (and optional details) for JSON clients."""

    def __init__(self, status: int, message: str | None = None, **details: object) -> None:
        self.status_code = status
        super().__init__()
        self.message = message or STATUS_MESSAGES.get(status, "出错了")
        self.details = details


def json_error(status: int, message: str, **details: object) -> web.Response:
    body: dict[str, object] = {"error": {"status": status, "message": message, **details}}
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(data: object) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


#: No route of ours has a longer path; longer ones are refused before they reach the file system.
MAX_PATH_CHARS = 1024


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if len(request.path) > MAX_PATH_CHARS:
        if wants_json(request):
            return json_error(404, STATUS_MESSAGES[404])
        raise web.HTTPNotFound(text="找不到这个页面。")
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status_code, exc.message, **exc.details)
    except KnowledgeError as exc:
        problems = [p.as_dict() for p in exc.problems]
        return json_error(422, "知识库文件有错误，未保存、未建立索引", problems=problems)
    except PermissionDenied as exc:
        return json_error(403, str(exc))
    except NotFound as exc:
        return json_error(404, str(exc))
    except Conflict as exc:
        return json_error(409, str(exc))
    except Unavailable as exc:
        if wants_json(request):
            return json_error(503, str(exc))
        raise web.HTTPServiceUnavailable(text=f"{exc}。") from None
    except WeiyuanError as exc:
        return json_error(400, str(exc))
    except web.HTTPException as exc:
        if exc.status_code < 400 or not wants_json(request):
            raise
        return json_error(exc.status_code, STATUS_MESSAGES.get(exc.status_code, exc.reason))
    except (OperationalError, InterfaceError, SQLTimeoutError) as exc:
        # the database is unreachable (a restart, the network): nothing was stored, say so and when to retry
        log.warning("database unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        if wants_json(request):
            return json_error(503, UNAVAILABLE.get(request.path, STATUS_MESSAGES[503]))
        raise web.HTTPServiceUnavailable(text="服务暂时不可用，请稍后再试。") from None
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json(request):
            return json_error(500, STATUS_MESSAGES[500])
        raise web.HTTPInternalServerError(text="服务器出错了，请稍后再试。") from None
