"""The values in a text, canonically, and the check that a model's prose keeps the specialists' values.

Used by ``integrate``: chat-model prose is accepted only when every value the specialists produced
appears unchanged, in plan order, and no value appears that the task or the results do not contain.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# The check extracts every *value* from a text, canonically: numbers (unicode minus,
# thousands separators "1,234" / "1 234" with thin or no-break spaces, scientific
# notation "1.5e3", "1.5 × 10^3", "1.5·10³"), ISO dates (also "January 31, 2024" /
# "31 Jan 2024", which are normalised to ISO so a reworded date still matches, a changed
# one does not), version strings, and π expressions ("π² − 4", "2π", "pi/2").
# Two numbers match only when they are *exactly* equal as decimals: 42.16 != 42.1648
# (rounding is a change), 16.10 == 16.1, 1500 == 1.5e3.

_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"])}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MON = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_ISO_DATE = re.compile(r"(?<![\w.])(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(?![\w])")
_TEXT_DATE = re.compile(
    rf"\b{_MON}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON},?\s+(\d{{4}})\b", re.I)
_VERSION = re.compile(r"(?<![\w.])v?\d+\.\d+\.\d+(?:[-+.\w]*)?(?![\w.])")
_PI = re.compile(
    r"(?<![\w.])(?:(\d+(?:\.\d+)?)\s*[*·×]?\s*)?(?:π|\bpi\b)(?:\s*(?:\^|\*\*)\s*(\d+))?(?:\s*/\s*(\d+))?", re.I)
_SCI = re.compile(
    r"(?<![\w.])([-−]?\d+(?:\.\d+)?)\s*(?:[×x*·]\s*10\s*(?:\^|\*\*)\s*\(?([-−+]?\d+)\)?|[eE]([-−+]?\d+))(?![\w.])")
_THOUSANDS = re.compile(r"(?<![\w.])([-−]?\d{1,3}(?:(?:,|[\u00a0\u202f\u2009])\d{3})+(?:\.\d+)?)(?![\d])")
# a minus is a sign only when it touches the digits and does not follow an operand ("x-3" is a subtraction)
_OPERAND = r"(?:\d+(?:\.\d+)?|π|\bpi\b)(?:\s*\^\s*\d+)?"
_EXPR = re.compile(rf"(?<![\w.,]){_OPERAND}(?:\s*(?:[-+*/×·−]|\*\*)\s*{_OPERAND})+(?![\w.(])", re.I)
_PLAIN = re.compile(r"(?<![\w.])((?<![\w)\]}π§])[-−])?(\d+(?:\.\d+)?|\.\d+)(?![\w])")


_UNIT_NAMES = {
    "km": "kilometre kilometres kilometer kilometers km kms", "mi": "mile miles mi", "m": "metre metres meter meters m",
    "cm": "centimetre centimetres centimeter centimeters cm", "mm": "millimetre millimetres millimeter millimeters mm",
    "ft": "foot feet ft", "in": "inch inches", "yd": "yard yards yd", "kg": "kilogram kilograms kilo kilos kg kgs",
    "g": "gram grams g", "lb": "pound pounds lb lbs", "oz": "ounce ounces oz", "t": "tonne tonnes ton tons",
    "l": "litre litres liter liters l", "ml": "millilitre millilitres milliliter milliliters ml", "gal": "gallon gallons gal",
    "s": "second seconds sec secs s", "min": "minute minutes min mins", "h": "hour hours hr hrs h", "day": "day days d",
    "week": "week weeks", "month": "month months", "year": "year years yr yrs", "degc": "°c celsius", "degf": "°f fahrenheit",
    "k": "kelvin", "%": "% percent per-cent", "mph": "mph", "kmh": "km/h kph", "usd": "usd dollars dollar $", "eur": "eur euros euro €",
    "j": "joule joules j", "kj": "kilojoule kilojoules kj", "kwh": "kwh", "w": "watt watts w", "pa": "pascal pascals pa",
}
_UNITS = {w: k for k, ws in _UNIT_NAMES.items() for w in ws.split()}
_UNIT_AFTER = re.compile(r"\s?(°[CcFf]|%|km/h|[A-Za-z€$]+)(?![\w/])")


def _dec(s: str) -> str:
    """Canonical text of an exact decimal: '016.10' -> '16.1', '-0' -> '0'."""
    try:
        d = Decimal(s.replace("−", "-"))
    except InvalidOperation:
        return s
    return "0" if d == 0 else format(d.normalize(), "f")


def _iso(y: str, m: int, d: str) -> str:
    return f"{int(y):04d}-{m:02d}-{int(d):02d}"


def extract_values(text: str) -> set[str]:
    """Canonical values in ``text``: 'n:<decimal>', 'd:<iso date>', 'v:<version>', 'pi:<expr>',
    'e:<arithmetic>' and 'u:<decimal>|<unit>' for a number followed by a known unit."""
    return {v for v, _ in extract_spans(text)}


def extract_spans(text: str) -> list[tuple[str, int]]:
    """(canonical value, position) for every value in ``text`` (positions in the normalised text)."""
    if not text:
        return []
    # superscripts become ^n: "π²" -> "π^2", "10³" -> "10^3"
    t = re.sub(r"(?<=[π\d)])([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)", lambda m: "^" + m.group(1).translate(_SUPER), text).translate(_SUPER)
    found: list[tuple[str, int]] = []

    def take(rx, fn):
        nonlocal t
        def repl(m):
            v = fn(m)
            if v:
                found.append((v, m.start()))
                if v.startswith("n:"):
                    u = _UNIT_AFTER.match(t, m.end())
                    unit = _UNITS.get(u.group(1).lower().rstrip(".")) if u else None
                    if unit:
                        found.append((f"u:{v[2:]}|{unit}", m.start()))
            return "§" * (m.end() - m.start())  # blank the span so its parts are not read again; § counts as an operand
        t = rx.sub(repl, t)

    # arithmetic between values ("π² − 4", "3 × 10 + 2"): the operators must survive too
    masked = t
    for rx in (_ISO_DATE, _VERSION, _SCI):  # a date, a version or "1.5 × 10^3" is one value, not arithmetic
        masked = rx.sub(lambda m: "§" * len(m.group(0)), masked)
    for m in _EXPR.finditer(masked):
        expr = re.sub(r"\s+", "", m.group(0)).replace("−", "-").replace("×", "*").replace("·", "*").replace("**", "^")
        expr = re.sub(r"(?i)pi", "π", expr)
        if re.search(r"[-+*/^]", expr.strip("-")):
            found.append(("e:" + expr, m.start()))
    take(_ISO_DATE, lambda m: "d:" + m.group(0).replace(" ", "T"))

    def textdate(m):
        g = m.groups()
        if g[1]:  # Month D, YYYY
            mon = re.match(_MON, m.group(0), re.I).group(0).lower().rstrip(".")
            return "d:" + _iso(g[1], _MONTHS.get(mon, _MONTHS.get(mon[:3], 0)), g[0])
        mon_txt = re.search(_MON, m.group(0), re.I).group(0).lower().rstrip(".")
        return "d:" + _iso(g[3], _MONTHS.get(mon_txt, _MONTHS.get(mon_txt[:3], 0)), g[2])

    take(_TEXT_DATE, textdate)
    take(_VERSION, lambda m: "v:" + m.group(0).lstrip("vV"))

    def pi(m):
        coef, power, den = m.group(1), m.group(2), m.group(3)
        return "pi:" + (_dec(coef) if coef else "1") + "*pi" + (f"^{int(power)}" if power else "") + (f"/{int(den)}" if den else "")

    take(_PI, pi)

    def sci(m):
        mant, exp = m.group(1).replace("−", "-"), (m.group(2) or m.group(3)).replace("−", "-")
        return "n:" + _dec(str(Decimal(mant).scaleb(int(exp))))

    take(_SCI, sci)
    take(_THOUSANDS, lambda m: "n:" + _dec(re.sub(r"[,\u00a0\u202f\u2009]", "", m.group(1))))
    take(_PLAIN, lambda m: "n:" + _dec((m.group(1) or "") + m.group(2)))
    return found


def _value_texts(v) -> list[str]:
    if v is None or isinstance(v, bool):
        return []
    if isinstance(v, float):
        return [repr(v), f"{v:.10g}"]
    if isinstance(v, (list, tuple)):
        return [x for i in v for x in _value_texts(i)]
    if isinstance(v, dict):
        return [x for i in v.values() for x in _value_texts(i)]
    return [str(v)]


def produced_values(results: list[dict]) -> set[str]:
    """Values in the specialists' answers: each must reach the prose unchanged."""
    out: set[str] = set()
    for r in results:
        if r.get("status") == "ok":
            out |= extract_values(r.get("answer", ""))
    return out


def allowed_values(task: str, results: list[dict]) -> set[str]:
    """Values the prose may mention: the answers', the task's and subtasks', the explanations',
    the machine-readable values, versions and the redundant specialists' alternatives."""
    out = extract_values(task)
    for r in results:
        out |= extract_values(r.get("text", ""))
        if r.get("status") == "ok":
            out |= extract_values(r.get("answer", "")) | extract_values(r.get("explanation", ""))
            for s in _value_texts(r.get("value")):
                out |= extract_values(s)
            if r.get("version"):
                out |= extract_values(str(r["version"])) | {"v:" + str(r["version"])}
            for a in r.get("alternatives") or []:
                out |= extract_values(str(a.get("answer", "")))
    return out


def value_check(prose: str, results: list[dict], task: str = "") -> tuple[bool, list[str], list[str]]:
    """(ok, values the prose dropped or changed, values the prose made up or misattributed).

    Besides the value sets, the results' own values must appear in plan order (the prompt asks
    for it): prose that swaps two answers between subtasks keeps every value but fails here."""
    spans = extract_spans(prose)
    found = {v for v, _ in spans}
    missing = sorted(produced_values(results) - found)
    extra = sorted(found - allowed_values(task, results))
    first: dict[str, int] = {}
    for v, pos in spans:
        first.setdefault(v, pos)
    last_pos, last_id = -1, None
    for r in results:
        if r.get("status") != "ok":
            continue
        own = extract_values(r.get("answer", "")) - extract_values(r.get("text", ""))
        pos = min((first[v] for v in own if v in first), default=None)
        if pos is None:
            continue
        if pos < last_pos:
            extra.append(f"order: the answer of {r.get('subtask_id')} comes before that of {last_id}")
        last_pos, last_id = pos, r.get("subtask_id")
    return (not missing and not extra), missing, extra
