"""The OpenAPI document (``/api/openapi.json``), generated from the route table, and its viewer (``/api/docs``).

The viewer is Swagger UI from the ``swagger-ui-bundle`` package, served from
this machine (no CDN: centres run on closed networks, and the page's CSP
allows scripts from this origin only).
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from gateway import keys
from gateway.api import SSE, build_spec, operation
from gateway.security import current

openapi_routes = web.RouteTableDef()


def swagger_ui_dir() -> Path:
    from swagger_ui_bundle import swagger_ui_path

    return Path(swagger_ui_path)


@openapi_routes.get("/api/openapi.json")
@operation("本接口说明（OpenAPI 3.1，由代码中的数据模型生成）", None, tag="service")
async def openapi(request: web.Request) -> web.Response:
    cache = request.app[keys.SPEC]
    if "json" not in cache:
        cache["json"] = json.dumps(build_spec(request.app), ensure_ascii=False, indent=1)
    return web.Response(text=cache["json"], content_type="application/json")


@openapi_routes.get("/api/docs")
@operation("可交互的接口说明网页（Swagger UI）", None, tag="service", media="text/html")
async def docs(request: web.Request) -> web.Response:
    principal = current(request)
    return aiohttp_jinja2.render_template(
        "api_docs.html", request, {"csrf_token": principal.csrf_token if principal else ""}
    )


def add_viewer_assets(app: web.Application) -> None:
    """Swagger UI's files at /api/docs/assets/ (from the installed package)."""
    app.router.add_static("/api/docs/assets", swagger_ui_dir(), append_version=False)


__all__ = ["SSE", "add_viewer_assets", "openapi_routes"]
