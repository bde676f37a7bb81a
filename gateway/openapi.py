"""The OpenAPI document of the JSON API (served at /api/openapi.json, browsable at /api/docs)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

openapi_routes = web.RouteTableDef()

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"status": {"type": "integer"}, "message": {"type": "string", "description": "中文错误说明"}},
            "required": ["status", "message"],
        }
    },
}
MESSAGE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "role": {"type": "string", "enum": ["user", "bot", "expert", "system"]},
        "text": {"type": "string"},
        "buttons": {"type": "array", "items": {"type": "object"}},
        "meta": {
            "type": "object",
            "description": (
                "type: answer | clarify | handoff | out_of_scope | form | info；"
                "answer 带 tier（confident 直接回答 | probable 可能相关）、citations（所示全部出处）、confidence"
            ),
        },
        "author": {"type": ["string", "null"]},
        "time": {"type": ["string", "null"]},
    },
}


def _json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "properties": properties, "required": required}}},
    }


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema:
        out["content"] = {"application/json": {"schema": schema}}
    return out


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "错误", "content": {"application/json": {"schema": ERROR}}} for c in codes}


def _query(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": {"type": "string"}}


SESSION = {"type": "string", "pattern": "^w-[A-Za-z0-9_-]{16,40}$"}
STAFF: list[dict[str, list[str]]] = [{"cookieAuth": []}]

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "维援 weiyuan API",
        "version": "1.0",
        "description": "网站咨询窗口、热线坐席检索、专家工作台和管理后台的 JSON 接口。错误统一返回 {error: {status, message}}，"
        "message 为中文。需要登录的接口使用会话 Cookie，修改类请求须带 X-CSRF-Token 头。",
    },
    "components": {
        "securitySchemes": {"cookieAuth": {"type": "apiKey", "in": "cookie", "name": "weiyuan_session"}},
        "schemas": {"Error": ERROR, "Message": MESSAGE},
    },
    "paths": {
        "/api/chat/start": {
            "post": {
                "summary": "开始或恢复一次网站咨询（公开）",
                "requestBody": _json_body({"session": {"type": ["string", "null"]}}, []),
                "responses": {
                    "200": _ok(
                        "会话编号与历史消息",
                        {
                            "type": "object",
                            "properties": {"session": SESSION, "messages": {"type": "array", "items": MESSAGE}},
                        },
                    ),
                    **_errors(400),
                },
            }
        },
        "/api/chat/send": {
            "post": {
                "summary": "发送一条消息并得到回复（公开，按客户端限流，最长 1000 字）",
                "requestBody": _json_body(
                    {
                        "session": SESSION,
                        "text": {"type": "string", "maxLength": 1000},
                        "display": {"type": ["string", "null"]},
                    },
                    ["session", "text"],
                ),
                "responses": {
                    "200": _ok(
                        "新消息（用户消息与回复）",
                        {
                            "type": "object",
                            "properties": {
                                "messages": {"type": "array", "items": MESSAGE},
                                "waiting_for_expert": {"type": "boolean"},
                            },
                        },
                    ),
                    **_errors(400, 413, 429, 502),
                },
            }
        },
        "/api/chat/history": {
            "get": {
                "summary": "某条消息之后的新消息（公开；咨询窗口轮询专家回复）",
                "parameters": [_query("session", "会话编号", True), _query("after", "消息编号")],
                "responses": {"200": _ok("消息列表"), **_errors(400)},
            }
        },
        "/api/chat/feedback": {
            "post": {
                "summary": "对一条回答点赞或点踩（公开）",
                "requestBody": _json_body(
                    {"session": SESSION, "answer_id": {"type": "string"}, "rating": {"enum": [1, -1]}},
                    ["session", "answer_id", "rating"],
                ),
                "responses": {"200": _ok("已记录"), **_errors(400, 429)},
            }
        },
        "/api/chunk": {
            "get": {
                "summary": "一条法规条文或知识库条目的全文（公开）",
                "parameters": [_query("id", "片段编号"), _query("law", "法规名称"), _query("article", "条文序号")],
                "responses": {"200": _ok("全文与出处"), **_errors(404)},
            }
        },
        "/api/search": {
            "get": {
                "summary": "坐席检索（坐席、专家、管理员）",
                "security": STAFF,
                "parameters": [
                    _query("q", "检索内容", True),
                    _query("ip_type", "知识产权类型"),
                    _query("kind", "policy / entry / case"),
                    _query("region", "地区（含全国性文件）"),
                    _query("k", "返回条数（1-30）"),
                ],
                "responses": {"200": _ok("检索结果，含置信度、依据和高亮词"), **_errors(400, 401, 403)},
            }
        },
        "/api/admin/index": {
            "get": {
                "summary": "索引版本与切换记录（管理员）",
                "security": STAFF,
                "responses": {"200": _ok("状态"), **_errors(401, 403)},
            }
        },
        "/api/admin/index/refresh": {
            "post": {
                "summary": "开始刷新索引（管理员）",
                "security": STAFF,
                "requestBody": _json_body({"full": {"type": "boolean"}}, []),
                "responses": {"202": _ok("任务"), **_errors(400, 401, 403)},
            }
        },
        "/api/admin/jobs/{job_id}/events": {
            "get": {
                "summary": "刷新进度（服务器推送事件）",
                "security": STAFF,
                "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "text/event-stream"}, **_errors(401, 403, 404)},
            }
        },
        "/api/admin/index/rollback": {
            "post": {
                "summary": "回滚到某个版本（管理员）",
                "security": STAFF,
                "requestBody": _json_body({"version": {"type": ["string", "null"]}}, []),
                "responses": {"200": _ok("当前版本"), **_errors(400, 401, 403, 409)},
            }
        },
        "/api/admin/index/diff": {
            "get": {
                "summary": "比较两个版本（管理员）",
                "security": STAFF,
                "parameters": [_query("from", "旧版本", True), _query("to", "新版本", True)],
                "responses": {"200": _ok("新增/修改/删除"), **_errors(400, 401, 403)},
            }
        },
        "/api/admin/knowledge": {
            "get": {
                "summary": "知识库文件列表（管理员）",
                "security": STAFF,
                "responses": {"200": _ok("文件"), **_errors(401, 403)},
            }
        },
        "/api/admin/knowledge/file": {
            "get": {
                "summary": "读取文件",
                "security": STAFF,
                "parameters": [_query("path", "相对路径", True)],
                "responses": {"200": _ok("内容"), **_errors(400, 401, 403, 404)},
            },
            "put": {
                "summary": "保存文件（先整体校验，有错误时返回 422 与逐行错误，不写入）",
                "security": STAFF,
                "requestBody": _json_body(
                    {"path": {"type": "string"}, "content": {"type": "string"}}, ["path", "content"]
                ),
                "responses": {"200": _ok("已保存"), **_errors(400, 401, 403, 422)},
            },
            "delete": {
                "summary": "删除文件（保留备份）",
                "security": STAFF,
                "parameters": [_query("path", "相对路径", True)],
                "responses": {"200": _ok("已删除"), **_errors(400, 401, 403, 404, 422)},
            },
        },
        "/api/admin/knowledge/validate": {
            "post": {
                "summary": "只校验不保存",
                "security": STAFF,
                "requestBody": _json_body(
                    {"path": {"type": "string"}, "content": {"type": "string"}}, ["path", "content"]
                ),
                "responses": {"200": _ok("ok 与 problems"), **_errors(400, 401, 403)},
            }
        },
        "/api/admin/users": {
            "get": {
                "summary": "账号列表（管理员）",
                "security": STAFF,
                "responses": {"200": _ok("账号"), **_errors(401, 403)},
            },
            "post": {
                "summary": "添加账号（管理员）",
                "security": STAFF,
                "requestBody": _json_body(
                    {
                        "username": {"type": "string"},
                        "password": {"type": "string"},
                        "role": {"enum": ["agent", "expert", "admin"]},
                        "display_name": {"type": "string"},
                        "expert_id": {"type": "string"},
                    },
                    ["username", "password", "role"],
                ),
                "responses": {"201": _ok("已添加"), **_errors(400, 401, 403)},
            },
        },
    },
}


def register(path: str, method: str, operation: dict[str, Any]) -> None:
    """Other modules (the expert desk) add their endpoints to the document."""
    SPEC["paths"].setdefault(path, {})[method] = operation


def staff_operation(
    summary: str, body: dict[str, Any] | None = None, codes: tuple[int, ...] = (400, 401, 403)
) -> dict[str, Any]:
    """A signed-in staff endpoint (cookie session + X-CSRF-Token for changes)."""
    operation: dict[str, Any] = {
        "summary": summary,
        "security": [{"cookieAuth": []}],
        "responses": {"200": _ok("成功"), **_errors(*codes)},
    }
    if body is not None:
        operation["requestBody"] = _json_body(body, list(body))
    return operation


for _path, _method, _operation in [
    ("/api/admin/jobs/{job_id}", "get", staff_operation("索引刷新任务的状态（管理员）", codes=(401, 403, 404))),
    (
        "/api/admin/users/{username}/active",
        "post",
        staff_operation(
            "启用或停用账号（管理员；不能停用自己）", {"active": {"type": "boolean"}}, (400, 401, 403, 404)
        ),
    ),
    (
        "/api/admin/users/{username}/password",
        "post",
        staff_operation(
            "为账号设置新密码（管理员；该账号所有登录立即失效）",
            {"password": {"type": "string", "minLength": 10}},
            (400, 401, 403, 404),
        ),
    ),
    (
        "/api/account/password",
        "post",
        staff_operation(
            "修改自己的密码（需当前密码；所有登录立即失效）",
            {"current_password": {"type": "string"}, "new_password": {"type": "string", "minLength": 10}},
            (400, 401, 403, 429),
        ),
    ),
    ("/api/openapi.json", "get", {"summary": "本接口说明（OpenAPI 3）", "responses": {"200": _ok("OpenAPI 文档")}}),
    ("/api/docs", "get", {"summary": "接口说明网页", "responses": {"200": {"description": "HTML"}}}),
]:
    register(_path, _method, _operation)


@openapi_routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(SPEC, dumps=lambda d: __import__("json").dumps(d, ensure_ascii=False, indent=1))


@openapi_routes.get("/api/docs")
@aiohttp_jinja2.template("api_docs.html")
async def docs(request: web.Request) -> dict[str, Any]:
    operations = []
    for path, methods in SPEC["paths"].items():
        for method, op in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "auth": bool(op.get("security")),
                }
            )
    return {"operations": operations, "info": SPEC["info"], "user": None, "csrf_token": ""}
