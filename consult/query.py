"""From what a person wrote to what to search for.

Real questions are often a whole story: background, dates, amounts, what
the other side did, and one or several questions at the end.  The message
is split into sentences; the interrogative sentences are its questions and
the sentences that name IP terms are its key facts.

Measured on the dev split (docs/dialogue.md): a message of up to 60
characters is best searched as written (splitting it lost R@1); a longer
one is searched as written *and* as its questions plus key facts (the
embedding model reads only about 500 characters, and a story's question is
usually at its end), and the most confident result answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from index.textnorm import normalize

#: Messages up to this many characters are searched as they are.
SHORT_MAX_CHARS = 60
#: A built query is cut to about this many characters (e5 works best on short text).
QUERY_MAX_CHARS = 120

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])|(?<=\.\s)")
_QUESTION = re.compile(
    r"[?？]|吗|么|呢|怎么|怎样|如何|什么|啥|咋|能否|能不能|可不可以|可以|是否|是不是|多少|多久|多长|哪|"
    r"要不要|会不会|算不算|有没有|该不该|需不需要|行不行|有用吗|怎么办|how|what|can|should|is it"
)
#: Openers and sign-offs that carry no content.
_FILLER = re.compile(
    r"^(?:请问一下|请问|你好|您好|律师你好|律师您好|律师|老师|想问一下|想问下|我想问一下|我想问下|我想咨询一下|"
    r"想咨询一下|咨询一下|咨询|问一下|求助|急|在线等|谢谢|麻烦了|[,，、:：\s])+"
)
_TRAILING = re.compile(r"(?:谢谢|谢谢了|麻烦了|急|在线等|求解答|求助)+[!！。.\s]*$")


@dataclass(frozen=True)
class QueryPlan:
    """What a message asks and what to search for."""

    text: str
    #: its questions plus key facts, condensed (for a long message; else the message without filler)
    main: str
    #: the questions it asks, as written (offered as buttons when there are several)
    questions: list[str] = field(default_factory=list)
    #: the questions made searchable on their own (with the nearest key fact when they lack one)
    searchable: list[str] = field(default_factory=list)

    @property
    def long(self) -> bool:
        return len(self.text.strip()) > SHORT_MAX_CHARS

    @property
    def queries(self) -> list[str]:
        """Every query worth searching, the message itself first, without repeats."""
        out = [self.text.strip() or self.main]
        if self.long:
            for query in (self.main, *self.searchable):
                if query and query not in out:
                    out.append(query)
        return out

    @property
    def multi(self) -> bool:
        return len(self.questions) > 1


def sentences(text: str) -> list[str]:
    """Sentences and lines, stripped, without empty pieces."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip(" \t\n。！？!?；;…")]


def strip_filler(text: str) -> str:
    return _TRAILING.sub("", _FILLER.sub("", text.strip())).strip()


def is_question(sentence: str) -> bool:
    return bool(_QUESTION.search(normalize(sentence)))


def plan_query(text: str, is_key: Callable[[str], bool] | None = None) -> QueryPlan:
    """Split ``text`` into its questions and key facts and build the queries.

    ``is_key`` tells whether a sentence carries facts worth searching for
    (normally: it names an IP term); without it every sentence counts.
    """
    body = " ".join(text.split()) if "\n" not in text else text.strip()
    parts = [strip_filler(s) for s in sentences(body)]
    parts = [p for p in parts if len(p) >= 2]
    if not parts:
        cleaned = strip_filler(body) or body.strip()
        return QueryPlan(text=text, main=cleaned)
    keyed = is_key or (lambda _s: True)
    questions = [p for p in parts if is_question(p) and len(p) >= 4]
    flat = _join(parts)
    # "需要什么材料？" means nothing alone: a question without key terms borrows the nearest keyed sentence
    context = next((p for p in reversed(parts) if keyed(p) and len(p) <= 40), "")
    searchable = [q if keyed(q) or not context or q == context else _join([context, q]) for q in questions]
    if len(flat) <= SHORT_MAX_CHARS:
        return QueryPlan(text=text, main=flat, questions=questions if len(questions) > 1 else [])
    facts = [p for p in parts if p not in questions and keyed(p)]
    # the questions come last in a story; facts fill the rest of the budget, nearest to the question first
    tail = questions[-2:] if questions else parts[-1:]
    main = _join(tail)
    for fact in reversed(facts):
        if len(main) + len(fact) > QUERY_MAX_CHARS:
            continue
        main = _join([fact, main])
    if len(main) > QUERY_MAX_CHARS:
        main = main[-QUERY_MAX_CHARS:]
    return QueryPlan(text=text, main=main, questions=questions, searchable=searchable)


def _join(pieces: list[str]) -> str:
    return "".join(p if p[-1] in "。！？!?，,；;" else p + "。" for p in pieces if p).rstrip("。")
