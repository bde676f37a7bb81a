#!/usr/bin/env python3
"""Validate knowledge/ and print every problem with file and line (exit 1 on problems).

The same checks run before every index build; this script is for authors.
Usage: python scripts/check_knowledge.py [KNOWLEDGE_DIR]
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.errors import KnowledgeError
from index.loader import load_corpus


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "knowledge"
    try:
        corpus = load_corpus(root)
    except KnowledgeError as exc:
        print(exc)
        return 1
    articles = sum(len(p.articles) for p in corpus.policies)
    print(
        f"OK: {len(corpus.policies)} policies ({articles} articles), {len(corpus.entries)} entries, "
        f"{len(corpus.cases)} cases, {len(corpus.experts)} experts"
    )
    print("entries by ip_type:", dict(Counter(e.ip_type for e in corpus.entries)))
    print("entries by service:", dict(Counter(s for e in corpus.entries for s in e.services)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
