"""One index build in its own process, reporting progress as JSON lines on stdout.

``python -m index.build_job [--full] [--user NAME]`` with the installation's settings
(``WEIYUAN_CONFIG``).  The admin console starts it for a refresh: the embedding model is
loaded only for the build and its memory goes back to the system when the build ends, so the
gateway itself never holds a model; a crash or ``kill -9`` of the build leaves the serving
version as it was (the store publishes atomically) and the gateway serving.

Each line is one event: ``{"event": "stage", "key", "label", "total"}``, ``{"event":
"advance", "amount"}``, ``{"event": "note", "message"}``, then exactly one of ``{"event":
"done", "result"}``, ``{"event": "problems", "problems"}`` or ``{"event": "error", "message"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from core.errors import KnowledgeError, WeiyuanError
from core.settings import get_settings
from index.builder import BuildResult, build
from index.runtime import embedder_factory


class JsonLinesProgress:
    """The engine's Progress interface written as one JSON object per line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def emit(self, event: str, **data: Any) -> None:
        self.out.write(json.dumps({"event": event, **data}, ensure_ascii=False) + "\n")
        self.out.flush()

    def stage(self, key: str, label: str, total: int | None = None) -> None:
        self.emit("stage", key=key, label=label, total=total)

    def advance(self, amount: int = 1) -> None:
        self.emit("advance", amount=amount)

    def note(self, message: str) -> None:
        self.emit("note", message=message)


def result_summary(result: BuildResult) -> dict[str, Any]:
    return {
        "version": result.version,
        "unchanged": result.unchanged,
        "summary": result.summary(),
        "added": len(result.added),
        "changed": len(result.changed),
        "removed": len(result.removed),
        "embedded": result.embedded,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="re-embed everything (default: incremental)")
    parser.add_argument("--user", default=None)
    args = parser.parse_args(argv)
    settings = get_settings()
    progress = JsonLinesProgress(sys.stdout)
    try:
        result = build(
            settings,
            embedder_factory(settings, build=True),
            incremental=not args.full,
            progress=progress,
            user=args.user,
        )
    except KnowledgeError as exc:
        progress.emit("problems", problems=[p.as_dict() for p in exc.problems])
        return 1
    except WeiyuanError as exc:
        progress.emit("error", message=str(exc))
        return 1
    except Exception as exc:  # reported to the admin; the serving version is untouched
        progress.emit("error", message=f"构建失败（当前版本继续服务）：{exc}")
        return 1
    progress.emit("done", result=result_summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
