"""Chinese word segmentation for BM25 (jieba with the IP user dictionary).

The same dictionary folder (``knowledge/lexicon``) is given to Rasa's
``JiebaTokenizer``, so the dialogue layer and the index split IP terms
(外观设计, 商业秘密, 不侵权声明 ...) the same way.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import jieba

jieba.setLogLevel(60)

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "嘛",
        "么",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "就",
        "都",
        "也",
        "还",
        "又",
        "把",
        "被",
        "给",
        "让",
        "对",
        "从",
        "向",
        "我",
        "我们",
        "你",
        "你们",
        "他",
        "他们",
        "她",
        "它",
        "这",
        "那",
        "这个",
        "那个",
        "这些",
        "那些",
        "有",
        "没",
        "没有",
        "一个",
        "一下",
        "请问",
        "你好",
        "您好",
        "谢谢",
        "怎么",
        "怎么办",
        "咋办",
        "咋",
        "如何",
        "什么",
        "怎样",
        "可以",
        "能",
        "能不能",
        "要",
        "想",
        "应该",
        "需要",
        "会",
        "吗",
        "呢",
        "哪里",
        "哪些",
        "是否",
        "之",
        "其",
        "以",
        "为",
        "于",
        "而",
        "等",
        "该",
        "应当",
        "本",
        "条",
        "款",
        "项",
    ]
)


class Tokenizer:
    """A jieba tokenizer of its own (the global jieba instance is left alone)."""

    def __init__(self, lexicon_dir: Path | None) -> None:
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._lexicon_dir = lexicon_dir
        self._ready = False

    def _init(self) -> None:
        with self._lock:
            if self._ready:
                return
            self._jieba.initialize()
            if self._lexicon_dir and self._lexicon_dir.is_dir():
                for path in sorted(self._lexicon_dir.glob("*.txt")):
                    self._jieba.load_userdict(str(path))
            self._ready = True

    def tokens(self, text: str) -> list[str]:
        """Search-mode tokens without stopwords and punctuation (text is pre-normalised)."""
        if not self._ready:
            self._init()
        out = []
        for token in self._jieba.cut_for_search(text):
            token = token.strip()
            if token and token not in STOPWORDS and _KEEP.search(token):
                out.append(token)
        return out


_shared: dict[tuple[str, tuple[tuple[str, int], ...]], Tokenizer] = {}
_shared_lock = threading.Lock()


def shared_tokenizer(lexicon_dir: Path | None) -> Tokenizer:
    """One tokenizer per lexicon content in this process (jieba's dictionary load costs ~0.5 s)."""
    files: tuple[tuple[str, int], ...] = ()
    if lexicon_dir and lexicon_dir.is_dir():
        files = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(lexicon_dir.glob("*.txt")))
    key = (str(lexicon_dir), files)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Tokenizer(lexicon_dir)
        return _shared[key]
