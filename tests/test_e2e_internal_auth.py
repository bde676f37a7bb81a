"""Rasa's HTTP API and the action server refuse anyone without the installation's token (issue 11).

Before: Rasa ran ``--enable-api`` with no token (any local process could read every
tracker, contact details included, or replace the model) and the action server ran
any action for anyone who reached its port.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from core.secrets import service_token
from core.settings import Settings
from weiyuan.sandbox import RestUser

pytestmark = pytest.mark.e2e


def status(url: str, body: dict[str, object] | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_rasa_api_needs_the_token(stack: Settings) -> None:
    RestUser(stack, "auth-probe").say("你好")
    base = f"http://{stack.server.host}:{stack.server.rasa_port}"
    assert status(f"{base}/conversations/auth-probe/tracker") == 401
    assert status(f"{base}/conversations/auth-probe/tracker?token=guess") == 401
    token = service_token(stack, "rasa")
    assert status(f"{base}/conversations/auth-probe/tracker?token={token}") == 200


def test_the_action_server_runs_actions_only_for_rasa(stack: Settings) -> None:
    base = f"http://{stack.server.host}:{stack.server.action_port}"
    call = {
        "next_action": "action_handoff",
        "sender_id": "intruder",
        "tracker": {"sender_id": "intruder"},
        "domain": {},
    }
    assert status(f"{base}/webhook", call) == 401
    assert status(f"{base}/health") == 200
    # the chat itself still works: Rasa sends the token with every action call
    replies = RestUser(stack, "auth-chat").say("商标被抢注了怎么办")
    assert replies and any(m.type in ("answer", "handoff", "clarify") for m in replies)
