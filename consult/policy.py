"""The graded answer policy: answer, show probable sources, clarify, decline or hand over.

Inputs are what the dialogue knows about one message: the text, DIET's
intent and its confidence, and the retrieval result with its calibrated
confidence.  The policy is a pure function so it can be tested and
evaluated without a running bot; the thresholds come from the calibration
file (chosen on the dev split by the rules stated in docs/dialogue.md).

* confident: the best source answers; quote it with its citations.
* probable: "以下内容可能与您的问题相关" with the best two or three sources.
* clarify: one question about the missing fact, once per question.
* decline: not an IP matter (or nothing relevant at all): say where to go.
* handoff: the user asked, the matter needs a person, or nothing relevant
  was found for an IP question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from index.textnorm import normalize

Tier = Literal["confident", "probable", "clarify", "decline", "handoff"]

#: Intents that say "this is not an IP question" (or that NLU could not tell).
NOT_IP_INTENTS = frozenset({"out_of_scope", "nlu_fallback"})
#: Chit-chat intents: a long message with IP content is still a question.
CHITCHAT_INTENTS = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "stop"})

#: Matters with a deadline or a legal document already served: a person must look at them.
_NEEDS_PERSON = re.compile(
    r"律师函|警告函|传票|应诉通知|起诉状|被起诉|被告了|告我|开庭|判决书|举证期限|答辩期|上诉期|行政处罚决定|立案"
)

#: DIET's word counts for the domain only when it is this sure (chosen on the dev split: below it
#: DIET sent divorce and labour questions to the IP intents as often as IP questions).
NLU_SURE = 0.9

#: A question this short with no IP word and no confident retrieval is too vague to answer.
VAGUE_MAX_CHARS = 16
#: Share of a message's words that occur in the corpus for it to count as "about our topics".
FULL_COVERAGE = 0.999


@dataclass(frozen=True)
class Thresholds:
    """Calibrated-confidence cut-offs (``confident`` >= ``probable``).

    ``domain``: at or above it, retrieval alone says the message is an IP
    matter, whatever DIET thinks (almost no non-IP dev question gets there).
    """

    confident: float
    probable: float
    domain: float = 1.0
    #: cut-off on the fitted domain model's probability (when there is one)
    routing: float = 0.5


@dataclass(frozen=True)
class Nlu:
    """What DIET said about the message."""

    intent: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Decision:
    tier: Tier
    #: why (for the ticket, the logs and the evaluation)
    reason: str
    #: a person should look at it even though an answer is shown
    also_handoff: bool = False


def needs_person(text: str) -> bool:
    """A lawyer's letter, a summons, a court date or a deadline is mentioned."""
    return bool(_NEEDS_PERSON.search(normalize(text)))


def decide(
    text: str,
    confidence: float,
    thresholds: Thresholds,
    *,
    nlu: Nlu,
    mentions_ip: bool,
    clarified: bool,
    coverage: float = 1.0,
    best_kind: str = "entry",
    ip_probability: float | None = None,
) -> Decision:
    """Choose how to reply to one question.

    Domain routing uses both DIET and the retriever: an IP question DIET
    calls out-of-scope is still answered when it names IP terms or its
    retrieval confidence reaches the domain threshold; a question DIET sends
    to the IP intents is declined when it names no IP term and retrieval
    finds nothing probable, or DIET is not sure of it.
    With a fitted domain model (``ip_probability``, see consult/domain.py), its
    probability against ``thresholds.routing`` replaces that rule.
    A short question outside both is clarified only when all its words occur
    in the IP corpus (``coverage``): "我想维权" is vague, "离婚房子怎么分" is not IP.
    A statute article alone is never the confident answer (quoted bare, it is
    too often beside the point): it is shown among the probable sources, next
    to the entries that explain it.
    """
    urgent = needs_person(text)
    if confidence >= thresholds.confident:
        if best_kind == "policy":
            return Decision("probable", "statute_only", also_handoff=urgent)
        return Decision("confident", "retrieval_confident", also_handoff=urgent)
    if ip_probability is not None:
        in_domain = ip_probability >= thresholds.routing
    else:
        in_domain = (
            mentions_ip
            or confidence >= thresholds.domain
            or (
                confidence >= thresholds.probable
                and nlu.intent not in NOT_IP_INTENTS
                and (nlu.confidence is None or nlu.confidence >= NLU_SURE)
            )
        )
    if not in_domain:
        if urgent:
            return Decision("handoff", "needs_person")
        short = len(normalize(text)) <= VAGUE_MAX_CHARS and coverage >= FULL_COVERAGE
        if short and not clarified and nlu.intent not in NOT_IP_INTENTS and nlu.intent not in CHITCHAT_INTENTS:
            return Decision("clarify", "vague")
        return Decision("decline", "out_of_scope")
    if confidence >= thresholds.probable:
        return Decision("probable", "retrieval_probable", also_handoff=urgent)
    if urgent:
        return Decision("handoff", "needs_person")
    if not clarified and len(normalize(text)) <= VAGUE_MAX_CHARS:
        return Decision("clarify", "vague")
    return Decision("handoff", "low_confidence")
