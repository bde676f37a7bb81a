"""Repair homophone typos of IP terms (专力 → 专利, 商表 → 商标, 著做权 → 著作权).

People type Chinese with pinyin input methods, so the commonest typo is the
right sound with the wrong character.  Neither the jieba tokens nor the
embedding recognise such a word; matching toneless pinyin against the IP
lexicon does.  Only terms of two or more characters are matched, a term
whose pinyin is shared with another term is left alone, and at least one
character of the window must already be right, so ordinary words are not
rewritten into IP terms.
"""

from __future__ import annotations

from collections.abc import Iterable

from pypinyin import lazy_pinyin

from index.textnorm import normalize

#: Longest term matched (characters).
MAX_TERM = 8


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


class HomophoneFixer:
    """Replace windows of a text that sound like a known term but are written differently."""

    def __init__(self, terms: Iterable[str]) -> None:
        by_sound: dict[tuple[str, ...], set[str]] = {}
        for term in {normalize(t) for t in terms}:
            if 2 <= len(term) <= MAX_TERM and all(_is_han(c) for c in term):
                by_sound.setdefault(tuple(lazy_pinyin(list(term))), set()).add(term)
        self._terms = {sound: next(iter(words)) for sound, words in by_sound.items() if len(words) == 1}
        self._lengths = sorted({len(sound) for sound in self._terms}, reverse=True)

    def fix(self, text: str) -> str:
        if not self._terms or not any(_is_han(c) for c in text):
            return text
        chars = list(text)
        sounds = lazy_pinyin(chars)
        out: list[str] = []
        i = 0
        while i < len(chars):
            replaced = False
            for length in self._lengths:
                window = chars[i : i + length]
                if len(window) < length or not all(_is_han(c) for c in window):
                    continue
                term = self._terms.get(tuple(sounds[i : i + length]))
                if term is None:
                    continue
                same = sum(a == b for a, b in zip(window, term, strict=True))
                if same < length and same >= 1:
                    out.append(term)
                    i += length
                    replaced = True
                    break
                if same == length:
                    break  # already correct: keep it as written
            if not replaced:
                out.append(chars[i])
                i += 1
        return "".join(out)
