"""`math` specialist: symbolic and numeric mathematics with sympy (operations in ``_symbolic``).

This module reads plain-language requests ("derivative of cos(x)^2 at x = pi/4", "7 factorial", "find x if
x/4 = 9") into those operations and serves them over MCP.
Run as ``python -m specialists.builtin.math`` (an MCP server on stdio).
"""

from __future__ import annotations

import re

from micromarket.specialists.builtin._common import LEAD_IN_RE, checked, clean, fail, make_server, serve, understood
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
    transform,
)
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


def _order(word: str | None) -> int:
    if not word:
        return 1
    return _ORDINALS.get(word.lower()) or int(re.match(r"\d+", word).group())


def solve_task(task: str, context: str = "") -> SolveResult:
    """Answer a mathematical request in plain language."""
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
    m = re.match(r"^(?:round\s+)?(?P<f>.+?),?\s+(?:to|rounded\s+to|correct\s+to|accurate\s+to)\s+(?P<n>\d+)\s+(?:decimal\s+places|decimals|dp|d\.p\.|places)$", text, re.I)
    if m:
        return _rounded(solve_task(m.group("f")), int(m.group("n")))
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
    m = _DERIV_RE.match(text)
    at = re.match(r"^(?P<f>.+?)\s+(?:at|when|for|where)\s+(?P<v>[a-z])\s*=\s*(?P<p>.+)$", m.group("f"), re.I) if m else None
    if at:
        return derivative_at(at.group("f"), at.group("v"), at.group("p"), _order(m.group("ord")))

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
