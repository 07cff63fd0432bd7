"""`stats` specialist: descriptive statistics of number lists given in the task or the context.

Run as ``python -m specialists.builtin.stats`` (an MCP server on stdio).
"""

from __future__ import annotations

import math
import re
import statistics as st

from micromarket.specialists.builtin._common import (
    reader,
    qualified,
    NUMBER_RE,
    capped,
    checked,
    compete,
    clean,
    fail,
    fmt_num,
    make_server,
    serve,
    to_float,
    understood,
)
from micromarket.specialists.reading import read
from micromarket.specialists.reading.numbers import amount
from micromarket.specialists.result import SolveResult

SPECIALIST_ID = "stats"

# (operation, pattern) in the order answers are listed.
_OPS = [
    ("correlation", r"\bcorrelat\w*|\bpearson\b|\bcorrel\b|\br\s+value\b"),
    ("mean", r"\bmean\b|\baverage\b|\bavg\b|\barithmetic\s+mean\b"),
    ("median", r"\bmedian\b|\bmiddle\s+value\b"),
    ("mode", r"\bmode\b|\bmost\s+(?:common|frequent)\b"),
    ("std", r"\bstandard\s+deviation\b|\bstd\.?\s*dev\b|\bstdev\b|\bstd\b|\bsd\b|\bσ"),
    ("variance", r"\bvariance\b|\bvar\b"),
    ("min", r"\bmin(?:imum)?\b|\bsmallest\b|\blowest\b"),
    ("max", r"\bmax(?:imum)?\b|\blargest\b|\bhighest\b|\bbiggest\b"),
    ("range", r"\brange\b|\bspread\b"),
    ("quartiles", r"\bquartiles?\b|\biqr\b|\binter-?quartile\b|\bq1\b|\bq3\b"),
    ("percentile", r"\b\d{1,2}(?:st|nd|rd|th)\s+percentile\b|\bpercentile\b"),
    ("sum", r"\bsum\b|\btotal\b"),
    ("count", r"\bcount\b|\bhow\s+many\s+(?:numbers|values|items)\b"),
]
_SUMMARY_RE = re.compile(r"\b(?:summary|summari[sz]e|describe|descriptive\s+statistics|statistics|stats)\b", re.I)
_DOMAIN_HINT = re.compile(r"\b(?:data|numbers|values|list|sample|population|dataset|scores|set)\b", re.I)


def _numbers(text: str) -> list[float]:
    t = re.sub(r"\b\d{1,2}(?:st|nd|rd|th)\s+percentile\b", " ", text, flags=re.I)
    t = re.sub(r"\b[qQ][1-4]\b", " ", t)
    if re.search(r"\d,\s+\d", t) or re.search(r"\d,\d{1,2}(?!\d)|\d,\d{4,}", t):
        t = re.sub(r",", " , ", t)  # comma-separated list, not thousands separators
    return [to_float(n) for n in re.findall(NUMBER_RE, t)]


def _lists(text: str) -> list[list[float]]:
    brackets = re.findall(r"[\[(]([^\[\]()]*\d[^\[\]()]*)[\])]", text)
    if brackets:
        return [_numbers(b) for b in brackets]
    lines = [ln for ln in re.split(r"[\n;]", text) if re.search(r"\d", ln)]
    if len(lines) >= 2 and all(len(_numbers(re.sub(r"^\s*\w+\s*[:=]", "", ln))) >= 2 for ln in lines):
        return [_numbers(re.sub(r"^\s*\w+\s*[:=]", "", ln)) for ln in lines]
    m = re.search(r"(.+?)\band\b(.+)", text)
    if m and len(_numbers(m.group(1))) >= 2 and len(_numbers(m.group(2))) >= 2:
        return [_numbers(m.group(1)), _numbers(m.group(2))]
    nums = _numbers(text)
    return [nums] if nums else []


def _contiguous(text: str) -> bool:
    """True when the numbers form one list (separated only by commas, spaces, 'and', brackets)."""
    sep = r"(?:\s*(?:,|;|\band\b|\s)\s*)+"
    t = re.sub(r"\b\d{1,2}(?:st|nd|rd|th)\s+percentile\b", " ", text, flags=re.I)
    runs = re.findall(rf"{NUMBER_RE}(?:{sep}{NUMBER_RE})*", t)
    return len(runs) <= 1 or bool(re.search(r"[\[\n]", text))


def pearson(xs: list[float], ys: list[float]) -> float:
    mx, my = st.fmean(xs), st.fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        raise ValueError("a list with no variation has no correlation")
    return sxy / math.sqrt(sxx * syy)


def _quartiles(xs: list[float]) -> tuple[float, float, float]:
    q = st.quantiles(xs, n=4, method="inclusive")
    return q[0], q[1], q[2]


def _percentile(xs: list[float], p: float) -> float:
    s = sorted(xs)
    k = (len(s) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _f(x: float) -> str:
    return fmt_num(x, 6)


def describe(numbers: list[float], ops: list[str], *, population: bool = False, percentile: float | None = None) -> SolveResult:
    """Compute the requested statistics of one list of numbers."""
    xs = numbers
    n = len(xs)
    if n == 0:
        return fail("no numbers found")
    parts: list[str] = []
    values: list[float | str] = []
    notes: list[str] = []
    for op in ops:
        if op in ("std", "variance") and n < 2 and not population:
            return fail(f"the sample {op} needs at least two numbers")
        if op == "mean":
            v = st.fmean(xs)
            parts.append(f"mean = {_f(v)}")
        elif op == "median":
            v = st.median(xs)
            parts.append(f"median = {_f(v)}")
        elif op == "mode":
            modes = st.multimode(xs)
            if len(modes) == n and n > 1:
                parts.append("no mode (every value occurs once)")
                v = "none"
            else:
                parts.append(("mode = " if len(modes) == 1 else "modes = ") + ", ".join(_f(m) for m in modes))
                v = float(modes[0]) if len(modes) == 1 else ", ".join(_f(m) for m in modes)
        elif op in ("std", "variance"):
            fn = {"std": (st.pstdev, st.stdev), "variance": (st.pvariance, st.variance)}[op]
            pv, sv = fn[0](xs), (fn[1](xs) if n > 1 else float("nan"))
            name = "standard deviation" if op == "std" else "variance"
            if population:
                v = pv
                parts.append(f"population {name} (divide by n) = {_f(pv)}")
            else:
                v = sv
                parts.append(f"sample {name} (divide by n−1) = {_f(sv)}; population {name} (n) = {_f(pv)}")
                notes.append(f"{name}: sample formula used unless 'population' is asked for")
        elif op == "min":
            v = min(xs)
            parts.append(f"min = {_f(v)}")
        elif op == "max":
            v = max(xs)
            parts.append(f"max = {_f(v)}")
        elif op == "range":
            v = max(xs) - min(xs)
            parts.append(f"range = {_f(v)} (from {_f(min(xs))} to {_f(max(xs))})")
        elif op == "quartiles":
            if n < 2:
                return fail("quartiles need at least two numbers")
            q1, q2, q3 = _quartiles(xs)
            v = q3 - q1
            parts.append(f"Q1 = {_f(q1)}, Q2 (median) = {_f(q2)}, Q3 = {_f(q3)}, IQR = {_f(v)}")
            notes.append("quartiles by linear interpolation (inclusive method, as Excel QUARTILE.INC)")
        elif op == "percentile":
            p = 50.0 if percentile is None else percentile
            v = _percentile(xs, p)
            parts.append(f"{fmt_num(p)}th percentile = {_f(v)}")
        elif op == "sum":
            v = math.fsum(xs)
            parts.append(f"sum = {_f(v)}")
        elif op == "count":
            v = float(n)
            parts.append(f"count = {n}")
        else:
            continue
        values.append(v)
    value = values[0] if values else None
    if isinstance(value, float):
        value = float(f"{value:.12g}")
    shown = ", ".join(_f(x) for x in xs[:20]) + (", …" if n > 20 else "")
    expl = f"n = {n}: {shown}" + (f"; {'; '.join(notes)}" if notes else "")
    return SolveResult(answer="; ".join(parts), confidence=0.95, explanation=expl, value=value)


def correlation(xs: list[float], ys: list[float]) -> SolveResult:
    """Pearson correlation coefficient of two equally long lists."""
    if len(xs) != len(ys):
        return fail(f"the two lists have different lengths ({len(xs)} and {len(ys)})")
    if len(xs) < 2:
        return fail("correlation needs at least two pairs")
    try:
        r = pearson(xs, ys)
    except ValueError as e:
        return fail(str(e))
    strength = "very strong" if abs(r) >= 0.9 else "strong" if abs(r) >= 0.7 else "moderate" if abs(r) >= 0.4 else "weak"
    direction = "positive" if r > 0 else "negative" if r < 0 else "no"
    return SolveResult(answer=f"Pearson r = {r:.4f} ({strength} {direction} linear correlation; r² = {r * r:.4f})", confidence=0.95,
                       explanation=f"n = {len(xs)} pairs; r = cov(x, y) / (σx·σy)", value=float(f"{r:.12g}"))


def solve_task(task: str, context: str = "") -> SolveResult:
    """Answer a descriptive-statistics request; the numbers may be in the task or in the context. The learned
    reader reads first; the rules read what it cannot."""
    shaped = read_shapes(task)
    if shaped is not None:
        return shaped
    return compete(task, read_by_model(task), lambda: solve_by_rules(task, context), SPECIALIST_ID)


_PAIR = re.compile(rf"(?P<v>{NUMBER_RE})\s*%?\s*(?:\((?:with\s+)?(?:a\s+)?weight(?:ed)?\s*(?:of\s+)?(?P<w1>{NUMBER_RE})\s*%?\)|,?\s*(?:with\s+(?:a\s+)?weight(?:ing)?|weight(?:ed)?(?:\s+by)?|at\s+(?:a\s+)?weight(?:ing)?(?:\s+of)?|weighing|counting|x|×)\s*(?:of\s+)?(?P<w2>{NUMBER_RE})\s*%?)", re.I)


def weighted_mean(text: str) -> SolveResult | None:
    """The weighted average of values each given with its weight ("80 with weight 2 and 90 with weight 3",
    "85 weighted 40% and 92 weighted 60%"). None when the text does not have that shape."""
    if not re.search(r"\bweight", text, re.I) or not re.search(r"\b(?:average|mean)\b", text, re.I):
        return None
    found = list(_PAIR.finditer(text))
    pairs = [(to_float(m["v"]), to_float(m["w1"] or m["w2"])) for m in found]
    if len(pairs) < 2 or sum(w for _, w in pairs) <= 0 or any(w < 0 for _, w in pairs):
        return None
    total = sum(w for _, w in pairs)
    value = sum(v * w for v, w in pairs) / total
    shown = " + ".join(f"{_f(v)}×{_f(w)}" for v, w in pairs)
    res = SolveResult(answer=f"weighted mean = {_f(value)}", confidence=0.95, value=value,
                      explanation=f"({shown}) / {_f(total)}")
    return understood(res, "weighted mean of " + "; ".join(m.group(0) for m in found))


@reader(SPECIALIST_ID)
def read_by_model(task: str) -> SolveResult | None:
    """The learned reading (see micromarket.specialists.reading): the statistic and the numbers of the data.
    None when no model ships or its reading is unsure or incomplete (the rules then read)."""
    text = clean(task)
    if not text or _NOT_MODELLED.search(text) or not re.search(r"[A-Za-z]{3}", text):
        return None  # statistics the reader has no operation for, or no words naming one
    r = read("stats", text)
    if qualified(r) is not None:  # a condition the engine's call cannot express: not read past
        return qualified(r)
    if r is None or r.op == "none" or r.confidence < 0.5:
        return None
    # the data values: spans that state a number ("test" or "scores" tagged by mistake are not data; `checked`
    # still declines a reading that leaves a number of the request out)
    # a minus touching a number, after a space, comma or bracket, is its sign even where the tagger left it out
    r.spans = [("NUM", "-" + x) if t == "NUM" and not x.startswith("-") and a > 0 and text[a - 1] == "-" and
               (a == 1 or text[a - 2] in " ,;([") else (t, x) for (t, x), (a, _) in zip(r.spans, r.offsets)]
    nums = [n for n in r.get("NUM") if amount(n) is not None and (re.search(r"\d", n) or n.lower() not in ("a", "an"))]
    if any(re.search(r"\d", n) for n in nums):  # data in digits: a spelled word ("one more:") is not a value
        nums = [n for n in nums if re.search(r"\d", n)]
    r.spans = [(t, s) for t, s in r.spans if t != "NUM" or s in nums]
    xs = [amount(n) for n in nums]
    if len(xs) < 2:
        return None
    res = describe(xs, [r.op], population=bool(re.search(r"\bpopulation\b", text, re.I)))
    if res.confidence and not _contiguous(text):
        res.confidence = 0.4
        res.explanation += "; the numbers are scattered through the sentence, so they may not all be data"
    said = "[" + ", ".join(r.get("NUM")) + "]"
    return capped(r.confidence, understood(res, f"{r.op} of {said} [read by {r.model}]"))


# Statistics the reader has no operation for (the rules read them).
_NOT_MODELLED = re.compile(r"correlat|pearson|quartile|percentile|\biqr\b|summar|describe|statistics|\bstats\b|\bpopulation\b", re.I)


def solve_by_rules(task: str, context: str = "") -> SolveResult:
    """The rule-based reading (regular expressions): the fallback, and the benchmark's baseline."""
    text = clean(task)
    if not text:
        return fail("empty request")
    low = text.lower()
    ops = [op for op, pat in _OPS if re.search(pat, low)]
    summary = bool(_SUMMARY_RE.search(low))
    lists = _lists(text) or _lists(context or "")
    from_context = not _lists(text) and bool(lists)
    population = bool(re.search(r"\bpopulation\b", low))
    pct = re.search(r"\b(\d{1,2}(?:\.\d+)?)(?:st|nd|rd|th)?\s+percentile\b", low)
    if "correlation" in ops:
        if len(lists) < 2:
            return fail("correlation needs two lists of numbers, e.g. [1,2,3] and [2,4,7]")
        res = understood(correlation(lists[0], lists[1]), "Pearson correlation of " + " and ".join(
            "[" + ", ".join(_f(x) for x in lst) + "]" for lst in lists[:2]))
        if len(lists) > 2 and res.confidence:
            res.confidence, res.explanation = 0.6, res.explanation + f"; used the first two of {len(lists)} lists"
        return res
    if not lists:
        return fail("no numbers found in the request or its context")
    xs = [x for lst in lists for x in lst]
    if len(xs) < 2:  # "the sum of the first 100 integers" names one number: not a list of data
        return fail("a statistic of data needs at least two numbers; only one was given")
    conf = 0.95
    note = ""
    if not ops:
        if not (summary or _DOMAIN_HINT.search(low)) or len(xs) < 2:
            return fail("no statistic (mean, median, mode, standard deviation, variance, quartiles, correlation...) was named")
        ops = ["mean", "median", "std", "min", "max", "count"]
        conf = 0.9 if summary else 0.5
        note = "" if summary else "; no statistic named, gave a summary"
    if not _contiguous(text if not from_context else context):
        conf = min(conf, 0.4)
        note += "; the numbers are scattered through the sentence, so they may not all be data"
    if len(lists) > 1:
        conf = min(conf, 0.6)
        note += f"; pooled {len(lists)} lists"
    res = describe(xs, ops, population=population, percentile=float(pct.group(1)) if pct else None)
    if res.confidence:
        res.confidence = conf if not from_context else min(conf, 0.9)
        res.explanation += note + ("; numbers taken from the context" if from_context else "")
    return res


_RANGE = re.compile(r"\b(?:the\s+)?(?:(?:whole\s+|natural\s+)?(?:numbers|integers)\s+)?(?:from\s+)?(?P<a>-?\d+)\s+(?:through|thru|to|until|up\s+to)\s+(?P<b>-?\d+)\b(?!\s*[%.]\d)", re.I)
_STATISTIC = re.compile(r"\b(?:mean|average|median|mode|standard\s+deviation|std|variance|range|percentile|quartiles?|iqr|sum)\b", re.I)


def integer_range(text: str) -> SolveResult | None:
    """A statistic of a run of integers said as its ends ("the median of 1 through 10", "the mean of the numbers
    from 1 to 100"): read as the whole list. None when the text has no such run."""
    m = _RANGE.search(text)
    if not m or not _STATISTIC.search(text) or len(_RANGE.findall(text)) != 1:
        return None
    a, b = int(m["a"]), int(m["b"])
    if not 0 < b - a <= 10_000:
        return None
    before = re.sub(r"\b\d+(?:st|nd|rd|th)\b", "", text[:m.start()])  # a percentile's rank is no data
    if re.search(r"\d", before) or re.search(r"\d", text[m.end():]):
        return None  # other numbers besides the run: not only the run
    listed = ", ".join(str(k) for k in range(a, b + 1))
    res = solve_task(text[:m.start()] + listed + text[m.end():])
    if res.confidence:
        understood(res, f"{text.strip()}, with {m.group(0).strip()!r} read as the {b - a + 1} integers {a}..{b}")
    return res if res.confidence else None


# statistics the engine does not compute: a request naming one is declined, never read as a plain mean or variance
_NOT_COMPUTED = re.compile(r"\b(?:trimmed\s+mean|(?:moving|rolling|running|exponential(?:ly)?(?:\s+weighted)?|cumulative)\s+(?:average|mean|total|sum)"
                           r"|skew(?:ness)?|kurtosis|root\s+mean\s+square|rms|confidence\s+interval|p-?value|t-?test|regression|chi[-\s]?squared?"
                           r"|anova|covariance|entropy|mad|mean\s+absolute)\b", re.I)
_OTHER_MEANS = re.compile(r"\b(?P<kind>geometric|harmonic)\s+(?:mean|average)\b", re.I)


def other_statistics(text: str) -> SolveResult | None:
    """Geometric and harmonic means, the coefficient of variation, a z-score, the standard error of the mean; a
    statistic the engine does not compute is declined. None when the text names none of these."""
    import statistics as st

    if _NOT_COMPUTED.search(text):
        return fail(f"{_NOT_COMPUTED.search(text).group(0)!r} is a statistic this specialist does not compute")
    kind = _OTHER_MEANS.search(text)
    z = re.search(r"\bz[-\s]?scores?\b|\bstandard\s+score\b|\bhow\s+many\s+standard\s+deviations\b", text, re.I)
    cv = re.search(r"\bcoefficient\s+of\s+variation\b|\bcv\b|\brelative\s+standard\s+deviation\b", text, re.I)
    sem = re.search(r"\bstandard\s+error\b|\bsem\b", text, re.I)
    if not (kind or z or cv or sem):
        return None
    if z:  # a value, the mean and the standard deviation, each named
        val = re.search(rf"(?:z[-\s]?score|standard\s+score|deviations)\s+(?:of|for|is)?\s*(?:a\s+(?:score|value)\s+of\s+)?(?P<x>{NUMBER_RE})", text, re.I) \
            or re.search(rf"\b(?:score|value|scored?|got)\s+(?:of\s+|is\s+)?(?P<x>{NUMBER_RE})", text, re.I)
        mean = re.search(rf"\b(?:mean|average)\s+(?:is|of|=|:)?\s*(?P<m>{NUMBER_RE})", text, re.I)
        sd = re.search(rf"\b(?:standard\s+deviation|sd|std|σ)\s+(?:is|of|=|:)?\s*(?P<s>{NUMBER_RE})", text, re.I)
        if not (val and mean and sd) or to_float(sd["s"]) <= 0:
            return fail("a z-score needs the value, the mean and the standard deviation, each named")
        x, m, s_ = to_float(val["x"]), to_float(mean["m"]), to_float(sd["s"])
        value = (x - m) / s_
        return understood(SolveResult(answer=f"z = {_f(value)}", confidence=0.95, value=value, explanation=f"z = ({_f(x)} − {_f(m)}) / {_f(s_)}"),
                          f"z-score of {val['x']} with mean {mean['m']} and standard deviation {sd['s']}")
    lists = _lists(text)
    xs = lists[0] if len(lists) == 1 else _numbers(text)
    if len(xs) < 2:
        return fail("at least two numbers are needed")
    listed = ", ".join(_f(x) for x in xs)
    if kind:
        k = kind["kind"].lower()
        if any(x <= 0 for x in xs):
            return fail(f"a {k} mean needs positive numbers")
        value = st.geometric_mean(xs) if k == "geometric" else st.harmonic_mean(xs)
        return understood(SolveResult(answer=f"{k} mean = {_f(value)}", confidence=0.95, value=value, explanation=f"n = {len(xs)}: {listed}"),
                          f"{k} mean of [{listed}]")
    mean, sd = st.mean(xs), st.stdev(xs)
    if cv:
        if mean == 0:
            return fail("the coefficient of variation is undefined when the mean is 0")
        pop = st.pstdev(xs)
        return understood(SolveResult(answer=f"coefficient of variation = {_f(100 * sd / mean)}% (sample sd); {_f(100 * pop / mean)}% (population sd)",
                                      confidence=0.95, value=100 * sd / mean, explanation=f"sd / mean with mean {_f(mean)}, sample sd {_f(sd)}, population sd {_f(pop)}; n = {len(xs)}: {listed}"),
                          f"coefficient of variation of [{listed}]")
    value = sd / len(xs) ** 0.5
    return understood(SolveResult(answer=f"standard error of the mean = {_f(value)}", confidence=0.95, value=value,
                                  explanation=f"sample sd {_f(sd)} / √{len(xs)}; n = {len(xs)}: {listed}"), f"standard error of the mean of [{listed}]")


def read_shapes(task: str) -> SolveResult | None:
    """Values paired with weights, runs of integers said by their ends, and statistics the reader's schema has no
    slot for: shapes read here (or declined) before the reader."""
    text = clean(task)
    return weighted_mean(text) or integer_range(text) or other_statistics(text)


# --- MCP server --------------------------------------------------------------------------------------

mcp = make_server(SPECIALIST_ID, "stats", "Descriptive statistics: mean, median, mode, standard deviation, variance, quartiles, correlation.")


@mcp.tool(name="solve", structured_output=True)
def solve_tool(task: str, context: str = "") -> SolveResult:
    """Descriptive statistics from a plain-language request; numbers may be in the task or the context."""
    return checked(task, solve_task(task, context))


@mcp.tool(name="describe", structured_output=True)
def describe_tool(numbers: list[float], statistics: list[str] | None = None, population: bool = False) -> SolveResult:
    """Statistics of `numbers`: any of mean, median, mode, std, variance, min, max, range, quartiles, sum, count."""
    ops = [s.lower() for s in (statistics or ["count", "mean", "median", "std", "min", "max"])]
    return describe(numbers, ops, population=population)


@mcp.tool(name="correlation", structured_output=True)
def correlation_tool(x: list[float], y: list[float]) -> SolveResult:
    """Pearson correlation coefficient of two equally long lists."""
    return correlation(x, y)


def main() -> None:
    serve(mcp)


if __name__ == "__main__":
    main()
