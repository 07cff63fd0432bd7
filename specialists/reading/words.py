"""Word-level tokenisation shared by the generators, the training and the readers."""

from __future__ import annotations

import re
from functools import lru_cache

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


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """scikit-learn's English stop-word list, read from its module file: importing it as a module would run
    ``sklearn/__init__`` and ``sklearn.feature_extraction`` (its text module, scipy: ~2-4 CPU-s of a cold solve)."""
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("sklearn")  # a top-level package: found, not imported
        path = Path(next(iter(spec.submodule_search_locations or []))) / "feature_extraction" / "_stop_words.py"
        mod_spec = importlib.util.spec_from_file_location("_micromarket_sklearn_stop_words", path)
        mod = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(mod)  # the file is one frozenset literal
        return frozenset(mod.ENGLISH_STOP_WORDS)
    except (ImportError, StopIteration, AttributeError, TypeError, OSError):
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # deferred: scikit-learn

        return frozenset(ENGLISH_STOP_WORDS)
