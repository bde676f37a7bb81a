"""The ``weiyuan`` command line: index builds, search, evaluation, accounts, the stack.

User mistakes (bad knowledge files, unknown versions, bad filters) print a
clear message and exit with status 2, never a traceback.  Each group of
commands lives in its own module; importing them registers the commands.
"""

from __future__ import annotations

from core.errors import KnowledgeError, WeiyuanError
from weiyuan.cli import (  # noqa: F401  (importing registers the commands)
    admin_commands,
    eval_commands,
    index_commands,
    search_commands,
    serve_command,
)
from weiyuan.cli.apps import app, err

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app, turning user errors into messages (exit status 2)."""
    try:
        app()
    except KnowledgeError as exc:
        err.print(str(exc), style="red", highlight=False, markup=False)
        raise SystemExit(2) from None
    except WeiyuanError as exc:
        err.print(f"错误：{exc}", style="red", highlight=False, markup=False)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err.print("已中断。")
        raise SystemExit(130) from None
