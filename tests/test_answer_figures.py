"""Every amount, deadline and count an entry states appears in an article the entry cites.

An SME acts on a figure (三个月内异议, 25 年保护期, 5 万元罚款): a figure that is in no
cited article is either wrong, out of date or unsupported.  Chinese and Arabic
numerals are compared as numbers; years of dates ("2025年") and "一份/两件" are
not figures in this sense.  A figure of an old rule is allowed when the entry
cites the old article as historical.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.loader import load_corpus

ROOT = Path(__file__).resolve().parent.parent

_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "〇": 0, "零": 0}
_POWERS = {"十": 10, "百": 100, "千": 1000}
_UNITS = {"天": "日", "个工作日": "工作日", "万": "万元"}
FIGURE = re.compile(
    r"(?<![月\d.])(\d+(?:\.\d+)?|[一二两三四五六七八九十百千〇零]{1,6})\s*"
    r"(万元|万|元|个工作日|工作日|日|天|年|个月|倍|份|件)"
)


def chinese_number(text: str) -> float | None:
    total, current = 0, 0
    for char in text:
        if char in _DIGITS:
            current = _DIGITS[char]
        elif char in _POWERS:
            total += (current or 1) * _POWERS[char]
            current = 0
        else:
            return None
    return float(total + current)


def figures(text: str) -> set[tuple[float, str]]:
    found = set()
    for match in FIGURE.finditer(text):
        raw, unit = match[1], _UNITS.get(match[2], match[2])
        value = float(raw) if raw[0].isdigit() else chinese_number(raw)
        if value is None:
            continue
        if unit == "年" and value >= 1900:
            continue  # the year of a date
        if unit in ("份", "件") and value <= 2:
            continue  # "一份通知书", "两件事"
        if unit == "日" and re.search(r"\d{1,2}月$", text[max(0, match.start() - 3) : match.start()]):
            continue  # the day of a date
        found.add((value, unit))
    return found


def test_chinese_numbers_and_figures() -> None:
    assert chinese_number("十五") == 15 and chinese_number("二十") == 20 and chinese_number("五百") == 500
    assert figures("自收到通知之日起十五日内，罚款5万元以下，2025年6月1日施行") == {(15.0, "日"), (5.0, "万元")}


def test_every_figure_in_an_answer_is_in_a_cited_article() -> None:
    corpus = load_corpus(ROOT / "knowledge")
    articles = {(p.cite_as, a.label): a.text for p in corpus.policies for a in p.articles}
    unsupported = []
    for entry in corpus.entries:
        cited = set().union(*(figures(articles.get((r.law, r.article), "")) for r in entry.references))
        missing = sorted(figures(entry.answer) - cited)
        if missing:
            unsupported.append((entry.id, missing))
    assert not unsupported, f"figures not found in the articles the entry cites: {unsupported}"
