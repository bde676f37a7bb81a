"""Expert profiles (specialties, regions, capacity) from knowledge/experts, re-read when the files change."""

from __future__ import annotations

import threading
from pathlib import Path

from core.experts import Expert
from index.loader import EXPERT_DIR, load_yaml
from index.schema import ExpertFile

_lock = threading.Lock()
_cache: dict[str, tuple[tuple[tuple[str, int], ...], list[Expert]]] = {}


def load_experts(knowledge_dir: Path) -> list[Expert]:
    """Valid expert profiles; a broken file is skipped here (the admin sees its errors on save/refresh)."""
    base = knowledge_dir / EXPERT_DIR
    files = sorted(base.glob("*.y*ml")) if base.is_dir() else []
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in files)
    with _lock:
        cached = _cache.get(str(knowledge_dir))
        if cached and cached[0] == stamp:
            return cached[1]
        experts: list[Expert] = []
        seen: set[str] = set()
        for path in files:
            parsed, _lines, problems = load_yaml(path.name, path.read_text("utf-8"), ExpertFile)
            if problems or not isinstance(parsed, ExpertFile):
                continue
            for expert in parsed.experts:
                if expert.id not in seen:
                    seen.add(expert.id)
                    experts.append(expert)
        _cache[str(knowledge_dir)] = (stamp, experts)
        return experts
