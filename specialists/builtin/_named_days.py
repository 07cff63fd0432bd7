"""Named days of the calendar ("Christmas 2026", "New Year's Day 2031", "Thanksgiving 2027") as ISO dates,
for the `dates` specialist."""

from __future__ import annotations

import re
from datetime import date, timedelta


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(weekday - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _easter(year: int) -> date:
    from dateutil.easter import easter

    return easter(year)


# Named days (fixed dates, and rules for the movable ones), read with their year: "Christmas 2026".
_HOLIDAYS: list[tuple[str, object]] = [
    (r"new\s+year'?s\s+eve", (12, 31)), (r"new\s+year'?s(?:\s+day)?", (1, 1)), (r"christmas\s+eve", (12, 24)),
    (r"(?:christmas|xmas)(?:\s+day)?", (12, 25)), (r"boxing\s+day", (12, 26)), (r"halloween", (10, 31)),
    (r"valentine'?s(?:\s+day)?", (2, 14)), (r"(?:us\s+)?independence\s+day|(?:the\s+)?fourth\s+of\s+july", (7, 4)),
    (r"st\.?\s+patrick'?s(?:\s+day)?", (3, 17)), (r"(?:us\s+)?thanksgiving(?:\s+day)?", lambda y: _nth_weekday(y, 11, 3, 4)),
    (r"easter(?:\s+sunday)?", _easter), (r"mother'?s\s+day", lambda y: _nth_weekday(y, 5, 6, 2)),
    (r"father'?s\s+day", lambda y: _nth_weekday(y, 6, 6, 3)),
]
_HOLIDAY_RE = re.compile(r"\b(?P<h>" + "|".join(f"(?:{p})" for p, _ in _HOLIDAYS) + r")(?:\s*,?\s*(?:of\s+|in\s+)?(?P<y>\d{4})\b)?", re.I)


def resolve_named_days(text: str, today: date | None = None) -> tuple[str, list[str]]:
    """Replace named days by ISO dates ("Christmas 2026" -> "2026-12-25"); returns the text and the readings."""
    readings: list[str] = []

    def sub(m: re.Match) -> str:
        name = m.group("h")
        rule = next(r for p, r in _HOLIDAYS if re.fullmatch(p, name, re.I))
        year = int(m.group("y")) if m.group("y") else (today or date.today()).year
        d = rule(year) if callable(rule) else date(year, *rule)
        readings.append(f"{m.group(0)} = {d.isoformat()}" + ("" if m.group("y") else " (no year given; this year)"))
        return d.isoformat()

    return _HOLIDAY_RE.sub(sub, text), readings
