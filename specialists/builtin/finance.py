"""`finance` specialist: time value of money — compound and simple interest, loan payments, annuities.

Run as ``python -m specialists.builtin.finance`` (an MCP server on stdio).
"""

from __future__ import annotations

import math
import re

from micromarket.specialists.builtin._common import (
    reader,
    qualified,
    capped,
    compete,
    NUMBER_RE,
    checked,
    clean,
    fail,
    make_server,
    serve,
    spelled_numbers,
    to_float,
    understood,
)
from micromarket.specialists.reading import read
from micromarket.specialists.reading.numbers import amount, first_number, per_year
from micromarket.specialists.result import SolveResult

SPECIALIST_ID = "finance"

FREQUENCIES = {
    "annually": 1, "annual": 1, "yearly": 1, "per year": 1, "once a year": 1, "semiannually": 2, "semi-annually": 2,
    "semi annually": 2, "semiannual": 2, "twice a year": 2, "biannually": 2, "quarterly": 4, "monthly": 12,
    "per month": 12, "a month": 12, "each month": 12, "every month": 12, "biweekly": 26, "bi-weekly": 26,
    "fortnightly": 26, "weekly": 52, "per week": 52, "a week": 52, "daily": 365, "per day": 365, "a day": 365,
    "continuously": math.inf, "continuous": math.inf, "per quarter": 4, "a quarter": 4, "a year": 1, "each year": 1,
    "every year": 1,
}
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "bn": 1e9, "b": 1e9, "billion": 1e9}
_MONEY_RE = re.compile(
    rf"(?P<cur>[$€£¥])\s?(?P<n>{NUMBER_RE})\s*(?P<s>k|thousand|mm|million|bn|billion|m|b)?\b"
    rf"|(?P<n2>{NUMBER_RE})\s*(?P<s2>k|thousand|million|billion)?\s*(?P<cur2>dollars|usd|euros?|eur|pounds|gbp)\b",
    re.I,
)
_RATE_RE = re.compile(rf"(?P<r>{NUMBER_RE})\s*(?:%|percent|per\s*cent|pct)", re.I)
_TERM_RE = re.compile(rf"(?P<t>{NUMBER_RE})[\s-]*(?P<u>years?|yrs?|months?|mos?)\b", re.I)
_CUR_NAMES = {"dollars": "$", "usd": "$", "euro": "€", "euros": "€", "eur": "€", "pounds": "£", "gbp": "£"}


def money(x: float, cur: str = "$") -> str:
    return f"-{cur}{abs(x):,.2f}" if x < 0 else f"{cur}{x:,.2f}"


def _freq_name(n: float) -> str:
    return {1: "annually", 2: "semi-annually", 4: "quarterly", 12: "monthly", 26: "every two weeks", 52: "weekly",
            365: "daily", math.inf: "continuously"}.get(n, f"{n:g} times a year")


def _r(x: float) -> float:
    return float(f"{x:.12g}")


# --- formulas ------------------------------------------------------------------------------------------


def compound_interest(principal: float, annual_rate_percent: float, years: float, compounds_per_year: float = 1,
                      currency: str = "$") -> SolveResult:
    """Future value of a lump sum with compound interest (compounds_per_year = inf for continuous)."""
    r = annual_rate_percent / 100
    if compounds_per_year == math.inf:
        fv = principal * math.exp(r * years)
        formula = f"P·e^(rt) = {principal:g}·e^({r:g}×{years:g})"
    else:
        n = compounds_per_year
        fv = principal * (1 + r / n) ** (n * years)
        formula = f"P(1 + r/n)^(nt) = {principal:g}(1 + {r:g}/{n:g})^({n:g}×{years:g})"
    return SolveResult(answer=f"Future value: {money(fv, currency)} (interest earned {money(fv - principal, currency)})",
                       confidence=0.95, explanation=f"{formula}; compounded {_freq_name(compounds_per_year)}", value=_r(fv))


def simple_interest(principal: float, annual_rate_percent: float, years: float, currency: str = "$") -> SolveResult:
    interest = principal * annual_rate_percent / 100 * years
    return SolveResult(answer=f"Simple interest: {money(interest, currency)}; total {money(principal + interest, currency)}",
                       confidence=0.95, explanation=f"I = P·r·t = {principal:g} × {annual_rate_percent / 100:g} × {years:g}",
                       value=_r(interest))


def loan_payment(principal: float, annual_rate_percent: float, years: float, payments_per_year: int = 12,
                 currency: str = "$") -> SolveResult:
    """Level payment of an amortising loan (mortgage), paid at the end of each period."""
    n = round(years * payments_per_year)
    if n <= 0:
        return fail("the loan term must be positive")
    i = annual_rate_percent / 100 / payments_per_year
    pmt = principal / n if i == 0 else principal * i / (1 - (1 + i) ** -n)
    total = pmt * n
    per = {12: "Monthly", 52: "Weekly", 26: "Biweekly", 4: "Quarterly", 1: "Annual"}.get(payments_per_year, "Periodic")
    return SolveResult(
        answer=f"{per} payment: {money(pmt, currency)} (total paid {money(total, currency)}, total interest {money(total - principal, currency)})",
        confidence=0.95,
        explanation=f"PMT = P·i / (1 − (1 + i)^−n) with P = {principal:g}, i = {annual_rate_percent:g}%/{payments_per_year} = {i:.6g}, n = {n}",
        value=_r(pmt))


def annuity_value(payment: float, annual_rate_percent: float, years: float, periods_per_year: int = 12,
                  kind: str = "future", due: bool = False, currency: str = "$") -> SolveResult:
    """Future or present value of equal periodic payments (ordinary annuity, or annuity due)."""
    n = round(years * periods_per_year)
    i = annual_rate_percent / 100 / periods_per_year
    if kind == "present":
        v = payment * n if i == 0 else payment * (1 - (1 + i) ** -n) / i
        formula = "PV = PMT·(1 − (1 + i)^−n) / i"
    else:
        v = payment * n if i == 0 else payment * ((1 + i) ** n - 1) / i
        formula = "FV = PMT·((1 + i)^n − 1) / i"
    if due:
        v *= 1 + i
        formula += " × (1 + i) (payments at the start of each period)"
    label = "Present value" if kind == "present" else "Future value"
    paid = payment * n
    extra = f" (payments total {money(paid, currency)}, growth {money(v - paid, currency)})" if kind != "present" else ""
    return SolveResult(answer=f"{label}: {money(v, currency)}{extra}", confidence=0.95,
                       explanation=f"{formula} with PMT = {payment:g}, i = {i:.6g}, n = {n}", value=_r(v))


def present_value(future: float, annual_rate_percent: float, years: float, compounds_per_year: float = 1,
                  currency: str = "$") -> SolveResult:
    """Value today of an amount received in the future."""
    r = annual_rate_percent / 100
    n = compounds_per_year
    pv = future * math.exp(-r * years) if n == math.inf else future / (1 + r / n) ** (n * years)
    return SolveResult(answer=f"Present value: {money(pv, currency)}", confidence=0.95,
                       explanation=f"PV = FV / (1 + r/n)^(nt), discounted {_freq_name(n)}", value=_r(pv))


# --- routing of free text -------------------------------------------------------------------------------


def _amounts(text: str) -> list[tuple[float, str, int, int]]:
    out = []
    for m in _MONEY_RE.finditer(text):
        num = m.group("n") or m.group("n2")
        scale = (m.group("s") or m.group("s2") or "").lower()
        cur = m.group("cur") or _CUR_NAMES.get((m.group("cur2") or "").lower(), "$")
        out.append((to_float(num) * _SCALE.get(scale, 1), cur, m.start(), m.end()))
    return out


def _frequency(text: str) -> float | None:
    candidates = [m.group(1).lower() for m in re.finditer(r"compound(?:ed|ing)?\s+(\w+(?:[\s-]\w+)?)", text, re.I)]
    for phrase in candidates:
        for k in sorted(FREQUENCIES, key=len, reverse=True):
            if phrase.startswith(k):
                return FREQUENCIES[k]
    for m in re.finditer(r"(\w+(?:[\s-]\w+)?)\s+compound", text, re.I):
        for k in sorted(FREQUENCIES, key=len, reverse=True):
            if m.group(1).lower().endswith(k):
                return FREQUENCIES[k]
    if re.search(r"\bcontinuous(?:ly)?\b", text, re.I):
        return math.inf
    return None


def _payment_frequency(text: str, end: int) -> int | None:
    after = text[end:end + 40].lower()
    after = re.sub(r"^\s*(?:(?:is\s+|are\s+|being\s+)?(?:deposited|saved|invested|contributed|paid|added|put\s+(?:away|aside|in))\s+)", " ", after)
    for k in sorted(FREQUENCIES, key=len, reverse=True):
        if re.match(rf"\s*(?:/|\bper\b\s*)?\s*{re.escape(k)}\b", after) or re.match(r"\s*/\s*(mo|month)\b", after) and k == "monthly":
            v = FREQUENCIES[k]
            return None if v == math.inf else int(v)
    if re.match(r"\s*/\s*(?:mo|month)\b", after):
        return 12
    if re.match(r"\s*/\s*(?:yr|year)\b", after):
        return 1
    return None


def solve_task(task: str, context: str = "") -> SolveResult:
    """Answer an interest, loan or annuity question in plain language. The learned reader reads first; the rules
    read what it cannot."""
    shaped = read_shapes(task)
    if shaped is not None:
        return shaped
    return compete(task, read_by_model(task), lambda: solve_by_rules(task, context), SPECIALIST_ID)


_GROW = re.compile(r"\b(?P<f>double|doubles|doubling|triple|triples|tripling|quadruple|quadruples|quadrupling)\b|\b(?P<x>\d+(?:\.\d+)?)\s*(?:x|times)\b(?!\s+(?:a|per|each|every)\b)", re.I)  # "12 times a year" is a frequency
_GROW_ASK = re.compile(r"\bhow\s+(?:long|many\s+years|many\s+months)\b|\bwhen\s+will\b|\b(?:doubling|tripling)\s+time\b|\byears?\s+(?:to|until|till|for)\b|\bnumber\s+of\s+years\b", re.I)
_FACTORS = {"doubl": 2, "tripl": 3, "quadrupl": 4}


def growth_time(text: str) -> SolveResult | None:
    """Years for money at a compound rate to double, triple or grow N times ("how long to double my money at 7% a
    year"): log(factor) / log(1 + r/m) / m. None when the text does not ask that."""
    g, ask, rates = _GROW.search(text), _GROW_ASK.search(text), list(_RATE_RE.finditer(text))
    if not g or not ask or len(rates) != 1:
        return None
    factor = float(g["x"]) if g["x"] else next(v for k, v in _FACTORS.items() if g["f"].lower().startswith(k))
    rate = float(rates[0]["r"].replace(",", ""))
    if factor <= 1 or not 0 < rate < 1000:
        return None
    times = _frequency(text) or 1
    years = math.log(factor) / (times * math.log(1 + rate / 100 / times))
    how = "" if times == 1 else f", compounded {_freq_name(times)}"
    y, m = int(years), round((years - int(years)) * 12)
    y, m = (y + 1, 0) if m == 12 else (y, m)
    said = {2: "double", 3: "triple", 4: "quadruple"}.get(int(factor) if factor == int(factor) else 0, f"grow {factor:g}-fold")
    res = SolveResult(answer=f"{years:.2f} years (about {y} years{f' and {m} month' + ('s' if m > 1 else '') if m else ''}) to {said} at {rate:g}% a year{how}",
                      confidence=0.95, value=round(years, 4),
                      explanation=f"n = ln({factor:g}) / ({times:g}·ln(1 + {rate:g}%/{times:g})); the rule of 72 gives {72 / rate:.1f} years")
    sums = [m.group(0).strip() for m in _MONEY_RE.finditer(text)]  # the sum itself does not change the time
    return understood(res, f"time for {' and '.join(sums) or 'money'} to {said} at {rate:g}%{how}")


# The sum is what is asked ("how much did I borrow", "how much should I invest today to have $10,000"): the reader's
# operations all take the sum as given, so these are read here or declined, never answered as the forward question.
_WHO = r"(?:I|we|you|they|he|she)"
_ASKS_SUM = re.compile(rf"\bhow\s+much\s+(?:money\s+)?(?:(?:did|can|could|should|must|shall)\s+{_WHO}\s+(?:have\s+to\s+|need\s+to\s+)?"
                       rf"|(?:do|does|will|would)\s+{_WHO}\s+(?:have|need)\s+to\s+)(?:borrow|afford|invest|deposit|put|save|set\s+aside|start\s+with|pay\s+in)"
                       rf"|\bhow\s+much\s+(?:money\s+)?(?:do|does|will|would)\s+{_WHO}\s+(?:borrow|afford|need)\b|\bhow\s+(?:big|large)\s+(?:a\s+)?(?:loan|mortgage)"
                       r"|\b(?:loan|mortgage)\s+(?:amount|size)\b|\bwhat\s+(?:loan|mortgage|principal)\b|\bhow\s+much\s+(?:house|home|car)\b"
                       r"|\bhow\s+(?:big|large|much)\s+(?:is|was|would\s+be|will\s+be)\s+(?:the|my|our|a)\s+(?:loan|mortgage|principal)\b", re.I)
# a sum said as a payment ("$1,500 a month", "payment is $900"): the payment is given, so it is not what is asked
_GIVEN_PAYMENT = re.compile(r"\bpayments?\s+(?:is|are|was|were|of)\s+[$€£]?\s*\d|[$€£]\s*[\d,.]+k?\s*(?:a|per|each|every)\s+(?:month|week|year)\b", re.I)
_ASKS_PAYMENT = re.compile(r"\bwhat(?:'s|\s+is|\s+are|\s+will\s+be|\s+would\s+be)?\s+(?:the|my|our)?\s*(?:monthly\s+|weekly\s+|annual\s+)?(?:payments?|installments?)\b"
                           r"|\bhow\s+much\s+(?:is|are|will|would)\s+(?:the|my|our)?\s*(?:monthly\s+)?(?:payments?|installments?)\b|\bhow\s+much\s+(?:a|per)\s+month\b", re.I)
_GOAL = re.compile(r"\bto\s+(?:have|reach|get|end\s+up\s+with|accumulate|grow\s+to|be\s+worth|retire\s+with|save\s+up)\b", re.I)
_PERIODIC = re.compile(r"\b(?:a|per|each|every)\s+(?:month|year|week|quarter)\b|\bmonthly\b|\bweekly\b|\bannual(?:ly)?\s+(?:payments?|deposits?)\b", re.I)
_INFLATION = re.compile(r"\binflation\b", re.I)


def _rates(text: str) -> list[float]:
    return [to_float(m.group("r")) for m in _RATE_RE.finditer(text)]


def _terms(text: str) -> list[tuple[float, str]]:
    """(number, unit word) of each term ("30 years", "60 months")."""
    return [(to_float(m.group("t")), m.group("u").lower()) for m in _TERM_RE.finditer(text)]


def _money_rate_term(text: str) -> tuple[float, str, float, float] | None:
    """The one sum, rate and term of the text: (sum, currency, rate %, years), or None."""
    amounts, rates, terms = _amounts(text), _rates(text), _terms(text)
    if len(amounts) != 1 or len(rates) != 1 or len(terms) != 1:
        return None
    t, unit = terms[0]
    return amounts[0][0], amounts[0][1], rates[0], t / 12 if unit.startswith("mo") else t


def unknown_sum(text: str) -> SolveResult | None:
    """Questions whose unknown is the sum: the loan a payment repays, the deposit that grows to a goal, the regular
    saving that reaches one, and what a sum is worth after inflation. None when the text asks none of these;
    a decline when it asks for the sum in a way not read here."""
    asks, goal, infl = _ASKS_SUM.search(text), _GOAL.search(text), _INFLATION.search(text)
    if not asks and re.search(r"\bloan\b|\bmortgage\b|\bborrow", text, re.I) and _GIVEN_PAYMENT.search(text) and not _ASKS_PAYMENT.search(text):
        asks = _GIVEN_PAYMENT.search(text)  # the payment is given and not asked: the loan it repays is
    if not (asks or (goal and re.search(r"\bhow\s+much\b", text, re.I)) or infl):
        return None
    found = _money_rate_term(text)
    if found is None:
        return fail("the question asks for a sum from a payment, a goal or inflation, but one sum, one rate and one term were not all found")
    value, cur, rate, years = found
    said = f"{cur}{value:,.2f} at {rate:g}% over {years:g} years"
    every = _payment_frequency(text, len(text)) or (12 if re.search(r"\bmonth", text, re.I) else None)
    if infl and not asks and not goal:
        if re.search(r"\bcost|\bprice|\bpay\b", text, re.I):
            res = compound_interest(value, rate, years, 1, cur)
            res.answer = f"{money(float(res.value), cur)} (prices grow {rate:g}% a year)"
            return understood(res, f"price of {said} of inflation")
        if re.search(r"\bworth\b|\bbuy\b|purchasing\s+power|\breal\s+value\b|\bvalue\b", text, re.I):
            real = value / (1 + rate / 100) ** years
            return understood(SolveResult(answer=f"{money(real, cur)} in today's money (purchasing power of {money(value, cur)})", confidence=0.9,
                                          value=_r(real), explanation=f"{value:g} / (1 + {rate:g}%)^{years:g}"),
                              f"purchasing power of {said} of inflation")
        return fail("an inflation question that asks neither a future price nor what a sum will be worth")
    if asks and re.search(r"\bloan\b|\bmortgage\b|\bborrow|\bafford", text, re.I) and _PERIODIC.search(text):
        if not re.search(r"\bpa(?:y|ying|id|yments?)\b|\brepay|\bafford|\binstal+ments?\b", text, re.I):
            return fail("a sum each month that is not said to be the payment (an income?) does not give the loan")
        per = every or 12
        res = annuity_value(value, rate, years, per, "present", False, cur)
        res.answer = f"Loan amount: {money(float(res.value), cur)} (repaid by {money(value, cur)} {_freq_name(per)})"
        return understood(res, f"loan repaid by payments of {said}, {_freq_name(per)}")
    if goal:
        if _PERIODIC.search(text):  # a regular saving that reaches the goal: PMT = FV·i / ((1 + i)^n − 1)
            per = every or 12
            n, i = round(years * per), rate / 100 / per
            pmt = value / n if i == 0 else value * i / ((1 + i) ** n - 1)
            return understood(SolveResult(answer=f"Deposit {money(pmt, cur)} {_freq_name(per)} to reach {money(value, cur)}", confidence=0.9,
                                          value=_r(pmt), explanation=f"PMT = FV·i / ((1 + i)^n − 1) with i = {i:.6g}, n = {n}"),
                              f"regular deposit to reach {said}, {_freq_name(per)}")
        freq = _frequency(text) or 1
        res = present_value(value, rate, years, freq, cur)
        res.answer = f"Invest {money(float(res.value), cur)} today to have {money(value, cur)}"
        return understood(res, f"sum to invest now to reach {said}, compounded {_freq_name(freq)}")
    return fail("the question asks for the sum itself (what to invest or borrow) in a way not read here")


# Questions the reader's operations do not cover yet (present value, the interest alone): the rules read them.
_NOT_MODELLED = re.compile(r"present\s+value|\bpv\b|worth\s+today|value\s+today|how\s+much\s+interest|interest\s+(?:earned|will|would|do|does|is)|compound\s+interest\s+(?:on|of|for)|\bthe\s+interest\b"
                           r"|annuity\s+due|beginning\s+of\s+each|start\s+of\s+each|in\s+advance|continuous", re.I)


@reader(SPECIALIST_ID)
def read_by_model(task: str) -> SolveResult | None:
    """The learned reading (see micromarket.specialists.reading): the operation, the amount, rate, term and
    frequency. None when no model ships or its reading is unsure or incomplete (the rules then read)."""
    text = clean(task)
    if not text:
        return None
    r = read("finance", text)
    if qualified(r) is not None:  # a condition the engine's call cannot express: not read past
        return qualified(r)
    if r is None or r.op == "none" or r.confidence < 0.5:
        return None
    if _NOT_MODELLED.search(text) and r.op != "simple":  # simple interest is the interest; the others are not
        return None
    # spans the call can use: an amount, a rate and a term state a number, a frequency a number of times a year
    amts = [a for a in r.get("AMT") if amount(a) is not None]
    rates = [x for x in r.get("RATE") if first_number(x) is not None]
    terms = [x for x in r.get("TERM") if first_number(x) is not None]
    freqs = [f for f in r.get("FREQ") if per_year(f) is not None]
    if r.op == "compound" and len(freqs) > 1 and "annuity" in r.op_probs:  # deposits and compounding: not a lump sum
        r.op, r.confidence = "annuity", round(min(r.tag_confidence, 0.85), 3)
    if len(amts) != 1 or len(rates) != 1 or len(terms) != 1:
        return None
    value, rate, t = amount(amts[0]), first_number(rates[0]), first_number(terms[0])
    if value is None or rate is None or t is None:
        return None
    term_text = terms[0]
    if not re.search(r"[a-z]", term_text, re.I):  # "24" tagged, "mos" not: the word after the number names the unit
        end = next(b for (tag, x), (_, b) in zip(r.spans, r.offsets) if tag == "TERM" and x == terms[0])
        term_text += " " + ((re.match(r"[\s-]*([A-Za-z]+)", text[end:]) or [None, ""])[1])
    unit = "months" if re.search(r"\bmo", term_text, re.I) else "years"
    years = t / 12 if unit == "months" else t
    n = {per_year(f) for f in freqs} - {None}
    if len(n) > 1:
        return None
    freq = n.pop() if n else None
    cur = "€" if re.search(r"€|euro", amts[0], re.I) else "£" if re.search(r"£|\bgbp\b", amts[0], re.I) else "$"
    by = f" [read by {r.model}]"
    said = f"{amts[0]} = {cur}{value:g} at {rate:g}% for {t:g} {unit}"
    as_said = f" ({', '.join(freqs)})" if freqs else ""  # "every quarter": the words read, beside the name
    if r.op == "simple":
        res = simple_interest(value, rate, years, cur)
        return capped(r.confidence, understood(res, f"simple interest on a lump sum of {said}{by}"))
    if r.op == "loan":
        res = loan_payment(value, rate, years, int(freq or 12), cur)
        if res.confidence and not freq and not re.search(r"month", text, re.I):
            res.confidence = 0.75
            res.explanation += "; payment frequency not stated; assumed monthly"
        return capped(r.confidence, understood(res, f"loan payment of {said}, payments {_freq_name(freq or 12)}{as_said}{by}"))
    if r.op == "annuity":
        if freq is None:
            return None
        res = annuity_value(value, rate, years, int(freq), "future", False, cur)
        return capped(r.confidence, understood(res, f"future value of periodic payments of {said}, deposits {_freq_name(freq)}{as_said}{by}"))
    if r.op == "compound":
        if len(freqs) > 1:  # a deposit's frequency and the compounding's: not a lump sum
            return None
        res = compound_interest(value, rate, years, freq or 1, cur)
        if res.confidence and freq is None:
            res.confidence = 0.8
            res.explanation += "; compounding frequency not stated; assumed annual"
        return capped(r.confidence, understood(res, f"compound growth of a lump sum of {said}, compounded {_freq_name(freq or 1)}{as_said}{by}"))
    return None


def solve_by_rules(task: str, context: str = "") -> SolveResult:
    """The rule-based reading (regular expressions): the fallback, and the benchmark's baseline."""
    text = spelled_numbers(clean(task))
    if not text:
        return fail("empty request")
    low = text.lower()
    amounts = _amounts(text)
    if not amounts:
        bare = re.search(rf"(?:loan|mortgage|principal|invest(?:ment)?|deposit|borrow(?:ing)?|save|put(?:\s+away|\s+aside)?|set\s+aside|contribute|pay|of|on)\s+(?:an?\s+)?({NUMBER_RE})\s*(k|thousand|million|m)?\b(?!\s*(?:%|percent|years?|months?))"
                         rf"|({NUMBER_RE})\s*(k|thousand|million|m)?\s+(?:(?:home|car|student|personal)\s+)?(?:loan|mortgage|deposit|investment)\b", text, re.I)
        if bare:
            g = 1 if bare.group(1) else 3
            amounts = [(to_float(bare.group(g)) * _SCALE.get((bare.group(g + 1) or "").lower(), 1), "$", bare.start(g), bare.end(g + 1) if bare.group(g + 1) else bare.end(g))]
    rates, terms = _rates(text), _terms(text)
    missing = [name for name, got in (("an amount of money", amounts), ("an interest rate in %", rates), ("a term in years or months", terms)) if not got]
    if len(missing) == 3 or not re.search(r"interest|loan|mortgage|payment|annuity|invest|deposit|save|saving|future\s+value|present\s+value|worth|grow|compound|borrow|apr|%|percent", low):
        return fail("no interest, loan or annuity question with an amount, a rate and a term was found")
    if missing:
        return fail(f"missing {', '.join(missing)}")
    amount, cur, _, a_end = amounts[0]
    rate = rates[0]
    t, unit = terms[0]
    years = t / 12 if unit.startswith("mo") else t
    notes: list[str] = []
    conf = 0.95
    if len(amounts) > 1 or len(rates) > 1 or len(terms) > 1:
        conf = 0.6
        notes.append("several amounts, rates or terms were given; used the first of each")

    def done(res: SolveResult, what: str, every: str = "") -> SolveResult:
        if res.confidence:
            res.confidence = conf
            if notes:
                res.explanation += "; " + "; ".join(notes)
            amount_text = text[amounts[0][2]:a_end].strip()
            understood(res, f"{what} of {amount_text} = {cur}{amount:g} at {rate:g}% for {t:g} {unit}" + (f", {every}" if every else ""))
        return res

    pay_freq = _payment_frequency(text, a_end)
    if re.search(r"simple\s+interest", low):
        return done(simple_interest(amount, rate, years, cur), "simple interest on a lump sum")
    if re.search(r"\bloan\b|\bmortgage\b|\bborrow|\bamortiz|\bamortis|\bcar\s+payment|\brepay", low):
        per_year = 12
        if re.search(r"\bbi-?weekly\b|every\s+two\s+weeks", low):
            per_year = 26
        elif re.search(r"\bweekly\b", low):
            per_year = 52
        elif re.search(r"\bquarterly\b", low):
            per_year = 4
        elif re.search(r"\bannual(?:ly)?\s+payments?|\byearly\s+payments?", low):
            per_year = 1
        elif not re.search(r"\bmonthly\b|\bper\s+month\b|\ba\s+month\b|\bmonth", low):
            notes.append("payment frequency not stated; assumed monthly")
            conf = min(conf, 0.75)
        return done(loan_payment(amount, rate, years, per_year, cur), "loan payment", f"payments {_freq_name(per_year)}")
    is_present = bool(re.search(r"present\s+value|\bpv\b|worth\s+today|value\s+today|today'?s\s+value|need\s+to\s+invest\s+(?:today|now)|discount", low))
    if pay_freq or re.search(r"\bannuity\b|\beach\s+(?:month|year)\b|\bevery\s+(?:month|year)\b|\bper\s+(?:month|year)\b|\bcontribut", low):
        per_year = pay_freq or (1 if re.search(r"\b(?:each|every|per)\s+year\b|\bannual(?:ly)?\b|\byearly\b", low) else 12)
        if not pay_freq and not re.search(r"\b(?:each|every|per)\s+(?:month|year)\b|\bmonthly\b|\bannual(?:ly)?\b|\byearly\b", low):
            notes.append("payment frequency not stated; assumed monthly")
            conf = min(conf, 0.7)
        due = bool(re.search(r"annuity\s+due|beginning\s+of\s+each|start\s+of\s+each|in\s+advance", low))
        every = f"deposits {_freq_name(per_year)}" + (f", compounded {_freq_name(_frequency(text))}" if _frequency(text) else "")
        return done(annuity_value(amount, rate, years, per_year, "present" if is_present else "future", due, cur),
                    f"{'present' if is_present else 'future'} value of periodic payments", every)
    freq = _frequency(text)
    if freq is None:
        freq = 1
        if not is_present:
            notes.append("compounding frequency not stated; assumed annual")
            conf = min(conf, 0.7 if re.search(r"compound", low) else 0.8)
    if is_present:
        return done(present_value(amount, rate, years, freq, cur), "present value of a lump sum", f"discounted {_freq_name(freq)}")
    if not re.search(r"interest|compound|invest|deposit|grow|future\s+value|worth|save|saving|balance|apr|apy|return", low):
        conf = min(conf, 0.5)
        notes.append("the question was read as compound growth of the amount")
    res = compound_interest(amount, rate, years, freq, cur)
    if res.confidence and re.search(r"how\s+much\s+interest|interest\s+(?:earned|will|would|do|does|is)|compound\s+interest\s+(?:on|of|for)|\bthe\s+interest\b", low):
        fv = float(res.value)
        res.answer = f"Compound interest: {money(fv - amount, cur)} (future value {money(fv, cur)})"
        res.value = _r(fv - amount)
    return done(res, "compound growth of a lump sum", f"compounded {_freq_name(freq)}")


def read_shapes(task: str) -> SolveResult | None:
    """Questions the reader's schema has no slot for: the time to grow by a factor, the sum asked for."""
    text = clean(task)
    return growth_time(text) or unknown_sum(text)


# --- MCP server --------------------------------------------------------------------------------------

mcp = make_server(SPECIALIST_ID, "finance", "Time value of money: compound and simple interest, loan and mortgage payments, annuities.")


@mcp.tool(name="solve", structured_output=True)
def solve_tool(task: str, context: str = "") -> SolveResult:
    """Answer an interest, loan or annuity question, e.g. 'monthly payment on a $300,000 loan at 6% for 30 years'."""
    return checked(task, solve_task(task, context))


@mcp.tool(name="compound_interest", structured_output=True)
def compound_interest_tool(principal: float, annual_rate_percent: float, years: float, compounds_per_year: int = 1,
                           continuous: bool = False) -> SolveResult:
    """Future value of `principal` after `years` at `annual_rate_percent`, compounded `compounds_per_year` times a year."""
    return compound_interest(principal, annual_rate_percent, years, math.inf if continuous else compounds_per_year)


@mcp.tool(name="loan_payment", structured_output=True)
def loan_payment_tool(principal: float, annual_rate_percent: float, years: float, payments_per_year: int = 12) -> SolveResult:
    """Level payment of an amortising loan or mortgage."""
    return loan_payment(principal, annual_rate_percent, years, payments_per_year)


@mcp.tool(name="annuity_value", structured_output=True)
def annuity_value_tool(payment: float, annual_rate_percent: float, years: float, periods_per_year: int = 12,
                       kind: str = "future", due: bool = False) -> SolveResult:
    """Future (kind='future') or present (kind='present') value of equal periodic payments."""
    return annuity_value(payment, annual_rate_percent, years, periods_per_year, "present" if kind == "present" else "future", due)


def main() -> None:
    serve(mcp)


if __name__ == "__main__":
    main()
