"""Normalise what people type before it is matched against the corpus.

* full-width letters, digits and punctuation become half-width (NFKC);
* traditional characters become simplified (OpenCC ``t2s``);
* abbreviations and slang SMEs use (软著, 商秘, 地标, 山寨, 碰瓷 ...) are
  expanded with the terms the statutes use (``knowledge/synonyms.yaml``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from core.errors import KnowledgeError, KnowledgeProblem

_SPACES = re.compile(r"\s+")
_converter_lock = threading.Lock()


@lru_cache(maxsize=1)
def _t2s() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    converter = _t2s()
    with _converter_lock:
        return str(converter.convert(text))  # type: ignore[attr-defined]


def normalize(text: str) -> str:
    """NFKC + traditional -> simplified + lower-case ASCII + single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    return _SPACES.sub(" ", text).strip().lower()


@dataclass
class Synonyms:
    """Colloquial term -> terms the corpus uses."""

    table: dict[str, list[str]] = field(default_factory=dict)

    def expansions(self, text: str) -> list[str]:
        """Expansion terms for every colloquial term found in (normalised) text."""
        out: list[str] = []
        for term, expansion in self.table.items():
            if term in text:
                out.extend(e for e in expansion if e not in text and e not in out)
        return out

    def expand(self, text: str) -> str:
        extra = self.expansions(text)
        return f"{text} {' '.join(extra)}" if extra else text


def load_synonyms(path: Path) -> Synonyms:
    """Read ``synonyms.yaml`` (a mapping of term -> list of expansions)."""
    if not path.is_file():
        return Synonyms()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise KnowledgeError([KnowledgeProblem(path.name, line, f"YAML 格式错误：{exc}")]) from exc
    table = data.get("synonyms", {}) if isinstance(data, dict) else {}
    if not isinstance(table, dict):
        raise KnowledgeError([KnowledgeProblem(path.name, 1, "synonyms 应为“词: [扩展词, …]”的映射")])
    clean: dict[str, list[str]] = {}
    for term, values in table.items():
        items = values if isinstance(values, list) else [values]
        clean[normalize(str(term))] = [normalize(str(v)) for v in items]
    # Longer terms first so that 外观专利 is seen before 专利-level entries.
    return Synonyms(dict(sorted(clean.items(), key=lambda kv: -len(kv[0]))))


@dataclass(frozen=True)
class PreparedQuery:
    """A query ready for both retrievers."""

    raw: str
    normalized: str
    expanded: str


def prepare_query(text: str, synonyms: Synonyms) -> PreparedQuery:
    normalized = normalize(text)
    return PreparedQuery(raw=text, normalized=normalized, expanded=synonyms.expand(normalized))
