"""The offline planner: split a compound request into subtasks, with dependencies.

By default the domain readers split (`_reader_split`): a compound is a sequence of spans that some built-in's
reader reads as a complete request, joined by glue, and a step that a reader reads only with the earlier result
("then square it") depends on it. The rules split where a piece is read by no reader, or with `learned=False`:
sentences, semicolons, list items, "then", and "and"/commas when the next clause starts a new request. A statement
followed by its question is one request. A clause that refers back ("that", "it", "the result") depends on the
previous subtask and receives its result.
"""

from __future__ import annotations

import logging
import re

from micromarket.graphs.state import Subtask
from micromarket.errors import MicromarketError
from micromarket.specialists.reading import read
from micromarket.specialists.reading.words import stop_words
from micromarket.specialists.builtin._common import WORD_NUMBERS, checked

MAX_SUBTASKS = 16
log = logging.getLogger("micromarket.planner")

# Words that start a new request (imperatives and question openers).
_STARTERS = (
    "convert|integrate|differentiate|derive|compute|calculate|evaluate|simplify|factor|factorise|factorize|expand|solve|find|"
    "what|what's|whats|how|which|when|who|is|are|does|do|give|tell|list|show|add|subtract|multiply|divide|sum|"
    "normalize|normalise|translate|summarize|summarise|count|determine|estimate|get|check|take|double|halve|"
    "square|round|express|format|parse|name|describe|explain|compare|predict|then|write|recommend|draft|compose|"
    "where|why|search|look|book|send|create|make"
)
_STARTER_RE = re.compile(rf"^\s*(?:please\s+|also\s+|and\s+)?(?:{_STARTERS})\b", re.I)
_REFER_RE = re.compile(
    r"\b(that many|that much|this many|that result|that value|that number|that amount|the result|the answer|"
    r"the previous (?:result|answer|value)|that|it|this)\b",
    re.I,
)
_QUESTION_RE = re.compile(r"^\s*(?:what|what's|whats|how|which|when|is|are|does|do|will|would|can|could)\b", re.I)
_THEN_RE = re.compile(r"\s*(?:[,;]\s*)?\b(?:and\s+)?then\b[,\s]*|\s*(?:[,;]\s*)?\bafter that\b[,\s]*|\s*(?:[,;]\s*)?\bnext\b,\s*", re.I)
_LIST_RE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+", re.M)


def _sentences(text: str) -> list[str]:
    # A period ends a sentence when followed by space + capital letter, not inside numbers ("26.2").
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z(])|\s*;\s*|\n+", text)
    return [p for p in (s.strip() for s in parts) if p]


def _split_and(clause: str) -> list[str]:
    """Split on ', and ' / ' and ' / ', ' only where the right side starts a new request."""
    out: list[str] = []
    rest = clause
    while True:
        m = None
        for cand in re.finditer(r",\s*(?:and\s+|also\s+)?|\s+(?:and|&)\s+(?:also\s+)?|\s+also\s+", rest):
            right = rest[cand.end():]
            left = rest[: cand.start()]
            if _STARTER_RE.match(right) and len(left.split()) >= 2:
                if not _STARTER_RE.match(clause) and _QUESTION_RE.match(right):
                    continue  # "I weigh 150 pounds, what's that in kg?": a statement before a question is its data
                m = cand
                break
        if m is None:
            out.append(rest.strip())
            return [o for o in out if o]
        out.append(rest[: m.start()].strip())
        rest = rest[m.end():]


def _clean(s: str, keep_please: bool = False) -> str:
    s = s.strip().strip(",;").strip()
    s = re.sub(r"^(?:and|also|then)[\s,]+" if keep_please else r"^(?:and|also|please|then)[\s,]+", "", s, flags=re.I)  # "Also, what's ..."
    return s.rstrip(".").strip() if s.endswith(".") and not re.search(r"\d\.$", s) else s.strip()


# "summarize this text: <text>": the text after the colon is material to work on, never split into subtasks.
_PAYLOAD_RE = re.compile(r"^(?P<instr>[^:\n]{3,100}?\b(?:text|passage|paragraph|article|email|message|document|this|following|below)\b[^:\n]{0,40}):\s*(?P<body>\S.{20,})$", re.I | re.S)
# "the molar masses of KCl and MgO": a plural request over a list of named items, one subtask each.
_ITEMS_RE = re.compile(
    r"^(?P<head>.*?\b(?P<noun>[a-z]+(?:ses|es|s))\s+(?:of|for)\s+)(?P<items>[^\s,]*[A-Za-z][^\s,]*(?:\s*,\s*[^\s,]*[A-Za-z][^\s,]*)*\s*,?\s+and\s+[^\s,]*[A-Za-z][^\s,]*)(?P<tail>\??)$",
    re.I,
)


# "convert 60 mph into km/h, 20 celsius into fahrenheit, and 1 atm into psi": one verb over a list of requests.
_VERB_LIST_RE = re.compile(r"^(?P<verb>(?:please\s+)?(?:convert|change|turn|express)\s+)(?P<rest>.+)$", re.I)
_ONE_CONVERSION = re.compile(r"^\s*[-+]?\d[\d,.]*\s*\S.*?\s(?:to|into|in|as)\s+\S.*$", re.I)


def _split_verb_list(clause: str) -> list[str]:
    m = _VERB_LIST_RE.match(clause)
    if not m:
        return [clause]
    parts = [p for p in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+(?=[-+]?\d)", m.group("rest")) if p.strip()]
    if len(parts) < 2 or not all(_ONE_CONVERSION.match(p) for p in parts):
        return [clause]
    return [m.group("verb") + p.strip() for p in parts]


def _split_items(clause: str) -> list[str]:
    if len(parts := _split_verb_list(clause)) > 1:
        return parts
    m = _ITEMS_RE.match(clause)
    if not m or m.group("noun").lower() in ("days", "hours", "minutes", "weeks", "years", "months", "numbers", "values"):
        return [clause]
    items = [i for i in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", m.group("items")) if i]
    noun = m.group("noun")
    single = noun[:-2] if noun.lower().endswith("sses") else noun[:-1]
    head = m.group("head")[: m.start("noun")] + single + m.group("head")[m.end("noun"):]
    head = re.sub(r"^(\s*(?:what|which|how\s+much))\s+are\b", r"\1 is", head, flags=re.I)
    return [f"{head}{i}{m.group('tail')}" for i in items]


def payload_of(task: str) -> tuple[str, str] | None:
    """("summarize this text", "<the text>") for a request that carries the text to work on after a colon, else None.
    The text belongs in the run's context, not in subtasks; decompose may move it there."""
    m = _PAYLOAD_RE.match(task.strip())
    if m and (_OPERAND_NOUN_RE.search(m.group("instr")) or re.match(r"[\[(]?\s*[-+]?\d", m.group("body"))):
        # "solve this equation: 4c + 10 = 0; ...", "temperatures this week: 63, 79, ...": an operand (an equation,
        # data), not a text to work on; the rest may be requests
        return None
    return (m.group("instr").strip(), m.group("body").strip()) if m else None


# what "this"/"the following" names when it is an operand of a calculation, not a text
_OPERAND_NOUN_RE = re.compile(r"\b(?:equation|expression|function|integral|derivative|polynomial|system|sum|product|"
                              r"numbers?|values?|data(?:\s*set)?|series|sequence|matrix|fraction|formula|problem)s?\b", re.I)


def split_task(task: str, learned: bool = True) -> list[Subtask]:
    """Split a request into subtasks; a back-reference to the previous request makes a dependency.

    `learned=True` (the default) splits where the domain readers read every piece (`_reader_split`), else, and
    with `learned=False`, by the rules."""
    text = task.strip()
    if not text:
        return []
    if payload_of(text) is not None:
        return [Subtask(id="s1", text=text, depends_on=[])]
    parts = _reader_split(text) if learned else None
    if parts is not None and _rules_see_other_requests(text, [p for p, _, _ in parts]):
        parts = None
    clauses: list[tuple[str, bool]] = []  # (text, follows a "then")
    needs: list[bool] = []  # the readers' split: whether each request needs the one before's result
    if parts is not None:  # the readers' requests: only a list under one verb is split further
        for piece, after_then, need in parts:
            c = _clean(piece, keep_please=True)
            items = _split_items(c) if c else []
            clauses += [(item, after_then and n == 0) for n, item in enumerate(items)]
            needs += [need and n == 0 for n in range(len(items))]
    else:
        items = [i for i in _LIST_RE.split(text) if i.strip()] if _LIST_RE.search(text) else _sentences(text)
        for item in items:
            pieces = _THEN_RE.split(item)
            for j, piece in enumerate(pieces):
                for k, sub in enumerate(_split_and(piece)):
                    c = _clean(sub)
                    for n, item in enumerate(_split_items(c) if c else []):
                        clauses.append((item, j > 0 and k == 0 and n == 0))
    if parts is None:  # the readers already keep a statement with its question
        clauses = _merge_statements(clauses)
    clauses = [(_implicit_operand(c) if (needs[i] if needs else after_then) else c, after_then) for i, (c, after_then) in enumerate(clauses)]
    subtasks: list[Subtask] = []
    for i, (c, after_then) in enumerate(clauses[:MAX_SUBTASKS]):
        deps: list[str] = []
        if i > 0 and (needs[i] if needs else _REFER_RE.search(c) and _refers_back(c)):
            deps = [f"s{i}"]
            c = re.sub(r"[\s,]+please[\s,;.!-]*$", "", c, flags=re.I)  # "then square it please": the step keeps no closing "please"
        subtasks.append(Subtask(id=f"s{i + 1}", text=c, depends_on=deps))
    if len(clauses) > MAX_SUBTASKS:  # keep the tail together rather than drop it
        subtasks[-1]["text"] += " " + " ".join(c for c, _ in clauses[MAX_SUBTASKS:])
    return subtasks


# Reader split: a compound is a sequence of spans that some domain reader reads as a complete request, joined by
# glue. Candidate cuts are runs of punctuation, coordinators and stop words (scikit-learn's English list); the split
# kept is the one whose segments' reading confidences have the largest product (a single request stays whole).
_COORDINATORS = frozenset(
    "and plus also then next after afterwards finally lastly additionally besides furthermore moreover too "
    "once meanwhile later subsequently further likewise as well".split())
_PUNCT = frozenset(",;.?!&:")
READER_MIN_CONFIDENCE = 0.5  # every segment must be read at least this sure, else the rules split
_FOLLOW_FLOOR = 0.5  # a request opener that refers back ("add 10 pounds to that") when no reader reads it
_MAX_RUNS = 9
_SURE = 0.85  # readings at least this sure count as sure (the readers' confidences differ by domain)
_SPLIT_PRIOR = 1.1
_INNER_FOLLOW = 0.5  # each cut multiplies the score: a reader that reads "X, then square it" whole ignores the rest
_READERS = ("units", "dates", "finance", "chemistry", "stats", "math", "quickcalc")


class _Readers:
    """The domain readers' confidence on candidate segments (each text read once)."""

    def __init__(self):
        self.cache: dict[str, tuple[float, object]] = {}

    @staticmethod
    def _module(domain: str):
        """The built-in of ``domain``, imported when its reader first claims a text."""
        from micromarket.specialists.builtin import module_of

        return module_of(domain)

    def prime(self, texts: list[str]) -> None:
        from micromarket.specialists.reading.model import prime  # deferred: the encoder

        prime([t for t in texts if t not in self.cache])

    def best(self, text: str, answered: bool = False) -> tuple[float, object]:
        """(confidence, SolveResult) of the reader most sure of `text`; (0, None) when none reads it. `answered`:
        the built-in's whole answer (its reader and rules competing), for a step given the earlier result."""
        key = ("answered:" if answered else "") + text
        if key in self.cache:
            return self.cache[key]
        out: tuple[float, object] = (0.0, None)
        for d in _READERS:
            r = read(d, text)
            if r is None or (not answered and r.op_probs.get("none", 0.0) > 0.7):
                continue  # this reader's operation head says: not mine (a built-in's whole answer asks its rules too)
            mod = self._module(d)
            try:
                res = mod.solve_task(text) if answered else mod.read_by_model(text)
                # the solve tool's check: a reading that leaves numbers of the segment out ("... in 7 years as well as
                # 101 including 34.8 percent tax") reads only part of it, so it is no reading of the segment
                res = checked(text, res) if res is not None else None
            except Exception:  # noqa: BLE001 - a segment a reader cannot read is a low score, never an error
                res = None
            if res is not None and res.confidence and res.value is not None and res.confidence > out[0]:
                out = (float(res.confidence), res)
        if not answered and out[0] < READER_MIN_CONFIDENCE and _BARE_REQUEST_RE.match(text) and re.search(r"[\d)]\s*[-+*/^×÷]\s*[\d(]|%", text):
            out = max(out, self.best(text, answered=True), key=lambda o: o[0])  # "2+3*4": the engines read a bare expression
        self.cache[key] = out
        return out


    def reads_operator(self, text: str, a: int, b: int) -> bool:
        """Whether a reader reads `text` whole and sure with an operator word at characters a..b inside one of its
        spans ("12 squared | plus | 5 cubed": quickcalc reads "plus" as the sum of the two)."""
        key = f"operator:{a}:{b}:" + text
        if key not in self.cache:
            sure = self.best(text)[0] >= _SURE
            self.cache[key] = (float(sure and any(
                r is not None and r.op != "none" and any(x < b and a < y for (g, _), (x, y) in zip(r.spans, r.offsets) if g not in _NUMBER_TAGS)
                for r in (read(d, text) for d in _READERS))), None)
        return bool(self.cache[key][0])


# tags of a reader's amounts (not operator words); an operator glue must fall in another span
_NUMBER_TAGS = frozenset({"NUM", "QTY", "AMT", "PCT", "PART", "WHOLE", "DATE", "FRAC"})
# arithmetic joiners: between two amounts, a cut only where no reader reads the sum or difference whole
_OPERATOR_GLUE = re.compile(r"^\s*(?:plus|and|&|\+|-|minus|times)\s*$", re.I)
_AMOUNT_END = re.compile(r"(?:\d|%|\b(?:squared|cubed|power|percent|dollars?|euros?|bucks)|\))\s*$", re.I)
_AMOUNT_START = re.compile(r"^\s*(?:[$€£]?\d|(?:the\s+)?(?:square|cube|sqrt|root)\b|(?:a|an|one|two|three|half)\b)", re.I)


_READER_CACHE: list[_Readers] = []


def _readers() -> _Readers:
    if not _READER_CACHE:
        _READER_CACHE.append(_Readers())
    return _READER_CACHE[0]


def _runs(text: str, ws: list[tuple[str, int, int]]) -> list[list[tuple[int, int, str]]]:
    """Candidate cuts, one group per run of glue words (punctuation, coordinators, stop words) with at least one
    punctuation mark or coordinator; each variant is (end of the request before, start of the one after, the glue):
    the glue runs from one such word to the same or a later one, the stop words around it stay with the requests."""
    stop = stop_words()
    n = len(ws)
    glue = [w.lower() in stop or w.lower() in _COORDINATORS or w in _PUNCT for w, _, _ in ws]
    strong = [_coordinates(ws, i) or (w in _PUNCT) for i, (w, _, _) in enumerate(ws)]
    for i, (w, a, _) in enumerate(ws):  # "-" joins requests only before a word ("- then"), not in "x^2 - 4x"
        if w == "-" and i + 1 < n and ws[i + 1][0][:1].isalpha() and a > 0 and text[a - 1] == " ":
            glue[i] = strong[i] = True
    for i in range(1, n):  # "after that" is one coordinator: its "that" is no back-reference of the next request
        if ws[i][0].lower() in ("that", "this") and ws[i - 1][0].lower() == "after" and strong[i - 1]:
            strong[i] = glue[i] = True
    groups = []
    i = 0
    while i < n:
        if not glue[i]:
            i += 1
            continue
        j = i
        while j < n and glue[j]:
            j += 1
        idx = [k for k in range(i, j) if strong[k]]
        if [ws[k][0] for k in idx] == [":"] and j == idx[0] + 1 and re.match(r"[\d(\[-]|[a-z]\b|[a-z]\^", ws[j][0] if j < n else ""):
            idx = []  # "expand: (4k + 4)^2", "the mean: 3, 5, 8": a colon before its operand is no cut
        if idx and i > 0 and j < n:
            variants = []
            last = idx[-1]  # the next request starts after the run's last mark or coordinator
            # ... or after an earlier one when a request opener follows it ("and next | what is that plus 37.3")
            lasts = [last] + [k for k in idx[:-1] if k + 1 < j and _STARTER_RE.match(ws[k + 1][0])
                              and ws[k + 1][0].lower() not in _COORDINATORS]
            for first, last in ((f, la) for la in lasts for f in idx if f <= la):
                if any(ws[k][0].lower() in _COORDINATORS for k in range(i, first)):
                    continue  # a request does not end with a coordinator ("... weigh; after that", "was. Once you have that")
                after = ws[last + 2][0] if ws[last + 1][0] in "-+" and last + 2 < n else ws[last + 1][0]
                numeric = all(x[:1].isdigit() or _NUMBER_WORDS.match(x) or x.lower() in WORD_NUMBERS for x in (ws[first - 1][0], after))
                if numeric and all(ws[k][0] in ",;&" or ws[k][0].lower() == "and" for k in range(first, last + 1) if strong[k]):
                    continue  # "3, 7 and 11": a list of numbers
                variants.append((ws[first - 1][2], ws[last + 1][1], text[ws[first][1]:ws[last][2]]))
            if variants:  # the narrowest glue first: it wins a tie ("... 2 years. How much will I have | & |")
                groups.append(sorted(variants, key=lambda v: v[1] - v[0]))
        i = j
    return groups


# coordinators that are prepositions before a noun phrase ("after a 25% discount", "once at 2%"): they join requests
# only before the words below ("after that", "once you have it")
_PREPOSITIONAL = {"after": ("that", "this", "which", ",", "then", "all"), "once": ("you", "we", "that", "this", "it", "done", ","),
                  "later": (",", "on")}


def _coordinates(ws: list[tuple[str, int, int]], i: int) -> bool:
    w = ws[i][0].lower()
    if w in _PREPOSITIONAL:
        return i + 1 >= len(ws) or ws[i + 1][0].lower() in _PREPOSITIONAL[w]
    if w == "as":  # only in "as well as" ("As TB, how much is ..." starts a request)
        return i + 1 < len(ws) and ws[i + 1][0].lower() == "well" or i > 0 and ws[i - 1][0].lower() == "well"
    return w in _COORDINATORS


def _edges(text: str) -> str:
    """The piece without glue at its ends ("and also ...", "... please")."""
    from micromarket.specialists.reading.words import split

    ws = split(text)
    a, b = 0, len(ws)
    lead = lambda i: _coordinates(ws, i) or ws[i][0] in _PUNCT  # noqa: E731
    while a < b and lead(a) and ws[a][0].lower() not in ("as",):
        a += 1
    while b > a and ws[b - 1][0] in _PUNCT and ws[b - 1][0] not in "?!":
        b -= 1
    return text[ws[a][1]:ws[b - 1][2]] if a < b else ""


def _reader_split(text: str) -> list[tuple[str, bool, bool]] | None:
    """The requests of `text` by the readers' acceptance, each with whether a "then" joins it to the one before
    and whether it needs the one before's result; None where some piece is read by no reader (the rules split then)."""
    from itertools import combinations, product

    from micromarket.specialists.reading.model import available
    from micromarket.specialists.reading.words import split

    if not all(available(d) for d in _READERS):
        return None
    pieces = [i for i in _LIST_RE.split(text) if i.strip()] if _LIST_RE.search(text) else [p for p in text.split("\n") if p.strip()]
    rd = _readers()
    out: list[tuple[str, bool, bool]] = []
    for piece in pieces:
        piece = _edges(piece)
        if not piece:
            continue
        groups = _runs(piece, split(piece))
        if len(groups) > _MAX_RUNS:
            return None
        spans = [(min(v[0] for v in g), max(v[1] for v in g)) for g in groups]  # the characters a group may glue
        # a request on the earlier result after a cut ("..., then square it"): a reading across that cut ignores it
        nxt = [min(v[0] for v in g) for g in groups[1:]] + [len(piece)]
        follows = [any(_JOINED_BY_THEN.search(v[2]) and _is_step(piece[v[1]:nxt[m]]) for v in g) for m, g in enumerate(groups)]
        best: tuple[float, list] | None = None
        key = None
        for k in range(0, min(len(groups), 5) + 1):
            for cuts in combinations(range(len(groups)), k):
                for variants in product(*(groups[c] for c in cuts)):
                    score, chosen = _segmentation(rd, piece, [0, *[v[1] for v in variants]], [*[v[0] for v in variants], len(piece)],
                                                  ["", *[v[2] for v in variants]], spans, follows, k, best[0] - 1e-9 if best else None)
                    # a tie goes to the split at the stronger boundaries: ". Then" or "and" before ":" or ","
                    this = (round(score, 9), sum(bool(_STRONG_GLUE.search(v[2])) for v in variants)) if chosen is not None else None
                    if this is not None and (key is None or this > key):
                        best, key = (score, chosen), this
        if best is None or min(sc for _, _, sc, _ in best[1]) < READER_MIN_CONFIDENCE and not (
                _unread_kept(best[1]) and rd.best(piece, answered=True)[0] < _SURE):  # a built-in's rules may read it whole
            # ("add 2 weeks and 3 days to 2026-12-28")
            if halves := _weak_cut(rd, piece):  # no split by the known joiners: an unknown joiner word
                out += [(h, False, False) for h in halves]
                continue
            return None
        for seg, glue, _, needs in best[1]:
            core = _edges(seg)
            if core and core != seg and seg.endswith(core):  # a tie kept the coordinator with the request ("Also, what's ...")
                glue, seg = f"{glue} {seg[: len(seg) - len(core)].strip()}", core
            halves = None if needs else _distribute(rd, seg) or _weak_cut(rd, seg)
            for m, part in enumerate(halves or [seg]):
                out.append((part, m == 0 and bool(out) and bool(_JOINED_BY_THEN.search(glue)), m == 0 and bool(out) and needs))
    return out or None


_NUMBER_WORDS = re.compile(r"^(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|half|halves|quarters?|thirds?|dozens?|"
                           r"hundreds?|thousands?|millions?)$", re.I)


def _distribute(rd: _Readers, seg: str) -> list[str] | None:
    """One request asking for two things of one operand ("the mean and the median of 4, 8, 15", "how many feet and
    meters is a mile", "2 gallons in liters and in cups"): the two requests with one conjunct each, where readers
    read both sure and answer differently, and no built-in answers both whole; else None. Conjuncts are one or two
    words, not numbers, and the second is no request of its own ("... and calculate ...")."""
    from micromarket.specialists.reading.words import split

    ws = split(seg)
    stop = stop_words()
    cands: list[tuple[str, str]] = []
    for i, (w, a, b) in enumerate(ws):
        if w.lower() != "and" or i == 0 or i + 2 >= len(ws) or _STARTER_RE.match(ws[i + 1][0]):
            continue
        for k in (1, 2):
            for m in (1, 2):
                if i - k < 0 or i + m + 1 >= len(ws):
                    continue
                words = [x for x, _, _ in ws[i - k:i] + ws[i + 1:i + m + 1]]
                if not all(x.isalpha() and not _NUMBER_WORDS.match(x) and x.lower() not in _COORDINATORS for x in words) \
                        or ws[i - 1][0].lower() in stop or ws[i + m][0].lower() in stop:
                    continue  # each conjunct ends with a content word ("the median", "in cups")
                tail = seg[ws[i + m][2]:].lstrip()
                left = seg[:a].rstrip() + ("" if tail[:1] in ",;.?!" else " ") + tail  # "... the mean | of 4, 8, 15"
                right = seg[:ws[i - k][1]] + seg[ws[i + 1][1]:]  # "What are | the median of 4, 8, 15"
                if not any(re.search(rf"\b(\w+)\s+\1\b", t, re.I) for t in (left, right)):  # no "the the"
                    cands.append(tuple(re.sub(r"^(\s*(?:what|which))\s+are\b", r"\1 is", t.strip(), flags=re.I) for t in (left, right)))
    if not cands:
        return None
    rd.prime([t for c in cands for t in c])

    def sure(t: str):  # the reading, else the built-ins' whole answers (readers and rules competing: "a mile")
        r = rd.best(t)
        return r if r[0] >= _SURE else max(r, rd.best(t, answered=True), key=lambda o: o[0])

    best, key = None, 0.0
    for left, right in cands:
        (cl, rl), (cr, rr) = sure(left), sure(right)
        if min(cl, cr) >= _SURE and min(cl, cr) > key and str(rl.value) != str(rr.value):
            best, key = ([left, right], (rl.answer, rr.answer)), min(cl, cr)
    if best is None:
        return None
    for answered in (False, True):  # a built-in that answers both whole ("2 gal = 7.571 L; 2 gal = 32 cup") keeps it whole
        whole = rd.best(seg, answered=answered)[1]
        if whole is not None and all(a and a in (whole.answer or "") for a in best[1]):
            return None
    return best[0]


_STRONG_GLUE = re.compile(r"[.?!;]|\b(?:and|then|also|plus|next|after|finally|as well as)\b", re.I)


_UNREAD = 0.3  # a segment no reader reads that may still be a request of its own (some specialist may answer it)


def _unread_request(seg: str) -> bool:
    return bool(re.search(r"\d", seg)) and len(seg.split()) >= 3 and not _is_follow(seg)


def _unread_kept(chosen: list) -> bool:
    """A split with segments no reader reads is kept where every other segment is read sure and at least one is:
    the readers found requests at its cuts, and the rules would not cut there ("plus", "as well as")."""
    read = [sc for _, _, sc, _ in chosen if sc != _UNREAD]
    return len(chosen) >= 2 and bool(read) and min(read) >= _SURE


def _weak_cut(rd: _Readers, seg: str) -> list[str] | None:
    """A joiner no list knows and without punctuation ("Convert 3 miles to km alongside the mean of 4, 8 and 9",
    "what is 20% of 150 together with the molar mass of NaCl"): a cut at one word that is no stop word, or at a
    run of two or more stop words without a coordinator, between two spans of three words or more that readers each read sure; the
    surest such cut, else None. Tried only inside a segment of seven words or more with a number."""
    from micromarket.specialists.reading.words import split

    ws = split(seg)
    if len(ws) < 7 or not re.search(r"\d", seg):
        return None
    stop = stop_words()
    content = [w[:1].isalnum() and w.lower() not in stop and w.lower() not in _COORDINATORS for w, _, _ in ws]
    cands: list[tuple[str, str]] = []
    i = 2
    while i < len(ws) - 2:
        w = ws[i][0]
        if content[i - 1] and content[i] and w.isalpha() and w.islower() and len(w) >= 4 and not content[i + 1]:
            cands.append((seg[: ws[i][1]].strip(), seg[ws[i][2]:].strip()))  # "... km | alongside | the mean of ..."
        elif content[i - 1] and w.lower() in stop and i + 1 < len(ws) - 1 and ws[i + 1][0].lower() in stop:
            j = i
            while j < len(ws) and ws[j][0].lower() in stop and ws[j][0].lower() not in _COORDINATORS:
                j += 1
            if j - i >= 2 and j < len(ws):  # "... of 150 | together with | the molar mass ..."
                cands.append((seg[: ws[i][1]].strip(), seg[ws[i + 1][2]:].strip()))
        i += 1
    cands = [(a, b) for a, b in cands if len(a.split()) >= 3 and len(b.split()) >= 3]  # "I signed | up on | August 17": no request
    if not cands:
        return None
    rd.prime([t for c in cands for t in c])
    best = max(cands, key=lambda c: min(rd.best(c[0])[0], rd.best(c[1])[0]))
    return list(best) if min(rd.best(best[0])[0], rd.best(best[1])[0]) >= _SURE else None


def _segmentation(rd: _Readers, piece: str, starts: list[int], stops: list[int], glues: list[str], spans, follows, k: int,
                  beat: float | None) -> tuple[float, list | None]:
    """The score of one split (the product of its segments' reading confidences, capped at `_SURE`, times the prior
    per cut) and its segments (text, glue before, confidence, needs the earlier result); None once it cannot beat `beat`."""
    segs = [piece[a:b].strip() for a, b in zip(starts, stops)]
    rd.prime(segs)
    score, chosen, prev = _SPLIT_PRIOR ** k, [], None
    for i, (seg, a, b, glue) in enumerate(zip(segs, starts, stops, glues)):
        if chosen and _question_of(chosen[-1][0], seg, glue):
            return score, None  # "I have 398.2 miles of water, | how much in feet": a statement with its question is one request
        if chosen and _operator_joins(rd, piece, starts[i - 1], stops[i - 1], a, b, glue):
            return 0.0, None  # "12 squared | plus | 5 cubed": one sum, which a reader reads whole
        sc, res = rd.best(seg)
        unread = sc < READER_MIN_CONFIDENCE
        needs = False
        if chosen and sc < _SURE:
            fsc, fres = _follow_score(rd, seg, prev, glue)
            if fsc > sc:
                sc, res, needs = fsc, fres, True
                if any(a <= x and y <= b for x, y in spans):  # "cube 5. convert 6,690 fahrenheit to K": a step on the
                    sc *= _INNER_FOLLOW  # earlier result read whole with the request after it ignores that request
        elif chosen and _is_follow(seg) and any(a <= x and y <= b for x, y in spans):
            sc *= _INNER_FOLLOW  # the same when a reader reads it alone ("multiply that by 68 and 255 is how many percent of 775")
        if any(follows[m] for m, (x, y) in enumerate(spans) if a <= x and y <= b):
            sc *= _INNER_FOLLOW
        # an imperative on the earlier result ("multiply that by 13.8") needs it even where a reader reads it alone
        needs = needs or bool(chosen) and _is_follow(seg) and not _QUESTION_RE.match(seg)
        if sc < READER_MIN_CONFIDENCE:
            if needs or not unread or not _unread_request(seg) or any(follows[m] for m, (x, y) in enumerate(spans) if a <= x and y <= b):
                return 0.0, None  # only splits whose every segment is read (or may be a request) compete
            sc = _UNREAD  # "3 weeks = how many seconds | plus | Convert 7 ft 6 inches to lightyears": no reader reads the first
        score *= min(1.0, sc / _SURE)
        chosen.append((seg, glue, sc, needs))
        prev = res
        if beat is not None and score <= beat:
            return score, None
    return score, chosen


def _operator_joins(rd: _Readers, piece: str, a0: int, b0: int, a: int, b: int, glue: str) -> bool:
    """An arithmetic word between two amounts that a reader reads, with both amounts, as one calculation."""
    if not _OPERATOR_GLUE.match(glue) or not _AMOUNT_END.search(piece[a0:b0]) or not _AMOUNT_START.match(piece[a:b]):
        return False
    return rd.reads_operator(piece[a0:b], b0 - a0, a - a0) or rd.best(piece[a0:b], answered=True)[0] >= _SURE  # or a built-in computes it whole


def _is_follow(clause: str) -> bool:
    """A step on the earlier result that starts as a request ("multiply that by 3")."""
    return bool(_STARTER_RE.match(_implicit_operand(clause.strip()))) and _is_step(clause)


def _is_step(clause: str) -> bool:
    """After "then": a clause on the earlier result, whatever its verb ("cube the result", "raise that to the power 2")."""
    c = _implicit_operand(clause.strip())
    return bool(_REFER_RE.search(c) and _refers_back(c))


def _rules_see_other_requests(text: str, parts: list[str]) -> bool:
    """The rules find a request without numbers that no reader reads and that is not a step on an earlier result
    ("... and write me a limerick"), and every piece they cut is read or starts like a request: the readers cannot
    judge that split, the rules make it. ("daily sales were -3; 199.6; ...; find the minimum": the rules cut a
    list apart, the readers' split stands.)"""
    rd = _readers()
    clauses = [s["text"] for s in split_task(text, learned=False)]
    if len(clauses) < 2:
        return False
    rd.prime(clauses)
    read_ok = [rd.best(c)[0] >= READER_MIN_CONFIDENCE and bool(re.search(r"[A-Za-z]", c)) for c in clauses]  # "15.9" alone is no request
    if not all(ok or _STARTER_RE.match(c) for c, ok in zip(clauses, read_ok)):
        return False  # the rules cut a request apart ("daily sales were -3; 199.6; ...; find the minimum")
    return any(_STARTER_RE.match(c) and not re.search(r"\d", c) and not ok and not (_REFER_RE.search(c) and _refers_back(c))
               and not _asks_about_statement(c, parts) for c, ok in zip(clauses, read_ok))


def _asks_about_statement(clause: str, parts: list[str]) -> bool:
    """`clause` is the question of a statement the readers read with it ("101 including 34.8 percent tax; | what was
    the price before tax"), not a request of its own."""
    for p in parts:
        at = p.find(clause)
        if at > 0:
            before = re.split(r"(?<=[.?!;,:])\s+", p[:at].strip())
            last = next((b for b in reversed(before) if b.strip(" .;,:")), "")
            return _is_statement(last)
    return False


def _follow_score(rd: _Readers, seg: str, prev, glue: str) -> tuple[float, object]:
    """A request on the previous result ("then square it"): read with that result in place of the reference."""
    # an implicit operand ("to Kelvin", "divide by 4") only after "then": ", in percent" and "in CO2, what ..." are no steps
    c = _implicit_operand(seg) if _JOINED_BY_THEN.search(glue) else seg
    if not (_REFER_RE.search(c) and _refers_back(c)) or _has_own_statement(c):
        return 0.0, None
    if prev is not None:
        sc, res = rd.best(substitute_inputs(c, {"p": {"value": prev.value, "answer": prev.answer}}), answered=True)
        log.debug("follow-up %r on %r: %.2f", c, prev.value, sc)
        if sc >= _FOLLOW_FLOOR:
            return sc, res
    # a step no reader reads even with the earlier result: an imperative, or any request after "then"
    then = bool(_JOINED_BY_THEN.search(glue))  # after "then", any clause on the earlier result ("raise that to the power 2")
    return (_FOLLOW_FLOOR, None) if then or _STARTER_RE.match(c) and not _QUESTION_RE.match(c) else (0.0, None)


def _question_of(before: str, seg: str, glue: str) -> bool:
    """`seg` asks about the statement `before` ("They counted 110, 16 and 66. | give me the sum"), as
    `_merge_statements` joins them; never across a "then"."""
    last = re.split(r"(?<=[.?!;])\s+", before.strip())[-1]  # "...? Also, I have 398.2 miles of water": its last sentence
    last = re.split(r"\s+(?:and|plus|as well as|also)\s+", last, flags=re.I)[-1]  # "... as well as | My suitcase is 15.4 mile"
    last = re.sub(r"^(?:and|also|plus|then)\b[,\s]*", "", last, flags=re.I)
    # its first clause asks ("how much interest. Then 5 and ...", "compute the sum as well as what amount ...")
    seg = re.split(r"(?<=[.?!;,:])\s+|\s+-\s+|\s+(?:and|plus|as well as|also)\s+", seg.strip(), flags=re.I)[0]
    return (not _JOINED_BY_THEN.search(glue) and _is_statement(last) and bool(_STARTER_RE.match(seg) or seg.rstrip().endswith("?"))
            and bool(_REFER_RE.search(seg) or not re.search(r"\d", seg) or _SPEAKER_RE.search(seg)))


def _has_own_statement(seg: str) -> bool:
    """"We have 480 kilos of paint. what is that in short tons": the reference is to the segment's own statement."""
    m = _REFER_RE.search(seg)
    head = re.split(r"[.?!;,]\s+", seg[: m.start()]) if m else []
    return len(head) > 1 and _is_statement(head[0])


_JOINED_BY_THEN = re.compile(r"\b(?:then|after that|next|once you have (?:that|it)|finally)\b", re.I)


# a bare request without an opener: a conversion ("5 km to miles"), an expression or a percentage ("15% of 80")
_BARE_REQUEST_RE = re.compile(r"^\s*(?:[-+]?\d[\d,.]*\s*%?\s*(?:of\s+\d|[-+*/^×÷]\s*[\d(])|[\d\s.,()+\-*/^×÷%]+$)", re.I)


# a clause that asks ("13 years after July 29 2032 is what date", "I drove 6 tbsp, how many teaspoons is that")
_ASKS_RE = re.compile(r"\b(?:what|what's|whats|which|how\s+(?:many|much|long|far|old|big|often))\b", re.I)


def _is_statement(clause: str) -> bool:
    """'The pool holds 50,000 litres', 'He is 6 foot 2': data, not a request (no request opener, no question mark,
    not a bare conversion, expression or percentage)."""
    c = clause.rstrip(" .;")
    return (not _STARTER_RE.match(c) and not c.endswith("?") and bool(re.search(r"\d", c)) and not _ASKS_RE.search(c)
            and not _ONE_CONVERSION.match(c) and not _BARE_REQUEST_RE.match(c))


# A question about the speaker's situation ("How much do I have after 7 years?") asks about the statement before it.
_SPEAKER_RE = re.compile(r"\b(?:I|we|my|our|me|us)\b", re.I)


def _merge_statements(clauses: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """A statement followed by a question about it ("... 50,000 litres. What is that in gallons?", "... 23 kilos;
    how many pounds can I pack?", "I invest $5,000 at 3.5% ... How much do I have after 7 years?") is one request:
    the statement is the question's data, not a subtask."""
    out: list[tuple[str, bool]] = []
    for c, after_then in clauses:
        if out and not after_then and _is_statement(out[-1][0]) and (_STARTER_RE.match(c) or c.rstrip().endswith("?")) \
                and (_REFER_RE.search(c) or not re.search(r"\d", c) or _SPEAKER_RE.search(c)):
            out[-1] = (f"{out[-1][0]}; {c}", out[-1][1])
        else:
            out.append((c, after_then))
    return out


def _implicit_operand(clause: str) -> str:
    """'then divide by 4' works on the previous result: make the reference explicit ('divide that by 4')."""
    if _REFER_RE.search(clause):
        return clause
    for pat, rep in ((r"^(divide|multiply)\s+by\b", r"\1 that by"), (r"^(add)\s+(\S+)$", r"\1 \2 to that"),
                     (r"^(subtract)\s+(\S+)$", r"\1 \2 from that"), (r"^(double|halve|square|cube|negate)$", r"\1 that"),
                     (r"^(round)\s+(?=to\b)", r"\1 that "),
                     (r"^(?:to|into|in)\s+(?!the\b|a\b|an\b)(?=[A-Za-z°])", "convert that to ")):  # "..., then to Kelvin"
        out, n = re.subn(pat, rep, clause, flags=re.I)
        if n:
            return out
    return clause


_VERB_IT_RE = re.compile(rf"^\s*(?:please\s+|also\s+|and\s+)?(?:{_STARTERS})\s+(?:it|this)\b", re.I)


def _refers_back(clause: str) -> bool:
    """'multiply that by 4' refers back; 'is it a leap year in 2024' with its own numbers does not always."""
    m = _REFER_RE.search(clause)
    if not m:
        return False
    word = m.group(1).lower()
    if word in ("it", "this") and re.match(r"\s*:\s*\S", clause[m.end():]):
        return False  # "factor this: c^2 - 8c + 16": the operand follows the colon
    if word in ("it", "this") and re.search(r"\d", clause):
        if _STARTER_RE.match(clause) and not _QUESTION_RE.match(clause) and _VERB_IT_RE.match(clause):
            return True  # "evaluate it at x = 65", "plot this for x = 1": the verb's object is the earlier result
        # "is it a leap year in 2024" names its own operand; "add 4 to it" still refers back
        return bool(re.search(r"\b(?:to|by|from|of|with|into|in)\s+(?:it|this)\b|\b(?:it|this)\s+(?:by|to|times|plus|minus)\b", clause, re.I))
    return True


def substitute_inputs(text: str, inputs: dict[str, dict]) -> str:
    """Replace the back-reference in a dependent subtask with the value it refers to.

    With several inputs, the back-references take them in order ("add that to it" with s1, s2). run_specialist
    also passes the inputs to the slicer, which puts them in the call's context.
    """
    if not inputs:
        return text
    with_unit = bool(_SAYS_UNITS.search(text))
    values = [v for v in (value_text(r, unit=with_unit) for r in inputs.values()) if v]
    if not values:
        return text
    refs = list(_REFER_RE.finditer(text))
    if not refs:
        return text
    # one input: the first back-reference takes it ("take that and add it to 3" keeps "it");
    # several: the references take them in order, the last reference the latest result
    picks = [values[-1]] if len(values) == 1 else values[-len(refs):] if len(refs) <= len(values) else values
    out, pos = [], 0
    for m, v in zip(refs, picks):
        out.append(text[pos : m.start()])
        out.append(_as_count(v) if m.group(1).lower().endswith(" many") else v)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


# a step that speaks in units ("add 10 pounds to that", "convert that to grams", "what is that in ounces") gets
# the earlier result with its unit; plain arithmetic ("multiply that by 4", "round it to 2 decimal places") the number
_SAYS_UNITS = re.compile(
    r"\b(?:convert|express|change|turn)\b|\b(?:in|into|as)\s+(?!(?:total|all|decimal|words|full)\b)[A-Za-z°µ]"
    r"|\bhow\s+many\s+(?!(?:is|are|times)\b)[A-Za-z]"  # "how many moles of NaCl is that"
    r"|\d\s*(?!(?:to|by|from|and|or|times|plus|minus|percent|per|decimal|places?|digits?|significant|dp|x)\b)[A-Za-z°µ$€£]",
    re.I)


def _as_count(v: str) -> str:
    """'that many days' needs a whole count: 48.28032 -> '48' (rounded to the nearest whole number)."""
    try:
        f = float(v.split()[0]) if v.split() else float(v)
    except ValueError:
        return v
    return str(int(round(f))) if f == f and abs(f) < 1e15 else v


def value_text(result: dict, unit: bool = True) -> str:
    """A dependency's result as text for the next subtask: its machine-readable ``value``
    (floats to 10 significant digits) with the unit its answer states ("11.02311311 lb") unless `unit` is False,
    else its answer."""
    value = result.get("value")
    if value is None or value == "" or isinstance(value, bool):
        value = result.get("answer", "")
    if isinstance(value, (int, float)):
        text = f"{value:.10g}" if isinstance(value, float) else str(value)
        shown_unit = (result.get("unit") or unit_of(str(result.get("answer", "")), float(value))) if unit else ""
        return f"{text} {shown_unit}" if shown_unit else text
    return str(value).strip()


# the answer's last amount and the unit after it: "5 kg = 11.02 lb" -> (11.02, "lb"); "20 °C = 68 °F" -> (68, "°F")
_ANSWER_UNIT_RE = re.compile(r"(?P<n>[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(?P<u>[A-Za-zµ°$€£%][A-Za-zµ°/²³%.\s]{0,22}?)\s*$")


def unit_of(answer: str, value: float) -> str:
    """The unit an answer gives its value in ("5 kg = 11.02 lb" with 11.0231 -> "lb"), or "" when it states none
    or its last amount is not the value (rounded to what it shows)."""
    m = _ANSWER_UNIT_RE.search(answer.strip().rstrip("."))
    if not m or not m.group("u").strip():
        return ""
    try:
        shown = float(m.group("n").replace(",", ""))
    except ValueError:
        return ""
    decimals = len(m.group("n").split(".")[1]) if "." in m.group("n") else 0
    if abs(shown - value) > max(0.51 * 10 ** -decimals, 1e-9 * abs(value)) + 1e-3 * abs(value) * (decimals == 0 and abs(value) >= 1e4):
        return ""
    return m.group("u").strip()


class PlanError(MicromarketError, ValueError):
    """A plan that is not a DAG: a missing dependency, a self-dependency, a cycle or duplicate ids."""


def validate_plan(plan: list[Subtask]) -> None:
    """A missing dependency or a cycle is a clear error (PlanError, a ValueError)."""
    ids = [s["id"] for s in plan]
    if len(set(ids)) != len(ids):
        raise PlanError(f"plan has duplicate subtask ids: {ids}")
    known = set(ids)
    for s in plan:
        for d in s["depends_on"]:
            if d == s["id"]:
                raise PlanError(f"subtask {s['id']} depends on itself")
            if d not in known:
                raise PlanError(f"subtask {s['id']} depends on {d!r}, which is not in the plan (known: {', '.join(ids)})")
    state = {i: 0 for i in ids}  # 0 new, 1 visiting, 2 done
    deps = {s["id"]: s["depends_on"] for s in plan}

    def visit(n: str, path: list[str]) -> None:
        if state[n] == 1:
            raise PlanError("plan has a dependency cycle: " + " -> ".join(path[path.index(n):] + [n]))
        if state[n] == 0:
            state[n] = 1
            for d in deps[n]:
                visit(d, path + [n])
            state[n] = 2

    for i in ids:
        visit(i, [])


def waves(plan: list[Subtask]) -> list[list[str]]:
    """The subtask ids in the order the graph runs them: each wave's dependencies are in earlier waves."""
    validate_plan(plan)
    done: set[str] = set()
    out: list[list[str]] = []
    left = list(plan)
    while left:
        ready = [s["id"] for s in left if all(d in done for d in s["depends_on"])]
        out.append(ready)
        done.update(ready)
        left = [s for s in left if s["id"] not in done]
    return out
