"""``weiyuan index``: build, refresh, status and rollback of the knowledge index."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from core.settings import Settings, get_settings
from core.vocabulary import KIND_LABELS

if TYPE_CHECKING:
    pass
from weiyuan.cli.apps import console, index_app
from weiyuan.cli.progress import RichProgress, progress_bar


def _run_build(settings: Settings, incremental: bool) -> None:
    from index.builder import build
    from index.runtime import embedder_factory

    with progress_bar() as bar:
        reporter = RichProgress(bar)
        result = build(settings, embedder_factory(settings, build=True), incremental=incremental, progress=reporter)
        reporter.finish()
    console.print(result.summary())


@index_app.command("build")
def index_build() -> None:
    """完整构建：重新计算全部向量并发布新版本。"""
    _run_build(get_settings(), incremental=False)


@index_app.command("refresh")
def index_refresh() -> None:
    """增量刷新：只重新计算新增或修改的内容（没有索引时做完整构建）。"""
    _run_build(get_settings(), incremental=True)


@index_app.command("status")
def index_status(as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
    """查看当前服务的版本和历史版本。"""
    from index.store import VersionStore

    store = VersionStore(get_settings().index_dir)
    versions = store.versions()
    if as_json:
        data = {
            "current": store.current(),
            "versions": [
                {
                    "version": v.version,
                    "created_at": v.created_at,
                    "mode": v.mode,
                    "chunks": v.chunks,
                    "serving": v.serving,
                    "model": v.manifest.get("model"),
                    "ann": v.manifest.get("ann"),
                    "changes": v.manifest.get("changes"),
                    "law_date": v.manifest.get("law_date"),
                    "next_change": v.manifest.get("next_change"),
                }
                for v in versions
            ],
            "history": store.history()[-20:],
        }
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    if not versions:
        console.print("还没有索引版本。运行 [bold]weiyuan index build[/bold] 构建第一个版本。")
        return
    table = Table(title=f"索引版本（当前服务：{store.current()}）")
    table.add_column("版本", no_wrap=True, min_width=18)
    table.add_column("创建时间(UTC)", no_wrap=True, min_width=19)
    for column in ("方式", "片段", "增/改/删", "后端", "服务"):
        table.add_column(column, no_wrap=True)
    for v in versions:
        changes = v.manifest.get("changes", {})
        table.add_row(
            v.version,
            v.created_at.replace("+00:00", "").replace("T", " "),
            "增量" if v.mode == "incremental" else "完整",
            str(v.chunks),
            f"{changes.get('added', 0)}/{changes.get('changed', 0)}/{changes.get('removed', 0)}",
            str(v.manifest.get("ann", {}).get("backend", "")),
            "✔" if v.serving else "",
        )
    console.print(table)
    serving = next((v for v in versions if v.serving), None)
    if serving:
        counts = serving.manifest.get("counts", {})
        by_kind = "，".join(f"{KIND_LABELS.get(k, k)} {n}" for k, n in counts.get("by_kind", {}).items())
        console.print(f"当前版本：{by_kind}；模型 {serving.manifest.get('model', {}).get('name')}")
        law_date, next_change = serving.manifest.get("law_date"), serving.manifest.get("next_change")
        if law_date:
            upcoming = f"；{next_change} 起有法规施行状态变化，届时需刷新索引（网关会自动刷新）" if next_change else ""
            console.print(f"法规施行状态按 {law_date} 计算{upcoming}")


@index_app.command("rollback")
def index_rollback(
    version: Annotated[str | None, typer.Argument(help="要恢复的版本号（省略则回到上一个版本）")] = None,
) -> None:
    """回滚：让指定（或上一个）版本重新开始服务。"""
    from index.store import VersionStore

    store = VersionStore(get_settings().index_dir)
    with store.lock():
        restored = store.rollback(version)
    console.print(f"已回滚，当前服务版本：{restored}")
