"""What a specialist says it understood, and which parts of a request that reading leaves unexplained.

A specialist states its reading of the request at the end of ``SolveResult.explanation`` after the marker
``understood as:`` (e.g. ``understood as: 150 lb -> kg``), naming every quantity, date, time and unit it used and,
with ``set aside: ...``, anything it deliberately ignored. Carried in the explanation rather than a new
SolveResult field so the tools' outputSchema (pinned by every data directory) does not change.

``unexplained(request, reading)`` lists the request's numbers, times, units and named dates that the reading
does not account for. Built-in specialists decline such partial parses; nodes/verify.py applies the same check
to every specialist's answer in the marketplace.
"""

from __future__ import annotations

import re

MARK = "understood as:"
_MARK_RE = re.compile(r"understood as:\s*(.+?)\s*$", re.I | re.S)

# Request numbers: not glued to a preceding letter (CO2, Mg3 are formula digits), optional scale suffix.
_REQ_NUM = re.compile(
    r"(?<![A-Za-z_.\d])(\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*(k|K|thousand|grand|m|M|mm|million|bn|billion)\b)?"
)
_ANY_NUM = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
_SCALE = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}

# Measure words and named dates, grouped: a request word is explained when the reading holds any word of its
# group. Request side: full words only (never "in", "m", "s"); reading side also the symbols.
_GROUPS: dict[str, tuple[str, ...]] = {
    "mm": ("millimeter", "millimeters", "millimetre", "millimetres", "mm"),
    "cm": ("centimeter", "centimeters", "centimetre", "centimetres", "cm"),
    "km": ("kilometer", "kilometers", "kilometre", "kilometres", "km", "kms"),
    "m": ("meter", "meters", "metre", "metres"),
    "in": ("inch", "inches"),
    "ft": ("foot", "feet", "ft"),
    "yd": ("yard", "yards", "yd", "yds"),
    "mi": ("mile", "miles", "mi"),
    "nmi": ("nautical",),
    "g": ("gram", "grams", "gramme", "grammes"),
    "kg": ("kilogram", "kilograms", "kilo", "kilos", "kg", "kgs"),
    "mg": ("milligram", "milligrams", "mg"),
    "lb": ("pound", "pounds", "lb", "lbs"),
    "oz": ("ounce", "ounces", "oz"),
    "st": ("stone", "stones"),
    "ton": ("ton", "tons", "tonne", "tonnes"),
    "l": ("liter", "liters", "litre", "litres"),
    "ml": ("milliliter", "milliliters", "millilitre", "millilitres", "ml"),
    "gal": ("gallon", "gallons", "gal"),
    "qt": ("quart", "quarts", "qt"),
    "pint": ("pint", "pints", "pt"),
    "cup": ("cup", "cups"),
    "tsp": ("teaspoon", "teaspoons", "tsp"),
    "tbsp": ("tablespoon", "tablespoons", "tbsp"),
    "floz": ("fluid",),
    "degC": ("celsius", "centigrade", "°c", "degc"),
    "degF": ("fahrenheit", "°f", "degf"),
    "K": ("kelvin", "kelvins"),
    "psi": ("psi",),
    "bar": ("bar", "bars"),
    "atm": ("atm", "atmosphere", "atmospheres"),
    "pa": ("pascal", "pascals", "kpa", "kilopascal", "kilopascals"),
    "mph": ("mph",),
    "knot": ("knot", "knots"),
    "acre": ("acre", "acres"),
    "ha": ("hectare", "hectares"),
    "cal": ("calorie", "calories", "kcal"),
    "J": ("joule", "joules"),
    "W": ("watt", "watts", "kilowatt", "kilowatts", "kw", "kwh"),
    "byte": ("byte", "bytes", "kilobyte", "kilobytes", "megabyte", "megabytes", "gigabyte", "gigabytes", "terabyte",
             "terabytes", "kb", "mb", "gb", "tb"),
    "sec": ("second", "seconds", "sec", "secs"),
    "min": ("minute", "minutes", "mins"),
    "hour": ("hour", "hours", "hr", "hrs", "hourly"),
    "day": ("day", "days", "daily"),
    "week": ("week", "weeks", "weekly", "fortnight", "fortnights"),
    "month": ("month", "months", "monthly"),
    "quarter": ("quarter", "quarters", "quarterly"),
    "year": ("year", "years", "yearly", "annually", "annual", "yr", "yrs"),
    "$": ("dollar", "dollars", "usd", "$", "bucks"),
    "€": ("euro", "euros", "eur", "€"),
    "%": ("percent", "percentage", "%", "pct"),
    "christmas": ("christmas", "xmas"),
    "new year": ("new year's", "new years", "new year"),
    "halloween": ("halloween",),
    "valentine": ("valentine's", "valentines", "valentine"),
    "thanksgiving": ("thanksgiving",),
    "easter": ("easter",),
    "independence": ("independence",),
    # operations a reading must name when the request does (an answer that read past "GCD" computed something else)
    "gcd": ("gcd", "hcf", "gcf", "divisor"),
    "lcm": ("lcm", "multiple"),
    "prime": ("prime", "primes", "isprime", "primality"),
    "factorial": ("factorial",),
    "mod": ("remainder", "modulo", "mod"),
    "perimeter": ("perimeter",),
    "circumference": ("circumference",),
    "hypotenuse": ("hypotenuse",),
}
# Symbols only the reading may use (pint labels, the degree sign).
_READING_ONLY = {"in": "in", "m": "m", "l": "l", "°": None, "s": "sec", "h": "hour", "d": "day", "mo": "month"}
_SUPERSCRIPT = str.maketrans({"²": "^2", "³": "^3", "⁴": "^4", "⁻": "-", "¹": "^1", "⁰": "^0"})
_WORD_GROUP = {w: g for g, ws in _GROUPS.items() for w in ws}
# Ambiguous in prose: checked only with a number right before them ("2 pounds" yes, "a pound of" no).
_NEEDS_NUMBER = {"day", "days", "week", "weeks", "month", "months", "year", "years", "hour", "hours", "second", "seconds",
                 "minute", "minutes", "bar", "bars", "stone", "stones", "quarter", "quarters", "annual", "daily",
                 "pound", "pounds", "cup", "cups", "dollar", "dollars"}
_TOKEN_RE = re.compile(r"new\s+year'?s|valentine'?s|°\s*[cf]|[$€%]|[a-z]+", re.I)


def stated(explanation: str | None) -> str | None:
    """The reading a specialist stated after ``understood as:``, or None."""
    if not explanation:
        return None
    m = _MARK_RE.search(explanation)
    return m.group(1) if m else None


def attach(explanation: str, reading: str) -> str:
    """The explanation with the reading appended after the marker."""
    return f"{explanation.rstrip()}; {MARK} {reading}" if explanation.strip() else f"{MARK} {reading}"


# Spelled-out amounts ("half a cup", "two weeks"); "one" and "a" are too common in prose to require.
_WORD_NUMS = {"half": 0.5, "quarter": 0.25, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
              "ten": 10, "eleven": 11, "twelve": 12, "dozen": 12, "twenty": 20, "thirty": 30, "fifty": 50, "hundred": 100}
_WORD_NUM_RE = re.compile(r"\b(" + "|".join(_WORD_NUMS) + r")\b", re.I)


_FRAC_WORD = r"(?:half|thirds?|quarters?|fourths?|fifths?|sixths?|eighths?|tenths?)"
# Amounts said in parts, each one number: "7 and a half", "2 1/2", "3/4" (not a date's "3/4/2025"), "two thirds".
_FRACTION_RE = re.compile(
    rf"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+and\s+(?:(?:a|an|one|two|three|\d+)\s+)?{_FRAC_WORD}\b"
    rf"|(?<![\d/.,])\d+\s+(?:and\s+)?\d+/\d+(?![\d/])|(?<![\d/.,])\d+/\d+(?![\d/])"
    rf"|\b(?:two|three|four|five|seven|nine|\d+)\s+(?:thirds|quarters|fourths|fifths|sixths|eighths|tenths)\b", re.I)


def _fractions(text: str) -> list[tuple[str, set[float], tuple[int, int]]]:
    from micromarket.specialists.reading.numbers import amount  # one parser of spoken amounts

    out = []
    for m in _FRACTION_RE.finditer(text):
        v = amount(m.group(0))
        if v is not None:
            out.append((m.group(0), {v}, m.span()))
    return out


def _numbers(text: str, request: bool) -> list[tuple[str, set[float]]]:
    out = []
    if request:
        fracs = _fractions(text)
        inside = lambda m: any(a <= m.start() < b for _, _, (a, b) in fracs)  # noqa: E731 - parts of one amount
        out += [(surface, vals) for surface, vals, _ in fracs]
        for m in _WORD_NUM_RE.finditer(text):
            if not inside(m):
                out.append((m.group(1), {_WORD_NUMS[m.group(1).lower()]}))
        for m in _REQ_NUM.finditer(text):
            if inside(m):
                continue
            v = float(m.group(1).replace(",", ""))
            vals = {v}
            if m.group(2):
                vals.add(v * _SCALE[m.group(2).lower()])
            out.append((m.group(0).strip(), vals))
    else:
        for m in _ANY_NUM.finditer(text):
            out.append((m.group(0), {float(m.group(0).replace(",", ""))}))
    return out


def _groups(text: str, request: bool) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN_RE.finditer(text):
        w = re.sub(r"\s+", " ", m.group(0).lower())
        w = w.replace("° ", "°")
        g = _WORD_GROUP.get(w)
        if g is None and not request:
            g = _READING_ONLY.get(w)
        if g is None:
            continue
        if request and w in _NEEDS_NUMBER:
            before = text[: m.start()].rstrip()
            if not re.search(r"\d\s*$|\d\s+(?:and\s+a\s+half|square|cubic|fluid|metric|short|long|nautical)$", before):
                continue
        out.append((m.group(0), g))
    return out


# Names of formats and standards are not quantities: "ISO 8601", "RFC 3339", "yyyy-mm-dd", "hh:mm".
_FORMAT_NAMES = re.compile(
    r"\b(?:iso|rfc|ieee|iec|din|en|utf|ansi|ecma)[\s-]?\d+(?:[-:]\d+)*\b"
    r"|\b[ymd]{1,4}(?:[-/. ][ymd]{1,4}){1,2}\b|\bhh(?::mm(?::ss)?)\b",
    re.I,
)


def unexplained(request: str, reading: str) -> list[str]:
    """The request's numbers, units and named dates that ``reading`` does not account for (in request order)."""
    request = _FORMAT_NAMES.sub(" ", request)
    reading = reading.translate(_SUPERSCRIPT)
    have_nums = set()
    for _, vals in _numbers(reading, request=False):
        have_nums |= vals
    # scaled forms in the reading ("25k") count too
    for _, vals in _numbers(reading, request=True):
        have_nums |= vals

    def num_ok(vals: set[float]) -> bool:
        return any(abs(v - h) <= 1e-9 * max(1.0, abs(v)) for v in vals for h in have_nums)

    have_groups = {g for _, g in _groups(reading, request=False)}
    if re.search(r"/\s*100\b|\*\s*0?\.01\b", reading):
        have_groups.add("%")  # a percentage written as a fraction of 100
    if re.search(r"[\d)]\s*%\s*\(?\d", reading):
        have_groups.add("mod")  # Python's remainder operator: "17 % 5"
    words = {w.lower() for w in re.findall(r"[a-z]+", reading, re.I)}
    if re.search(r"/\s*\(?2\b|\*\s*0?\.5\b", reading):
        words.add("half")  # "half of 84" read as 84/2
    if re.search(r"/\s*\(?4\b|\*\s*0?\.25\b", reading):
        words.add("quarter")  # "a quarter of 84" read as 84/4
    missing: list[str] = []
    for surface, vals in _numbers(request, request=True):
        parts = re.fullmatch(r"(\d+)\s*/\s*(\d+)", surface)  # "3/4" kept as written: (3/4)*96
        if parts and re.search(rf"(?<![\d.]){parts.group(1)}\s*/\s*\(?{parts.group(2)}(?![\d])", reading):
            continue
        if not num_ok(vals) and surface.lower() not in words and surface not in missing:
            missing.append(surface)
    for surface, g in _groups(request, request=True):
        if g not in have_groups and surface not in missing:
            missing.append(surface)
    return missing
