"""`dates` specialist: calendar arithmetic and date normalisation (python-dateutil + stdlib).

Run as ``python -m specialists.builtin.dates`` (an MCP server on stdio).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dateutil import parser as du_parser
from dateutil.relativedelta import relativedelta

from micromarket.specialists.builtin._common import reader, capped, checked, compete, clean, fail, make_server, qualified, serve, understood
from micromarket.specialists.builtin._named_days import resolve_named_days
from micromarket.specialists.reading import read
from micromarket.specialists.reading.numbers import amount
from micromarket.specialists.result import SolveResult

SPECIALIST_ID = "dates"

WEEKDAYS = list(calendar.day_name)
_WEEKDAY_RE = re.compile(r"\b(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|rsday|urday)?\b\.?,?", re.I)
_MONTH_RE = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_MONTH_ABBR = [m.lower() for m in calendar.month_abbr[1:]]
_MONTH_NAME = (r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may(?!\s+(?:i|we|you|he|she|it|they|be|have|not)\b)|june?|july?|aug(?:ust)?"
               r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?")  # "may I": a verb
_FILLER = {"the", "of", "on", "at", ",", "", "in", "year", "a", "an", "day", "date"}
_RELATIVE = {"today": 0, "now": 0, "tomorrow": 1, "yesterday": -1}


@dataclass
class ParsedDate:
    value: date
    confidence: float
    notes: list[str] = field(default_factory=list)


def parse_date(text: str, *, today: date | None = None) -> ParsedDate | None:
    """Read one date written in any common form; None when the text is not a date."""
    raw = clean(text).strip(" ,'\"“”‘’")
    raw = re.sub(r"^(?:on|the|date|of)\s+", "", raw, flags=re.I).strip()
    if not raw:
        return None
    low = raw.lower()
    if low in _RELATIVE:
        base = today or date.today()
        return ParsedDate(base + timedelta(days=_RELATIVE[low]), 0.9, [f"'{low}' taken as {base + timedelta(days=_RELATIVE[low])}"])
    if not (re.search(r"\d", raw)):
        return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+Z?)?", raw)
    if m:
        try:
            return ParsedDate(date(int(m[1]), int(m[2]), int(m[3])), 0.99)
        except ValueError:
            return None
    notes: list[str] = []
    conf = 0.97
    wd = _WEEKDAY_RE.search(raw)
    stated_weekday = None
    if wd:
        stated_weekday = next(i for i, n in enumerate(WEEKDAYS) if n.lower().startswith(wd.group(1).lower()[:3]))
        raw = (raw[: wd.start()] + " " + raw[wd.end():]).strip(" ,")
    if re.search(r"(?<![\d/.-])\d+\s*/\s*\d+(?![\d/.-])\s*[a-z]", raw, re.I) and len(re.findall(r"\d+", raw)) > 2:
        return None  # a fraction and another number ("3/4 of 96") is no date: only "3/4/1996" writes one with slashes
    dayfirst = False
    num = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})", raw)
    if num:
        a, b = int(num[1]), int(num[2])
        if a > 12 >= b:
            dayfirst = True
        elif a <= 12 and b <= 12 and a != b:
            conf = min(conf, 0.6)
            notes.append(f"ambiguous day/month order in {raw!r}; read as month/day (US)")
    try:
        d1, skipped = du_parser.parse(raw, fuzzy_with_tokens=True, dayfirst=dayfirst, default=datetime(2000, 1, 1))
        d2 = du_parser.parse(raw, fuzzy=True, dayfirst=dayfirst, default=datetime(2004, 2, 2))
    except (ValueError, OverflowError, du_parser.ParserError):
        return None
    leftovers = [t.strip(" ,.").lower() for t in skipped if t.strip(" ,.").lower() not in _FILLER]
    words = [w for t in leftovers for w in t.split() if w not in _FILLER]
    if words:
        if len(words) > 2:
            return None
        conf = min(conf, 0.5)
        notes.append(f"ignored {' '.join(words)!r}")
    result = d1.date()
    if result.year < 1000:
        return None  # "2/3 of 150" is no date in the year 150
    if d1.year != d2.year:
        result = result.replace(year=(today or date.today()).year)
        conf = min(conf, 0.55)
        notes.append(f"no year given; assumed {result.year}")
    elif not re.search(rf"(?<!\d){d1.year}(?!\d)", raw):
        two = re.search(r"(?<!\d)(\d{2})(?!\d)", raw)
        conf = min(conf, 0.75)
        notes.append(f"two-digit year {two.group(1) if two else ''!s} read as {d1.year}".replace("  ", " "))
    if d1.month != d2.month:
        return None
    if d1.day != d2.day:
        conf = min(conf, 0.4)
        notes.append("no day given; assumed the 1st")
    if stated_weekday is not None:
        if result.weekday() == stated_weekday:
            conf = min(0.97, conf + 0.15)
            notes.append(f"weekday {WEEKDAYS[stated_weekday]} agrees")
        else:
            conf = min(conf, 0.4)
            notes.append(f"stated weekday {WEEKDAYS[stated_weekday]} does not match {WEEKDAYS[result.weekday()]}")
    return ParsedDate(result, round(conf, 3), notes)


def _human(d: date) -> str:
    return f"{calendar.month_name[d.month]} {d.day}, {d.year}"


def _notes(*parsed: ParsedDate) -> str:
    notes = [n for p in parsed for n in p.notes]
    return f" ({'; '.join(notes)})" if notes else ""


# --- operations ---------------------------------------------------------------------------------------


def normalize_date(text: str) -> SolveResult:
    """Normalise a date written in any common form to ISO 8601 (YYYY-MM-DD)."""
    p = parse_date(text)
    if p is None:
        return fail(f"{text.strip()!r} is not a recognisable date")
    iso = p.value.isoformat()
    return SolveResult(answer=iso, confidence=p.confidence,
                       explanation=f"{text.strip()!r} is {WEEKDAYS[p.value.weekday()]}, {_human(p.value)}{_notes(p)}", value=iso)


def day_of_week(text: str) -> SolveResult:
    p = parse_date(text)
    if p is None:
        return fail(f"{text.strip()!r} is not a recognisable date")
    name = WEEKDAYS[p.value.weekday()]
    return SolveResult(answer=f"{_human(p.value)} is a {name}" if p.value >= date.today() else f"{_human(p.value)} was a {name}",
                       confidence=p.confidence, explanation=f"proleptic Gregorian calendar{_notes(p)}", value=name)


def _span(a: date, b: date) -> str:
    rd = relativedelta(max(a, b), min(a, b))
    parts = [(rd.years, "year"), (rd.months, "month"), (rd.days, "day")]
    words = [f"{n} {w}{'s' if n != 1 else ''}" for n, w in parts if n]
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1] if words else "0 days"


def _business_days(a: date, b: date) -> int:
    lo, hi = min(a, b), max(a, b)
    weeks, extra = divmod((hi - lo).days, 7)
    n = weeks * 5
    for i in range(extra):
        if (lo + timedelta(days=weeks * 7 + i)).weekday() < 5:
            n += 1
    return n


def difference(start: str, end: str, unit: str = "days") -> SolveResult:
    """Time between two dates, in days (default), weeks, months, years or business days."""
    pa, pb = parse_date(start), parse_date(end)
    if pa is None or pb is None:
        return fail(f"{(start if pa is None else end).strip()!r} is not a recognisable date")
    a, b = pa.value, pb.value
    days = (b - a).days
    unit = unit.lower().rstrip("s") if unit else "day"
    span = _span(a, b)
    if unit == "week":
        value = days / 7
        w, r = divmod(abs(days), 7)
        text = f"{value:g} weeks" if r == 0 else f"{abs(days) / 7:.2f} weeks ({w} weeks and {r} day{'s' if r != 1 else ''})"
    elif unit == "month":
        rd = relativedelta(max(a, b), min(a, b))
        value = float(rd.years * 12 + rd.months)
        text = f"{int(value)} full month{'s' if value != 1 else ''} ({span})"
    elif unit == "year":
        rd = relativedelta(max(a, b), min(a, b))
        value = float(rd.years)
        text = f"{rd.years} full year{'s' if rd.years != 1 else ''} ({span})"
    elif unit in ("business day", "weekday", "working day"):
        value = float(_business_days(a, b))
        text = f"{int(value)} business days (Monday–Friday, holidays not excluded)"
    elif unit in ("hour", "minute", "second"):
        mult = {"hour": 24, "minute": 1440, "second": 86400}[unit]
        value = float(abs(days) * mult)
        text = f"{int(value):,} {unit}s"
    else:
        value = float(abs(days))
        text = f"{abs(days)} day{'s' if abs(days) != 1 else ''}" + (f" ({span})" if abs(days) >= 28 else "")
    order = "" if days >= 0 else " (the second date is earlier)"
    conf = min(pa.confidence, pb.confidence)
    return SolveResult(answer=text, confidence=conf,
                       explanation=f"from {a.isoformat()} to {b.isoformat()}: {days} days{order}; end date not counted{_notes(pa, pb)}",
                       value=value)


_UNIT_ALIASES = {"d": "days", "day": "days", "days": "days", "week": "weeks", "weeks": "weeks", "wk": "weeks", "wks": "weeks",
                 "fortnight": "fortnights", "fortnights": "fortnights", "month": "months", "months": "months", "mo": "months",
                 "year": "years", "years": "years", "yr": "years", "yrs": "years", "decade": "decades", "decades": "decades",
                 "business day": "business days", "business days": "business days", "working days": "business days",
                 "working day": "business days", "weekdays": "business days"}
_DUR_RE = re.compile(r"\b(\d+(?=\s*[a-z])|(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten)(?=\s))\s*(business\s+days?|working\s+days?|weekdays|days?|d|weeks?|wks?|fortnights?|months?|mo|years?|yrs?|decades?)\b", re.I)
_WORDNUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def parse_duration(text: str) -> dict[str, int] | None:
    """'1 year and 2 months' -> {'years': 1, 'months': 2}; None unless the whole text is a duration."""
    found: dict[str, int] = {}
    rest = text
    for m in _DUR_RE.finditer(text):
        n = int(m.group(1)) if m.group(1).isdigit() else _WORDNUM[m.group(1).lower()]
        key = _UNIT_ALIASES[re.sub(r"\s+", " ", m.group(2).lower())]
        found[key] = found.get(key, 0) + n
        rest = rest.replace(m.group(0), " ", 1)
    if not found or re.sub(r"\b(?:and|plus)\b|[,\s]", "", rest, flags=re.I):
        return None
    return found


def _add_business_days(d: date, n: int) -> date:
    step = 1 if n >= 0 else -1
    while n:
        d += timedelta(days=step)
        if d.weekday() < 5:
            n -= step
    return d


def add_duration(start: str, days: int = 0, weeks: int = 0, months: int = 0, years: int = 0, business_days: int = 0) -> SolveResult:
    """Add (or, with negative numbers, subtract) a duration to a date."""
    p = parse_date(start)
    if p is None:
        return fail(f"{start.strip()!r} is not a recognisable date")
    try:
        out = p.value + relativedelta(years=years, months=months, weeks=weeks, days=days)
        out = _add_business_days(out, business_days) if business_days else out
    except (ValueError, OverflowError):
        return fail("the resulting date is outside years 1-9999")
    parts = [(years, "year"), (months, "month"), (weeks, "week"), (days, "day"), (business_days, "business day")]
    sign = "-" if all(n <= 0 for n, _ in parts) and any(n for n, _ in parts) else "+"
    desc = " ".join(f"{abs(n)} {w}{'s' if abs(n) != 1 else ''}" for n, w in parts if n) or "0 days"
    clipped = (months or years) and out.day != p.value.day and not (days or weeks or business_days)
    note = "; month arithmetic clips to the last day of the month" if clipped else ""
    return SolveResult(answer=f"{out.isoformat()} ({WEEKDAYS[out.weekday()]}, {_human(out)})", confidence=p.confidence,
                       explanation=f"{p.value.isoformat()} {sign} {desc} = {out.isoformat()}{note}{_notes(p)}", value=out.isoformat())


def is_leap_year(year: int) -> SolveResult:
    leap = calendar.isleap(year)
    why = ("divisible by 400" if year % 400 == 0 else "divisible by 100 but not by 400" if year % 100 == 0
           else "divisible by 4" if year % 4 == 0 else "not divisible by 4")
    return SolveResult(answer=f"{'Yes' if leap else 'No'}, {year} is {'' if leap else 'not '}a leap year ({why})",
                       confidence=0.99, explanation="Gregorian rule: every 4th year, except centuries not divisible by 400",
                       value="yes" if leap else "no")


# --- routing of free text -------------------------------------------------------------------------------

_LEAD = re.compile(r"^(?:please\s+|can you\s+|tell me\s+)*(?:what\s+is\s+|what's\s+|find\s+|calculate\s+|compute\s+|give\s+me\s+)?(?:the\s+)?", re.I)
_LEAP_RE = re.compile(r"\b(?:is|was|will)\s+(?:the\s+year\s+)?(\d{1,4})\s+(?:be\s+)?a\s+leap\s*year|\bleap\s*year\b.*?\b(\d{3,4})\b|\b(\d{3,4})\b.*\bleap\s*year", re.I)
_WEEKDAY_Q = [
    re.compile(r"^(?:what\s+|which\s+)?day\s+of\s+(?:the\s+)?week\s+(?:is|was|will\s+be|will|did|does|for|of|on)?\s*(?P<d>.+?)(?:\s+(?:be|fall\s+on|falls?\s+on|fall|land\s+on))?$", re.I),
    re.compile(r"^(?:what|which)\s+(?:week)?day\s+(?:is|was|will|did|does)\s+(?P<d>.+?)(?:\s+(?:be|fall\s+on|fall|land\s+on))?$", re.I),
    re.compile(r"^(?:the\s+)?weekday\s+(?:of|for|on)\s+(?P<d>.+)$", re.I),
    re.compile(r"^(?:which|what)\s+day\s+(?:of\s+the\s+week\s+)?(?:was|is)\s+(?P<d>.+)$", re.I),
]
_DIFF_Q = [
    re.compile(r"^how\s+many\s+(?P<u>business\s+days|working\s+days|weekdays|days|weeks|months|years|hours|minutes|seconds)\s+(?:are\s+there\s+|is\s+it\s+|have\s+passed\s+|passed\s+|elapsed\s+)?(?:between|from|since)\s+(?P<a>.+?)\s+(?:and|to|until|till|through)\s+(?P<b>.+)$", re.I),
    re.compile(r"^how\s+many\s+(?P<u>business\s+days|working\s+days|weekdays|days|weeks|months|years|hours|minutes|seconds)\s+(?:are\s+there\s+|is\s+it\s+|are\s+left\s+)?(?:until|till|to|before)\s+(?P<b>.+?)\s+(?:from|since|starting(?:\s+from)?|counting\s+from)\s+(?P<a>.+)$", re.I),
    re.compile(r"^how\s+many\s+(?P<u>business\s+days|working\s+days|weekdays|days|weeks|months|years|hours|minutes|seconds)\s+(?:are\s+there\s+|is\s+it\s+|are\s+left\s+)?(?:until|till|to|before)\s+(?P<b>.+)$", re.I),
    re.compile(r"^how\s+many\s+(?P<u>business\s+days|working\s+days|weekdays|days|weeks|months|years|hours|minutes|seconds)\s+(?:have\s+passed\s+|has\s+it\s+been\s+|is\s+it\s+)?since\s+(?P<a>.+)$", re.I),
    re.compile(r"^(?:number\s+of\s+)?(?P<u>business\s+days|days|weeks|months|years)\s+(?:between|from)\s+(?P<a>.+?)\s+(?:and|to|until)\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?:difference|time|duration|how\s+long)\s+(?:is\s+it\s+)?(?:in\s+(?P<u>days|weeks|months|years)\s+)?(?:between|from)\s+(?P<a>.+?)\s+(?:and|to|until)\s+(?P<b>.+?)(?:\s+in\s+(?P<u2>days|weeks|months|years))?$", re.I),
]
_ADD_Q = [
    re.compile(r"^(?P<op>add|subtract)\s+(?P<dur>.+?)\s+(?:to|from)\s+(?P<d>.+)$", re.I),
    re.compile(r"^(?:what\s+(?:date|day)\s+(?:is|was|will\s+it\s+be|will\s+be)\s+|date\s+)?(?P<dur>.+?)\s+(?P<op>after|from|later\s+than|before|prior\s+to|earlier\s+than)\s+(?P<d>.+)$", re.I),
    re.compile(r"^(?:what\s+(?:date|day)\s+is\s+)?(?P<d>.+?)\s+(?P<op>plus|minus|\+|-)\s+(?P<dur>\d.*|an?\s.+|one\s.+)$", re.I),
    re.compile(r"^(?:what\s+(?:date|day)\s+(?:is|was|will\s+it\s+be)\s+)?(?P<dur>.+?)\s+(?P<op>ago|from\s+now|from\s+today|later)$", re.I),
]
_NORMALIZE_Q = re.compile(
    r"^(?:normali[sz]e|convert|format|rewrite|write|express|parse|standardi[sz]e)\s+(?:the\s+date\s+)?(?P<d>.+?)(?:\s+(?:to|as|in|into)\s+(?:iso(?:[\s-]?8601)?|yyyy-mm-dd|standard)(?:\s+format)?(?:\s+date)?)?$"
    r"|^(?:what\s+is\s+|what's\s+)?(?P<d2>.+?)\s+(?:in|to|as)\s+(?:iso(?:[\s-]?8601)?|yyyy-mm-dd)(?:\s+format)?$"
    r"|^(?:iso(?:\s+8601)?|iso\s+date)\s+(?:for|of)\s+(?P<d3>.+)$",
    re.I,
)


_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"
_AGE_RE = re.compile(r"^how\s+old\s*,?\s*(?:in\s+(?P<u>years|months|days)\s*,?\s*)?(?:will|is|was|would)\s+(?:someone|a\s+person|somebody|he|she|they|you|I)\s+"
                     r"(?:be\s+)?born\s+(?:on\s+)?(?P<a>.+?)\s+(?:be\s+)?(?:on|at|in|by)\s+(?P<b>.+?)$", re.I)


def _clock_difference(a: str, b: str, unit: str) -> SolveResult | None:
    """Hours, minutes or seconds between two date-times ('2026-11-29 09:15')."""
    if not (re.search(_CLOCK, a) and re.search(_CLOCK, b)):
        return None
    try:
        ta, tb = du_parser.parse(a), du_parser.parse(b)
    except (ValueError, OverflowError):
        return None
    secs = (tb - ta).total_seconds()
    per = {"hour": 3600, "minute": 60, "second": 1}[unit]
    value = secs / per
    return SolveResult(answer=f"{value:g} {unit}s", confidence=0.97, value=value,
                       explanation=f"from {ta.isoformat(sep=' ', timespec='minutes')} to {tb.isoformat(sep=' ', timespec='minutes')}")


# a time of day: "9:30", "5:15 pm", "7 am", "noon", "midnight"
_TIME_OF_DAY = re.compile(r"\b(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>[ap])\.?\s?m\b\.?|\b(?P<h2>\d{1,2}):(?P<m2>\d{2})\b(?!\s*:)|\b(?P<w>noon|midday|midnight)\b", re.I)
_HAS_DATE = re.compile(rf"\b\d{{4}}\b|{_MONTH_NAME}|\b(?:today|tomorrow|yesterday)\b", re.I)
_DURATION_ASK = re.compile(r"\b(?P<u>hours?|hrs?|minutes?|mins?|seconds?|secs?)\b|\bhow\s+long\b|\bduration\b|\belapsed\b|\btime\s+between\b", re.I)
_CONDITION = re.compile(r"\b(?:excluding|exclude|except|not\s+(?:counting|including)|without|skip\w*|only|ignoring|apart\s+from|leaving\s+out|minus|break|lunch)\b", re.I)


def _minutes_of_day(m: re.Match) -> int | None:
    if m["w"]:
        return 12 * 60 if m["w"].lower() in ("noon", "midday") else 0
    h, mins = int(m["h"] or m["h2"]), int(m["m"] or m["m2"] or 0)
    if mins > 59 or h > (12 if m["ap"] else 23) or (m["ap"] and h == 0):
        return None
    if m["ap"]:
        h = h % 12 + (12 if m["ap"].lower() == "p" else 0)
    return h * 60 + mins


def clock_span(text: str) -> SolveResult | None:
    """The time between two times of day with no date ("9:30 am to 5:15 pm", "leaves 10:40 pm, lands 6:05 am"):
    an end earlier than the start is the next day. None when the text does not have that shape."""
    times = list(_TIME_OF_DAY.finditer(text))
    asks = list(_DURATION_ASK.finditer(text))
    ask = next((a for a in asks if a["u"]), asks[0] if asks else None)  # a named unit decides
    if len(times) != 2 or not ask or _HAS_DATE.search(text):
        return None
    a, b = (_minutes_of_day(t) for t in times)
    if a is None or b is None:
        return None
    mins = b - a + (24 * 60 if b < a else 0)
    h, m = divmod(mins, 60)
    both = f"{h} hour{'s' if h != 1 else ''}" + (f" {m} minute{'s' if m != 1 else ''}" if m else "")
    unit = (ask["u"] or "").lower()
    if unit.startswith(("min",)):
        answer, value = f"{mins} minutes ({both})", float(mins)
    elif unit.startswith(("sec",)):
        answer, value = f"{mins * 60:,} seconds ({both})", float(mins * 60)
    else:
        answer, value = (f"{round(mins / 60, 3):g} hours ({both})" if m else both), mins / 60
    night = "; the end is earlier in the day, so it is the next day" if b < a else ""
    return SolveResult(answer=answer, confidence=0.95, value=value,
                       explanation=f"from {times[0].group(0).strip()} to {times[1].group(0).strip()}: {mins} minutes{night}")


_MONTH_DAYS = re.compile(rf"\bhow\s+many\s+days\b|\bnumber\s+of\s+days\b|\bdays\s+(?:are\s+)?in\b|\bhow\s+long\s+is\b", re.I)
_A_MONTH = re.compile(rf"(?P<mon>{_MONTH_NAME})(?:\s*,?\s*(?:of\s+)?(?P<y>\d{{4}}))?\b", re.I)  # a month's name, not "decade"
_A_YEAR = re.compile(r"\b(?:the\s+)?(?:year\s+)?(?P<y>\d{4})\b(?!\s*(?:hours?|hrs?|h|minutes?|mins?|seconds?|secs?|s|days?|weeks?|months?|years?)\b)", re.I)


_SHIFT = re.compile(r"(?P<n>\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|half\s+an)\s*(?P<u>hours?|hrs?|h|minutes?|mins?)\b", re.I)
_ASKS_END = re.compile(r"\b(?:when|what\s+time)\s+(?:do|does|will|did|would)\s+(?:it|the\s+\w+|they|we|I|you|he|she)\s+"
                       r"(?:end|finish|arrive|land|get\s+(?:in|there|home|back)|be\s+(?:over|done|back))\b", re.I)


def clock_shift(text: str) -> SolveResult | None:
    """The time of day a duration after or before a time ("what time is it 3 hours and 20 minutes after 10:50 am").
    None when the text does not have that shape."""
    times = list(_TIME_OF_DAY.finditer(text))
    if len(times) != 1 or _HAS_DATE.search(text) or not re.search(r"\bwhat\s+time\b|\bwhen\b|\btime\s+(?:will|is|was)\b", text, re.I):
        return None
    rest = text[:times[0].start()] + " " + text[times[0].end():]
    parts = list(_SHIFT.finditer(rest))
    later = bool(_LATER.search(rest) or re.search(r"\bfrom\b", rest, re.I))  # "2 hours from 9 am": from a time is later
    earlier = bool(_EARLIER.search(rest))
    if not later and not earlier and _ASKS_END.search(rest):
        later = True  # a start and a length, asked when it ends
    start = _minutes_of_day(times[0])
    if not parts or later == earlier or start is None:
        return None
    mins = 0.0
    for p in parts:
        n = p["n"].lower()
        k = 0.5 if n.startswith("half") else 1 if n in ("a", "an") else amount(n)
        if k is None:
            return None
        mins += k * (60 if p["u"].lower().startswith("h") else 1)
    if mins != int(mins):
        return None
    end = start + int(mins) * (1 if later else -1)
    days, end = divmod(end, 24 * 60)
    h, m = divmod(end, 60)
    shown = f"{(h % 12) or 12}:{m:02d} {'am' if h < 12 else 'pm'} ({h:02d}:{m:02d})"
    when = "" if not days else f", {'the next day' if days == 1 else 'the day before' if days == -1 else f'{days:+d} days'}"
    return SolveResult(answer=shown + when, confidence=0.95, value=f"{h:02d}:{m:02d}",
                       explanation=f"{times[0].group(0).strip()} {'+' if later else '-'} {int(mins)} minutes ({' '.join(p.group(0) for p in parts)})")


_BARE_YEAR = re.compile(r"(?<![\d/.:-])(?:the\s+year\s+)?(?P<y>1[0-9]{3}|20[0-9]{2}|2100)(?![\d/.:-])")
_N_YEARS = re.compile(r"(?P<n>\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|a\s+hundred)\s+(?P<u>years?|decades?|centur(?:y|ies))\b", re.I)


def year_only(text: str) -> SolveResult | None:
    """Questions about whole years with no month or day: "what year is 25 years after 1999", "how many years from
    1939 to 1945", "how old is someone born in 1985 in 2026". None when the text has another shape."""
    if re.search(_MONTH_NAME, text, re.I) or re.search(r"\d{4}-\d{1,2}|\d{1,2}/\d{1,2}", text) or _HAS_N_DAYS.search(text):
        return None
    years = [int(m["y"]) for m in _BARE_YEAR.finditer(text)]
    if len(years) == 2 and re.search(r"\bhow\s+(?:many\s+years|long|old)\b|\bnumber\s+of\s+years\b|\byears\s+(?:between|from|passed|elapsed|apart)\b", text, re.I) \
            and not _N_YEARS.search(text.replace(str(years[0]), "").replace(str(years[1]), "")):
        a, b = years
        n = abs(b - a)
        born = re.search(r"\bborn\b|\bold\b|\bage\b", text, re.I)
        answer = f"{n} years" + (f" ({n - 1} until the birthday in {max(a, b)})" if born else "")
        note = "whole calendar years; no months or days were given" + ("; the age turns on the birthday's date" if born else "")
        return SolveResult(answer=answer, confidence=0.9 if born else 0.95, value=float(n), explanation=f"{max(a, b)} − {min(a, b)} = {n}; {note}")
    if len(years) == 1 and re.search(r"\bwhat\s+year\b|\bwhich\s+year\b|\bin\s+what\s+year\b|\byear\s+will\b", text, re.I):
        turn = re.search(r"\bborn\b.*\bturns?\s+(?P<n>\d{1,3})\b", text, re.I)
        if turn:  # "in what year will a child born in 2019 turn 18"
            y = years[0] + int(turn["n"])
            return SolveResult(answer=f"{y}", confidence=0.95, value=float(y), explanation=f"born {years[0]}, turns {turn['n']} in {years[0]} + {turn['n']}")
        shifts = list(_N_YEARS.finditer(text))
        later = re.search(r"\b(?:after|later|from|past|on\s+from|plus|hence)\b", text, re.I)
        earlier = re.search(r"\b(?:before|earlier|ago|prior\s+to|minus|back)\b", text, re.I)
        if len(shifts) != 1 or bool(later) == bool(earlier):
            return None
        n = amount(shifts[0]["n"])
        if n is None or n != int(n):
            return None
        per = {"y": 1, "d": 10, "c": 100}[shifts[0]["u"].lower()[0]]
        y = years[0] + int(n) * per * (1 if later else -1)
        return SolveResult(answer=f"{y}", confidence=0.95, value=float(y),
                           explanation=f"{years[0]} {'+' if later else '−'} {int(n) * per} years ({shifts[0].group(0)})")
    return None


_DAY_NAMES = {d.lower(): i for i, d in enumerate(WEEKDAYS)}
_A_DAY_NAME = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_NTH = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1}


def weekday_counts(text: str) -> SolveResult | None:
    """A weekday counted in a span ("how many Mondays between 1 March 2027 and 31 March 2027", "how many Fridays in
    June 2027") or the nth weekday of a month ("the third Thursday of November 2027"). None for other shapes."""
    nth = re.search(rf"\b(?P<n>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\s+{_A_DAY_NAME}\s+(?:of|in)\s+(?P<rest>.+)$", text, re.I)
    count = re.search(rf"\bhow\s+many\s+{_A_DAY_NAME}s\b(?P<rest>.*)$", text, re.I)
    if not nth and not count:
        return None
    m = nth or count
    wd = _DAY_NAMES[m["wd"].lower()]
    rest = m["rest"].strip(" ?.")
    span = re.search(r"(?:between|from)\s+(?P<a>.+?)\s+(?:and|to|until|till|through)\s+(?P<b>.+)$", rest, re.I)
    month = _A_MONTH.search(rest)
    if span and count:
        pa, pb = parse_date(span["a"]), parse_date(span["b"])
        if pa is None or pb is None:
            return None
        a, b = sorted((pa.value, pb.value))
        days = [a + timedelta(days=k) for k in range((b - a).days + 1)]
        where, note = f"{a.isoformat()} to {b.isoformat()}", "both ends counted"
    elif month and month["y"] and not re.search(r"\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH_RE, rest, re.I):
        y, mo = int(month["y"]), _MONTH_ABBR.index(month["mon"].lower()[:3]) + 1
        days = [date(y, mo, d) for d in range(1, calendar.monthrange(y, mo)[1] + 1)]
        where, note = f"{calendar.month_name[mo]} {y}", "the whole month"
    else:
        return None
    hits = [d for d in days if d.weekday() == wd]
    name = calendar.day_name[wd]
    if count:
        return SolveResult(answer=f"{len(hits)} {name}s ({where})", confidence=0.95, value=float(len(hits)),
                           explanation=f"{name}s from {where}, {note}: " + ", ".join(d.isoformat() for d in hits))
    k = _NTH[nth["n"].lower()]
    if k > len(hits) or not hits:
        return fail(f"{where} has only {len(hits)} {name}s")
    d = hits[k - 1] if k > 0 else hits[-1]
    return SolveResult(answer=f"{d.isoformat()} ({_human(d)})", confidence=0.95, value=d.isoformat(),
                       explanation=f"the {nth['n']} {name} of {where}")


_MOVE = re.compile(r"(?P<dur>(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten)\s*[a-z ]+?(?:\s*(?:,|and|plus)\s*(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten)\s*[a-z ]+?)+)"
                   r"\s+(?P<op>after|from|later\s+than|past|before|prior\s+to|earlier\s+than|ahead\s+of)\s+(?P<d>.+?)[?.!]*$", re.I)


def compound_move(text: str) -> SolveResult | None:
    """A date moved by a duration of several parts ("3 weeks and 2 days before March 1 2027"): the reader's schema
    takes one number and one unit. None for other shapes."""
    m = _MOVE.search(text)
    if not m:
        return None
    dur = parse_duration(re.sub(r"^.*?\b(?:date|day|is|was|be|it)\s+(?=\d|an?\b|one|two|three|four|five|six|seven|eight|nine|ten)", "", m["dur"], flags=re.I))
    start = parse_date(m["d"])
    if dur is None or len(dur) < 2 or start is None:
        return None
    sign = -1 if m["op"].lower() in ("before", "prior to", "earlier than", "ahead of") else 1
    n = {k: sign * v for k, v in dur.items()}
    res = add_duration(start.value.isoformat(), days=n.get("days", 0), weeks=n.get("weeks", 0) + 2 * n.get("fortnights", 0),
                       months=n.get("months", 0), years=n.get("years", 0) + 10 * n.get("decades", 0), business_days=n.get("business days", 0))
    return understood(res, f"{m['d'].strip()} ({start.value.isoformat()}) {'+' if sign > 0 else '−'} {m['dur'].strip()}")


_HAS_N_DAYS = re.compile(r"\b(?:have|has|got)\s+(?P<n>\d{1,3})\s+days\b", re.I)


def days_in(text: str) -> SolveResult | None:
    """The length of a month ("how many days does February 2028 have") or a year ("days in 2100"), or whether it
    has N days ("does February 2024 have 29 days"). None when the text does not ask that (a day number beside the
    month makes it a date, read elsewhere)."""
    claim = _HAS_N_DAYS.search(text)
    if not (_MONTH_DAYS.search(text) or claim) or re.search(r"\b(?:between|from|until|till|since|after|before|left)\b|\d{1,2}(?:st|nd|rd|th)?\s*(?:of\s+)?" + _MONTH_RE, text, re.I):
        return None
    found = _length_asked(text)
    if found is None:
        return None
    days, what, note, conf = found
    if claim:
        n = int(claim["n"])
        yes = n == days
        return SolveResult(answer=f"{'Yes' if yes else 'No'}, {what} has {days} days", confidence=conf, value="yes" if yes else "no",
                           explanation=f"{note}; asked whether it has {n}")
    answer = "28 days (29 in a leap year)" if what == "February" else f"{days} days ({what})"
    return SolveResult(answer=answer, confidence=conf, value=float(days), explanation=note)


# the month or year is what is measured: "days (are there) in <it>", "does <it> have", "how long is <it>"
_OF_LENGTH = re.compile(r"(?:\bdays\s+(?:are\s+|were\s+|will\s+be\s+)?(?:there\s+)?in|\bdoes|\bdid|\bwill|\bhow\s+long\s+is)\s+"
                        r"(?:the\s+)?(?:month\s+of\s+|year\s+)?(?:a\s+)?(?:leap\s+year\s+)?$", re.I)
_HAS_LENGTH = re.compile(r"\s*(?:\d{4}\s*)?(?:have|has|got|had|contain|last)\b", re.I)


def _length_asked(text: str) -> tuple[int, str, str, float] | None:
    """(days, the month or year named, a note, confidence) of the one month or year the text names."""
    months = [m for m in _A_MONTH.finditer(text) if m["mon"].lower().rstrip(".")[:3] in _MONTH_ABBR]
    if len(months) > 1:
        return None
    if months:
        m = months[0]
        if not _OF_LENGTH.search(text[:m.start()]) and not _HAS_LENGTH.match(text[m.end():]):
            return None  # the month is where something happened ("how many days did I work in May"), not what is measured
        n = _MONTH_ABBR.index(m["mon"].lower()[:3]) + 1
        if re.search(rf"\b{m['mon']}\s*\d{{1,2}}\b(?!\d)", text[m.start():], re.I) and not m["y"]:
            return None  # "March 3": a date
        name = calendar.month_name[n]
        if m["y"]:
            y = int(m["y"])
            days = calendar.monthrange(y, n)[1]
            leap = f"; {y} is {'' if calendar.isleap(y) else 'not '}a leap year" if n == 2 else ""
            return days, f"{name} {y}", f"{name} {y} has {days} days{leap}", 0.97
        if n == 2 and re.search(r"\bleap\s+year\b", text, re.I):
            return 29, "February in a leap year", "February has 29 days in a leap year", 0.95
        if n == 2:
            return 28, name, "February has 28 days, 29 in leap years; no year was given", 0.9
        days = calendar.monthrange(2001, n)[1]
        return days, name, f"{name} always has {days} days", 0.97
    years = list(_A_YEAR.finditer(text))
    if len(years) == 1 and (_OF_LENGTH.search(text[:years[0].start()]) or _HAS_LENGTH.match(text[years[0].end():])):
        y = int(years[0]["y"])
        days = 366 if calendar.isleap(y) else 365
        return days, str(y), f"{y} is {'' if calendar.isleap(y) else 'not '}a leap year", 0.97
    return None


def solve_task(task: str, context: str = "") -> SolveResult:
    """Answer a calendar question in plain language. The learned reader reads first; the rules read what it cannot."""
    shaped = read_shapes(task)
    if shaped is not None:
        return shaped
    return compete(task, read_by_model(task), lambda: solve_by_rules(task, context), SPECIALIST_ID)


def _model_date(span: str) -> tuple[str, ParsedDate] | None:
    iso, named = resolve_named_days(span)
    p = parse_date(iso)
    return (("; ".join(named) or span), p) if p is not None else None


def _date_spans(r, text: str) -> list[str]:
    """The DATE spans, a clock time joined to the date before it ("2026-11-29 09:15") and neighbouring parts
    joined where together they read as one surer date ("22nd" + "November 2005", "the 7" + "th of March 1971")."""
    out: list[list] = []  # [text, start, end]
    for (tag, span), (a, b) in zip(r.spans, r.offsets):
        if tag != "DATE":
            continue
        if out and re.fullmatch(_CLOCK, span.strip()):
            out[-1][0], out[-1][2] = text[out[-1][1]:b], b
            continue
        if out and re.fullmatch(r"[\s,]*(?:of\s+)?(?:the\s+)?", text[out[-1][2]:a], re.I):
            joined = text[out[-1][1]:b]
            prev = _date_conf(out[-1][0])  # a part that is no date alone ("7", "th") joins what follows
            if not prev or _date_conf(joined) > max(prev, _date_conf(span)):
                out[-1][0], out[-1][2] = joined, b
                continue
        out.append([span, a, b])
    return [t for t, _, _ in out]


_ANSWER_UNITS = ("day", "week", "month", "year", "business day", "working day", "weekday", "hour", "hr", "minute", "min",
                 "second", "sec")


def _joined(r, text: str, tag: str) -> list[str]:
    """The spans tagged `tag`, neighbours with only spaces between them joined ("full" + "months")."""
    out: list[list] = []
    for (t, _), (a, b) in zip(r.spans, r.offsets):
        if t == tag:
            if out and not text[out[-1][1]:a].strip():
                out[-1][1] = b
            else:
                out.append([a, b])
    return [text[a:b] for a, b in out]


def _date_conf(span: str) -> float:
    found = _model_date(span)
    return found[1].confidence if found else 0.0


def _word_after(text: str, r, tag: str) -> str | None:
    """The word right after the (last) span tagged `tag`."""
    ends = [b for (t, _), (_, b) in zip(r.spans, r.offsets) if t == tag]
    m = re.match(r"\s*([A-Za-z]+(?:\s+days?)?)", text[ends[-1]:]) if ends else None
    return m.group(1) if m else None


def _unit_words(text: str, r) -> list[str]:
    """An answer unit the tagger left untagged: the one untagged word outside the dates that names one."""
    covered = [(a, b) for a, b in r.offsets]
    found = [m.group(0) for m in re.finditer(r"\b(?:business|working)\s+days\b|\b(?:weekdays|days|weeks|wks|months|years|yrs|hours|hrs|minutes|seconds)\b", text, re.I)
             if not any(a <= m.start() < b for a, b in covered)]
    return found if len(set(w.lower() for w in found)) == 1 else []


_LATER = re.compile(r"\b(?:after|later|forwards?|onwards?|on from|past|beyond|following|plus|hence|add|ahead(?!\s+of))\b|\+", re.I)
_EARLIER = re.compile(r"\b(?:before|earlier|prior|back|ago|minus|less|subtract|take\s+away|off|rewind|ahead\s+of|remove)\b", re.I)


def _direction(text: str, offsets: list[tuple[int, int]]) -> str | None:
    """The direction the words outside the tagged spans give a moved date: 'add' or 'subtract' when only one
    direction's words occur, else None."""
    rest = "".join(" " if any(a <= i < b for a, b in offsets) else ch for i, ch in enumerate(text))
    later, earlier = bool(_LATER.search(rest)), bool(_EARLIER.search(rest))
    return "add" if later and not earlier else "subtract" if earlier and not later else None


@reader(SPECIALIST_ID)
def read_by_model(task: str) -> SolveResult | None:
    """The learned reading (see micromarket.specialists.reading): the operation, the dates, the number and unit
    of a duration or of the answer. None when no model ships or its reading is unsure or incomplete."""
    text = clean(task)
    r = read("dates", text) if text else None
    if r is not None:  # a span tagged as a qualifier that is an answer unit ("weekdays") is that unit
        r.spans = [("OUT" if t == "X" and s.lower() in _UNIT_ALIASES else t, s) for t, s in r.spans]
        keep = [not (t == "X" and (_LATER.fullmatch(s.strip()) or _EARLIER.fullmatch(s.strip()))) for t, s in r.spans]
        r.spans = [x for x, k in zip(r.spans, keep) if k]  # a direction word ("off", "back") is no condition
        r.offsets = [x for x, k in zip(r.offsets, keep) if k]
    if qualified(r) is not None:  # a condition the engine's call cannot express: not read past
        return qualified(r)
    if r is None or r.op == "none" or r.confidence < 0.5:
        return None
    spans = _date_spans(r, text)
    found = [_model_date(d) for d in spans]
    if not found or any(f is None for f in found):
        return None
    dates = [p.value.isoformat() for _, p in found]
    said = ", ".join(s for s, _ in found)
    op, share = r.op, 1.0
    nums, durs = r.get("NUM"), r.get("DUR")
    if len(nums) == 1 and not durs:  # a duration's unit the tagger missed: the word right after its number
        unit = _word_after(text, r, "NUM")
        durs = [unit] if unit and unit.lower() in _UNIT_ALIASES else []
    # the operations the tagged spans allow (the call's schema): two dates, a difference; one date and a duration,
    # a date moved; one date alone, its weekday
    allowed = ("between",) if len(dates) == 2 else ("add", "subtract") if nums and durs else ("weekday",) if len(dates) == 1 else ()
    if allowed and op not in allowed:
        op, share = r.op_among(allowed)
        if share < 0.5:
            return None
        r.confidence = round(min(r.tag_confidence, share), 3)
        if sum(r.op_probs.get(o, 0.0) for o in allowed) < 0.2:  # the classifier barely considered them: unsure,
            r.confidence = min(r.confidence, 0.6)  # the rules read too
    by = f" [read by {r.model}]"
    if op == "between" and len(dates) == 2:
        if dates[1] < dates[0]:  # "until X from Y", "between X and Y": a span, in calendar order
            dates, spans = dates[::-1], spans[::-1]
        outs = _joined(r, text, "OUT")
        # the answer's unit: the tagged spans that name one ("job", "worked" tagged by mistake do not); none tagged:
        # an untagged unit word, else days
        units = {_UNIT_ALIASES.get(u, u) for u in (re.sub(r"^(?:full|whole|complete)\s+", "", o.lower().strip()) for o in outs)
                 if _UNIT_ALIASES.get(u, u).rstrip("s") in _ANSWER_UNITS}
        if not outs:
            units = {_UNIT_ALIASES.get(w.lower(), w.lower()) for w in _unit_words(text, r)}
        if len(units) > 1 or (outs and not units):
            return None
        unit = units.pop() if units else "days"
        u1 = unit.rstrip("s")
        if u1 in ("hr", "hour", "min", "minute", "sec", "second"):
            u1 = {"hr": "hour", "min": "minute", "sec": "second"}.get(u1, u1)
            clock = _clock_difference(spans[0], spans[1], u1)
            if clock is not None:
                return capped(r.confidence, understood(clock, f"{u1}s from {spans[0]} to {spans[1]}: {clock.answer}{by}"))
            unit = u1 + "s"  # whole days between dates, in hours, minutes or seconds
        if u1 not in ("day", "week", "month", "year", "business day", "working day", "weekday", "hour", "minute", "second"):
            return None
        res = difference(dates[0], dates[1], unit)
        return capped(r.confidence, understood(res, f"{unit} from {said} ({dates[0]} to {dates[1]}): {res.answer}{by}"))
    if op == "weekday" and len(dates) == 1:
        if re.search(r"\bhow\s+(?:many|much|long)\b", text, re.I):
            return None  # a count asks no weekday ("how many days are there in February 2100")
        res = day_of_week(dates[0])
        return capped(r.confidence, understood(res, f"weekday of {said} ({dates[0]}): {res.answer}{by}"))
    if op in ("add", "subtract") and len(dates) == 1 and len(nums) == 1 and len(durs) == 1:
        cue = _direction(text, r.offsets)
        if cue and cue != op:  # the words outside the spans say the other way ("later", "prior to"): they decide,
            op, r.confidence = cue, min(r.confidence, 0.85)  # and the rules read too
        n = amount(nums[0])
        key = _UNIT_ALIASES.get(durs[0].lower())
        if n is None or key is None or n != int(n):
            return None
        n = int(n) * (1 if op == "add" else -1)
        kw = {"days": 0, "weeks": 0, "months": 0, "years": 0, "business_days": 0}
        kw[{"fortnights": "weeks", "decades": "years", "business days": "business_days"}.get(key, key)] += \
            n * {"fortnights": 2, "decades": 10}.get(key, 1)
        res = add_duration(dates[0], **kw)
        return capped(r.confidence, understood(res, f"{said} ({dates[0]}) {'+' if n > 0 else '-'} {abs(n)} {key}: {res.answer}{by}"))
    return None


def solve_by_rules(task: str, context: str = "") -> SolveResult:
    """The rule-based reading (regular expressions): the fallback, and the benchmark's baseline."""
    text = clean(task)
    if not text:
        return fail("empty request")
    text = _LEAD.sub("", text, count=1).strip() or text
    text, named = resolve_named_days(text)
    res = _route(text)
    if named and res.confidence:
        understood(res, "; ".join(named) + f"; {res.answer}; {res.explanation}")
    return res


def _route(text: str) -> SolveResult:
    m = _AGE_RE.match(text)
    if m:
        res = difference(m.group("a"), m.group("b"), m.group("u") or "years")
        return understood(res, f"age from birth {m.group('a')} to {m.group('b')} in {m.group('u') or 'years'}: {res.explanation}")

    m = _LEAP_RE.search(text)
    if m:
        year = int(next(g for g in m.groups() if g))
        return is_leap_year(year) if year > 0 else fail("year must be positive")
    for pat in _WEEKDAY_Q:
        m = pat.match(text)
        if m:
            return day_of_week(m.group("d"))
    for pat in _DIFF_Q:
        m = pat.match(text)
        if m:
            g = m.groupdict()
            unit = g.get("u") or g.get("u2") or "days"
            u1 = unit.lower().rstrip("s")
            if u1 in ("hour", "minute", "second") and g.get("a") and g.get("b"):
                clock = _clock_difference(g["a"], g["b"], u1)
                if clock is not None:
                    return clock
            return difference(g.get("a") or "today", g.get("b") or "today", re.sub(r"\s+", " ", unit))
    for pat in _ADD_Q:
        m = pat.match(text)
        if not m:
            continue
        dur = parse_duration(m.group("dur"))
        if dur is None:
            continue
        op = m.group("op").lower()
        sign = -1 if op in ("subtract", "before", "prior to", "earlier than", "minus", "-", "ago") else 1
        start = m.groupdict().get("d") or "today"
        n = {k: sign * v for k, v in dur.items()}
        return add_duration(start, days=n.get("days", 0), weeks=n.get("weeks", 0) + 2 * n.get("fortnights", 0),
                            months=n.get("months", 0), years=n.get("years", 0) + 10 * n.get("decades", 0),
                            business_days=n.get("business days", 0))
    m = _NORMALIZE_Q.match(text)
    if m:
        return normalize_date(m.group("d") or m.group("d2") or m.group("d3"))
    p = parse_date(text)
    if p is not None and not any(n.startswith("ignored") for n in p.notes):
        res = normalize_date(text)
        res.confidence = round(res.confidence * 0.9, 3)
        res.explanation += "; no question asked, so the date was normalised to ISO 8601"
        return res
    return fail("no date question (difference, weekday, adding a duration, leap year, normalising) was recognised")


def read_shapes(task: str) -> SolveResult | None:
    """Shapes the reader's schema has no slot for: times of day, a month's or year's length, whole years. None
    where a condition qualifies the request (read by the reader, which declines what it cannot compute)."""
    text = clean(task)
    return None if _CONDITION.search(text) else (clock_span(text) or clock_shift(text) or days_in(text) or year_only(text)
                                                 or weekday_counts(text) or compound_move(text))


# --- MCP server --------------------------------------------------------------------------------------

mcp = make_server(SPECIALIST_ID, "dates", "Calendar arithmetic: days between dates, weekdays, adding durations, leap years, ISO 8601 normalisation.")


@mcp.tool(name="solve", structured_output=True)
def solve_tool(task: str, context: str = "") -> SolveResult:
    """Answer a calendar question in plain language, e.g. 'how many days between 2024-01-01 and 2024-03-01'."""
    return checked(task, solve_task(task, context))


@mcp.tool(name="normalize_date", structured_output=True)
def normalize_date_tool(text: str) -> SolveResult:
    """Normalise a date written in any common form ('March 3rd, 2021', 'Tue 4 Jan 22') to ISO 8601."""
    return normalize_date(text)


@mcp.tool(name="days_between", structured_output=True)
def days_between_tool(start: str, end: str, unit: str = "days") -> SolveResult:
    """Time from `start` to `end` in days, weeks, months, years or business days."""
    return difference(start, end, unit)


@mcp.tool(name="add_duration", structured_output=True)
def add_duration_tool(start: str, days: int = 0, weeks: int = 0, months: int = 0, years: int = 0) -> SolveResult:
    """Add a duration to a date (negative numbers subtract)."""
    return add_duration(start, days=days, weeks=weeks, months=months, years=years)


@mcp.tool(name="day_of_week", structured_output=True)
def day_of_week_tool(text: str) -> SolveResult:
    """The weekday of a date."""
    return day_of_week(text)


def main() -> None:
    serve(mcp)


if __name__ == "__main__":
    main()
