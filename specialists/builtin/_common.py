"""Shared helpers for the built-in specialists: card resource, number formatting, text cleanup."""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from micromarket.specialists.interpretation import attach, stated, unexplained
from micromarket.specialists.result import SolveResult, unparsed

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

CARD_DIR = Path(__file__).parent / "cards"

UNICODE_OPS = {"×": "*", "÷": "/", "−": "-", "–": "-", "—": "-", "·": "*", "⋅": "*", "²": "^2", "³": "^3"}
_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def card_text(specialist_id: str) -> str:
    return (CARD_DIR / f"{specialist_id}.yaml").read_text(encoding="utf-8")


class LazyServer:
    """A built-in's MCP server, made on first use: the planner imports a built-in only for its reader, and the
    mcp server stack (~1 CPU-s of imports) is then never loaded. ``@x.tool(...)`` and ``@x.resource(...)`` are
    recorded; ``build_server()`` (or any other attribute) makes the MCPServer once and applies them."""

    def __init__(self, factory: Callable[[], MCPServer]):
        self._factory = factory
        self._calls: list[tuple[str, tuple, dict, Callable]] = []
        self._server: MCPServer | None = None
        self._lock = threading.Lock()

    def _recorder(self, kind: str, args: tuple, kwargs: dict):
        def register(fn: Callable) -> Callable:
            if self._server is not None:
                getattr(self._server, kind)(*args, **kwargs)(fn)
            else:
                self._calls.append((kind, args, kwargs, fn))
            return fn

        return register

    def tool(self, *args: Any, **kwargs: Any):
        return self._recorder("tool", args, kwargs)

    def resource(self, *args: Any, **kwargs: Any):
        return self._recorder("resource", args, kwargs)

    def build_server(self) -> MCPServer:
        with self._lock:
            if self._server is None:
                server = self._factory()
                for kind, args, kwargs, fn in self._calls:
                    getattr(server, kind)(*args, **kwargs)(fn)
                self._server = server
            return self._server

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("_factory", "_calls", "_server", "_lock"):
            raise AttributeError(name)
        return getattr(self.build_server(), name)


def make_server(specialist_id: str, name: str, instructions: str) -> LazyServer:
    """An MCP server (SDK 2.x MCPServer, made on first use) exposing its card as the resource ``card://<id>``."""

    def build() -> MCPServer:
        from mcp.server.mcpserver import MCPServer  # deferred: the server stack, only where the server is used

        return MCPServer(name, instructions=instructions, log_level="WARNING")

    mcp = LazyServer(build)

    @mcp.resource(f"card://{specialist_id}", name=f"{specialist_id}-card", mime_type="application/yaml",
                  description=f"Specialist card of {specialist_id}")
    def card() -> str:
        return card_text(specialist_id)

    return mcp


def serve(mcp: LazyServer) -> None:
    """Run a built-in server on stdio, with the process speed-ups an entry point applies."""
    from micromarket import _speedups  # applied by entry points only: importing the package has no side effects

    _speedups.apply()
    mcp.build_server().run()


def fail(why: str) -> SolveResult:
    """Confidence 0: nothing usable was understood."""
    return unparsed("", why)


def superscript(digits: str) -> str:
    return digits.translate(_SUPERSCRIPTS)


def fmt_num(x: float, sig: int = 4, min_decimals: int = 0) -> str:
    """Readable rounding: `sig` significant digits (at least `min_decimals` decimals below 10**sig);
    thousands separators from 10,000."""
    if x is None or not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1e15 or ax < 1e-6:
        return f"{x:.{sig - 1}e}"
    if ax >= 10 ** sig:
        r = round(x)
        return f"{r:,}" if ax >= 10_000 else str(r)
    digits = max(sig - 1 - math.floor(math.log10(ax)), min_decimals)
    r = round(x, max(digits, 0))
    if float(r).is_integer():
        return str(int(r))
    s = f"{r:.{max(digits, 0)}f}".rstrip("0").rstrip(".")
    return s


def fmt_fixed(x: float, decimals: int) -> str:
    """Fixed decimals with trailing zeros removed (5.8696044 -> '5.8696')."""
    s = f"{x:,.{decimals}f}" if abs(x) >= 10_000 else f"{x:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def clean(text: str) -> str:
    """Strip whitespace and trailing punctuation; normalise unicode operators."""
    t = text.strip()
    for a, b in UNICODE_OPS.items():
        t = t.replace(a, b)
    t = re.sub(r"(?<=[A-Za-z\s])!+$", "", t.rstrip())
    t = re.sub(r"[\s?]+$", "", t)
    return re.sub(r"\.+$", "", t).strip()


# A number with optional sign, thousands separators, decimals and exponent.
NUMBER_RE = r"[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"


def to_float(s: str) -> float:
    return float(s.replace(",", ""))


LEAD_IN_RE = re.compile(
    r"^(?:(?:please|can you|could you|hey|ok|okay)[\s,]+)*"
    r"(?:what\s+is|what's|whats|what\s+are|calculate|compute|evaluate|work\s+out|how\s+much\s+is|tell\s+me|give\s+me|find|determine)?"
    r"\s*(?:the\s+(?:value|result)\s+of\s+|the\s+)?",
    re.IGNORECASE,
)

# Phrase forms of arithmetic ("multiply 3 by 4") rewritten to expressions; applied in order.
_PHRASES = [
    (r"\bmultiply\s+(.+?)\s+(?:by|and|with)\s+(.+)", r"(\1)*(\2)"),
    (r"\bdivide\s+(.+?)\s+(?:by|into)\s+(.+)", r"(\1)/(\2)"),
    (r"\badd\s+(.+?)\s+(?:and|to|plus)\s+(.+)", r"(\1)+(\2)"),
    (r"\bsubtract\s+(.+?)\s+from\s+(.+)", r"(\2)-(\1)"),
    (r"\b(?:the\s+)?sum\s+of\s+(.+?)\s+and\s+(.+)", r"(\1)+(\2)"),
    (r"\b(?:the\s+)?product\s+of\s+(.+?)\s+and\s+(.+)", r"(\1)*(\2)"),
    (r"\b(?:the\s+)?difference\s+(?:between|of)\s+(.+?)\s+and\s+(.+)", r"(\1)-(\2)"),
    (r"\b(?:the\s+)?quotient\s+of\s+(.+?)\s+and\s+(.+)", r"(\1)/(\2)"),
]
_WORDS = [
    (r"\bmultiplied\s+by\b", "*"), (r"\btimes\b", "*"), (r"\bdivided\s+by\b", "/"),
    (r"\bplus\b", "+"), (r"\bminus\b", "-"), (r"\b(?:raised\s+)?to\s+the\s+power\s+of\b", "^"),
    (r"\b(?:raised\s+to)\b", "^"), (r"\bsquared\b", "^2"), (r"\bcubed\b", "^3"),
    (r"\bmodulo\b", "%"), (r"\bmod\b", "%"), (r"\bsquare\s+root\s+of\b", "sqrt"),
    (r"\bpercent\b", "%"),
]


def words_to_ops(text: str) -> str:
    """Rewrite spoken arithmetic into operators ("multiply 2 by 3" -> "(2)*(3)", "5 squared" -> "5^2")."""
    t = text
    for pat, rep in _PHRASES:
        t, n = re.subn(pat, rep, t, count=1, flags=re.IGNORECASE)
        if n:
            break
    for pat, rep in _WORDS:
        t = re.sub(pat, rep, t, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", t).strip()


def strip_thousands(text: str) -> str:
    """'1,234,567.5' -> '1234567.5' (commas followed by exactly three digits)."""
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)


def understood(res: SolveResult, reading: str) -> SolveResult:
    """State the reading the answer rests on (see micromarket.specialists.interpretation)."""
    if res.confidence and res.answer:
        res.explanation = attach(res.explanation, reading)
    return res


def checked(task: str, res: SolveResult) -> SolveResult:
    """Decline (confidence 0) an answer whose reading leaves numbers, units or named dates of the request unused.
    The reading is the stated one, else the answer and explanation."""
    if not res.confidence or not res.answer:
        return res
    reading = stated(res.explanation) or f"{res.answer} {res.explanation}"
    missing = unexplained(task, reading)
    if missing:
        return fail(f"only part of the request was understood: {', '.join(repr(m) for m in missing)} not used"
                    f" (read as: {reading[:160]})")
    return res


WORD_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100}
_WORD_NUMBER_RE = re.compile(r"\b(" + "|".join(WORD_NUMBERS) + r")\b(?=\s+[a-z])", re.I)


def spelled_numbers(text: str) -> str:
    """'two cups', 'ten years' -> '2 cups', '10 years' (a spelled-out count before a word)."""
    return _WORD_NUMBER_RE.sub(lambda m: str(WORD_NUMBERS[m.group(1).lower()]), text)


def _same_value(a, b) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return str(a).strip().lower() == str(b).strip().lower()


QUALIFIED = "the request qualifies the computation with"
_FUNCTION_WORDS = {"a", "an", "the", "of", "no", "not", "just", "so", "ok", "please", "and", "or", "to", "in", "on", "at", "is",
                   "it", "that", "this", "for", "with", "me", "my", "i", "you", "be", "by", "as", "then", "now", "thanks",
                   "else", "nothing", "again", "also", "too", "exactly", "roughly", "there", "here", "all",
                   "more", "one", "another", "some", "any", "list", "numbers", "data", "values"}  # what the data is called


def qualified(reading) -> SolveResult | None:
    """A decline where the learned reading tagged a qualifier its engine's call cannot express ("excluding
    weekends", "before tax"): an answer that read past it would be confidently wrong."""
    found = reading.get("X") if reading is not None and reading.op != "none" else []
    found = [q for q in found if set(re.findall(r"[a-z']+", q.lower())) - _FUNCTION_WORDS]  # "the", "just": no condition
    if not found:
        return None
    return fail(f"{QUALIFIED} {', '.join(repr(q) for q in found)}, which this reading cannot compute"
                f" [read by {reading.model}]")


FOREIGN = "the request names"


def _said(res: SolveResult) -> tuple[set[str], set[float]]:
    """The vocabulary keys and the numbers of an answer's stated reading."""
    from micromarket.specialists.reading.vocabulary import keys  # deferred: the vocabulary file

    said = stated(res.explanation) or f"{res.answer} {res.explanation}"
    return {k for k, *_ in keys(said)}, _numbers_in(said)


def _numbers_in(text: str) -> set[float]:
    return {to_float(n) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


_SENTENCE_END = re.compile(r"(?<=[.?!;])\s+|\n+")


def _claims(other: str, text: str, at: int, must_answer: bool = False) -> bool:
    """Whether `other`'s reader reads `text`, or the sentence of `text` around character `at`, as a request of its
    own (an operation, not "none", and tagged spans to compute it on): "... between two dates? Also, what's NaOH's
    molar mass" is chemistry's there; "I'm new to this." is nobody's. With `must_answer`, `other`'s built-in must
    also compute it (a sure reading yields only to a reader that can)."""
    from micromarket.specialists.reading import read  # deferred: numpy and the heads

    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= at]
    end = next((m.start() for m in _SENTENCE_END.finditer(text, at)), len(text))
    for part in dict.fromkeys((text, text[starts[-1]:end].strip())):
        if not part or foreign_shapes(part, other):
            continue  # a date, time or formula `other` never reads: no request of its own ("subtract 2 months from 2024-03-31")
        r = read(other, part)
        if r is not None and r.op != "none" and r.op_confidence >= 0.5 and r.spans and (not must_answer or _answers(other, part)):
            return True
    return False


def _answers(other: str, text: str) -> bool:
    """Whether `other`'s built-in reading answers `text` (unchecked, so claims do not recurse): a finance word in
    "a savings deposit of 12% of 900 dollars" is no claim when finance cannot compute it."""
    from micromarket.specialists.builtin import module_of

    try:
        module = module_of(other)  # imported only when its claim is weighed
    except ImportError:
        return True  # no built-in of that name: its reader's claim stands
    read_by_model = getattr(getattr(module, "read_by_model", None), "__wrapped__", None)
    if read_by_model is None:
        return True
    res = read_by_model(text)
    return res is not None and res.confidence >= 0.5


def unaccounted(domain: str, text: str, spans: list, res: SolveResult, model: str = "") -> SolveResult | None:
    """A decline where the request names an operation or quantity the learned reading's answer does not account
    for: a word of another domain's training sentences (`reading.vocabulary.foreign`) when that domain's reader
    reads the request as its own ("the *mean* of 3, 5 and 10" read by quickcalc as a sum: stats reads a mean), or
    a date, time or formula where `domain` has none. A word is accounted for when the stated reading names it,
    or when it lies in a tagged span (`spans`: (tag, text), offsets) that the stated reading used (names one of
    its words or numbers: "28 yrs" stated as 28 years); a tagged span the normaliser dropped ("mean" tagged as a
    unit) accounts for nothing."""
    from micromarket.specialists.reading.numbers import amount  # deferred with the vocabulary
    from micromarket.specialists.reading.vocabulary import foreign, keys  # deferred: the vocabulary file

    if not res.confidence:
        return None
    said_keys, said_nums = _said(res)
    sure = res.confidence >= 0.8  # a sure reading yields only to a reader that computes the request, an unsure one to any that reads it
    used = []
    for (_, span), offsets in spans:
        if _numbers_in(span) & said_nums or {k for k, *_ in keys(span)} & said_keys:
            used.append(offsets)
    shapes = {text[a:b] for k, a, b, shape in keys(text) if shape}
    found = [w for w, users, applied in foreign(domain, text, used)
             if w in shapes or (amount(w) is None  # "half", "a dozen" state an amount, no operation
                                and not {k for k, *_ in keys(w)} & said_keys
                                and (applied or any(_claims(o, text, text.find(w), sure) for o in users)))]
    if not found:
        return None
    return fail(f"{FOREIGN} {', '.join(repr(w) for w in found)}, which this reading does not account for"
                f" [read by {model or domain}]")


def reader(domain: str):
    """Decorate a built-in's ``read_by_model(task)``: its answer declines where the request names what the
    reading does not account for (`unaccounted`), whichever normaliser made it."""
    from functools import wraps

    def wrap(read_by_model):
        @wraps(read_by_model)
        def checked_reading(task: str) -> SolveResult | None:
            from micromarket.specialists.reading.model import collect  # deferred: numpy and the heads

            with collect() as seen:
                res = read_by_model(task)
            mine = [s for s in seen if s[1].domain == domain]
            if res is None or not res.confidence or not mine:
                return res
            text, r, spans = mine[-1]
            return unaccounted(domain, text, spans, res, r.model) or res
        return checked_reading
    return wrap


def foreign_shapes(task: str, domain: str) -> list[str]:
    """Dates, clock times or formulas in `task` that `domain`'s readers never saw (the rules' check too: "1996-03-30
    plus 37.3" is no subtraction)."""
    from micromarket.specialists.reading.vocabulary import foreign, keys  # deferred: the vocabulary file

    shapes = {task[a:b] for _, a, b, shape in keys(task) if shape}
    return [w for w, *_ in foreign(domain, task) if w in shapes] if shapes else []


def _covers(res: SolveResult, decline: SolveResult) -> bool:
    """Whether an answer's reading names every word of the qualifiers (or unaccounted words) a decline found."""
    marker = QUALIFIED if QUALIFIED in decline.explanation else FOREIGN
    found = re.findall(r"'([^']*)'", decline.explanation.split(marker, 1)[1].split(", which")[0])
    said = (stated(res.explanation) or f"{res.answer} {res.explanation}").lower()
    said = re.sub(r"(?:ignored|set aside:?)\s*(?:'[^']*'|[^;)]*)", " ", said)  # what it says it left out covers nothing
    return all(w in said for q in found for w in re.findall(r"[a-z]{4,}", q.lower()))


def compete(task: str, model: SolveResult | None, rules, domain: str | None = None) -> SolveResult:
    """The learned reading's answer, with the rules (``rules()``, a SolveResult) as the competing reading.

    The model reads first; at confidence >= 0.9 (its answer is no surer than its reading) its answer stands.
    Below that the rules read too: where they agree, the surer of the two confidences is shown; where they
    answer otherwise, the rules' answer stands and names the model's; where they have no reading, the model's
    answer stands at its own (lower) confidence. Both are checked against the request (`checked`).
    Where the model found a qualifier it cannot compute (`qualified`), the rules' answer stands only if its
    reading names that qualifier; otherwise the request is declined. The same holds where the model found words
    it does not account for (`unaccounted`); and a date, time or formula `domain`'s readers never saw is read by
    neither ("1996-03-30 plus 37.3" is no subtraction)."""
    shapes = foreign_shapes(task, domain) if domain else []
    if shapes:
        return fail(f"{FOREIGN} {', '.join(repr(w) for w in shapes)}, which this specialist does not read")
    if model is not None and not model.confidence and (QUALIFIED in model.explanation or FOREIGN in model.explanation):
        r = checked(task, rules())
        return r if r.confidence and _covers(r, model) else model
    m = checked(task, model) if model is not None and model.confidence else None
    if m is not None and not m.confidence:
        m = None
    if m is not None and m.confidence >= 0.9:
        return m
    raw = rules()
    if domain and raw.confidence:  # the rules' reading, too, accounts for what the request names
        raw = unaccounted(domain, task, [], raw) or raw
    if m is None:
        return raw  # as the rules alone answered (the solve tool checks it)
    r = checked(task, raw)
    if not r.confidence:
        return m
    if _same_value(r.value, m.value):  # two readings agree
        m.confidence = max(m.confidence, r.confidence)
        return m
    r.explanation += f"; the learned reading (unsure) answered {m.answer!r}"
    return r


def capped(confidence: float, res: SolveResult) -> SolveResult:
    """An answer no surer than the reading it rests on."""
    if res.confidence:
        res.confidence = round(min(res.confidence, confidence), 3)
    return res
