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
    t = re.sub(r"\s*\b(?:dollars?|usd|euros?|eur|bucks|pounds sterling|gbp|quid)$", "", t).strip()
    t = re.sub(r"^(?:us|usd|eur|gbp)\s*(?=[\d.])", "", t)  # "US$80", "EUR 15", "GBP 68"
    m = _NUM_RE.fullmatch(t)
    if m:
        v = float(m.group(1).replace(",", ""))
        if m.group(2):
            scale = _SCALE.get(m.group(2))
            if scale is None:
                return None
            v *= scale
        return v
    return _spelled(t)


# denominators of spelled fractions ("a half", "two thirds", "three quarters")
_FRACTIONS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4, "fourths": 4,
              "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "eighth": 8, "eighths": 8, "tenth": 10, "tenths": 10}


def fraction(text: str) -> float | None:
    """The value of a fraction as people say or write it: '3/4', 'half', 'a half', 'half a', 'two thirds'; else None."""
    ws = [w for w in re.split(r"[\s-]+", text.strip().lower()) if w and w != "of"]
    if len(ws) == 2 and ws[0] in _FRACTIONS and ws[1] in ("a", "an"):  # "half a (gallon)"
        ws = ws[:1]
    if len(ws) == 1:
        m = re.fullmatch(r"(\d+)\s*/\s*(\d+)", ws[0])
        if m and int(m.group(2)):
            return int(m.group(1)) / int(m.group(2))
        return 1 / _FRACTIONS[ws[0]] if ws[0] in _FRACTIONS and not ws[0].endswith("s") else None
    if len(ws) == 2 and ws[1] in _FRACTIONS:
        n = 1.0 if ws[0] in ("a", "an", "one") else _spelled(ws[0]) if not ws[0][:1].isdigit() else float(ws[0])
        return None if n is None or (n > 1) != ws[1].endswith("s") and ws[1] != "halves" else n / _FRACTIONS[ws[1]]
    return None


def _spelled(t: str) -> float | None:
    """Spelled and mixed amounts: 'two hundred and fifty', 'a dozen', '7 and a half', 'one and three quarters', '2 1/2'."""
    mixed = re.fullmatch(r"(.+?)\s+and\s+((?:a|an|one|two|three|\d+)?\s*(?:half|thirds?|quarters?|fourths?|fifths?|sixths?|eighths?|tenths?)"
                         r"|\d+\s*/\s*\d+)", t) or re.fullmatch(r"(\d+)\s+(\d+\s*/\s*\d+)", t)
    if mixed:
        whole, frac = amount(mixed.group(1)), fraction(mixed.group(2))
        if whole is not None and frac is not None and frac < 1 and whole == int(whole):
            return whole + frac
    frac = fraction(t)
    if frac is not None:
        return frac
    words = [w for w in re.split(r"[\s-]+", t) if w not in ("and", "of")]
    if len(words) > 1:
        words = [w for w in words if w not in ("a", "an")]  # "a dozen", "a hundred": the scale alone
    if words and all(w in _SPELLED or w in _SCALE for w in words) and not any(w in ("half", "quarter") for w in words):
        total, cur = 0.0, 0.0
        for w in words:
            if w in _SCALE:
                total += max(cur, 1) * _SCALE[w]
                cur = 0.0
            elif w in ("hundred", "dozen"):
                cur = max(cur, 1) * _SPELLED[w]
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


_FRAC_WORD = r"(?:half|thirds?|quarters?|fourths?|fifths?|sixths?|eighths?|tenths?)"
_COUNT = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
# An amount said in parts, before what it counts: "1 and a half (pounds)", "2 1/2", "3/4", "a quarter (cup)",
# "three quarters of a (mile)", "half a (gallon)". `amt` is the amount; `of a` may follow.
SPOKEN_AMOUNT_RE = re.compile(
    rf"(?<![\w/.,])(?P<amt>{_COUNT}\s+and\s+(?:a|an|one|two|three|\d+)\s+{_FRAC_WORD}|\d+\s+(?:and\s+)?\d+/\d+|\d+/\d+"
    rf"|(?:a|an|{_COUNT})\s+{_FRAC_WORD}|half)(?:\s+of)?(?:\s+an?)?(?![\w/])", re.I)

