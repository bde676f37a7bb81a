"""The command groups and the two consoles every command prints to."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

app = typer.Typer(
    help="维援：知识产权维权援助咨询助手",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="构建、刷新、查看和回滚知识索引", no_args_is_help=True)
eval_app = typer.Typer(help="检索评测与置信度校准", no_args_is_help=True)
model_app = typer.Typer(help="向量模型", no_args_is_help=True)
knowledge_app = typer.Typer(help="知识库文件", no_args_is_help=True)
user_app = typer.Typer(help="坐席、专家、管理员账号", no_args_is_help=True)
db_app = typer.Typer(help="数据库", no_args_is_help=True)
app.add_typer(index_app, name="index")
app.add_typer(eval_app, name="eval")
app.add_typer(model_app, name="model")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(user_app, name="user")
app.add_typer(db_app, name="db")

# Wider than rich's 80-column default when piped: Chinese text is two columns a character.
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)
