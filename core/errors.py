"""Errors the retrieval engine reports to people, in Chinese, with file and line.

A user mistake (a malformed knowledge file, an unknown version, a bad
filter) is a :class:`WeiyuanError`: the CLI and web pages print its message,
never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core.yamlio import Path_, line_for


class WeiyuanError(Exception):
    """An error caused by input or state a user can fix; ``str()`` is shown as is."""


class PermissionDenied(WeiyuanError):
    """The signed-in user may not see or change this record (shown as 403)."""


class NotFound(WeiyuanError):
    """The record asked for does not exist (shown as 404)."""


class Unavailable(WeiyuanError):
    """A service this request needs does not answer right now (restarting); shown as 503."""


class Conflict(WeiyuanError):
    """The request clashes with the current state, e.g. a refresh already running (shown as 409)."""


@dataclass(frozen=True)
class KnowledgeProblem:
    """One problem in one knowledge file."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path} 第 {self.line} 行：{self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "reason": self.reason}


class KnowledgeError(WeiyuanError):
    """The knowledge corpus has problems; nothing was indexed."""

    def __init__(self, problems: list[KnowledgeProblem]) -> None:
        self.problems = problems
        head = f"知识库文件有 {len(problems)} 处错误，未建立索引（当前索引保持不变）："
        body = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  …… 另有 {len(problems) - 50} 处" if len(problems) > 50 else ""
        super().__init__(f"{head}\n{body}{more}")


_FIELD_NAMES = {
    "title": "标题",
    "question": "问题",
    "answer": "回答",
    "variants": "问法变体",
    "ip_type": "知识产权类型",
    "ip_types": "知识产权类型",
    "services": "服务类别",
    "references": "引用条文",
    "law": "法规名称",
    "article": "条文序号",
    "region": "地区",
    "source": "来源",
    "provenance": "出处说明",
    "doc_type": "文件类型",
    "issuer": "发布机关",
    "entries": "条目列表",
    "cases": "案例列表",
    "experts": "专家列表",
    "capacity": "接单容量",
    "specialties": "专长领域",
    "regions": "服务地区",
}


def _describe(error: dict[str, Any]) -> str:
    """Translate one pydantic error into a short Chinese sentence."""
    loc = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
    field = loc[-1] if loc else ""
    name = _FIELD_NAMES.get(field, field)
    label = f"字段 {field}（{name}）" if name and name != field else f"字段 {field}"
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return f"缺少必填{label}"
    if kind == "extra_forbidden":
        return f"不认识的{label}（拼写错误？）"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        return f"{label}的取值 {value!r} 无效，应为：{expected}"
    if kind in ("string_too_short", "too_short"):
        return f"{label}太短或为空"
    if kind in ("string_type", "list_type", "dict_type", "int_type", "int_parsing"):
        expected = {"string_type": "文本", "list_type": "列表", "dict_type": "键值映射"}.get(kind, "整数")
        return f"{label}应为{expected}，实际是 {type(value).__name__}"
    if kind.startswith("date"):
        return f"{label}不是有效日期（格式 YYYY-MM-DD）：{value!r}"
    if kind == "value_error":
        message = str(ctx.get("error", error.get("msg", "")))
        return f"{label}：{message}" if field else message
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"{label}超出允许范围：{value!r}"
    return f"{label}：{error.get('msg', kind)}"


def problems_from_validation(
    path: str, exc: ValidationError, lines: dict[Path_, int], prefix: Path_ = ()
) -> list[KnowledgeProblem]:
    """Map each pydantic error to the file line where the bad value sits."""
    out = []
    for error in exc.errors():
        loc = (*prefix, *error.get("loc", ()))
        out.append(KnowledgeProblem(path, line_for(lines, loc), _describe(dict(error))))
    return out
