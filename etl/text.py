"""Text normalisation shared by header matching, place lookup and value parsing."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: object) -> str:
    """NFKC-fold (full-width → half-width digits, brackets, letters) and strip all whitespace.

    Clerks type 清运垃圾（吨）, 清运垃圾(吨) and "清运 垃圾\n（吨）" for the same header; folding makes them equal.
    """
    if text is None:
        return ""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(text)))
