"""One copy of the model and index per machine (issue 12): the action server answers the gateway.

Before, the gateway loaded its own embedding model and index for the agent search
(about 2 GB beside the action server's 2 GB).  Now the agent's search and the cited
passages come from the action server over loopback, behind its token.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from core.secrets import service_token
from core.settings import Settings

pytestmark = pytest.mark.e2e


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def gateway_pids(settings: Settings) -> list[int]:
    """The gateway processes of this stack (their environment names its settings file)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"gateway" in command and str(settings.data_dir).encode() in environ:
            pids.append(int(entry.name))
    return pids


def test_lookups_need_the_action_servers_token(stack: Settings) -> None:
    base = f"http://{stack.server.host}:{stack.server.action_port}"
    query = urllib.parse.urlencode({"q": "商标被抢注了怎么办", "k": 3})
    assert get(f"{base}/lookup/search?{query}")[0] == 401
    assert get(f"{base}/lookup/chunk?id=x")[0] == 401
    status, body = get(f"{base}/lookup/search?{query}&token={service_token(stack, 'actions')}")
    assert status == 200
    hits = body["result"]["hits"]  # type: ignore[index]
    assert hits and all(hit["source"] for hit in hits)


def test_the_cited_passage_page_is_served_from_the_action_servers_index(stack: Settings) -> None:
    gateway = f"http://{stack.server.host}:{stack.server.gateway_port}"
    article = urllib.parse.urlencode({"law": "专利法", "article": "第十一条"})
    with urllib.request.urlopen(f"{gateway}/kb?{article}", timeout=30) as page:
        html = page.read().decode()
    assert "第十一条" in html and "专利" in html
    status, body = get(f"{gateway}/api/chunk?{article}")
    assert status == 200 and "专利权" in str(body["text"])


def test_the_gateway_does_not_load_the_embedding_model(stack: Settings) -> None:
    pids = gateway_pids(stack)
    assert pids, "gateway process not found"
    for pid in pids:
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "libtorch" not in maps


def test_the_action_server_reports_action_and_lookup_times_to_the_scraper_only(stack: Settings) -> None:
    from core.secrets import metrics_token
    from weiyuan.sandbox import RestUser

    RestUser(stack, "metrics-probe").say("商标被抢注了怎么办")
    base = f"http://{stack.server.host}:{stack.server.action_port}"
    token = service_token(stack, "actions")
    get(f"{base}/lookup/search?{urllib.parse.urlencode({'q': '专利无效', 'token': token})}")
    assert get(f"{base}/metrics")[0] == 401
    request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {metrics_token(stack)}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    assert 'weiyuan_action_seconds_count{action="action_answer_question"}' in text
    assert 'weiyuan_lookup_seconds_count{kind="search"}' in text
