"""Generator for the `quickcalc` reader: arithmetic said in words ("12 squared minus 5 cubed", "what's 15% of 80").

Operations: ``expr`` (numbers and operator words in order; precedence as written maths), ``percent_of``
("15% of 80"), ``increase`` / ``decrease`` ("80 plus 15%", "15% off 80"), ``what_percent`` ("12 is what percent
of 80"), ``sub_from`` ("subtract 5 from 12": the numbers in reverse). Each number is a ``NUM`` span; each
operator word a span of its own tag (``PLUS`` ... ``ROOT``); a percentage ``PCT``; ``PART``/``WHOLE`` for
"what percent". Operator spellings and spelled numbers are split by word, templates by template.
"""

from __future__ import annotations

import random

from micromarket.specialists.reading.generate import Domain, Fill, words_of

# operator tag -> spellings (first = the common one); binary operators between two numbers
BINARY = {
    "PLUS": ["plus", "+", "added to", "and", "increased by", "more than", "add", "together with", "summed with"],
    "MINUS": ["minus", "-", "less", "take away", "decreased by", "subtract", "reduced by", "subtracting"],
    "TIMES": ["times", "*", "x", "×", "multiplied by", "lots of", "multiplied with", "times by", "multiplied times"],
    "DIV": ["divided by", "/", "÷", "over", "shared equally by", "split by", "divided evenly by", "split evenly between"],
    "POW": ["to the power of", "^", "raised to", "**", "to the power", "raised to the power of", "to the exponent", "with exponent"],
}
POSTFIX = {"SQ": ["squared", "^2", "to the second power", "to the power of two", "to the power 2", "to the 2nd power", "raised to two"],
           "CUBE": ["cubed", "^3", "to the third power", "to the power of three", "to the 3rd power", "to the power 3"]}
PREFIX = {"ROOT": ["the square root of", "sqrt", "square root of", "root of", "the root of", "the sqrt of", "square-root of", "sq root of"]}
PRE_POWER = {"SQ": ["the square of", "square", "the square of the number", "square of"], "CUBE": ["the cube of", "cube", "cube of", "the cube of the number"]}
SPELLED = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten", 12: "twelve",
           20: "twenty", 11: "eleven", 15: "fifteen", 30: "thirty", 50: "fifty", 100: "a hundred"}

EXPR = [
    "{X}", "what is {X}?", "what's {X}", "calculate {X}", "{X} = ?", "how much is {X}", "work out {X}", "quick: {X}",
    "tell me {X}", "can you compute {X} for me", "{X} equals what", "what do you get from {X}?", "I need {X}",
    "compute {X} please", "what does {X} come to", "{X}, what is it", "hey, what's {X}?", "figure out {X}",
    "what would {X} be", "evaluate {X}", "give me the answer to {X}", "so {X} is how much?", "what is the value of {X}",
    "do {X} for me", "{X}?", "please calculate {X}", "what number is {X}", "and {X} makes what?", "result of {X}",
    "what's the result of {X}", "help me with {X}", "mental maths: {X}",
]
PERCENT_OF = [
    "what's {P} of {N}", "what is {P} of {N}?", "{P} of {N}", "calculate {P} of {N}", "how much is {P} of {N}",
    "find {P} of {N}", "{P} of {N} is what", "take {P} of {N}", "I need {P} of {N}", "what do you get for {P} of {N}?",
    "a tip of {P} on {N}: how much is the tip", "{P} of a {N} bill", "work out {P} of {N}", "what's {P} of {N} exactly",
    "how much is {P} out of {N}", "{P} of {N} equals?",
]
INCREASE = [
    "{N} plus {P}", "increase {N} by {P}", "what is {N} increased by {P}?", "{N} with {P} added", "add {P} to {N}",
    "{N} after a {P} rise", "raise {N} by {P}", "what's {N} plus {P}", "{N} marked up by {P}", "{N} grown by {P}",
    "if {N} goes up {P}, what is it", "{N} up {P}",
]
DECREASE = [
    "{N} minus {P}", "decrease {N} by {P}", "{P} off {N}", "what is {N} reduced by {P}?", "{N} less {P}",
    "take {P} off {N}", "{N} after a {P} discount", "a {N} item with {P} off: price?", "cut {N} by {P}",
    "what's {N} minus {P}", "{N} down {P}", "if {N} drops {P}, what is it",
]
WHAT_PERCENT = [
    "what percent of {W} is {A}?", "{A} is what percent of {W}", "what percentage is {A} of {W}", "{A} out of {W} as a percentage",
    "{A} as a percent of {W}", "what % of {W} is {A}", "express {A} as a percentage of {W}", "{A} of {W} is how many percent",
    "I scored {A} out of {W}; what percentage is that?", "how many percent of {W} is {A}",
]
SUB_FROM = [
    "subtract {B} from {A}", "take {B} away from {A}", "{B} subtracted from {A}",
    "deduct {B} from {A}", "remove {B} from {A}", "what's left if you take {B} from {A}", "subtract {B} from {A} please",
    "{B} less than {A}", "what do you get when you subtract {B} from {A}",
]
# More phrasings, as people ask them.
EXPR += ["what's the answer to {X}?", "{X} is what?", "calc {X}", "solve {X}", "need the result of {X}", "what comes out of {X}",
         "tell me what {X} is", "{X} - what do I get?", "so what's {X}", "can you do {X}?", "{X} makes?", "find {X}",
         "what is the answer for {X}", "could you calculate {X} please", "quick sum: {X}", "just work out {X}"]
PERCENT_OF += ["what's {P} of {N} dollars", "{P} of {N} please", "find {P} of the {N}", "compute {P} of {N}", "what amount is {P} of {N}?",
               "{P} of {N} comes to?", "the tip is {P} of {N}; how much?", "get {P} of {N}"]
INCREASE += ["{N} plus a {P} increase", "what is {N} after a {P} increase", "{N} raised by {P}", "boost {N} by {P}",
             "{N} with a {P} markup", "add {P} onto {N}"]
DECREASE += ["{N} with a {P} discount", "what is {N} after {P} off", "{N} lowered by {P}", "knock {P} off {N}",
             "reduce {N} by {P}", "{N} minus a {P} discount"]
WHAT_PERCENT += ["{A} out of {W} is what percent?", "what percentage of {W} is {A}", "{A} as a share of {W} in percent",
                 "percent: {A} of {W}", "{A} is how many percent of {W}?", "what fraction of {W} is {A}, in percent"]
SUB_FROM += ["take away {B} from {A}", "subtract {B} from the {A}", "minus {B} from {A}"]

TEMPLATES = {"expr": EXPR, "percent_of": PERCENT_OF, "increase": INCREASE, "decrease": DECREASE,
             "what_percent": WHAT_PERCENT, "sub_from": SUB_FROM}
OPERATORS = {"PLUS": "+", "MINUS": "-", "TIMES": "*", "DIV": "/", "POW": "**", "SQ": "**2", "CUBE": "**3", "ROOT": "sqrt"}


def _number(rng: random.Random, heldout: bool, small: bool = False) -> tuple[str, float]:
    r = rng.random()
    if r < 0.1:
        words = words_of({str(k): [v] for k, v in SPELLED.items()}, heldout, "qcnum")
        k = rng.choice(list(words))
        return words[k][0], float(k)
    if small:
        v = rng.randint(2, 12)
        return str(v), float(v)
    if r < 0.3:
        v = round(rng.uniform(0.1, 500), rng.choice([1, 2]))
        return f"{v:g}", v
    if r < 0.4:
        v = rng.randint(1000, 99999)
        return f"{v:,}", float(v)
    v = rng.randint(1, 300)
    return str(v), float(v)


def _chain(rng: random.Random, heldout: bool) -> tuple[str, dict[str, Fill], str]:
    """A template fragment of 1-3 numbers joined by operator words, its fills and the Python expression."""
    binary = words_of(BINARY, heldout, "qcop", whole_keys=False)
    post = words_of(POSTFIX, heldout, "qcop", whole_keys=False)
    pre = words_of(PREFIX, heldout, "qcop", whole_keys=False)
    parts, fills, expr = [], {}, []
    k = rng.choice([2, 2, 2, 3]) if rng.random() < 0.85 else 1
    for i in range(k):
        if i:
            op = rng.choice([o for o in binary if not (o == "POW" and any("**" in x for x in expr))])  # no towers of powers
            slot = f"O:{i}"
            parts.append("{%s}" % slot)
            fills[slot] = Fill(rng.choice(binary[op]), op)
            expr.append(OPERATORS[op])
        s, v = _number(rng, heldout, small=bool(expr) and expr[-1] == "**")
        root = rng.random() < 0.1
        if not root and rng.random() < 0.08 and not (expr and expr[-1] == "**"):  # "the square of 12", "cube 3"
            pp = words_of(PRE_POWER, heldout, "qcop", whole_keys=False)
            p = rng.choice(list(pp))
            parts.append("{W:%d}" % i)
            fills[f"W:{i}"] = Fill(rng.choice(pp[p]), p)
            s, v = _number(rng, heldout, small=True)
            parts.append("{N:%d}" % i)
            fills[f"N:{i}"] = Fill(s, "NUM")
            expr.append(f"({v!r}){OPERATORS[p]}")
            continue
        if root:
            parts.append("{R:%d}" % i)
            fills[f"R:{i}"] = Fill(rng.choice(pre["ROOT"]), "ROOT")
        parts.append("{N:%d}" % i)
        fills[f"N:{i}"] = Fill(s, "NUM")
        term = f"({v!r})"
        if root:
            term = f"sqrt({term})"
        if rng.random() < (0.5 if k == 1 else 0.25) and not (expr and expr[-1] == "**"):
            p = rng.choice(list(post))
            parts.append("{Q:%d}" % i)
            fills[f"Q:{i}"] = Fill(rng.choice(post[p]), p)
            term += OPERATORS[p]
        expr.append(term)
    if k == 1 and not any(k_.startswith(("Q", "R")) for k_ in fills):  # one bare number is not a calculation
        fills["Q:0"] = Fill(rng.choice(post["SQ"]), "SQ")
        parts.append("{Q:0}")
        expr[-1] += "**2"
    return " ".join(parts), fills, " ".join(expr)


def _pct(rng: random.Random, heldout: bool) -> tuple[Fill, float]:
    p = rng.choice([rng.randint(1, 99), rng.choice([5, 10, 12.5, 15, 20, 25, 33, 40, 50, 75]), round(rng.uniform(0.5, 60), 1)])
    forms = ["{:g}%", "{:g} percent", "{:g} per cent", "{:g} pct"]
    forms = [f for i, f in enumerate(forms) if (i >= 2) == heldout] if rng.random() < 0.4 else forms[:2]
    return Fill(rng.choice(forms).format(p), "PCT"), float(p)


def _fill(op: str, template: str, rng: random.Random, heldout: bool):
    if op == "expr":
        frag, fills, expr = _chain(rng, heldout)
        return fills, {"op": op, "expr": expr}, template.replace("{X}", frag)
    if op == "what_percent":
        w = rng.choice([rng.randint(10, 500), rng.randint(2, 40) * 25])
        a = rng.randint(1, w)
        return {"A": Fill(str(a), "PART"), "W": Fill(str(w), "WHOLE")}, {"op": op, "expr": f"({a}/{w})*100"}, template
    if op == "sub_from":
        (sa, a), (sb, b) = _number(rng, heldout), _number(rng, heldout)
        return {"A": Fill(sa, "NUM"), "B": Fill(sb, "NUM")}, {"op": op, "expr": f"({a!r}) - ({b!r})"}, template
    p, pv = _pct(rng, heldout)
    s, n = _number(rng, heldout)
    expr = {"percent_of": f"({pv!r}/100)*({n!r})", "increase": f"({n!r})*(1+{pv!r}/100)",
            "decrease": f"({n!r})*(1-{pv!r}/100)"}[op]
    return {"P": p, "N": Fill(s, "NUM")}, {"op": op, "expr": expr}, template


class QuickcalcDomain(Domain):
    def draft(self, op, template, rng, heldout_templates, heldout_words):
        return self.fill(op, template, rng, heldout_words)  # (fills, gold, the rewritten template); no fragments


DOMAIN = QuickcalcDomain("quickcalc", TEMPLATES, _fill,
                         ["NUM", "PLUS", "MINUS", "TIMES", "DIV", "POW", "SQ", "CUBE", "ROOT", "PCT", "PART", "WHOLE"])
