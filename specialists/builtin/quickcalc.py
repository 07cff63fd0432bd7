"""`quickcalc` specialist: a small, fast arithmetic calculator (safe AST evaluation, exact fractions).

Allows numbers (with thousands separators), + - * / // % ** and parentheses, sqrt(), and
"X percent of Y". Nothing else is evaluated. Run as ``python -m specialists.builtin.quickcalc``.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from fractions import Fraction

from micromarket.specialists.builtin._common import (
    reader,
    LEAD_IN_RE,
    capped,
    checked,
    clean,
    compete,
    fail,
    fmt_num,
    make_server,
    serve,
    strip_thousands,
    understood,
    words_to_ops,
)
from micromarket.specialists.reading import read
from micromarket.specialists.reading.numbers import amount, first_number
from micromarket.specialists.result import SolveResult

SPECIALIST_ID = "quickcalc"

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: None}
_MAX_POW = 4096
_MAX_FACT = 1000
_INT_FUNCS = {"factorial": (math.factorial, 1), "comb": (math.comb, 2)}
_FUNC_WORDS = re.compile(r"sqrt|factorial|comb")
_MAX_DIGITS = 2000

Number = Fraction | float


class CalcError(ValueError):
    pass


def _pow(a: Number, b: Number) -> Number:
    if isinstance(b, Fraction) and b.denominator == 1:
        if abs(b) > _MAX_POW and abs(a) not in (0, 1):
            raise CalcError("exponent too large")
        if a == 0 and b < 0:
            raise CalcError("division by zero")
        return a ** int(b)
    if a < 0:
        raise CalcError("a negative number to a fractional power is not a real number")
    r = float(a) ** float(b)
    return Fraction(round(r)) if r.is_integer() and abs(r) < 1e15 else r


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return Fraction(str(node.value)) if isinstance(node.value, float) else Fraction(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        v = _eval(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        a, b = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            return _pow(a, b)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and b == 0:
            raise CalcError("division by zero")
        r = _BINOPS[type(node.op)](a, b)
        if isinstance(r, Fraction) and max(len(str(r.numerator)), len(str(r.denominator))) > _MAX_DIGITS:
            raise CalcError("number too large")
        return r
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sqrt" and len(node.args) == 1 and not node.keywords:
        v = _eval(node.args[0])
        if v < 0:
            raise CalcError("square root of a negative number")
        if isinstance(v, Fraction):
            n, d = math.isqrt(v.numerator), math.isqrt(v.denominator)
            if n * n == v.numerator and d * d == v.denominator:
                return Fraction(n, d)
        return math.sqrt(v)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _INT_FUNCS and not node.keywords:
        args = [_eval(a) for a in node.args]
        if len(args) != _INT_FUNCS[node.func.id][1] or any(not isinstance(a, Fraction) or a.denominator != 1 or a < 0 or a > _MAX_FACT for a in args):
            raise CalcError(f"{node.func.id} takes {_INT_FUNCS[node.func.id][1]} whole number(s) up to {_MAX_FACT}")
        return Fraction(_INT_FUNCS[node.func.id][0](*(int(a) for a in args)))
    raise CalcError(f"unsupported element {type(node).__name__}")


def _prepare(text: str) -> str:
    t = strip_thousands(clean(text))
    t = LEAD_IN_RE.sub("", t, count=1).strip() or t
    t = re.sub(r"\s*(?:=|equals?)\s*\??$", "", t, flags=re.I)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*%\s*of\b", r"(\1/100)*", t, flags=re.I)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*percent\s+of\b", r"(\1/100)*", t, flags=re.I)
    t = re.sub(r"\s+(?:as\s+a\s+decimal(?:\s+number)?|in\s+decimal(?:\s+form)?)$", "", t, flags=re.I)
    t = re.sub(r"\b(\d+)\s*(?:!|\s+factorial\b)", r"factorial(\1)", t, flags=re.I)
    t = re.sub(r"\bfactorial\s+of\s+(\d+)\b", r"factorial(\1)", t, flags=re.I)
    t = re.sub(r"\b(\d+)\s+choose\s+(\d+)\b", r"comb(\1, \2)", t, flags=re.I)
    # a verb on one amount, as a chain's later step reads ("square 7", "halve 18.5")
    t = re.sub(r"^(square|cube|double|halve|negate)\s+(?:of\s+)?([-+]?\d[\d.]*(?:[eE][-+]?\d+)?)$",
               lambda m: {"square": "({})^2", "cube": "({})^3", "double": "2*({})", "halve": "({})/2", "negate": "-({})"}[m.group(1).lower()].format(m.group(2)),
               t, flags=re.I)
    t = re.sub(r"^(?:take\s+away|take|deduct|remove)\s+(.+?)\s+(?:away\s+)?from\s+(.+)$", r"(\2)-(\1)", t, flags=re.I)
    t = re.sub(r"\b(?:the\s+)?(square|cube)\s+of\s+(\d[\d.]*)", lambda m: f"({m.group(2)})^{2 if m.group(1).lower() == 'square' else 3}", t, flags=re.I)
    t = words_to_ops(t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*%(?=\s*(?:$|[-+*/)]))", r"(\1/100)", t)
    t = t.replace("^", "**").replace("x", "*") if re.fullmatch(r"[\d\s.+\-*/()x^%]+", t) else t.replace("^", "**")
    return t


def calculate(expression: str) -> tuple[Number, str]:
    """Evaluate arithmetic text safely; returns the value and the expression that was evaluated."""
    expr = _prepare(expression)
    if not expr or not re.search(r"\d", expr):
        raise CalcError("no numbers")
    bare = _FUNC_WORDS.sub("", expr)
    if re.search(r"[^\d\s.+\-*/()%,a-z]", expr) or re.search(r"[a-z]", bare):
        bad = re.search(r"[A-Za-z_]+", bare)
        raise CalcError(f"unknown word {bad.group(0)!r}" if bad else "unexpected symbols")
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise CalcError(f"{expr!r} is not a complete arithmetic expression") from None
    return _eval(tree), expr


def _show(v: Number) -> tuple[str, float]:
    try:
        return _shown(v)
    except OverflowError:  # an exact result beyond a float ("99,999 to the power of 12 ...")
        raise CalcError("the result is too large to show") from None


def _shown(v: Number) -> tuple[str, float]:
    if isinstance(v, Fraction):
        if v.denominator == 1:
            return f"{v.numerator:,}" if abs(v) >= 10_000 else str(v.numerator), float(v)
        d = v.denominator
        for p in (2, 5):
            while d % p == 0:
                d //= p
        f = float(v)
        if d == 1:  # terminating decimal: show exactly
            s = format(v.numerator / v.denominator, ".15g") if len(str(v.denominator)) > 15 else _exact_decimal(v)
            return s, f
        return f"{fmt_num(f, 10)} (= {v.numerator}/{v.denominator})" if v.denominator < 1000 else fmt_num(f, 10), f
    return fmt_num(v, 10), float(v)


def _exact_decimal(v: Fraction) -> str:
    k = 0
    while (v * 10**k).denominator != 1:
        k += 1
    n = abs(v.numerator * 10**k // v.denominator)
    s = str(n).rjust(k + 1, "0")
    return ("-" if v < 0 else "") + f"{s[:-k]}.{s[-k:]}"


def solve_task(task: str, context: str = "") -> SolveResult:
    """Evaluate an arithmetic request: '12 * (3 + 4)', '15% of 80', 'multiply 42.1648 by 4'. The learned reader
    reads first (numbers and operator words); the rules compete and read what it cannot (_common.compete)."""
    return compete(task, read_by_model(task), lambda: solve_by_rules(task, context), SPECIALIST_ID)


_OPERATORS = {"PLUS": "+", "MINUS": "-", "TIMES": "*", "DIV": "/", "POW": "**"}
_POSTFIX = {"SQ": "**2", "CUBE": "**3"}


def _num(text: str) -> str | None:
    v = amount(text)
    return None if v is None else repr(float(v))


def _names_something(tag: str, text: str) -> bool:
    """Whether a tagged span states what its tag says: a word tagged by mistake as a number ("what number is",
    ","), a root ("the", "me") or a power ("to") names none."""
    if tag in ("NUM", "PART", "WHOLE"):
        return amount(text) is not None or first_number(text) is not None
    if tag == "ROOT":
        return bool(re.search(r"root|sqrt|√", text, re.I))
    if tag in _POSTFIX:
        return bool(re.search(r"squar|cube|\^|\*\*|power|second|third|raised|\btwo\b|\bthree\b|\b[23](?:nd|rd)\b", text, re.I))
    return True


def _tidy(spans: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Spans as the expression needs them: words that state no number or root dropped; a power sign tagged apart from its exponent ("^" then "2") is a power;
    a power phrase cut in two ("to" + "the third power") is one, the later part naming it."""
    out: list[tuple[str, str]] = []
    for tag, text in spans:
        if not _names_something(tag, text):
            continue
        if tag == "POW" and text.strip() in ("*", "×", "x"):  # one star is a product
            tag = "TIMES"
        if tag == "NUM" and out and out[-1][0] in ("SQ", "CUBE", "POW") and out[-1][1].strip() in ("^", "**"):
            out[-1] = ("POW", out[-1][1])
        elif tag in _POSTFIX and out and out[-1][0] in _POSTFIX:
            out[-1] = (tag, f"{out[-1][1]} {text}")
            continue
        out.append((tag, text))
    return [(_named_power(g, t), t) for g, t in out]


_SQ_WORDS = re.compile(r"squar|second|\btwo\b|\b2(?:nd)?\b|²", re.I)
_CUBE_WORDS = re.compile(r"cube|third|\bthree\b|\b3(?:rd)?\b|³", re.I)


def _named_power(tag: str, text: str) -> str:
    """A power phrase that names its power is that power, whichever the tagger chose ("to the second power" read as
    a cube was 206^3 at 0.89)."""
    if tag in _POSTFIX:
        sq, cube = bool(_SQ_WORDS.search(text)), bool(_CUBE_WORDS.search(text))
        if sq != cube:
            return "SQ" if sq else "CUBE"
    return tag


def expression_of(op: str, spans: list[tuple[str, str]], text: str = "") -> str | None:
    """The arithmetic expression of a reading's spans, or None when they do not form one. `text` (the request)
    settles which of two untagged numbers is the whole of a "what percent": the one after "of"."""
    spans = _tidy(spans)
    if any(g == "PCT" for g, _ in spans):  # with a percentage, a number read as a part or whole is its base
        spans = [("NUM" if g in ("PART", "WHOLE") else g, t) for g, t in spans]
    nums = [_num(t) for g, t in spans if g == "NUM"]
    if any(n is None for n in nums):
        return None
    if op == "expr":
        out, want_num, root, power = [], True, False, ""
        for tag, text in spans:
            if tag == "NUM":
                if not want_num:
                    return None
                n = _num(text)  # a sign binds looser than a power: "-3^2" is -(3^2)
                n = f"-({n[1:]})" if n.startswith("-") else f"({n})"
                out.append((f"sqrt({n})" if root else n) + power)
                want_num, root, power = False, False, ""
            elif tag == "ROOT" and want_num:
                root = True
            elif tag in _POSTFIX and want_num:  # "the square of 12", "cube 3": a power before its number
                power = _POSTFIX[tag]
                continue
            elif tag in _OPERATORS and not want_num:
                out.append(_OPERATORS[tag])
                want_num = True
            elif tag in _POSTFIX and not want_num:
                out[-1] += _POSTFIX[tag]
            else:
                return None
        return " ".join(out) if out and not want_num and not power and (len(out) > 1 or "**" in out[0] or "sqrt" in out[0]) else None
    if op == "sub_from" and len(nums) == 2 and len(spans) == 2:
        return f"({nums[1]}) - ({nums[0]})"
    tags = {g for g, _ in spans}
    if tags & {"PART", "WHOLE"} and "PCT" not in tags:
        op = "what_percent"  # the part and the whole name the question more surely than the operation head
    if op == "what_percent":
        vals = [(g, first_number(t)) for g, t in spans if g in ("PART", "WHOLE", "NUM")]
        if len(vals) == 2 and sorted(g for g, _ in vals) != ["PART", "WHOLE"]:
            # one role is sure, the other number takes the other role: "31 out of 74" read as PART, NUM
            sure = [g for g, _ in vals if g in ("PART", "WHOLE")]
            if (not sure or len(sure) == 2) and text:  # no role sure, or both the same: the whole follows "of"
                after_of = re.search(r"\bof\s+(?:a\s+|the\s+)?([\d.,]+)", text)
                whole = first_number(after_of.group(1)) if after_of else None
                if whole is not None and sum(v == whole for _, v in vals) == 1:
                    vals = [("WHOLE" if v == whole else "PART", v) for _, v in vals]
                    sure = ["done"]
            if len(sure) != 1:
                return None
            if sure != ["done"]:
                other = "WHOLE" if sure[0] == "PART" else "PART"
                vals = [(g if g in ("PART", "WHOLE") else other, v) for g, v in vals]
        part, whole = ([v for g, v in vals if g == tag] for tag in ("PART", "WHOLE"))
        return f"({part[0]!r})/({whole[0]!r})*100" if len(part) == 1 and len(whole) == 1 and None not in part + whole else None
    pct = [first_number(t) for g, t in spans if g == "PCT"]
    if len(pct) != 1 or pct[0] is None or len(nums) != 1 or len(spans) != 2:
        return None
    p, n = pct[0], nums[0]
    return {"percent_of": f"({p!r}/100)*({n})", "increase": f"({n})*(1+{p!r}/100)", "decrease": f"({n})*(1-{p!r}/100)"}.get(op)


@reader(SPECIALIST_ID)
def read_by_model(task: str) -> SolveResult | None:
    """The learned reading (micromarket.specialists.reading, heads `quickcalc`): numbers and operator words in
    order, or a percentage and its base, evaluated exactly. None when no model ships or its reading is unsure
    or does not form an expression (the rules then read)."""
    text = clean(task)
    if not text:
        return None
    r = read("quickcalc", text)
    if r is None or r.op == "none" or r.confidence < 0.5:
        return None
    spans = list(r.spans)
    first = next((i for i, (g, _) in enumerate(spans) if g == "NUM"), None)
    if first is not None and not spans[first][1].startswith("-") and re.fullmatch(r"\s*-\s*", text[:r.offsets[first][0]]):
        spans[first] = ("NUM", "-" + spans[first][1])  # a leading minus the tagger left out is the number's sign
    expr = expression_of(r.op, spans, text)
    if expr is None:
        return None
    try:
        v = _eval(ast.parse(expr, mode="eval"))
    except (CalcError, SyntaxError, OverflowError, ValueError, ZeroDivisionError):
        return None
    try:
        shown, value = _show(v)
    except CalcError:
        return None
    res = SolveResult(answer=shown, confidence=0.97 if isinstance(v, Fraction) else 0.93,
                      explanation=f"evaluated {expr}" + ("" if isinstance(v, Fraction) else " (floating point)"), value=value)
    said = " ".join(t for g, t in r.spans if _names_something(g, t))
    money = sorted({m.lower() for m in re.findall(r"\b(dollars?|euros?|bucks|cents)\b", text, re.I)})
    said += f" (amounts in {', '.join(money)})" if money else ""  # a currency names no computation
    return capped(r.confidence, understood(res, f"{r.op}: {said} = {expr} [read by {r.model}]"))


# an amount with a unit after it: "10 pounds", "11.02311311 lb", "68 °F"
_QTY_RE = re.compile(r"(?P<n>(?<![\w.])\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(?P<u>°?[A-Za-zµ][A-Za-zµ/²³]*(?:\s+(?:per|fl)\s+[A-Za-z]+)?)")
_OP_WORDS = {"add", "plus", "minus", "subtract", "from", "to", "and", "times", "by", "divided", "multiply", "divide", "take", "deduct", "remove",
             "away", "what", "is", "whats", "what's", "of", "the", "sum", "difference", "between", "total", "less", "more",
             "than", "double", "half", "twice", "sqrt", "squared", "cubed", "remainder", "mod", "x", "percent", "pct", "per",
             "pi", "e", "in", "into", "as", "factorial", "choose", "over", "dozen", "then"}


def with_units(task: str) -> SolveResult | None:
    """Arithmetic on amounts with units ("add 10 pounds to 11.02311311 lb", "5 km minus 300 m"): sums and
    differences of one kind of quantity, or one quantity scaled by plain numbers. The answer is in the unit of
    the amount added to ("add/subtract X to/from Y": Y's), else the first one's. None when no amount has a unit."""
    from micromarket.specialists.builtin.units import registry, resolve_unit  # deferred: pint is heavy

    text = strip_thousands(clean(task))
    found = []
    for m in _QTY_RE.finditer(text):
        word = m.group("u")
        if word.lower() in _OP_WORDS or word.lower().startswith(("e", "x")) and len(word) == 1:
            continue
        r = resolve_unit(word)
        if r is None or r.guessed:
            return None
        found.append((m, r))
    if not found:
        return None
    ureg = registry()
    to_last = re.match(r"^\s*(?:please\s+)?(?:add|subtract|take)\b", text, re.I) and re.search(r"\b(?:to|from)\b", text, re.I)
    target = found[-1][1] if to_last else found[0][1]
    if any("degree" in str(r.unit) for _, r in found) and len(found) > 1:
        return fail("temperatures cannot be added or subtracted as amounts")
    out, pos = [], 0
    for m, r in found:
        try:
            v = float(ureg.Quantity(float(m.group("n")), r.unit).to(target.unit).magnitude)
        except Exception:  # noqa: BLE001 - different kinds of quantity
            return fail(f"{m.group(0)} and {target.label} are different kinds of quantity")
        out.append(text[pos: m.start()])
        out.append(f"{v:.12g}")
        pos = m.end()
    bare = "".join(out) + text[pos:]
    try:
        value, expr = calculate(bare)
    except (CalcError, OverflowError, ValueError, ZeroDivisionError):
        return None  # not arithmetic on amounts: the plain reading decides
    scaled = re.search(r"[*/]", expr)
    if (scaled and len(found) != 1) or (not scaled and len(found) != len(re.findall(r"\d+(?:\.\d+)?", expr))):
        return fail("arithmetic on amounts with units: only sums and differences of one kind of quantity, or one amount scaled by numbers")
    try:
        shown, v = _show(value)
    except CalcError as e:
        return fail(str(e))
    said = " ".join(m.group(0) for m, _ in found)
    res = SolveResult(answer=f"{shown} {target.label}", confidence=0.95, value=v,
                      explanation=f"in {target.label}: evaluated {expr} = {shown} {target.label}")
    return understood(res, f"{said} in {target.label}: {expr}")


def solve_by_rules(task: str, context: str = "") -> SolveResult:
    """The rule-based reading (regular expressions): the competing reading, and the benchmark's baseline."""
    if not clean(task):
        return fail("empty request")
    quantities = with_units(task)
    if quantities is not None:
        return quantities
    try:
        v, expr = calculate(task)
    except CalcError as e:
        return fail(str(e))
    except (OverflowError, ValueError, ZeroDivisionError) as e:
        return fail(str(e))
    try:
        text, value = _show(v)
    except CalcError as e:
        return fail(str(e))
    conf = 0.97 if isinstance(v, Fraction) else 0.93
    expl = f"evaluated {expr}" + ("" if isinstance(v, Fraction) else " (floating point)")
    bare = re.search(r"[-+]\s*\(\d+(?:\.\d+)?/100\)", expr)
    if bare and not re.search(r"\bof\b", task, re.I):
        conf = 0.5  # "50 + 10%" may mean 55 (percentage increase) rather than 50.1
        expl += "; a bare percentage was read as a number (10% = 0.1), not as a percentage of the other term"
    return SolveResult(answer=text, confidence=conf, explanation=expl, value=value)


# --- MCP server --------------------------------------------------------------------------------------

mcp = make_server(SPECIALIST_ID, "quickcalc", "A small exact arithmetic calculator: + - * / ** %, parentheses, percentages.")


@mcp.tool(name="solve", structured_output=True)
def solve_tool(task: str, context: str = "") -> SolveResult:
    """Evaluate plain arithmetic such as '1,250 * 3 + 7', '15% of 80' or 'what is 2^10 + 3'."""
    return checked(task, solve_task(task, context))


@mcp.tool(name="calculate", structured_output=True)
def calculate_tool(expression: str) -> SolveResult:
    """Evaluate an arithmetic expression (+ - * / // % ** parentheses sqrt)."""
    return solve_task(expression)


def main() -> None:
    serve(mcp)


if __name__ == "__main__":
    main()
