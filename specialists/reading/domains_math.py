"""Generator for the `math` reader: the expression and the operation (derivative, integral, solve, simplify,
expand, factor, evaluate at a point, limit, and sums of the first N integers, odd numbers, squares ...).

Spans: ``EXPR`` (the expression or equation), ``VAR`` (the variable named), ``PT`` (the point of an evaluation,
a derivative's value or a limit), ``LO``/``HI`` (bounds of a definite integral), ``N`` and ``SEQ`` (a series:
"the first 100 positive integers"). Function names, variable names, power signs and series words are split by
word; templates by template.
"""

from __future__ import annotations

import random

from micromarket.specialists.reading.generate import Domain, Fill, held_out, words_of

FUNCS = {"sin": ["sin"], "cos": ["cos"], "tan": ["tan"], "exp": ["exp"], "ln": ["ln"], "log": ["log"], "sqrt": ["sqrt"],
         "sinh": ["sinh"], "cosh": ["cosh"], "atan": ["atan", "arctan"]}
VARS = list("xyztuvswabcqrpkmnhg")  # single letters (not e, i, j: constants and 10j; not d: "dx"); a quarter held out
SEQ = {"int": ["positive integers", "natural numbers", "whole numbers", "counting numbers", "integers", "numbers"],
       "odd": ["odd numbers", "odd integers", "positive odd numbers", "odd positive integers"],
       "even": ["even numbers", "even integers", "positive even numbers", "even positive integers"],
       "square": ["squares", "perfect squares", "square numbers", "squares of the integers"],
       "cube": ["cubes", "perfect cubes", "cube numbers", "cubes of the natural numbers"]}

DERIV = [
    "find the derivative of {E}", "differentiate {E}", "what is the derivative of {E}?", "differentiate {E} with respect to {V}",
    "derivative of {E} wrt {V}", "take the derivative of {E}", "compute the first derivative of {E}", "I need the derivative of {E}",
    "{E}: derivative?", "what do you get when you differentiate {E}", "derive {E} with respect to {V}", "derivative of {E}",
    "give me the derivative of {E} with respect to {V}", "what's the derivative of {E}", "find d/d{V} of {E}",
    "please differentiate the function {E}", "how do I differentiate {E}", "the derivative of f = {E}",
]
DERIV_AT = [
    "derivative of {E} at {V} = {P}", "find the slope of {E} at {V} = {P}", "what is the derivative of {E} when {V} = {P}?",
    "differentiate {E} and evaluate at {V} = {P}", "how steep is {E} at {V} = {P}", "rate of change of {E} at {V} = {P}",
    "what's the slope of the curve {E} where {V} = {P}", "the derivative of {E} at the point {V} = {P}",
    "find the gradient of {E} at {V} = {P}", "evaluate the derivative of {E} at {V} = {P}",
]
INTEGRAL = [
    "integrate {E}", "find the integral of {E}", "antiderivative of {E}", "integrate {E} with respect to {V}",
    "what is the indefinite integral of {E}?", "what's the antiderivative of {E}", "compute the integral of {E}",
    "integral of {E} d{V}", "I need to integrate {E}", "find a primitive of {E}", "give me the integral of {E} with respect to {V}",
    "integrate the function {E}",
]
DEF_INT = [
    "integrate {E} from {A} to {B}", "the integral of {E} between {A} and {B}", "definite integral of {E} from {V} = {A} to {V} = {B}",
    "area under {E} from {A} to {B}", "what is the integral from {A} to {B} of {E}?", "integrate {E} over [{A}, {B}]",
    "compute the definite integral of {E} between {A} and {B}", "find the area under the curve {E} between {V} = {A} and {V} = {B}",
    "integral of {E} from {A} to {B}", "evaluate the integral of {E} for {V} from {A} to {B}",
]
SOLVE = [
    "solve {Q}", "solve {Q} for {V}", "find {V} if {Q}", "what {V} satisfies {Q}?", "for which {V} is {Q}",
    "what value of {V} makes {Q} true", "{Q}, solve for {V}", "find all {V} with {Q}", "solve the equation {Q}",
    "find the solutions of {Q}", "what is {V} when {Q}?", "given {Q}, what is {V}", "find the value of {V} such that {Q}",
    "solve for {V}: {Q}", "can you solve {Q}",
]
ROOTS = ["find the roots of {E}", "where is {E} equal to zero?", "find the zeros of {E}", "roots of {E}", "when does {E} equal 0",
         "what are the roots of the polynomial {E}"]
SIMPLIFY = ["simplify {E}", "can you simplify {E}?", "write {E} in simplest form", "reduce {E}", "tidy up {E}", "simplify the expression {E}",
            "what does {E} simplify to", "make {E} simpler", "simplify: {E}"]
EXPAND = ["expand {E}", "multiply out {E}", "expand the brackets in {E}", "expand {E} fully", "what is {E} expanded?",
          "multiply out the brackets of {E}", "expand: {E}", "write {E} without brackets"]
FACTOR = ["factor {E}", "factorise {E}", "factorize {E}", "write {E} as a product of factors", "factor the polynomial {E}",
          "what is {E} factored?", "factor completely: {E}", "break {E} into factors"]
EVALUATE = [
    "evaluate {E} at {V} = {P}", "what is {E} when {V} = {P}?", "plug {V} = {P} into {E}", "compute {E} for {V} = {P}",
    "substitute {V} = {P} in {E}", "find the value of {E} at {V} = {P}", "what does {E} equal when {V} is {P}",
    "{E} at {V} = {P}?", "if {V} = {P}, what is {E}?", "evaluate {E} for {V} = {P}", "put {V} = {P} into {E}",
    "value of {E} at {V} = {P}", "with {V} = {P}, compute {E}",
]
LIMIT = [
    "limit of {E} as {V} approaches {P}", "what is the limit of {E} as {V} goes to {P}?", "lim {E} as {V} -> {P}",
    "find the limit as {V} tends to {P} of {E}", "what does {E} approach as {V} approaches {P}",
    "evaluate the limit of {E} when {V} -> {P}", "as {V} goes to {P}, what does {E} tend to?", "the limit of {E} for {V} to {P}",
    "compute the limit of {E} as {V} -> {P}", "what is lim of {E} when {V} approaches {P}",
]
SERIES = [
    "what is the sum of the first {N} {S}?", "add up the first {N} {S}", "sum of the first {N} {S}", "what do the first {N} {S} add up to?",
    "the total of the first {N} {S}", "find the sum of the first {N} {S}", "if you add the first {N} {S} together, what do you get",
    "sum the first {N} {S}", "how much are the first {N} {S} added together", "compute the sum of the first {N} {S}",
    "what's the total when you add the first {N} {S}", "the first {N} {S} sum to what?",
]
# More phrasings per operation (requests as people write them: a role word, a question after, an aside).
DERIV += [
    "what is d/d{V} {E}", "I have {E}; what's its derivative?", "show me the derivative of {E} please",
    "can you find the derivative for {E}", "work out the derivative of {E} with respect to {V}", "{E} differentiated is what?",
    "get the derivative of {E}", "d/d{V} [{E}]", "what's the first derivative of {E} wrt {V}", "how does {E} change with {V}? give the derivative",
    "compute d/d{V} of {E}", "tell me the derivative of the expression {E}", "what is the rate of change of {E} with respect to {V}",
]
DERIV_AT += [
    "the slope of {E} when {V} is {P}", "what is f'({P}) when f = {E}", "derivative of {E}, evaluated at {V} = {P}",
    "how fast does {E} change at {V} = {P}?", "find the instantaneous rate of change of {E} at {V} = {P}",
    "compute the derivative of {E} at {V}={P}", "I need the slope of {E} at the point where {V} = {P}",
    "differentiate {E}, then plug in {V} = {P}", "what's the gradient of the curve {E} at {V} = {P}?",
    "tangent slope of {E} at {V} = {P}",
]
INTEGRAL += [
    "what's the integral of {E}?", "can you integrate {E} for me", "find the antiderivative of {E} with respect to {V}",
    "indefinite integral of {E}", "work out the integral of {E} d{V}", "I'd like the antiderivative of {E}",
    "integrate the expression {E} wrt {V}", "what function has derivative {E}?", "show me the integral of {E}",
]
DEF_INT += [
    "integral from {A} to {B} of {E} d{V}", "what's the area under {E} between {V} = {A} and {V} = {B}?",
    "find the integral of {E} with {V} going from {A} to {B}", "compute the integral of {E} on the interval from {A} to {B}",
    "integrate {E} d{V} between the limits {A} and {B}", "the definite integral of {E} with bounds {A} and {B}",
    "evaluate the integral from {A} to {B} of {E}", "how much area is under {E} from {V} = {A} to {V} = {B}?",
    "integrate {E} with lower limit {A} and upper limit {B}",
]
SOLVE += [
    "find {V}: {Q}", "what is the solution of {Q}?", "solve {Q} please", "I need to solve {Q} for {V}", "work out {V} in {Q}",
    "if {Q}, what does {V} equal?", "what are the solutions to {Q}", "determine {V} given {Q}", "{Q}. what is {V}?",
    "solve this equation: {Q}", "which value of {V} solves {Q}?",
]
ROOTS += ["for which {V} is {E} zero?", "solve {E} = 0", "what are the zeros of {E}?", "find where {E} crosses zero",
          "the roots of the quadratic {E}", "at what {V} does {E} vanish?"]
SIMPLIFY += ["please simplify {E}", "what is {E} in its simplest form?", "simplify this: {E}", "clean up the expression {E}",
             "how can {E} be simplified?", "give me a simpler form of {E}"]
EXPAND += ["expand out {E}", "can you expand {E}?", "open the brackets of {E}", "what do you get if you expand {E}",
           "expand and simplify {E}", "multiply {E} out"]
FACTOR += ["can you factor {E}?", "factorise the expression {E}", "what are the factors of {E}", "factor this: {E}",
           "put {E} in factored form", "factorize {E} completely"]
EVALUATE += ["what's {E} for {V} = {P}?", "work out {E} when {V} = {P}", "calculate {E} with {V} = {P}",
             "find {E} at {V} = {P}", "let {V} = {P}; what is {E}?", "what value does {E} take at {V} = {P}?",
             "plug in {V} = {P} to {E}", "evaluate {E} when {V} equals {P}"]
LIMIT += ["what's the limit of {E} when {V} tends to {P}?", "find lim {V}->{P} of {E}", "limit as {V} -> {P} of {E}",
          "compute the limit of {E} for {V} approaching {P}", "what value does {E} approach as {V} nears {P}?",
          "take the limit of {E} as {V} goes to {P}"]
SERIES += ["what's the sum of the first {N} {S}", "add together the first {N} {S}", "the first {N} {S} added up",
           "total of the first {N} {S}?", "sum up the first {N} {S}", "if I add up the first {N} {S}, what's the total?",
           "what is the total of the first {N} {S} added together"]
TEMPLATES = {"derivative": DERIV, "derivative/at": DERIV_AT, "integral": INTEGRAL, "integral/definite": DEF_INT, "solve": SOLVE,
             "solve/roots": ROOTS, "simplify": SIMPLIFY, "expand": EXPAND, "factor": FACTOR, "evaluate": EVALUATE, "limit": LIMIT,
             "series": SERIES}


class _Expr:
    """Random expressions in one variable, written as people type them (``3x^2 + 2x``, ``x^2*sin(x)``)."""

    def __init__(self, rng: random.Random, heldout: bool):
        self.rng = rng
        self.funcs = list(words_of(FUNCS, heldout, "mathfn"))
        self.pow = "**" if heldout and rng.random() < 0.5 else "^"
        self.v = rng.choice([v for v in VARS if held_out(v, 0.25, "mathvar") == heldout] or ["x"])

    def coef(self) -> str:
        return self.rng.choice(["", "", "2", "3", "4", "5", "7", "10"])

    def mono(self) -> str:
        k = self.rng.choice([1, 2, 2, 3, 4])
        c = self.coef()
        return f"{c}{self.v}" + (f"{self.pow}{k}" if k > 1 else "")

    def func(self) -> str:
        f = self.rng.choice(self.funcs)
        inner = self.rng.choice([self.v, self.v, f"{self.rng.randint(2, 5)}{self.v}", f"{self.v} + {self.rng.randint(1, 9)}"])
        if f == "exp" and self.rng.random() < 0.4:
            return f"e{self.pow}({inner})" if inner != self.v else f"e{self.pow}{self.v}"
        return f"{f}({inner})"

    def poly(self, degree: int = 0) -> str:
        terms = [self.mono() for _ in range(self.rng.randint(1, 3))]
        if degree or self.rng.random() < 0.6:
            terms.append(str(self.rng.randint(1, 20)))
        out = terms[0]
        for t in terms[1:]:
            out += self.rng.choice([" + ", " - "]) + t
        return out

    def any(self) -> str:
        e = self._any()
        if self.rng.random() < 0.2:  # as a previous step's result arrives: sympy's own spelling ("x**2*sin(x)")
            from micromarket.specialists.builtin._symbolic import parse  # deferred: sympy, only when generating

            import sympy as sp  # deferred: as above

            try:
                return sp.sstr(parse(e))
            except Exception:  # noqa: BLE001 - keep the typed form
                return e
        return e

    def _any(self) -> str:
        if self.rng.random() < 0.2:  # other shapes: quotients, powers of a sum, sums of functions, decimals
            v, k = self.v, self.rng.randint(2, 9)
            return self.rng.choice([f"{self.func()}/{v}", f"1/{v}", f"{k}/({v} + 1)", f"({v} + {k}){self.pow}{self.rng.choice([2, 3])}",
                                    f"{self.func()} + {self.func()}", f"{k}*{self.func()}", f"{v}{self.pow}3 - {k}{v}",
                                    f"0.5{v}{self.pow}2 + {k}", f"{self.func()} - {self.mono()}", f"({self.mono()} - {k})*{self.func()}"])
        r = self.rng.random()
        if r < 0.3:
            return self.poly()
        if r < 0.5:
            return f"{self.mono()}*{self.func()}"
        if r < 0.65:
            return self.func()
        if r < 0.8:
            return f"{self.poly()} + {self.func()}"
        if r < 0.9:
            return f"{self.v}/({self.mono()} + {self.rng.randint(1, 9)})"
        return f"{self.func()}*{self.func()}"

    def factorable(self) -> str:
        a, b = self.rng.randint(-9, 9), self.rng.randint(-9, 9)
        s, p = -(a + b), a * b
        mid = "" if s == 0 else f" {'+' if s > 0 else '-'} {abs(s) if abs(s) != 1 else ''}{self.v}"
        end = "" if p == 0 else f" {'+' if p > 0 else '-'} {abs(p)}"
        return f"{self.v}{self.pow}2{mid}{end}"

    def product(self) -> str:
        a, b = self.rng.randint(1, 9), self.rng.randint(1, 9)
        if self.rng.random() < 0.3:
            return f"({self.coef()}{self.v} {self.rng.choice('+-')} {a}){self.pow}{self.rng.choice([2, 3])}"
        return f"({self.v} {self.rng.choice('+-')} {a})({self.coef()}{self.v} {self.rng.choice('+-')} {b})"

    def point(self) -> str:
        return self.rng.choice([str(self.rng.randint(-5, 10)), "0", "1", "2", "pi", "pi/2", "pi/4", "1/2", "3"])


def _fill(op: str, template: str, rng: random.Random, heldout: bool):
    g = _Expr(rng, heldout)
    if op == "integral/definite":  # functions defined on every interval (no poles of tan, no log of negatives)
        g.funcs = [f for f in g.funcs if f in ("sin", "cos", "exp", "sinh", "cosh", "atan", "arctan")] or ["sin"]
    base = op.split("/")[0]
    gold: dict = {"op": base, "var": g.v}
    fills: dict = {"V": Fill(g.v, "VAR")}
    if base == "series":
        seq = words_of(SEQ, heldout, "mathseq", whole_keys=False)
        kind = rng.choice(list(seq))
        n = rng.choice([rng.randint(5, 200), rng.choice([10, 20, 50, 100, 1000])])
        fills.update(N=Fill(str(n), "N"), S=Fill(rng.choice(seq[kind]), "SEQ"))
        return fills, {"op": "series", "kind": kind, "n": n}
    if base == "solve":
        if op == "solve/roots":
            e = g.factorable()
            fills["E"] = Fill(e, "EXPR")
            gold["expr"] = e
            return fills, gold
        lhs = g.factorable() if rng.random() < 0.5 else f"{rng.randint(2, 9)}{g.v} {rng.choice('+-')} {rng.randint(1, 30)}"
        q = f"{lhs} = {0 if rng.random() < 0.4 else rng.randint(-20, 40)}"
        fills["Q"] = Fill(q, "EXPR")
        gold["expr"] = q
        return fills, gold
    e = {"expand": g.product, "factor": g.factorable}.get(base, g.any)()
    if base == "simplify" and rng.random() < 0.5:
        e = rng.choice([f"({g.factorable()})/({g.v} - {rng.randint(1, 5)})", f"{g.mono()}*{g.mono()}", f"sin({g.v}){g.pow}2 + cos({g.v}){g.pow}2",
                        f"({g.mono()} + {g.mono()})/{g.v}"])
    fills["E"] = Fill(e, "EXPR")
    gold["expr"] = e
    if op in ("derivative/at", "evaluate", "limit"):
        p = g.point()
        fills["P"] = Fill(p, "PT")
        gold["point"] = p
    if op == "integral/definite":
        lo = rng.choice(["0", "1", "-1", "2", "0"])
        hi = rng.choice(["1", "2", "3", "pi", "5", "10", "pi/2"])
        if hi == lo:
            hi = "4"
        fills.update(A=Fill(lo, "LO"), B=Fill(hi, "HI"))
        gold.update(lo=lo, hi=hi)
    return fills, gold


class MathDomain(Domain):
    def draft(self, op, template, rng, heldout_templates, heldout_words):
        fills, gold = self.fill(op, template, rng, heldout_words)  # no fragments to expand
        return fills, gold, template

    def polish(self, t, fills, gold, rng):
        if "{E}" in t and rng.random() < 0.3:  # the function named first: "the curve y = x^3", "f(x) = ..."
            v = gold.get("var", "x")
            named = [f"f({v}) = {{E}}", f"the function f({v}) = {{E}}", f"g({v}) = {{E}}", f"h({v}) = {{E}}", "the expression {E}",
                     f"p({v}) = {{E}}", "the function {E}"] + ([] if v == "y" else ["y = {E}", "the curve y = {E}"])
            t = t.replace("{E}", rng.choice(named), 1)
        return t


DOMAIN = MathDomain("math", TEMPLATES, _fill, ["EXPR", "VAR", "PT", "LO", "HI", "N", "SEQ"])
