"""YAML reading that remembers the line of every value.

Validation errors must name the file *and line* of the bad value, so the
YAML node tree is walked by hand and each path (``("entries", 3, "ip_type")``)
is mapped to the 1-based line where its value starts.
"""

from __future__ import annotations

from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class YamlSyntaxError(ValueError):
    """The text is not valid YAML."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def load_with_lines(text: str, first_line: int = 1) -> tuple[Any, dict[Path_, int]]:
    """Parse ``text``; return the data and a map from value path to line number.

    ``first_line`` offsets the numbers when the YAML is embedded in a larger
    file (front matter).
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line if mark else 0) + first_line
        raise YamlSyntaxError(line, f"YAML 格式错误：{exc.problem or exc}") from exc
    except yaml.YAMLError as exc:  # pragma: no cover - defensive
        raise YamlSyntaxError(first_line, f"YAML 格式错误：{exc}") from exc
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    data = _convert(node, (), lines, first_line)
    return data, lines


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int], offset: int) -> Any:
    lines[path] = node.start_mark.line + offset
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            out[key] = _convert(value_node, (*path, str(key)), lines, offset)
            lines.setdefault((*path, str(key)), key_node.start_mark.line + offset)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, (*path, index), lines, offset) for index, child in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def line_for(lines: dict[Path_, int], loc: tuple[Any, ...]) -> int:
    """Line of the deepest known prefix of a pydantic error location."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), 1)
