"""The weiyuan CLI as a user runs it: subprocesses, exit codes, messages, JSON output."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.settings import Settings
from index.store import VersionStore
from tests.conftest import ROOT, cli_env

WEIYUAN = [sys.executable, "-m", "weiyuan.cli"]


def run(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WEIYUAN, *args], input=stdin, capture_output=True, text=True, env=cli_env(settings), timeout=120
    )


def test_build_status_search_rollback(settings: Settings) -> None:
    built = run(settings, "index", "build")
    assert built.returncode == 0, built.stderr
    assert "已发布索引版本" in built.stdout

    status = run(settings, "index", "status", "--json")
    data = json.loads(status.stdout)
    first = data["current"]
    assert data["versions"][0]["version"] == first and data["versions"][0]["chunks"] == 15

    found = run(settings, "search", "专利侵权赔偿怎么算", "--k", "2", "--json")
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["query"] == "专利侵权赔偿怎么算" and len(result["hits"]) == 2
    assert result["hits"][0]["citations"] == [{"law": "中华人民共和国专利法", "article": "第七十一条"}]

    filtered = json.loads(
        run(settings, "search", "侵权", "--kind", "policy", "--ip-type", "trademark", "--json").stdout
    )
    assert filtered["hits"] and all(h["kind"] == "policy" for h in filtered["hits"])

    human = run(settings, "search", "专利侵权赔偿怎么算")
    assert "依据：《中华人民共和国专利法》第七十一条" in human.stdout

    refreshed = run(settings, "index", "refresh")
    assert "知识库没有变化" in refreshed.stdout
    second = run(settings, "index", "build")
    assert second.returncode == 0
    rolled = run(settings, "index", "rollback")
    assert rolled.returncode == 0 and first in rolled.stdout
    assert VersionStore(settings.index_dir).current() == first


def test_batch_search_reads_stdin_writes_jsonl(settings: Settings) -> None:
    assert run(settings, "index", "build").returncode == 0
    out = run(settings, "search", "--k", "3", stdin="专利侵权赔偿怎么算\n\n商标被人假冒了咋办\n")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["专利侵权赔偿怎么算", "商标被人假冒了咋办"]
    for line in lines:
        assert set(line) >= {"query", "confidence", "hits"}
        assert all(set(h) >= {"id", "kind", "title", "score", "citations", "text", "source"} for h in line["hits"])


def test_user_errors_are_messages_not_tracebacks(settings: Settings) -> None:
    no_index = run(settings, "search", "专利")
    assert no_index.returncode == 2 and "还没有可用的索引" in no_index.stderr

    entries = settings.knowledge_dir / "entries" / "test-entries.yaml"
    entries.write_text(entries.read_text("utf-8").replace("ip_type: trademark", "ip_type: brand"), "utf-8")
    bad = run(settings, "index", "build")
    assert bad.returncode == 2
    assert "entries/test-entries.yaml 第" in bad.stderr and "ip_type" in bad.stderr
    assert "当前索引保持不变" in bad.stderr

    unknown = run(settings, "index", "rollback", "20990101-000000-01")
    assert unknown.returncode == 2 and "不存在" in unknown.stderr
    bad_filter = run(settings, "search", "专利", "--ip-type", "patents")
    assert bad_filter.returncode == 2
    for proc in (no_index, bad, unknown, bad_filter):
        assert "Traceback" not in proc.stderr + proc.stdout


def test_killed_build_leaves_previous_version_serving(settings: Settings, tmp_path: Path) -> None:
    """SIGKILL a full build at several moments; the old version keeps serving every time."""
    # the shipped corpus is big enough that a build takes a moment even with the hashing embedder
    shutil.rmtree(settings.knowledge_dir)
    shutil.copytree(ROOT / "knowledge", settings.knowledge_dir)
    assert run(settings, "index", "build").returncode == 0
    store = VersionStore(settings.index_dir)
    serving = store.current()
    for delay in (0.5, 1.0, 1.5, 2.0, 2.5):
        proc = subprocess.Popen(
            [*WEIYUAN, "index", "build"],
            env=cli_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        current = store.current()
        if current != serving:  # the build finished before the kill: that is a new complete version
            assert store.exists(current)
            serving = current
        out = run(settings, "search", "专利侵权", "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["version"] == serving
    # the next build cleans what the killed ones left behind
    assert run(settings, "index", "build").returncode == 0
    assert not any(p.name.startswith(".tmp-") for p in store.versions_dir.iterdir())


@pytest.mark.parametrize("args", [["--help"], ["index", "--help"], ["search", "--help"]])
def test_help_is_in_chinese(settings: Settings, args: list[str]) -> None:
    out = run(settings, *args)
    assert out.returncode == 0 and ("检索" in out.stdout or "索引" in out.stdout)
