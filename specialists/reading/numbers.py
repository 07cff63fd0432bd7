"""Amounts as people write them: '300k', '$5,000', '1.5 million', 'two', 'a', 'half a'."""

from __future__ import annotations

import re

_SPELLED = {"zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
            "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
            "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12, "half": 0.5,
            "quarter": 0.25}
_SCALE = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "mm": 1e6, "mil": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_NUM_RE = re.compile(r"([-+]?\d+(?:,\d{3})*(?:\.\d+)?|[-+]?\.\d+)\s*([a-zA-Z]+)?")


def amount(text: str) -> float | None:
    """The number a span states, or None."""
    t = text.strip().lower().replace("$", "").replace("€", "").replace("£", "").strip(" ,.")
    t = re.sub(r"^(?:about|around|roughly|approximately|some)\s+", "", t)
    t = re.sub(r"\s*\b(?:dollars?|usd|euros?|eur|bucks|pounds sterling|gbp)$", "", t).strip()
    m = _NUM_RE.fullmatch(t)
    if m:
        v = float(m.group(1).replace(",", ""))
        if m.group(2):
            scale = _SCALE.get(m.group(2))
            if scale is None:
                return None
            v *= scale
        return v
    words = re.split(r"[\s-]+", t)
    words = [w for w in words if w not in ("and", "of")]
    if words and all(w in _SPELLED or w in _SCALE for w in words):
        total, cur = 0.0, 0.0
        for w in words:
            if w in _SCALE:
                total += max(cur, 1) * _SCALE[w]
                cur = 0.0
            elif w == "hundred":
                cur = max(cur, 1) * 100
            elif w in ("half", "quarter") and cur:
                cur += _SPELLED[w]
            else:
                cur += _SPELLED[w]
        return total + cur
    return None


def per_year(text: str) -> float | None:
    """How many times a year a frequency phrase means: 'monthly', 'every quarter', 'twice a year', 'each week'."""
    t = text.lower()
    if "continu" in t:
        return float("inf")
    if re.search(r"semi|twice|half|two times|bi-?annual", t):
        return 2.0
    if re.search(r"bi-?weekly|fortnight|two weeks", t):
        return 26.0
    for key, n in (("quarter", 4.0), ("month", 12.0), ("week", 52.0), ("day", 365.0), ("daily", 365.0), ("year", 1.0), ("annual", 1.0)):
        if key in t:
            return n
    return None


def first_number(text: str) -> float | None:
    m = re.search(r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+", text)
    return float(m.group(0).replace(",", "")) if m else None
