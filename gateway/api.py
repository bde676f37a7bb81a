"""Typed JSON routes: validation with the models of ``gateway/contracts.py`` and the OpenAPI document.

A handler declares its operation with :func:`operation`; it reads its input
with :func:`read_body`, :func:`read_query` and :func:`read_path` and answers
with :func:`reply`.  :func:`build_spec` walks the application's route table
and generates the OpenAPI 3.1 document from the declarations and the models,
so a route without a declaration, or a declaration without a route, is
visible at once (``tests/test_openapi.py``).  Security in the document comes
from the same ``require`` decorator that enforces it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema

from gateway.contracts import EXTRA_SCHEMAS, ErrorBody
from gateway.errors import STATUS_MESSAGES, ApiError, Handler

M = TypeVar("M", bound=BaseModel)
ATTRIBUTE = "weiyuan_operation"
SSE = "text/event-stream"


@dataclass(frozen=True)
class Operation:
    """What one route takes and gives, for validation and for the document."""

    summary: str
    response: type[BaseModel] | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    media: str = "application/json"
    tag: str = "chat"
    description: str | None = None
    #: any signed-in staff member (routes limited to roles say so with ``@require``)
    signed_in: bool = False


def operation(summary: str, response: type[BaseModel] | None, **fields: Any) -> Callable[[Handler], Handler]:
    """Declare a JSON route (put it above ``@require``, below the route decorator)."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, ATTRIBUTE, Operation(summary, response, **fields))
        return handler

    return mark


def operation_of(handler: object) -> Operation | None:
    value = getattr(handler, ATTRIBUTE, None)
    return value if isinstance(value, Operation) else None


# ---------------------------------------------------------------- reading and answering

#: Chinese wording for pydantic's error types; custom errors carry their own Chinese message.
_WORDING = {
    "missing": "不能为空",
    "string_too_short": "不能为空",
    "string_too_long": "太长了",
    "too_long": "项数太多",
    "string_type": "应为文字",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "取值无效",
    "enum": "取值无效",
    "greater_than_equal": "超出范围",
    "less_than_equal": "超出范围",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "list_type": "应为列表",
    "union_tag_invalid": "取值无效",
    "date_parsing": "应为日期（如 2026-05-01）",
    "date_from_datetime_parsing": "应为日期（如 2026-05-01）",
    "date_type": "应为日期（如 2026-05-01）",
}


def _field_label(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "请求内容"
    name = str(loc[0])
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info.title or name
    return name


def problems_of(model: type[BaseModel], error: ValidationError) -> list[dict[str, str]]:
    out = []
    for item in error.errors(include_url=False, include_input=False):
        label = _field_label(model, tuple(item["loc"]))
        wording = _WORDING.get(item["type"])
        expected = (item.get("ctx") or {}).get("expected")
        if wording and item["type"] == "literal_error" and expected:
            wording += f"（可选：{str(expected).replace(' or ', '、').replace(', ', '、')}）"
        out.append(
            {"field": ".".join(str(p) for p in item["loc"]), "message": f"{label}{wording}" if wording else item["msg"]}
        )
    return out


def validate(model: type[M], data: object, status: int = 400) -> M:
    """``data`` as ``model``, or an :class:`ApiError` whose Chinese message names the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = problems_of(model, exc)
        raise ApiError(
            status, problems[0]["message"] if problems else STATUS_MESSAGES[400], problems=problems
        ) from None


async def read_body(request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model`` (400 with a Chinese message when it is not one)."""
    try:
        data = json.loads(await request.text() or "{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "请求内容不是有效的 JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "请求内容应为 JSON 对象")
    return validate(model, data)


def read_query(request: web.Request, model: type[M]) -> M:
    return validate(model, dict(request.query))


def read_path(request: web.Request, model: type[M]) -> M:
    return validate(model, dict(request.match_info), status=404)


def reply(body: BaseModel, status: int = 200) -> web.Response:
    """A JSON response from a response model (UTF-8, Chinese unescaped)."""
    return web.Response(
        text=body.model_dump_json(exclude_none=False, by_alias=True),
        status=status,
        content_type="application/json",
    )


# ---------------------------------------------------------------- the document

INFO = {
    "title": "维援 weiyuan API",
    "version": "1.0",
    "description": (
        "网站咨询窗口、热线坐席检索、专家工作台和管理后台的 JSON 接口。错误统一返回 {error: {status, message}}，"
        "message 为中文。需要登录的接口使用会话 Cookie，修改类请求须带 X-CSRF-Token 头。"
    ),
}
TAGS = [
    {"name": "chat", "description": "网站咨询窗口（公开）"},
    {"name": "lookup", "description": "热线坐席检索"},
    {"name": "desk", "description": "专家工作台"},
    {"name": "admin", "description": "管理后台：索引、知识库、账号"},
    {"name": "account", "description": "账号"},
    {"name": "service", "description": "健康检查与接口说明"},
]
ROLE_NAMES = {"agent": "坐席、专家、管理员", "desk": "专家、管理员", "admin": "管理员"}
REF = "#/components/schemas/{model}"


def documented_routes(app: web.Application) -> list[tuple[str, str, Handler, Operation | None]]:
    """Every route of the application except HEAD and static files: path, method, handler, declaration."""
    out = []
    for route in app.router.routes():
        if route.method in ("HEAD", "*") or not isinstance(route.resource, web.Resource):
            continue
        canonical = route.resource.canonical
        if canonical.startswith("/static"):
            continue
        out.append((canonical, route.method.lower(), route.handler, operation_of(route.handler)))
    return out


def build_spec(app: web.Application) -> dict[str, Any]:
    operations = [(p, m, h, op) for p, m, h, op in documented_routes(app) if op is not None]
    models: list[tuple[type[BaseModel], Any]] = [(ErrorBody, "serialization")]
    for _, _, _, op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        if op.response is not None:
            models.append((op.response, "serialization"))
    unique = list(dict.fromkeys(models))
    refs, defs = models_json_schema(unique, ref_template=REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    for extra in EXTRA_SCHEMAS:
        extra_schema = TypeAdapter(extra).json_schema(ref_template=REF, mode="serialization")
        schemas.update(extra_schema.pop("$defs", {}))
        schemas["BotMeta"] = extra_schema
    paths: dict[str, dict[str, Any]] = {}
    for path, method, handler, op in operations:
        entry: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "operationId": f"{method}_{handler.__name__}"}
        if op.description or handler.__doc__:
            entry["description"] = op.description or (handler.__doc__ or "").strip()
        area = getattr(handler, "area", None)
        codes = set(op.errors)
        if area or op.signed_in:
            entry["security"] = [{"cookieAuth": []}]
            entry["summary"] = f"{op.summary}（{ROLE_NAMES.get(str(area), '已登录的工作人员')}）"
            codes |= {401, 403}
        parameters = _path_parameters(path, op) + _query_parameters(op)
        if parameters:
            entry["parameters"] = parameters
        if op.query is not None or op.body is not None or op.path is not None:
            codes.add(400)
        if op.path is not None:
            codes.add(404)
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        ok: dict[str, Any] = {"description": "成功"}
        if op.response is not None:
            ok["content"] = {op.media: {"schema": refs[(op.response, "serialization")]}}
        elif op.media != "application/json":
            ok["content"] = {op.media: {"schema": {"type": "string"}}}
        responses: dict[str, Any] = {str(op.status): ok}
        error_ref = refs[(ErrorBody, "serialization")]
        for code in sorted(codes):
            responses[str(code)] = {
                "description": STATUS_MESSAGES.get(code, "错误"),
                "content": {"application/json": {"schema": error_ref}},
            }
        entry["responses"] = responses
        paths.setdefault(path, {})[method] = entry
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "tags": TAGS,
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"cookieAuth": {"type": "apiKey", "in": "cookie", "name": "weiyuan_session"}},
            "schemas": dict(sorted(schemas.items())),
        },
    }


def _path_parameters(path: str, op: Operation) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
    properties = op.path.model_json_schema()["properties"] if op.path is not None else {}
    return [
        {"name": name, "in": "path", "required": True, "schema": _inline(properties.get(name, {"type": "string"}))}
        for name in names
    ]


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema["properties"].items():
        item: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": _inline(prop)}
        if prop.get("description") or prop.get("title"):
            item["description"] = prop.get("description") or prop.get("title")
        out.append(item)
    return out


def _inline(prop: dict[str, Any]) -> dict[str, Any]:
    """A parameter schema without the documentation keys (they go on the parameter)."""
    return {k: v for k, v in prop.items() if k not in ("title", "description")}
