"""`math` specialist: symbolic and numeric mathematics with sympy (operations in ``_symbolic``).

This module reads plain-language requests ("derivative of cos(x)^2 at x = pi/4", "7 factorial", "find x if
x/4 = 9") into those operations and serves them over MCP.
Run as ``python -m specialists.builtin.math`` (an MCP server on stdio).
"""

from __future__ import annotations

import re

from micromarket.specialists.builtin._common import (
    reader,
    LEAD_IN_RE,
    capped,
    checked,
    clean,
    compete,
    fail,
    make_server,
    serve,
    understood,
)
from micromarket.specialists.builtin._symbolic import (
    _ORDINALS,
    _result,
    _rounded,
    _take_wrt,
    derivative_at,
    differentiate,
    evaluate,
    integrate,
    limit,
    solve_equations,
    substitute,
    transform,
)
from micromarket.specialists.reading import read
from micromarket.specialists.reading.numbers import amount
from micromarket.specialists.result import SolveResult

SPECIALIST_ID = "math"
# --- routing of free text -------------------------------------------------------------------------

_LIMIT_RE = re.compile(
    r"^(?:the\s+)?(?:limit|lim)\s*(?:of\s+)?(?P<f>.+?)\s*,?\s*(?:as|when|where)\s+(?P<v>[A-Za-z])\s*"
    r"(?:->|→|approaches|tends\s+to|goes\s+to|to)\s*(?P<a>[^\s]+?)(?P<dir>[+-]|\s+from\s+(?:the\s+)?(?:right|left|above|below))?$",
    re.I,
)
_LIMIT_PREFIX_RE = re.compile(
    r"^(?:the\s+)?(?:limit|lim)\s*(?:of\s+)?(?:as\s+)?(?P<v>[A-Za-z])\s*(?:->|→|approaches|tends\s+to|goes\s+to)\s*(?P<a>\S+?)(?P<dir>[+-])?\s*(?:,|of)?\s+(?P<f>.+)$",
    re.I,
)
_INTEGRAL_RE = re.compile(
    r"^(?:the\s+)?(?:(?:definite|indefinite)\s+)?(?:integrate|integral\s+of|integral|antiderivative\s+of|anti-derivative\s+of|∫)\s*(?P<f>.+?)"
    r"(?:\s*\bd(?P<d>[a-z])\b)?(?:\s*,?\s*(?:from|between)\s+(?P<a>.+?)\s+(?:to|and)\s+(?P<b>.+?))?(?:\s*\bd(?P<d2>[a-z])\b)?$",
    re.I,
)
_DERIV_RE = re.compile(
    r"^(?:the\s+)?(?:(?P<ord>first|second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+)?(?:derivative|differentiate|diff|slope|gradient|rate\s+of\s+change)\s*(?:of\s+)?(?P<f>.+)$",
    re.I,
)
_DDX_RE = re.compile(r"^d(?:\^?(?P<ord>\d)|²)?/d(?P<v>[a-z])(?:\^?\d|²)?\s*(?P<f>.+)$", re.I)
_SOLVE_RE = re.compile(r"^(?:solve|find\s+the\s+roots?\s+of|roots?\s+of|find\s+the\s+solutions?\s+(?:of|to))\s*(?:the\s+)?(?:equations?|system)?\s*:?\s*(?P<eq>.+?)(?:\s*,?\s*for\s+(?P<v>[A-Za-z](?:\s*(?:,|and)\s*[A-Za-z])*))?$", re.I)
_TRANSFORM_RE = re.compile(r"^(?P<how>simplify|expand|factor(?:ise|ize)?|factorise|factorize)\b\s*(?:the\s+expression\s+)?:?\s*(?P<f>.+)$", re.I)


_SERIES_RE = re.compile(r"^(?:the\s+)?(?:sum|total)\s+of\s+the\s+first\s+(?P<n>\d+)\s+(?P<seq>[a-z ]+?)$", re.I)
_AT_RE = re.compile(r"^(?P<f>.+?)\s+(?:at|when|for|with)\s+(?P<v>[a-z])\s*=\s*(?P<p>[^\s=]+)$", re.I)


def _order(word: str | None) -> int:
    if not word:
        return 1
    return _ORDINALS.get(word.lower()) or int(re.match(r"\d+", word).group())


def solve_task(task: str, context: str = "") -> SolveResult:
    """Answer a mathematical request in plain language: the learned reader reads first (the expression and the
    operation), the rules compete and read what it cannot (see _common.compete). Questions about whole numbers
    (prime, factors, gcd, lcm), which the reader's schema has no slot for, are read by their shape."""
    shaped = read_shapes(task)
    if shaped is not None:
        return shaped
    return compete(task, read_by_model(task), lambda: solve_by_rules(task, context), SPECIALIST_ID)


_NUMBER = r"-?\d+(?:\.\d+)?"
_ARG = rf"(?:{_NUMBER}|\((?:[^()]|\([^()]*\))*\)|pi|e)"
# functions of numbers said in words ("log base 2 of 1024", "sin of 30 degrees", "cube root of 27"): rewritten to
# the expression they name, in order (the more specific first)
_FUNCTION_WORDS = [
    (rf"\blog(?:arithm)?\s*(?:to\s+the\s+)?base\s*(?P<b>{_ARG})\s*(?:of\s+)?(?P<x>{_ARG})", r"log(\g<x>, \g<b>)"),
    (rf"\blog_?(?P<b>\d+)\s*(?:of\s+)?\(?\s*(?P<x>{_NUMBER})\s*\)?", r"log(\g<x>, \g<b>)"),
    (rf"\b(?:natural\s+log(?:arithm)?|ln)\s*(?:of\s+)?(?P<x>{_ARG})", r"log(\g<x>)"),
    (rf"\b(?:common\s+)?log(?:arithm)?\s+(?:of\s+)?(?P<x>{_ARG})", r"log(\g<x>, 10)"),
    (rf"\b(?P<f>sin|cos|tan)(?:e|ine|gent)?\s*(?:of\s+)?\(?\s*(?P<x>{_NUMBER})\s*(?:degrees?|deg|°)\s*\)?", r"\g<f>((\g<x>)*pi/180)"),
    (rf"\b(?P<f>sin|cos|tan)(?:e|ine|gent)?\s+(?:of\s+)?(?P<x>{_ARG})(?:\s*(?:radians?|rad))?", r"\g<f>(\g<x>)"),
    (rf"\b(?:the\s+)?cube\s+root\s+of\s+(?P<x>{_ARG})", r"rroot(\g<x>, 3)"),
    (rf"\b(?:the\s+)?square\s+root\s+of\s+(?P<x>{_ARG})", r"sqrt(\g<x>)"),
    (rf"\b(?:the\s+)?(?P<n>\d+)(?:st|nd|rd|th)\s+root\s+of\s+(?P<x>{_ARG})", r"rroot(\g<x>, \g<n>)"),
]
_NAMED = re.compile(r"\b(?:log|ln|sin|cos|tan|natural|root|base|degrees?|deg)(?:\b|(?=\d))|°", re.I)
_LEFT_OK = re.compile(r"^(?:[\d.,\s+\-*/^()]|\b(?:log|sin|cos|tan|sqrt|rroot|pi|e|plus|minus|times|divided\s+by|over|and)\b)+$", re.I)


def function_values(text: str) -> SolveResult | None:
    """The value of functions of numbers named in words ("log base 2 of 1024", "sin(30 degrees)", "natural log of
    10", "the cube root of 27 plus the square root of 144"). None unless the whole request is such an expression."""
    if not _NAMED.search(text):
        return None
    body = LEAD_IN_RE.sub("", text, count=1).strip(" ?.!")
    body = re.sub(r"\bthe\s+", "", body, flags=re.I)
    for pattern, replacement in _FUNCTION_WORDS:
        body = re.sub(pattern, replacement, body, flags=re.I)
    if _NAMED.search(re.sub(r"\b(?:log|sin|cos|tan)\(", "", body)) or not _LEFT_OK.match(body):
        return None  # a named function left unread, or words that are not arithmetic
    res = evaluate(body)
    if not res.confidence:
        return None
    return understood(res, f"{body} (from {text!r})")


_LEN_UNIT = r"(?:mm|cm|m|km|in|inch(?:es)?|ft|feet|foot|yd|yards?|mi|miles?|meters?|metres?|centimeters?|centimetres?|millimeters?|kilometers?)"
_MEASURE = rf"(?P<n>\d+(?:\.\d+)?)\s*(?P<u>{_LEN_UNIT})?\b"
_FIGURES = {"circle": r"\bcircle|\bcircular\b|\bdisc\b|\bpizza\b", "square": r"\bsquare\b(?!\s+(?:root|met|feet|foot|mil|kil|cent|inch|yard|mile))",
            "rectangle": r"\brectang|\broom\b|\bfloor\b|\bgarden\b|\byard\b(?=.*\bby\b)", "triangle": r"\btriang",
            "sphere": r"\bsphere|\bball\b", "cylinder": r"\bcylind|\bcan\b|\btank\b", "cube": r"\bcube\b(?!\s+root)"}
_ASKED = {"area": r"\barea\b|\bhow\s+(?:much|many\s+square)\b.*\b(?:space|carpet|tiles?|flooring)\b|\bsquare\s+(?:feet|meters|metres|footage)\b",
          "perimeter": r"\bperimeter\b|\bfenc", "circumference": r"\bcircumference\b", "volume": r"\bvolume\b|\bhow\s+much\s+(?:water|liquid)\b|\bcapacity\b",
          "surface": r"\bsurface\s+area\b", "hypotenuse": r"\bhypotenuse\b|\blongest\s+side\b|\bdiagonal\b"}


def _named_measure(text: str, words: str) -> tuple[float, str] | None:
    """The one number said as `words` ("radius 3 cm", "a 3 cm radius", "radius of 3")."""
    found = [m for m in re.finditer(rf"\b(?:{words})\s*(?:of|is|=|:)?\s*{_MEASURE}", text, re.I)]
    found += [m for m in re.finditer(rf"{_MEASURE}\s*(?:{words})\b", text, re.I)]
    values = {(float(m["n"]), m["u"] or "") for m in found}
    return (*values.pop(), found[0].group(0).strip()) if len(values) == 1 else None


def geometry(text: str) -> SolveResult | None:
    """Areas, perimeters and volumes of the common figures from their named measures ("area of a circle with
    radius 3", "a room 12 m by 7 m", "volume of a cylinder of radius 2 and height 5", "hypotenuse with legs 3 and
    4"). None unless the figure, the quantity asked and every number are accounted for."""
    import math as pymath

    asked = [k for k, pat in _ASKED.items() if re.search(pat, text, re.I)]
    if "surface" in asked:
        asked = ["surface"]
    figs = [k for k, pat in _FIGURES.items() if re.search(pat, text, re.I)]
    if len(asked) != 1 or len(figs) > 1 or re.search(r"[=^*/]|\bx\s*[-+]", text):
        return None
    what, fig = asked[0], (figs[0] if figs else ("triangle" if asked[0] == "hypotenuse" else None))
    nums = re.findall(r"\d+(?:\.\d+)?", text)
    r = _named_measure(text, "radius")
    d = _named_measure(text, "diameter|across")
    if r is None and d is not None:
        r = (d[0] / 2, d[1], d[2])
    h = _named_measure(text, "height|high|tall|deep|depth")
    side = _named_measure(text, "sides?|side\s+length|edges?|long")
    by = re.search(rf"{_MEASURE}\s*(?:by|x|×)\s*(?P<n2>\d+(?:\.\d+)?)\s*(?P<u2>{_LEN_UNIT})?\b", text, re.I)
    legs = re.search(rf"\b(?:legs?|sides?)\s*(?:of\s+)?(?:lengths?\s+)?{_MEASURE}\s*(?:and|,)\s*(?P<n2>\d+(?:\.\d+)?)\s*(?P<u2>{_LEN_UNIT})?", text, re.I)
    pi = pymath.pi
    value, used, unit, how, said = None, 0, "", "", ""
    if fig in ("circle", "sphere", "cylinder") and r is not None:
        rv, unit, said = r
        used = 1
        if fig == "circle" and what == "area":
            value, how = pi * rv ** 2, f"π·{rv:g}²"
        elif fig == "circle" and what in ("circumference", "perimeter"):
            value, how, what = 2 * pi * rv, f"2π·{rv:g}", "circumference"
        elif fig == "sphere" and what == "volume":
            value, how = 4 / 3 * pi * rv ** 3, f"4/3·π·{rv:g}³"
        elif fig == "sphere" and what == "surface":
            value, how = 4 * pi * rv ** 2, f"4π·{rv:g}²"
        elif fig == "cylinder" and what == "volume" and h is not None:
            value, how, used, said = pi * rv ** 2 * h[0], f"π·{rv:g}²·{h[0]:g}", 2, f"{said} and {h[2]}"
    elif fig == "triangle" and what == "hypotenuse" and legs:
        a, b = float(legs["n"]), float(legs["n2"])
        value, how, used, unit, said = pymath.hypot(a, b), f"√({a:g}² + {b:g}²)", 2, legs["u"] or legs["u2"] or "", legs.group(0)
    elif fig == "triangle" and what == "area":
        base = _named_measure(text, "base")
        if base is not None and h is not None:
            value, how, used, unit, said = base[0] * h[0] / 2, f"½·{base[0]:g}·{h[0]:g}", 2, base[1] or h[1], f"{base[2]} and {h[2]}"
    elif fig in ("rectangle", None) and by and what in ("area", "perimeter"):
        a, b = float(by["n"]), float(by["n2"])
        unit = by["u"] or by["u2"] or ""
        value, how = (a * b, f"{a:g}·{b:g}") if what == "area" else (2 * (a + b), f"2·({a:g} + {b:g})")
        used, fig, said = 2, "rectangle", by.group(0)
    elif fig in ("square", "cube") and side is not None:
        sv, unit, said = side
        used = 1
        if fig == "square" and what in ("area", "perimeter"):
            value, how = (sv ** 2, f"{sv:g}²") if what == "area" else (4 * sv, f"4·{sv:g}")
        elif fig == "cube" and what in ("volume", "surface"):
            value, how = (sv ** 3, f"{sv:g}³") if what == "volume" else (6 * sv ** 2, f"6·{sv:g}²")
    if value is None or used != len(nums):
        return None
    unit = {"meters": "m", "meter": "m", "metres": "m", "metre": "m", "feet": "ft", "foot": "ft", "inches": "in", "inch": "in",
            "centimeters": "cm", "centimetres": "cm", "millimeters": "mm", "kilometers": "km", "yards": "yd", "yard": "yd",
            "miles": "mi", "mile": "mi"}.get(unit.lower(), unit.lower())
    power = {"area": "²", "surface": "²", "volume": "³"}.get(what, "")
    shown = f"{value:.6g}" + (f" {unit}{power}" if unit else (" square units" if power == "²" else " cubic units" if power == "³" else ""))
    name = {"surface": "surface area"}.get(what, what)
    res = SolveResult(answer=f"{name} = {shown}", confidence=0.95, value=round(value, 9), explanation=f"{name} of the {fig}: {how}")
    return understood(res, f"{name} of a {fig} with {said}")


_NT_ASK = {
    "gcd": re.compile(r"\b(?:gcd|gcf|hcf|g\.c\.d\.?|greatest\s+common\s+(?:divisor|factor|denominator)|highest\s+common\s+factor|largest\s+common\s+(?:divisor|factor))\b", re.I),
    "lcm": re.compile(r"\b(?:lcm|l\.c\.m\.?|(?:least|lowest|smallest)\s+common\s+(?:multiple|denominator))\b", re.I),
    "factors": re.compile(r"\bprime\s+factor(?:s|i[sz]ation)?\b|\bfactori[sz]e\b|\bfactor\b(?!\s+of\b)", re.I),
    "prime": re.compile(r"\bprime\b", re.I),
}
_ASKS_PRIME = re.compile(r"\bis\s+[\d,]+\s+(?:a\s+)?prime\b|\bprime\s+(?:number|or)\b|\bprimality\b|\b[\d,]+\s+(?:is\s+)?(?:a\s+)?prime\s*[?.!]*$"
                         r"|\bis\s+(?:it|this|that)\s+(?:a\s+)?prime\b|\bwhether\s+[\d,]+\s+is\s+(?:a\s+)?prime\b", re.I)
_INTS = re.compile(r"(?<![\w.^*/+-])\d[\d,]*(?![\w.^*/%]|,\d)(?!\.\d)")
_NOT_NT = re.compile(r"[a-z]\s*\^|\bx\b|[=+*/^]|\bnumbers?\s+between\b|\bhow\s+many\s+primes?\b|\bprimes?\s+(?:below|under|less|up\s+to|between)\b", re.I)


def number_theory(text: str) -> SolveResult | None:
    """Whole-number questions: is N prime, the prime factors of N, the gcd or lcm of two or more integers.
    None when the text does not have that shape (an expression, a variable, a count of primes)."""
    import sympy as sp  # deferred: sympy is heavy

    asked = [k for k, pat in _NT_ASK.items() if pat.search(text)]
    if not asked or _NOT_NT.search(text):
        return None
    kind = asked[0]  # gcd/lcm before factors before prime ("greatest common factor", "prime factors")
    if kind == "prime" and not _ASKS_PRIME.search(text):
        return None  # "the prime minister born in 1946": no question whether a number is prime
    nums = [int(m.group(0).replace(",", "")) for m in _INTS.finditer(text)]
    if kind in ("gcd", "lcm"):
        if len(nums) < 2 or any(n == 0 for n in nums) or len(set(asked) & {"gcd", "lcm"}) > 1:
            return None
        value = int(sp.gcd_list(nums) if kind == "gcd" else sp.lcm_list(nums))
        name = "greatest common divisor" if kind == "gcd" else "least common multiple"
        listed = ", ".join(f"{n:,}" for n in nums)
        return understood(SolveResult(answer=f"{name} of {listed} = {value:,}", confidence=0.97, value=float(value),
                                      explanation=f"{kind} computed exactly with sympy"), f"{kind} of {listed}")
    if len(nums) != 1 or nums[0] < 2:
        return None
    n = nums[0]
    f = sp.factorint(n)
    shown = " × ".join(f"{p}^{e}" if e > 1 else f"{p}" for p, e in sorted(f.items()))
    if kind == "factors":
        return understood(SolveResult(answer=f"{n:,} = {shown}", confidence=0.97, value=shown,
                                      explanation="prime factorisation with sympy.factorint"), f"prime factors of {n}")
    if sp.isprime(n):
        return understood(SolveResult(answer=f"Yes, {n:,} is a prime number", confidence=0.97, value="yes",
                                      explanation=f"{n} has no divisor between 2 and its square root"), f"is {n} prime")
    return understood(SolveResult(answer=f"No, {n:,} is not a prime number ({n:,} = {shown})", confidence=0.97, value="no",
                                  explanation=f"{n} = {shown}"), f"is {n} prime")


# A series the reader names ("the first 100 odd numbers"): its general term in k = 1..n.
SERIES = {"int": "k", "odd": "2*k - 1", "even": "2*k", "square": "k**2", "cube": "k**3"}
_SEQ_WORDS = (("odd", "odd"), ("even", "even"), ("squar", "square"), ("cube", "cube"), ("cubic", "cube"), ("integer", "int"),
              ("number", "int"))


def series_kind(words: str) -> str | None:
    """'positive odd integers' -> 'odd', 'perfect squares' -> 'square', 'natural numbers' -> 'int'."""
    low = words.lower()
    return next((k for w, k in _SEQ_WORDS if w in low), None)


def series_sum(kind: str, n: int) -> SolveResult:
    """The sum of the first `n` terms of a named series (k, 2k-1, 2k, k², k³), exactly, with its closed form."""
    import sympy as sp  # deferred: sympy is imported by _symbolic already; local for the names only

    if kind not in SERIES or not 1 <= n <= 10**9:
        return fail(f"no series sum for {kind!r} up to {n}")
    k, m = sp.symbols("k n", integer=True, positive=True)
    term = sp.sympify(SERIES[kind], locals={"k": k})
    closed = sp.factor(sp.summation(term, (k, 1, m)))
    value = int(closed.subs(m, n))
    shown = f"{value:,}" if value >= 10_000 else str(value)
    return SolveResult(answer=shown, confidence=0.97, explanation=f"sum of {term} for k = 1..{n} = {closed} at n = {n}", value=value)


def _only_variable(expression: str) -> str | None:
    """The one variable of an expression ("t^3 - 4t" -> "t"); None with none or several, or when it does not parse."""
    from micromarket.specialists.builtin._symbolic import ParseError, parse

    try:
        syms = parse(expression).free_symbols
    except (ParseError, TypeError, ValueError):
        return None
    return str(next(iter(syms))) if len(syms) == 1 else None


def whole_runs(text: str, spans: list[str]) -> list[str]:
    """Tagged expression spans snapped to whole runs of text between spaces and merged where they touch: an
    expression is never cut inside "(t^2" or "log(w)" ("^2 + 5" in "(t^2 + 5t^2)/t" is the whole "(t^2 + 5t^2)/t")."""
    ranges: list[list[int]] = []
    pos = 0
    for span in spans:
        at = text.find(span, pos)
        if at < 0:
            continue
        a, b = at, at + len(span)
        while a > 0 and not text[a - 1].isspace():
            a -= 1
        while b < len(text) and not text[b].isspace():
            b += 1
        while b > a and (text[b - 1] in ",;:?!" or (text[b - 1] == "." and not text[a:b - 1][-1:].isdigit())):
            b -= 1
        gap = text[ranges[-1][1]:a].strip() if ranges and a >= ranges[-1][1] else None
        if ranges and (a <= ranges[-1][1] + 1 and not gap or gap == "="):  # the two sides of "=" are one equation
            ranges[-1][1] = max(ranges[-1][1], b)
        else:
            ranges.append([a, b])
        pos = at + len(span)
    return [text[a:b] for a, b in ranges if text[a:b].strip()]


# an interval of integration, "[2, 4]", "[0, pi/2]", "(-1, 3)"
_BOUND = r"-?\s*(?:\d+(?:\.\d+)?(?:\s*\*?\s*pi)?|pi)(?:\s*/\s*\d+)?"
_INTERVAL_RE = re.compile(rf"[\[(]\s*(?P<lo>{_BOUND})\s*,\s*(?P<hi>{_BOUND})\s*[\])]", re.I)
# words that name an operation the head may choose; a request naming none of them is not asking for it
_OP_WORDS = {"derivative": re.compile(r"deriv|differen|d/d|slope|gradient|rate\s+of\s+change|steep|tangent|\w'\s*\(|\bchang|\bfast", re.I),
             "integral": re.compile(r"integr|antideriv|primitive|has\s+(?:a\s+|the\s+)?derivative|whose\s+derivative|\barea\b|∫", re.I),
             "limit": re.compile(r"\blim|approach|\btend|\bgo(?:es|ing)?\s+to|->|→|\bnear", re.I)}


@reader(SPECIALIST_ID)
def read_by_model(task: str) -> SolveResult | None:
    """The learned reading (micromarket.specialists.reading, heads `math`): the operation and its expression,
    variable, point, bounds or series, computed by sympy. None when no model ships or its reading is unsure or
    incomplete (the rules then read)."""
    text = clean(task)
    if not text:
        return None
    r = read("math", text)
    if r is None or r.op == "none" or r.confidence < 0.5 or r.op_confidence < 0.7:
        return None  # no reading, or the operation is a guess ("x + x" names none): the rules decide
    outside = "".join(" " if any(a <= i < b for a, b in r.offsets) else ch for i, ch in enumerate(text))
    if not re.search(r"[A-Za-z]{2,}", outside):
        return None  # no word names an operation ("x + x"): the head's operation is a guess, the rules decide
    exprs = whole_runs(text, r.get("EXPR"))
    interval = _INTERVAL_RE.search(text) if r.op == "integral" else None
    if interval:  # bounds written as an interval, "over [2, 4]": its parts are no expression
        exprs = [x for x in exprs if x.strip() not in interval.group(0)]
    if len(exprs) > 1 or len(set(r.get("PT"))) > 1:
        return None  # two expressions or points: not one call
    if r.op == "solve" and r.get("PT") and exprs and "=" not in exprs[0]:  # a point, no equation: not a solve
        op, share = r.op_among(("evaluate", "derivative", "limit"))
        if share < 0.5:
            return None
        r.op, r.confidence = op, round(min(r.tag_confidence, share, 0.85), 3)
    one = {t: (r.get(t) or [""])[0].strip() for t in ("EXPR", "VAR", "PT", "LO", "HI", "N", "SEQ")}
    for t in ("LO", "HI"):  # a bound is a number or a constant ("interval" tagged by mistake is none)
        one[t] = next((x.strip() for x in r.get(t) if re.search(r"\d|\bpi\b|\be\b|oo|inf", x)), "")
    if r.op in ("evaluate", "derivative", "limit") and not one["PT"] and bool(one["LO"]) != bool(one["HI"]):
        one["PT"] = one["LO"] or one["HI"]  # one number read as a bound, where the call takes a point: the point
        one["LO"] = one["HI"] = ""
    if interval:
        one["LO"], one["HI"] = interval.group("lo"), interval.group("hi")
    if r.op in _OP_WORDS and not _OP_WORDS[r.op].search(text):
        # the head's operation is named by no word of the request ("find sin(k) at k = -2" is no derivative):
        # with a point it is an evaluation, read surely only as far as the rules agree; else the rules decide
        if r.op == "integral" or not (one["PT"] or one["LO"] or one["HI"]):
            return None
        r.op, r.confidence = "evaluate", round(min(r.confidence, 0.85), 3)
    one["SEQ"] = " ".join(x.strip() for x in r.get("SEQ"))  # "perfect" + "cubes": one series
    one["EXPR"] = exprs[0] if exprs else ""
    if r.op != "solve":  # "f(x) = x^2", "y = 3x": the function's name is no part of its expression
        one["EXPR"] = re.sub(r"^\s*(?:[A-Za-z]\s*\(\s*[a-z]\s*\)|y)\s*=\s*(?=\S)", "", one["EXPR"])
    e, var, pt = one["EXPR"], one["VAR"], one["PT"]
    if e and not var and r.op in ("derivative", "evaluate", "limit") and pt:
        var = _only_variable(e)  # "how steep is t^3 - 4t at t = 2": the point's variable is the expression's
        if var is None:
            return None
    if r.op == "series":
        kind, n = series_kind(one["SEQ"]), amount(one["N"]) if one["N"] else None
        if kind is None or n is None or n != int(n):
            return None
        res, said = series_sum(kind, int(n)), f"sum of the first {one['N']} {one['SEQ']} ({SERIES[kind]} for k = 1..{int(n)})"
    elif not e:
        return None
    elif r.op == "derivative":
        res = derivative_at(e, var or "x", pt) if pt else differentiate(e, var)
        said = f"derivative of {e}" + (f" with respect to {var}" if var else "") + (f" at {var or 'x'} = {pt}" if pt else "")
    elif r.op == "integral":
        if bool(one["LO"]) != bool(one["HI"]):
            return None
        res = integrate(e, var, one["LO"], one["HI"])
        said = f"integral of {e}" + (f" d{var}" if var else "") + (f" from {one['LO']} to {one['HI']}" if one["LO"] else "")
    elif r.op == "solve":
        res, said = solve_equations(e, var), f"solve {e}" + (f" for {var}" if var else "")
    elif r.op in ("simplify", "expand", "factor"):
        res, said = transform(e, r.op), f"{r.op} {e}"
    elif r.op == "evaluate":
        if not pt:
            return None
        res, said = substitute(e, var or "x", pt), f"{e} at {var or 'x'} = {pt}"
    elif r.op == "limit":
        if not pt:
            return None
        res, said = limit(e, var or "x", pt), f"limit of {e} as {var or 'x'} -> {pt}"
    else:
        return None
    return capped(r.confidence, understood(res, f"{said} [read by {r.model}]"))


def solve_by_rules(task: str, context: str = "") -> SolveResult:
    """The rule-based reading (regular expressions): the competing reading, and the benchmark's baseline."""
    text = clean(task)
    if not text:
        return fail("empty request")
    text = LEAD_IN_RE.sub("", text, count=1).strip() or text
    text = re.sub(r"\s*=\s*\?$", "", text)
    text = re.sub(r"\b(\d+|\([^()]+\))\s+factorial\b", r"factorial(\1)", text, flags=re.I)
    text = re.sub(r"\b(\d+)\s+choose\s+(\d+)\b", r"binomial(\1, \2)", text, flags=re.I)
    text = re.sub(r"^(.+?)\s+(?:mod|modulo)\s+(\S+)$", r"remainder((\1), \2)", text, flags=re.I)  # the whole left side
    text = re.sub(r"(?<=[\w)])\s+(?:over|divided\s+by)\s+(?=[\w(])", " / ", text, flags=re.I)
    text = re.sub(r"^(?:a\s+)?half\s+of\s+(.+)$", r"(\1)/2", text, flags=re.I)
    text = re.sub(r"^(?:a|one)\s+third\s+of\s+(.+)$", r"(\1)/3", text, flags=re.I)
    text = re.sub(r"^(?:a|one)\s+quarter\s+of\s+(.+)$", r"(\1)/4", text, flags=re.I)
    text = re.sub(r"^(?:double|twice)\s+(.+)$", r"2*(\1)", text, flags=re.I)
    text = re.sub(r"\bto\s+the\s+(\d+)(?:st|nd|rd|th)(?:\s+power)?\b", r"^\1", text, flags=re.I)
    text = re.sub(r"\b(\d+(?:\.\d+)?)\s+dozen\b", r"(\1*12)", text, flags=re.I)
    text = re.sub(r"\bfactorial\s+of\s+(\d+)\b", r"factorial(\1)", text, flags=re.I)
    m = re.match(r"^(?:round\s+)?(?P<f>.+?),?\s+(?:to|rounded\s+to|correct\s+to|accurate\s+to)\s+(?:the\s+)?(?P<n>\d+|[a-z]+)\s+(?:decimal\s+places?|decimals?|dp|d\.p\.|places?|digits?\s+after\s+the\s+(?:decimal\s+)?point)$", text, re.I)
    places = amount(m.group("n")) if m else None
    if m and places is not None and places == int(places) and 0 <= places <= 15:
        return _rounded(solve_task(m.group("f")), int(places))
    m = re.match(r"^(?P<f>.+?)\s+(?:as\s+a\s+decimal(?:\s+number)?|in\s+decimal(?:\s+form)?|as\s+decimals?)$", text, re.I)
    if m:
        res = solve_task(m.group("f"))
        if not res.confidence or not isinstance(res.value, (int, float)):
            return res
        out = _result(f"{float(res.value):.10g}", res.confidence, res.explanation, res.value)
        return understood(out, f"{m.group('f')} as a decimal")
    m = re.match(r"^(?:the\s+value\s+of\s+|solve\s+for\s+)?(?P<v>[a-z])\s*,?\s+(?:if|when|given(?:\s+that)?|such\s+that|where)\s+(?P<eq>.+=.+)$", text, re.I)
    if m:
        return solve_equations(m.group("eq"), m.group("v"))
    m = _SERIES_RE.match(text)
    if m and series_kind(m.group("seq")):
        return understood(series_sum(series_kind(m.group("seq")), int(m.group("n"))), f"sum of the first {m.group('n')} {m.group('seq')}")
    m = _DERIV_RE.match(text)
    at = re.match(r"^(?P<f>.+?)\s+(?:at|when|for|where)\s+(?P<v>[a-z])\s*=\s*(?P<p>.+)$", m.group("f"), re.I) if m else None
    if at:
        return derivative_at(at.group("f"), at.group("v"), at.group("p"), _order(m.group("ord")))

    m = _AT_RE.match(text)
    if m and not re.match(r"^(?:the\s+)?(?:limit|lim|integra|derivative|differentiate|d/d)", text, re.I):
        return substitute(m.group("f"), m.group("v"), m.group("p"))
    m = _LIMIT_RE.match(text) or _LIMIT_PREFIX_RE.match(text)
    if m:
        d = (m.group("dir") or "").strip().lower()
        direction = "+" if d in ("+",) or d.endswith(("right", "above")) else "-" if d == "-" or d.endswith(("left", "below")) else "+-"
        return limit(m.group("f"), m.group("v"), m.group("a"), direction)
    m = _INTEGRAL_RE.match(text)
    if m:
        f, var = _take_wrt(m.group("f"))
        var = var or m.group("d") or m.group("d2") or ""
        return integrate(f, var, m.group("a") or "", m.group("b") or "")
    m = _DDX_RE.match(text)
    if m:
        return differentiate(m.group("f"), m.group("v"), int(m.group("ord") or (2 if "²" in text.split("/")[0] else 1)))
    m = _DERIV_RE.match(text)
    if m:
        f, var = _take_wrt(m.group("f"))
        return differentiate(f, var or "", _order(m.group("ord")))
    m = re.match(r"^solve\s+for\s+(?P<v>[A-Za-z](?:\s*(?:,|and)\s*[A-Za-z])*)\s*[:,]?\s+(?P<eq>.+)$", text, re.I) or _SOLVE_RE.match(text)
    if m:
        return solve_equations(m.group("eq"), m.group("v") or "")
    m = _TRANSFORM_RE.match(text)
    if m:
        how = "factor" if m.group("how").lower().startswith("factor") else m.group("how").lower()
        return transform(m.group("f"), how)
    if "=" in text and re.search(r"[A-Za-z]", re.sub(r"\b(?:sin|cos|tan|log|ln|sqrt|exp|pi)\b", "", text)):
        res = solve_equations(text)
        if res.confidence:
            res.confidence = round(res.confidence * 0.85, 3)
            res.explanation += " (no operation named; treated as an equation to solve)"
        return res
    return evaluate(text)


def read_shapes(task: str) -> SolveResult | None:
    """Whole-number questions and functions of numbers said in words: shapes the reader's schema has no slot for."""
    text = clean(task)
    return number_theory(text) or function_values(text) or geometry(text)


# --- MCP server --------------------------------------------------------------------------------------

mcp = make_server(SPECIALIST_ID, "math", "Symbolic and numeric mathematics: algebra, calculus, equations, arithmetic.")


@mcp.tool(name="solve", structured_output=True)
def solve_tool(task: str, context: str = "") -> SolveResult:
    """Answer a maths request in plain language: simplify/expand/factor, solve equations and systems,
    derivatives, integrals (definite and indefinite), limits, arithmetic."""
    return checked(task, solve_task(task, context))


@mcp.tool(name="integrate", structured_output=True)
def integrate_tool(expression: str, variable: str = "x", lower: str = "", upper: str = "") -> SolveResult:
    """Integrate `expression` with respect to `variable`; definite when `lower` and `upper` are given."""
    return integrate(expression, variable, lower, upper)


@mcp.tool(name="differentiate", structured_output=True)
def differentiate_tool(expression: str, variable: str = "x", order: int = 1) -> SolveResult:
    """Derivative of `expression` with respect to `variable`."""
    return differentiate(expression, variable, order)


@mcp.tool(name="solve_equations", structured_output=True)
def solve_equations_tool(equations: str, variables: str = "") -> SolveResult:
    """Solve equations separated by ';' or 'and' (e.g. 'x + y = 10; x - y = 2') for the given variables."""
    return solve_equations(equations, variables)


@mcp.tool(name="evaluate", structured_output=True)
def evaluate_tool(expression: str) -> SolveResult:
    """Evaluate an arithmetic expression exactly (e.g. '2^10 + 3', 'sqrt(2)/2')."""
    return evaluate(expression)


def main() -> None:
    serve(mcp)


if __name__ == "__main__":
    main()
