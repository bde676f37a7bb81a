#!/usr/bin/env python3
"""Report entity annotations in Rasa NLU files that do not fall on jieba token boundaries.

Rasa's JiebaTokenizer splits text with jieba plus the user dictionaries in
knowledge/lexicon; an entity whose start or end falls inside a token is
dropped from training ("Misaligned entity annotation").  Run this after
editing bot/data/nlu*.yml or the lexicon:

    .venv/bin/python scripts/check_nlu_alignment.py bot/data bot/tests
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jieba
import yaml

ROOT = Path(__file__).resolve().parent.parent
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|\{(?P<json>[^}]+)\})")


def plain_and_spans(example: str) -> tuple[str, list[tuple[int, int, str]]]:
    out, spans, pos = [], [], 0
    for match in ANNOTATION.finditer(example):
        out.append(example[pos : match.start()])
        start = sum(len(p) for p in out)
        out.append(match["text"])
        spans.append((start, start + len(match["text"]), match["text"]))
        pos = match.end()
    out.append(example[pos:])
    return "".join(out), spans


def main(paths: list[str]) -> int:
    tokenizer = jieba.Tokenizer()
    for dictionary in sorted((ROOT / "knowledge" / "lexicon").glob("*.txt")):
        tokenizer.load_userdict(str(dictionary))
    problems = 0
    files = [p for arg in paths for p in (sorted(Path(arg).rglob("*.yml")) if Path(arg).is_dir() else [Path(arg)])]
    for path in files:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        for block in data.get("nlu", []) or []:
            examples = block.get("examples")
            if not isinstance(examples, str):
                continue
            for line in examples.splitlines():
                line = line.strip()
                if not line.startswith("- "):
                    continue
                text, spans = plain_and_spans(line[2:])
                bounds = set()
                for _word, start, end in tokenizer.tokenize(text):
                    bounds.update((start, end))
                for start, end, value in spans:
                    if start not in bounds or end not in bounds:
                        tokens = [w for w, _s, _e in tokenizer.tokenize(text)]
                        print(f"{path}: 「{value}」 misaligned in: {text}  tokens: {'/'.join(tokens)}")
                        problems += 1
    print(f"{problems} misaligned entity annotation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["bot/data", "bot/tests"]))
