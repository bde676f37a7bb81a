#!/usr/bin/env python3
"""Check one new entry file against the committed corpus, without touching ``knowledge/``.

Usage: ``.venv/bin/python scripts/check_entry_file.py path/to/new-entries.yaml``

Copies the committed ``knowledge/`` (git HEAD) to a temporary directory, adds the
file under ``entries/``, loads the corpus (file, line and reason for every
problem) and checks that every amount, deadline and count in the file's answers
appears in an article the entry cites (the rule of tests/test_answer_figures.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.errors import KnowledgeError  # noqa: E402
from index.loader import load_corpus  # noqa: E402
from tests.test_answer_figures import figures  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    new = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory(prefix="weiyuan-entry-check-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "HEAD", "knowledge"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        target = Path(tmp) / "knowledge" / "entries" / new.name
        shutil.copy(new, target)
        try:
            corpus = load_corpus(Path(tmp) / "knowledge")
        except KnowledgeError as exc:
            print(exc)
            return 1
        articles = {(p.cite_as, a.label): a.text for p in corpus.policies for a in p.articles}
        rel = f"entries/{new.name}"
        mine = [e for e in corpus.entries if corpus.locations[e.id].path == rel]
        bad = 0
        for entry in mine:
            cited = set().union(*(figures(articles.get((r.law, r.article), "")) for r in entry.references))
            missing = sorted(figures(entry.answer) - cited)
            if missing:
                bad += 1
                print(f"{entry.id}: figures in the answer but in no cited article: {missing}")
        print(f"{len(mine)} entries in {new.name}; {bad} with unsupported figures")
        return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
