"""The one rule for what counts as a phone number a centre can call back (widget form and hotline intake)."""

from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")


def normalize_phone(text: str) -> str | None:
    """An 11-digit mobile number or a landline with its area code, separators removed; ``None`` if neither."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if _MOBILE.match(digits):
        return digits[-11:]
    if _LANDLINE.match(digits):
        return digits
    return None
