"""The OpenAPI document is generated from the route table and the pydantic contracts, so it cannot drift.

Checked here: every JSON route is declared and documented (and nothing else
is), request bodies are validated with Chinese messages that name the field,
bot-message payloads follow their models, and the interactive viewer is
served from this machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from pydantic import ValidationError

from core.messages import check_meta
from core.settings import PROJECT_ROOT, Settings
from gateway.api import build_spec, documented_routes
from gateway.app import create_app
from tests.test_gateway import client, login, rasa_stub  # noqa: F401  (fixtures)

#: Routes that answer pages, forms or files, not JSON: they are not part of the API document.
#: ``/metrics`` is Prometheus's text format for the scraper (gateway/metrics.py), not the JSON API.
NOT_API = {"/", "/demo", "/widget.js", "/login", "/logout", "/agent", "/admin", "/kb", "/desk", "/desk/new", "/metrics"}


def test_every_json_route_is_declared_and_in_the_document(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "var"))
    spec = build_spec(app)
    undeclared, listed = [], set()
    for path, method, _, op in documented_routes(app):
        if path.startswith("/api/docs/assets"):
            continue
        if op is None:
            if path not in NOT_API:
                undeclared.append(f"{method.upper()} {path}")
            continue
        listed.add((path, method))
        assert method in spec["paths"][path], (path, method)
    assert undeclared == []
    documented = {(p, m) for p, methods in spec["paths"].items() for m in methods}
    assert documented == listed  # nothing in the document that is not a route
    for must in ("/api/chat/send", "/api/admin/users/{username}/password", "/api/desk/hotline", "/healthz"):
        assert must in spec["paths"]


def test_the_document_is_valid_and_carries_the_models(tmp_path: Path) -> None:
    import schemathesis

    spec = build_spec(create_app(Settings(data_dir=tmp_path / "var")))
    schema = schemathesis.openapi.from_dict(spec)  # raises on an invalid document
    assert len(list(schema.get_all_operations())) == sum(len(m) for m in spec["paths"].values())
    send = spec["paths"]["/api/chat/send"]["post"]
    body = spec["components"]["schemas"]["SendRequest"]
    assert send["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/SendRequest")
    assert set(body["required"]) == {"session", "text"} and body["properties"]["session"]["pattern"]
    assert {"413", "429", "502"} <= set(send["responses"])
    assert spec["paths"]["/api/search"]["get"]["security"] == [{"cookieAuth": []}]  # from the enforcing decorator
    assert "security" not in send
    assert spec["components"]["schemas"]["BotMeta"]["discriminator"]["propertyName"] == "type"
    assert json.dumps(spec, ensure_ascii=False).count("中文") >= 1


async def test_a_bad_body_gets_a_chinese_message_naming_the_field(client: TestClient) -> None:  # noqa: F811
    start = await (await client.post("/api/chat/start", json={})).json()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"session": "nope", "text": "你好"}, "会话编号无效"),
        ({"session": start["session"]}, "消息不能为空"),
        ({"session": start["session"], "text": ["列表"]}, "消息应为文字"),
    ]
    for body, message in cases:
        response = await client.post("/api/chat/send", json=body)
        assert response.status == 400
        assert message in (await response.json())["error"]["message"]
    response = await client.post("/api/chat/start", data=b"\xff\xfe", headers={"Content-Type": "application/json"})
    assert response.status == 400 and "JSON" in (await response.json())["error"]["message"]
    response = await client.post(
        "/api/chat/feedback", json={"session": start["session"], "answer_id": "a" * 32, "rating": 5}
    )
    assert response.status == 400 and "评价取值无效" in (await response.json())["error"]["message"]


async def test_staff_inputs_are_validated_before_any_work(client: TestClient) -> None:  # noqa: F811
    headers = {"X-CSRF-Token": await login(client, "admin1")}
    bad_id = await client.post("/api/admin/drafts/abc/reject", json={}, headers=headers)
    assert bad_id.status == 404  # was a 500 (int("abc")) before the path models
    bad_role = await client.post(
        "/api/admin/users", json={"username": "新人", "password": "x" * 12, "role": "root"}, headers=headers
    )
    assert bad_role.status == 400 and "角色取值无效" in (await bad_role.json())["error"]["message"]
    bad_action = await client.post("/api/desk/tickets/WY-1/explode", json={}, headers=headers)
    assert bad_action.status == 404


def test_every_payload_the_bot_sends_follows_its_model() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text("utf-8"))
    customs = [v["custom"] for variants in domain["responses"].values() for v in variants if "custom" in v]
    assert customs
    for custom in customs:
        check_meta(custom)
    # what the turn decided from rides on every kind of message (the desk and the evaluations read it)
    basis = {"intent": "ask_ip_law", "nlu_confidence": 0.9, "confidence": 0.3, "reason": "low", "ip_probability": 0.4}
    for kind in ({"type": "clarify", "asks": "ip_type"}, {"type": "out_of_scope"}, {"type": "handoff", "reason": "x"}):
        assert check_meta({**kind, **basis})["intent"] == "ask_ip_law"
    with pytest.raises(ValidationError):
        check_meta({"type": "handoff", "reason": "error", "ticket": {"number": "WY-1"}, "surprise": 1})
    with pytest.raises(ValidationError):
        check_meta({"type": "answer", "tier": "maybe"})


async def test_the_viewer_is_served_from_this_machine(client: TestClient) -> None:  # noqa: F811
    page = await (await client.get("/api/docs")).text()
    assert "swagger-ui" in page and "http://" not in page and "https://" not in page
    for asset in ("/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/swagger-ui.css", "/static/api-docs.js"):
        response = await client.get(asset)
        assert response.status == 200, asset
    spec = await (await client.get("/api/openapi.json")).json()
    assert spec["info"]["title"].startswith("维援")
