"""Word-level tokenisation shared by the generators, the training and the readers."""

from __future__ import annotations

import re

# Dates, clock times, chemical formulas with digits ("C8H10N4O2", "Ca(OH)2") and numbers first (kept whole), then
# words (with °, /, ', ² inside), then single symbols.
_WORD_RE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?"
    r"|(?=[A-Z(][A-Za-z()]*\d)(?:[A-Z][a-z]?\d*|\((?:[A-Z][a-z]?\d*)+\)\d*)+"
    r"|\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
    r"|°[A-Za-z]|[A-Za-zµ][A-Za-zµ°'/²³]*|\S"
)


def split(text: str) -> list[tuple[str, int, int]]:
    """The words of `text` with their character offsets."""
    return [(m.group(0), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def words(text: str) -> list[str]:
    return [w for w, _, _ in split(text)]
