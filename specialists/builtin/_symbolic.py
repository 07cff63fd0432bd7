"""Expressions and operations of the `math` specialist: whitelisted parsing with sympy, readable rendering,
integrals, derivatives, equations, limits, transforms and evaluation. math.py reads free text into these calls.

Parses with sympy's ``parse_expr`` (implicit multiplication, ``^`` as power) after checking every identifier
against a whitelist; user text is never eval'd.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sympy as sp
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    rationalize,
    standard_transformations,
)

from micromarket.specialists.builtin._common import (
    clean,
    fail,
    fmt_num,
    strip_thousands,
    superscript,
    understood,
    words_to_ops,
)
from micromarket.specialists.result import SolveResult

_TRANSFORMS = standard_transformations + (implicit_multiplication_application, convert_xor, rationalize)
_GREEK = ("alpha", "beta", "theta", "phi", "omega", "tau", "mu", "sigma", "rho", "psi", "chi", "nu", "xi", "eta", "kappa")
_FUNCS = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "cot": sp.cot, "sec": sp.sec, "csc": sp.csc,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "exp": sp.exp, "log": sp.log, "ln": sp.log,
    "sqrt": sp.sqrt, "cbrt": sp.cbrt, "rroot": sp.real_root, "abs": sp.Abs, "factorial": sp.factorial, "floor": sp.floor,
    "ceiling": sp.ceiling, "ceil": sp.ceiling, "gcd": sp.gcd, "lcm": sp.lcm, "binomial": sp.binomial, "remainder": sp.Mod,
}
_CONSTS = {"pi": sp.pi, "e": sp.E, "oo": sp.oo, "inf": sp.oo, "infinity": sp.oo, "i": sp.I}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
_MAX_EXPONENT = 10_000


class ParseError(ValueError):
    pass


@lru_cache(maxsize=1)
def _namespaces() -> tuple[dict, dict]:
    local: dict = {c: sp.Symbol(c) for c in "abcdfghjklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    local.update({g: sp.Symbol(g) for g in _GREEK})
    local.update(_FUNCS)
    local.update(_CONSTS)
    glob: dict = {}
    exec("from sympy import *", glob)  # trusted import; user text only reaches parse_expr after the whitelist check
    return local, glob


def parse(text: str, *, imaginary_i: bool = False) -> sp.Expr:
    """Parse one expression; raise ParseError naming what was not understood."""
    t = strip_thousands(clean(text))
    t = t.replace("π", "pi").replace("∞", "oo").replace("√", "sqrt")
    if not t:
        raise ParseError("empty expression")
    bad = re.findall(r"[^0-9A-Za-z\s+\-*/^().,!%]", t)
    if bad:
        raise ParseError(f"unexpected character {bad[0]!r}")
    if re.search(r"\.(?!\d)", t) or "__" in t:
        raise ParseError("unexpected '.'")
    t = re.sub(r"%\s*of\b", "% *", t, flags=re.I)
    local, glob = _namespaces()
    unknown = [w for w in re.findall(r"[A-Za-z_]\w*", t) if w not in local and not re.fullmatch(r"[A-Za-z]\d*", w)]
    if unknown:
        raise ParseError(f"unknown word {unknown[0]!r}")
    t = re.sub(r"(\d+(?:\.\d+)?)\s*%", r"(\1/100)", t)
    if not imaginary_i:
        local = {**local, "i": sp.Symbol("i")}
    try:
        raw = parse_expr(t, local_dict=dict(local), global_dict=glob, transformations=_TRANSFORMS, evaluate=False)
    except Exception as e:  # sympy raises many types (SyntaxError, TokenError, TypeError...)
        raise ParseError(f"cannot read {text.strip()!r} as a formula ({type(e).__name__})") from None
    if not isinstance(raw, sp.Basic):
        raise ParseError(f"{text.strip()!r} is not a formula")
    for p in raw.atoms(sp.Pow):
        if p.exp.is_number and p.base.is_number and abs(sp.N(p.exp)) > _MAX_EXPONENT and abs(sp.N(p.base)) != 1:
            raise ParseError("exponent too large")
    for f in raw.atoms(sp.factorial):
        if f.args[0].is_number and sp.N(f.args[0]) > 5000:
            raise ParseError("factorial too large")
    try:
        return raw.doit() if isinstance(raw, sp.Basic) else raw
    except Exception as e:
        raise ParseError(f"cannot evaluate {text.strip()!r} ({type(e).__name__})") from None


def render(expr: sp.Basic) -> str:
    """Readable single-line form: unicode π, ∞, √, superscripts, implicit products, '−'."""
    if isinstance(expr, sp.Rational) and not isinstance(expr, sp.Integer):
        return f"{expr.p}/{expr.q}"
    order = "rev-lex" if not getattr(expr, "free_symbols", None) else None
    s = sp.sstr(expr, order=order)
    s = re.sub(r"\bpi\b", "π", s)
    s = re.sub(r"\boo\b", "∞", s)
    s = re.sub(r"\bsqrt\((\w+)\)", r"√\1", s)
    s = s.replace("sqrt(", "√(")
    s = re.sub(r"\*\*(\d+)", lambda m: superscript(m.group(1)), s)
    s = re.sub(r"\*\*\((-?\d+)\)", lambda m: superscript(m.group(1)), s)
    s = s.replace("**", "^")
    s = re.sub(r"\bI\b", "i", s)
    s = re.sub(r"\bE\b", "e", s)
    s = re.sub(r"\blog\(", "ln(", s)
    s = re.sub(r"\bexp\((\w+)\)", r"e^\1", s)
    s = re.sub(r"\bexp\(([^()]*)\)", r"e^(\1)", s)
    s = re.sub(r"(?<![\w.^])(\d+)\*(?=[A-Za-z](?![A-Za-z(])|[π√(])", r"\1", s)
    s = s.replace("*", "·")
    s = s.replace(" - ", " − ")
    s = re.sub(r"(^|[(\s])-", r"\1−", s)
    return s


def _approx(x: float) -> str:
    """Four significant digits for the ≈ part; the exact form and `value` keep full precision."""
    return fmt_num(x, 4) if abs(x) >= 1e-3 or x == 0 else f"{x:.4g}"


def _terminating(q: sp.Rational) -> str | None:
    """Exact decimal of a rational whose denominator has only factors 2 and 5."""
    d, a, b = int(q.q), 0, 0
    while d % 2 == 0:
        d, a = d // 2, a + 1
    while d % 5 == 0:
        d, b = d // 5, b + 1
    if d != 1:
        return None
    k = max(a, b)
    n = int(q.p) * 10**k // int(q.q)
    sign, n = ("-" if n < 0 else ""), abs(n)
    s = str(n).rjust(k + 1, "0")
    return f"{sign}{s[:-k]}.{s[-k:]}".rstrip("0").rstrip(".") if k else f"{sign}{s}"


def describe_number(expr: sp.Basic) -> tuple[str, float | str | None]:
    """Text and value of a result: exact form plus a decimal when the exact form is not one."""
    if expr.free_symbols or not expr.is_number:
        return render(expr), sp.sstr(expr)
    if expr.has(sp.zoo, sp.nan):
        return "undefined", None
    if expr in (sp.oo, -sp.oo):
        return render(expr), float(expr)
    if isinstance(expr, sp.Integer):
        return str(expr), float(expr)
    if isinstance(expr, sp.Rational):
        dec = _terminating(expr)
        return (dec, float(expr)) if dec is not None else (f"{render(expr)} ≈ {_approx(float(expr))}", float(expr))
    val = sp.N(expr, 20)
    if val.is_real:
        return f"{render(expr)} ≈ {_approx(float(val))}", float(val)
    if all(isinstance(v, sp.Rational) for v in expr.as_real_imag()):
        return render(expr), sp.sstr(expr)
    re_, im_ = (float(v) for v in val.as_real_imag())
    return f"{render(expr)} ≈ {_approx(re_)} {'+' if im_ >= 0 else '−'} {_approx(abs(im_))}i", sp.sstr(expr)


def _pick_var(expr: sp.Basic, named: str | None) -> tuple[sp.Symbol, bool]:
    """The variable to work on and whether it was guessed among several."""
    if named:
        return sp.Symbol(named), False
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    if not syms:
        return sp.Symbol("x"), False
    for pref in ("x", "t", "y", "z"):
        if sp.Symbol(pref) in syms:
            return sp.Symbol(pref), len(syms) > 1 and pref != "x"
    return syms[0], len(syms) > 1


_WRT_RE = re.compile(r"\s*(?:with\s+respect\s+to|w\.?r\.?t\.?|wrt)\s+([A-Za-z])\b", re.I)


def _take_wrt(text: str) -> tuple[str, str | None]:
    m = _WRT_RE.search(text)
    if m:
        return (text[: m.start()] + text[m.end():]).strip(), m.group(1)
    return text, None


def _result(answer: str, conf: float, expl: str, value) -> SolveResult:
    return SolveResult(answer=answer, confidence=conf, explanation=expl, value=value)


# --- operations ---------------------------------------------------------------------------------


def integrate(expression: str, variable: str = "", lower: str = "", upper: str = "") -> SolveResult:
    """Integral of an expression; definite when both bounds are given."""
    try:
        f = parse(expression)
        var, guessed = _pick_var(f, variable or None)
        definite = bool(str(lower).strip()) and bool(str(upper).strip())
        a, b = (parse(str(lower)), parse(str(upper))) if definite else (None, None)
    except ParseError as e:
        return fail(str(e))
    conf = 0.7 if guessed else 0.95
    if definite:
        res = sp.integrate(f, (var, a, b))
        head = f"∫ from {render(a)} to {render(b)} of {render(f)} d{var}"
        if res.has(sp.Integral):
            num = sp.N(sp.Integral(f, (var, a, b)))
            if not num.is_number or not num.is_real:  # e.g. ln of a negative inside the bounds: complex
                return fail(f"no closed form or real numeric value for {head}")
            return _result(f"{head} ≈ {_approx(float(num))}", 0.8, "no closed form found; numeric quadrature", float(num))
        text, value = describe_number(sp.nsimplify(res) if res.is_Float else res)
        return _result(f"{head} = {text}", conf, f"exact antiderivative evaluated between the bounds with sympy (variable {var})", value)
    res = sp.integrate(f, var)
    if res.has(sp.Integral):
        return fail(f"no closed-form antiderivative of {render(f)}")
    return _result(f"∫ {render(f)} d{var} = {render(res)} + C", conf, f"indefinite integral with respect to {var}; C is the constant of integration", sp.sstr(res))


def differentiate(expression: str, variable: str = "", order: int = 1) -> SolveResult:
    """Derivative of an expression (order 1 by default)."""
    try:
        f = parse(expression)
    except ParseError as e:
        return fail(str(e))
    var, guessed = _pick_var(f, variable or None)
    order = max(1, min(int(order), 20))
    raw = sp.diff(f, var, order)
    simpler = sp.simplify(raw)
    res = simpler if sp.count_ops(simpler) < sp.count_ops(raw) else raw
    name = {1: "d/d", 2: "d²/d"}.get(order, f"d^{order}/d")
    tail = "" if order == 1 else superscript(str(order))
    text, value = describe_number(res)
    return _result(f"{name}{var}{tail} [{render(f)}] = {text}", 0.7 if guessed else 0.95,
                   f"derivative of order {order} with respect to {var}", value)


def solve_equations(equations: str, variables: str = "") -> SolveResult:
    """Solve one equation or a system ('x + y = 10 and x - y = 2'); 'expr' alone means 'expr = 0'."""
    parts = [p for p in re.split(r"\s*(?:;|\band\b|\n)\s*", equations.strip()) if p.strip()]
    if len(parts) == 1 and parts[0].count("=") > 1:
        parts = [p for p in re.split(r"\s*,\s*", parts[0]) if p.strip()]
    eqs, implicit_zero = [], False
    try:
        for p in parts:
            sides = re.split(r"==?", p)
            if len(sides) == 1:
                eqs.append(sp.Eq(parse(sides[0]), 0))
                implicit_zero = True
            elif len(sides) == 2:
                eqs.append(sp.Eq(parse(sides[0]), parse(sides[1])))
            else:
                raise ParseError(f"too many '=' in {p!r}")
    except ParseError as e:
        return fail(str(e))
    eqs = [e for e in eqs if e is not sp.true]
    if any(e is sp.false for e in eqs):
        return _result("no solution", 0.9, "an equation reduces to a false statement", "no solution")
    syms = sorted(set().union(*(e.free_symbols for e in eqs)), key=lambda s: s.name) if eqs else []
    wanted = [sp.Symbol(v) for v in re.findall(r"[A-Za-z]\w*", variables) if v.lower() != "and"] or syms
    if not wanted:
        return fail("no unknown to solve for")
    try:
        sols = sp.solve(eqs, wanted, dict=True)
    except (NotImplementedError, ValueError, TypeError) as e:
        return fail(f"sympy cannot solve this system ({e})")
    desc = " and ".join(render(e.lhs) + " = " + render(e.rhs) for e in eqs)
    if not sols:
        return _result("no solution", 0.9, f"{desc} has no solution", "no solution")
    conf = 0.95 if len(wanted) <= len(eqs) else 0.6
    if implicit_zero:
        conf = round(conf - 0.05, 3)
    rows, vals = [], []
    for s in sols:
        items = sorted(s.items(), key=lambda kv: kv[0].name)
        rows.append(", ".join(f"{k} = {describe_number(v)[0]}" for k, v in items))
        vals.append(", ".join(f"{k}={sp.sstr(v)}" for k, v in items))
    order = sorted(range(len(rows)), key=lambda i: _sort_key(sols[i]))
    answer = " or ".join(rows[i] for i in order)
    value: float | str = "; ".join(vals[i] for i in order)
    if len(sols) == 1 and len(sols[0]) == 1:
        v = next(iter(sols[0].values()))
        if v.is_number and v.is_real:
            value = float(v)
    note = "" if len(wanted) <= len(eqs) else f"; more unknowns than equations, solved for {', '.join(map(str, wanted))} in terms of the others"
    return _result(answer, conf, f"solved {desc} for {', '.join(map(str, wanted))} with sympy{note}", value)


def _sort_key(sol: dict) -> tuple:
    out = []
    for _, v in sorted(sol.items(), key=lambda kv: kv[0].name):
        try:
            out.append((0, float(sp.re(v)), float(sp.im(v))))
        except TypeError:
            out.append((1, 0.0, 0.0))
    return tuple(out)


def limit(expression: str, variable: str, point: str, direction: str = "+-") -> SolveResult:
    try:
        f = parse(expression)
        at = parse(point)
    except ParseError as e:
        return fail(str(e))
    var = sp.Symbol(variable)
    d = direction if direction in ("+", "-", "+-") else "+-"
    if at.is_infinite:
        d = "-" if at == sp.oo else "+"
    try:
        res = sp.limit(f, var, at, dir=d)
    except (ValueError, NotImplementedError) as e:
        return _result(f"the limit of {render(f)} as {var} → {render(at)} does not exist", 0.8, str(e), None)
    if res.has(sp.zoo, sp.nan):
        left, right = sp.limit(f, var, at, dir="-"), sp.limit(f, var, at, dir="+")
        return _result(f"the limit of {render(f)} as {var} → {render(at)} does not exist (from the left {render(left)}, from the right {render(right)})",
                       0.9, "the one-sided limits differ", None)
    side = {"+": "⁺", "-": "⁻"}.get(direction, "") if not at.is_infinite else ""
    text, value = describe_number(res)
    return _result(f"lim {var}→{render(at)}{side} {render(f)} = {text}", 0.95, f"limit computed with sympy (direction {d})", value)


def transform(expression: str, how: str) -> SolveResult:
    """simplify / expand / factor an expression (factor of an integer gives its prime factorisation)."""
    try:
        f = parse(expression)
    except ParseError as e:
        return fail(str(e))
    if how == "factor" and isinstance(f, sp.Integer) and abs(f) > 1:
        fs = sp.factorint(f)
        text = " · ".join(f"{p}{superscript(str(k)) if k > 1 else ''}" for p, k in sorted(fs.items()))
        value = "*".join(f"{p}**{k}" if k > 1 else str(p) for p, k in sorted(fs.items()))
        return _result(f"{f} = {text}", 0.95, "prime factorisation", value)
    res = {"simplify": sp.simplify, "expand": sp.expand, "factor": sp.factor}[how](f)
    text, value = describe_number(res)
    return _result(f"{render(f)} = {text}" if how != "factor" or res != f else f"{render(f)} does not factor further",
                   0.95, f"{how} with sympy", value)


def derivative_at(expression: str, variable: str, point: str, order: int = 1) -> SolveResult:
    """Value of the derivative of an expression at a point."""
    try:
        f, p = parse(expression), parse(point)
    except ParseError as e:
        return fail(str(e))
    var = sp.Symbol(variable)
    d = sp.diff(f, var, max(1, min(int(order), 20)))
    text, value = describe_number(sp.simplify(d.subs(var, p)))
    res = _result(f"{render(d)} at {var} = {render(p)}: {text}", 0.95, f"derivative of order {order} with respect to {var}, evaluated at {var} = {render(p)}", value)
    return understood(res, f"d/d{var} of {expression} at {var} = {point}")


def _rounded(res: SolveResult, places: int) -> SolveResult:
    if not res.confidence or not isinstance(res.value, (int, float)):
        return res
    v = round(float(res.value), places)
    out = _result(f"{v:.{places}f}", res.confidence, f"{res.explanation}; rounded to {places} decimal places", v)
    return understood(out, f"{res.answer} to {places} decimal places")


def evaluate(expression: str) -> SolveResult:
    """Evaluate an arithmetic expression exactly, with a decimal when the result is not a terminating decimal."""
    ops = words_to_ops(expression)
    if re.search(r"\d\s*%\s*\)?\s*[-+]|[-+]\s*\(?\s*[\d.]+\s*%(?!\s*(?:of|\*))", ops):
        # "add 98% to 212": a percentage increase (212 * 1.98) or 212 + 0.98? Not read as a number here
        return fail("a percentage added to or taken from a number (an increase or a discount?) is not read as a number")
    try:
        f = parse(ops, imaginary_i=True)
    except ParseError as e:
        return fail(str(e))
    if not isinstance(f, sp.Expr) or any(isinstance(a, sp.Tuple) for a in sp.preorder_traversal(f)):
        return fail(f"{expression.strip()!r} is not a single expression (a list or tuple?)")
    if f.free_symbols:
        text, value = describe_number(sp.simplify(f))
        return _result(text, 0.5, "the expression contains variables and no operation was named; simplified it", value)
    text, value = describe_number(f)
    if text == "undefined":
        return _result("undefined (division by zero)", 0.9, f"{expression.strip()} is undefined", None)
    return _result(text, 0.95, f"evaluated {words_to_ops(clean(expression))} exactly", value)


def substitute(expression: str, variable: str, point: str) -> SolveResult:
    """The value of an expression at ``variable = point`` ("evaluate x^2*cos(x) at x = pi")."""
    try:
        f, p = parse(expression), parse(point)
    except ParseError as e:
        return fail(str(e))
    var = sp.Symbol(variable or "x")
    if var not in f.free_symbols and f.free_symbols:
        return fail(f"{render(f)} does not contain {var}")
    out = sp.simplify(f.subs(var, p))
    if out.free_symbols:
        return fail(f"{render(f)} at {var} = {render(p)} still contains {', '.join(sorted(map(str, out.free_symbols)))}")
    text, value = describe_number(out)
    res = _result(f"{render(f)} at {var} = {render(p)}: {text}", 0.95, f"substituted {var} = {render(p)} and simplified with sympy", value)
    return understood(res, f"{expression} at {var} = {point}")
