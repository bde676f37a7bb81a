"""Turn an elliptical follow-up ("那商标呢？", "需要什么材料？") into a full query.

The conversation keeps the last substantive question; a follow-up is read
against it: a new IP type replaces the old one's words, anything else is
appended as the new focus.
"""

from __future__ import annotations

from consult.vocabulary import IP_WORDS
from core.vocabulary import IP_TYPE_LABELS


def rewrite(followup: str, last_query: str | None, old_ip: str | None, new_ip: str | None) -> str:
    """The query to search for a follow-up message."""
    text = followup.strip()
    if not last_query:
        return text
    base = last_query
    if new_ip and new_ip != old_ip and new_ip in IP_TYPE_LABELS:
        replaced = False
        for word in sorted(IP_WORDS.get(old_ip or "", []), key=len, reverse=True):
            if word in base:
                base = base.replace(word, IP_TYPE_LABELS[new_ip])
                replaced = True
        if not replaced:
            base = f"{IP_TYPE_LABELS[new_ip]} {base}"
        # "那商标呢" adds nothing beyond the new type: the rewritten question is the query
        core = text.strip("？?。.!！ ").removeprefix("那").removesuffix("呢")
        if core in IP_WORDS.get(new_ip, []) or core == IP_TYPE_LABELS[new_ip]:
            return base
    return f"{base} {text}"
