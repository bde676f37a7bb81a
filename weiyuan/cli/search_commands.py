"""``weiyuan search`` and ``weiyuan shell``: what a hotline agent would find, in the terminal."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from core.errors import WeiyuanError
from core.settings import get_settings
from core.vocabulary import IP_TYPE_LABELS, KIND_LABELS

if TYPE_CHECKING:
    pass
from weiyuan.cli.apps import app, console, err

TIER_LABELS = {"confident": "可直接回答", "probable": "可能相关，请核对", "low": "把握不大，建议转专家"}


def _print_result(result: Any, show_text: bool) -> None:
    flag = "" if result.calibrated else "（未校准）"
    console.print(
        f"[bold]置信度 {result.confidence:.2f}{flag}[/bold]  "
        f"{TIER_LABELS.get(result.tier, '')}  "
        f"[dim]{result.timings_ms.get('total', 0):.0f} ms · 版本 {result.version}[/dim]"
    )
    for rank, hit in enumerate(result.hits, start=1):
        cites = "；".join(f"《{c['law']}》{c['article']}" for c in hit.citations[:3])
        kind = KIND_LABELS.get(hit.kind, hit.kind)
        types = "、".join(IP_TYPE_LABELS.get(t, t) for t in hit.ip_types)
        console.print(f"[bold cyan]{rank}. [{kind}] {hit.title}[/bold cyan] [dim]{types} · {hit.region}[/dim]")
        if cites:
            console.print(f"   依据：{cites}", highlight=False)
        if show_text:
            text = hit.text if len(hit.text) <= 240 else hit.text[:240] + "……"
            console.print(f"   {text}", highlight=False, markup=False)
        console.print(f"   [dim]来源：{hit.source}[/dim]")


@app.command("search")
def search(
    query: Annotated[str | None, typer.Argument(help="问题；省略或写 - 时从标准输入逐行读取（批量模式）")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="返回条数")] = 5,
    ip_type: Annotated[str | None, typer.Option("--ip-type", help="知识产权类型过滤，如 patent")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="文档类别：policy / entry / case")] = None,
    region: Annotated[str | None, typer.Option("--region", help="地区过滤，如 广东（含全国性文件）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """检索法规条文、知识库条目和案例。"""
    from index.runtime import make_retriever

    retriever = make_retriever(get_settings())
    if query is None or query == "-":
        if query is None and sys.stdin.isatty():
            raise WeiyuanError("请提供问题，或通过标准输入每行一个问题（批量模式）")
        for line in sys.stdin:
            text = line.strip()
            if not text:
                continue
            result = retriever.search(text, k=k, ip_type=ip_type, kind=kind, region=region)
            sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return
    result = retriever.search(query, k=k, ip_type=ip_type, kind=kind, region=region)
    if as_json:
        sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=1) + "\n")
    else:
        _print_result(result, show_text=True)


@app.command("shell")
def shell(k: Annotated[int, typer.Option("--k", "-k", min=1, max=20)] = 5) -> None:
    """交互式检索（输入问题回车；空行或 Ctrl-D 退出）。"""
    from index.runtime import make_retriever

    retriever = make_retriever(get_settings())
    console.print("正在加载模型和索引……")
    retriever.search("知识产权维权援助", k=1)
    console.print(f"[bold]维援检索[/bold]（索引版本 {retriever.version}）。输入问题回车，空行退出。")
    while True:
        try:
            text = console.input("[bold green]问题> [/bold green]").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not text:
            return
        try:
            _print_result(retriever.search(text, k=k), show_text=True)
        except WeiyuanError as exc:
            err.print(f"[red]{exc}[/red]")
