"""Context slicing: give each subtask only the part of the task's context it needs.

A task may come with a long context (a conversation, documents, earlier
results). For every subtask we

1. chunk the context into sentence windows that never cross a paragraph or a
   conversation turn (:func:`chunk_context`);
2. embed the chunks **once per context** with the capability index's embedding
   model (``get_embeddings(settings.embedding_model)``, the process-wide
   instance, never a second model) and cache them (:func:`prepare`; the
   decompose node warms the cache in a worker thread);
3. score every chunk against the subtask: cosine similarity of the embeddings
   plus an IDF-weighted overlap of the subtask's words;
4. **always keep** the chunks that contain a value or an entity the subtask
   names: numbers (``4,218`` == ``4218``), ISO dates, quoted strings and
   proper names (capitalised words); the rarest anchors first;
5. add the semantically closest chunks above a relevance floor, and stop at
   the token budget the chosen specialist's card declares (``context_tokens``).

The slice keeps the chunks in document order, joined by newlines.

Token counting is an approximation, documented here: :func:`count_tokens`
counts word pieces ``\\w+`` and single punctuation marks. It is never below the
whitespace word count the routing record stores, and is within ~20% of
MiniLM's WordPiece count for English prose (WordPiece splits rare words into
more pieces; we split punctuation as it does). It needs no tokenizer load.

Results of the subtasks a subtask depends on are passed as context too (one
line each, ahead of the slice): see :func:`dependency_context`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np

from micromarket.capability_index.embeddings import get_embeddings
from micromarket.settings import Settings

log = logging.getLogger("micromarket.context")

# ---------------------------------------------------------------- tokens

_PIECE = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Approximate token count: word pieces plus punctuation marks (see module docstring)."""
    return len(_PIECE.findall(text)) if text else 0


# ---------------------------------------------------------------- chunking

MAX_CHUNK_TOKENS = 64  # a window grows by whole sentences up to this size
_PARA = re.compile(r"\n\s*\n|\n(?=\s*(?:[A-Z][\w .'-]{0,30}:|[-*•]|\d+[.)])\s)")  # blank line, or a new turn / list item
_SENT = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])|\n+")


def _sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENT.split(paragraph) if s and s.strip()]


def _pack(pieces, limit: int) -> list[str]:
    """Greedily join pieces into windows of at most ``limit`` tokens (a longer single piece stays whole)."""
    out: list[str] = []
    cur: list[str] = []
    n = 0
    for p in pieces:
        t = count_tokens(p)
        if cur and n + t > limit:
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(p)
        n += t
    if cur:
        out.append(" ".join(cur))
    return out


def chunk_context(context: str, max_tokens: int = MAX_CHUNK_TOKENS) -> list[str]:
    """Sentence windows of at most ``max_tokens`` that never cross a paragraph or turn boundary."""
    chunks: list[str] = []
    for para in _PARA.split(context or ""):
        if not para.strip():
            continue
        pieces = [p for s in _sentences(para) for p in (_pack(s.split(), max_tokens) if count_tokens(s) > max_tokens else [s])]
        chunks += _pack(pieces, max_tokens)
    return chunks


# ---------------------------------------------------------------- anchors (values and entities)

_DATE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"
_NUMBER = r"[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_VALUE = re.compile(rf"(?<![\w.]){_DATE}|(?<![\w.]){_NUMBER}(?!\w)")
_QUOTED = re.compile(r"\"([^\"]{2,80})\"|“([^”]{2,80})”|'([^']{3,80})'")
_CAP = re.compile(r"\b[A-Z][\w'-]*[A-Za-z]\w*|\b[A-Z]{2,}\b")
_WORD = re.compile(r"[a-z0-9]+")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours yourself yourselves
    please tell give show find get compute calculate convert what's whats much many number value result answer use using per
    add subtract multiply divide sum times plus minus by into then that's let us one two three""".split()
)


def normalise_value(v: str) -> str:
    """'4,218' -> '4218'; '−3.50' -> '-3.5'; dates unchanged."""
    v = v.replace("−", "-")
    if re.fullmatch(_DATE, v):
        return v
    v = v.replace(",", "")
    try:
        f = float(v)
    except ValueError:
        return v
    if math.isfinite(f) and f == int(f) and abs(f) < 1e15 and "e" not in v.lower():
        return str(int(f))
    return repr(f)


def values_in(text: str) -> set[str]:
    return {normalise_value(m.group()) for m in _VALUE.finditer(text or "")}


@dataclass(frozen=True)
class Anchors:
    values: frozenset[str] = frozenset()  # normalised numbers and dates
    quoted: frozenset[str] = frozenset()  # lower-cased quoted strings
    entities: frozenset[str] = frozenset()  # lower-cased proper names (single words)
    keywords: frozenset[str] = frozenset()  # other content words

    def __bool__(self) -> bool:
        return bool(self.values or self.quoted or self.entities)


def anchors_of(subtask: str) -> Anchors:
    """The values and entities a subtask refers to."""
    values = values_in(subtask)
    quoted = {next(g for g in m.groups() if g).strip().lower() for m in _QUOTED.finditer(subtask)}
    entities: set[str] = set()
    for m in _CAP.finditer(subtask):
        w = m.group()
        low = w.lower()
        start = m.start()
        at_start = start == 0 or re.search(r"[.!?:;]\s*[\"'(]?$", subtask[:start]) is not None
        if low in STOPWORDS or (at_start and low in _COMMON_VERBS):
            continue
        entities.add(low)
    words = {w for w in _WORD.findall(subtask.lower()) if w not in STOPWORDS and len(w) > 2 and not w.isdigit()}
    return Anchors(frozenset(values), frozenset(quoted), frozenset(entities), frozenset(words - entities))


_COMMON_VERBS = frozenset(
    "convert compute calculate evaluate what how which who when where is are does do give tell list show add subtract multiply divide "
    "sum integrate differentiate solve find determine estimate check take double halve square round express format name describe "
    "explain compare predict summarize summarise count translate".split()
)


# ---------------------------------------------------------------- prepared contexts (cached)


@dataclass
class Prepared:
    chunks: list[str]
    tokens: list[int]
    total_tokens: int
    vectors: np.ndarray | None  # (n, dim) L2-normalised; None when nothing to embed
    words: list[frozenset[str]] = field(default_factory=list)
    values: list[frozenset[str]] = field(default_factory=list)
    lower: list[str] = field(default_factory=list)
    df: Counter = field(default_factory=Counter)
    model: str = ""


_CACHE: OrderedDict[tuple[str, str], Prepared] = OrderedDict()
_CACHE_SIZE = 16
_CACHE_LOCK = threading.Lock()
_QCACHE: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_PREP_LOCKS: dict[tuple[str, str], threading.Lock] = {}


def _key(context: str, model: str) -> tuple[str, str]:
    return model, hashlib.sha1(context.encode("utf-8", "surrogatepass")).hexdigest()


def default_model() -> str:
    """The settings' embedding model (callers in a run pass the run's model)."""
    return Settings.from_env().embedding_model


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=-1, keepdims=True)
    n[n == 0] = 1.0
    return m / n


def prepare(context: str, model: str | None = None) -> Prepared:
    """Chunk and embed ``context`` once (batched); cached per (model, context)."""
    model = model or default_model()
    key = _key(context, model)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
        lock = _PREP_LOCKS.setdefault(key, threading.Lock())
    with lock:  # two branches slicing the same new context embed it once
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
        if hit is not None:
            return hit
        chunks = chunk_context(context)
        tokens = [count_tokens(c) for c in chunks]
        vectors = None
        if chunks:
            vecs = get_embeddings(model).embed_documents(chunks)
            vectors = _normalise_rows(np.asarray(vecs, dtype=np.float32))
        lower = [c.lower() for c in chunks]
        words = [frozenset(_WORD.findall(c)) for c in lower]
        df: Counter = Counter()
        for w in words:
            df.update(w)
        prep = Prepared(chunks, tokens, sum(tokens), vectors, words, [frozenset(values_in(c)) for c in chunks], lower, df, model)
        with _CACHE_LOCK:
            _CACHE[key] = prep
            _PREP_LOCKS.pop(key, None)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        return prep


def _query_vector(text: str, model: str) -> np.ndarray:
    key = (model, text)
    with _CACHE_LOCK:
        v = _QCACHE.get(key)
    if v is None:
        v = _normalise_rows(np.asarray(get_embeddings(model).embed_query(text), dtype=np.float32)[None, :])[0]
        with _CACHE_LOCK:
            _QCACHE[key] = v
            while len(_QCACHE) > 256:
                _QCACHE.popitem(last=False)
    return v


# ---------------------------------------------------------------- selection

RELEVANCE_FLOOR = 0.35  # semantic chunks below this hybrid score are never added
RELATIVE_FLOOR = 0.75  # ... nor below this fraction of the best chunk's score
MAX_SEMANTIC = 6  # at most this many chunks are added on similarity alone
SMALL_CONTEXT = 96  # a context this small is passed whole (if the budget allows)


@dataclass
class Slice:
    text: str
    chunk_ids: list[int]
    tokens: int
    full_tokens: int
    anchored: int  # chunks kept because they contain an anchor


def _anchor_hits(prep: Prepared, i: int, a: Anchors) -> tuple[float, int]:
    """(rarity-weighted anchor score, number of distinct anchors) of chunk i."""
    n = len(prep.chunks)
    score, hits = 0.0, 0
    for v in a.values & prep.values[i]:
        hits += 1
        score += 2.0
    for q in a.quoted:
        if q in prep.lower[i]:
            hits += 1
            score += 2.0
    for e in a.entities:
        parts = _WORD.findall(e)
        if parts and all(p in prep.words[i] for p in parts):
            hits += 1
            df = min(prep.df.get(p, 0) for p in parts)
            score += 1.0 + math.log((n + 1) / (df + 1))
    return score, hits


def select_chunks(prep: Prepared, subtask: str, budget: int) -> Slice:
    n = len(prep.chunks)
    if budget <= 0 or n == 0:
        return Slice("", [], 0, prep.total_tokens, 0)
    if prep.total_tokens <= min(budget, SMALL_CONTEXT):
        return Slice("\n".join(prep.chunks), list(range(n)), prep.total_tokens, prep.total_tokens, 0)
    a = anchors_of(subtask)
    sims = prep.vectors @ _query_vector(subtask, prep.model) if prep.vectors is not None else np.zeros(n)
    # lexical: IDF-weighted share of the subtask's content words found in the chunk
    qwords = set(a.keywords) | {w for e in a.entities for w in _WORD.findall(e)}
    idf = {w: math.log((n + 1) / (prep.df.get(w, 0) + 0.5)) for w in qwords}
    idf_total = sum(idf.values()) or 1.0
    lex = np.array([sum(idf[w] for w in qwords if w in prep.words[i]) / idf_total for i in range(n)], dtype=np.float32)
    hybrid = sims + 0.5 * lex

    anchored: list[tuple[float, float, int]] = []
    for i in range(n):
        s, hits = _anchor_hits(prep, i, a)
        if hits:
            anchored.append((s, float(hybrid[i]), i))
    anchored.sort(key=lambda t: (-t[0], -t[1]))

    chosen: list[int] = []
    used = 0
    for _, _, i in anchored:
        if used + prep.tokens[i] <= budget:
            chosen.append(i)
            used += prep.tokens[i]
    n_anchored = len(chosen)
    best = float(hybrid.max()) if n else 0.0
    floor = max(RELEVANCE_FLOOR, RELATIVE_FLOOR * best)
    added = 0
    for i in np.argsort(-hybrid):
        i = int(i)
        if added >= MAX_SEMANTIC or hybrid[i] < floor:
            break
        if i in chosen:
            continue
        if used + prep.tokens[i] <= budget:
            chosen.append(i)
            used += prep.tokens[i]
            added += 1
    chosen.sort()
    return Slice("\n".join(prep.chunks[i] for i in chosen), chosen, used, prep.total_tokens, n_anchored)


def slice_for(context: str, subtask: str, budget: int, *, model: str | None = None) -> Slice:
    """Select the context chunks ``subtask`` needs within ``budget`` tokens."""
    if not context or not context.strip() or budget <= 0:
        return Slice("", [], 0, count_tokens(context or ""), 0)
    return select_chunks(prepare(context, model), subtask, budget)


# ---------------------------------------------------------------- dependency results as context


def dependency_context(inputs: dict[str, dict] | None) -> str:
    """One line per result this subtask depends on: 'Result of s1 (text): answer [value=...]'."""
    lines = []
    for sid, r in (inputs or {}).items():
        if r.get("status", "ok") != "ok":
            continue
        val = r.get("value")
        tail = f" [value={val}]" if val not in (None, "") and str(val) not in str(r.get("answer", "")) else ""
        label = f"{sid} ({r['text']})" if r.get("text") else sid
        lines.append(f"Result of {label}: {r.get('answer', '')}{tail}")
    return "\n".join(lines)


def slice_context(context: str, subtask: str, card, inputs: dict[str, dict] | None = None, *, model: str | None = None) -> str:
    """What run_specialist sends as a call's context: dependency results, then the relevant slice,
    all within ``card.context_tokens``. ``model`` is the embedding model (default: the settings')."""
    budget = max(int(getattr(card, "context_tokens", 2048) or 0), 0)
    if budget == 0:
        return ""
    deps = dependency_context(inputs)
    dep_tokens = count_tokens(deps)
    if deps and dep_tokens > budget:
        deps, dep_tokens = "", 0
    try:
        sl = slice_for(context, subtask, budget - dep_tokens - (1 if deps else 0), model=model)
        body = sl.text
    except Exception as e:  # noqa: BLE001 - slicing must never break a call; fall back to lexical
        log.warning("context slicing failed (%s: %s); sending the lexical tail", type(e).__name__, e)
        words = (context or "").split()
        body = " ".join(words[-max(budget - dep_tokens, 0):]) if words else ""
        while body and count_tokens(body) > budget - dep_tokens:
            body = body.split(" ", 1)[1] if " " in body else ""
    return "\n".join(p for p in (deps, body) if p)
