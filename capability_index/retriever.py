"""The product retriever: hybrid dense + BM25 retrieval with outcome memory.

Used by the orchestrator's discover node and by ``micromarket bench retrieval``
(the same class, not a copy).

For each query:
1. The query is split into clauses (compound requests: "X and then Y", lists,
   several sentences) and, when a chat model is configured, rewritten into
   sub-queries. The query and its parts are embedded in ONE batch.
2. Every text is scored densely (exact cosine against the capability vectors
   read from the Chroma collection) and lexically (bm25s over the capability
   documents); the two rankings are fused by weighted reciprocal rank.
3. The per-text rankings are merged so that each part contributes its best
   capabilities (a query needing two tools gets both near the top).
4. Outcome memory: confirmed solved subtasks (query, its embedding, capability,
   sign) are kept in SQLite; the k nearest experiences vote for (positive) or
   against (negative) their capabilities. Card examples count as declared
   experiences.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from micromarket.capability_index.index import CapabilityIndex, Hit, matches_where, public_metadata

# ---------------------------------------------------------------- lexical analysis

_STOP = frozenset(
    """a an the and or but if then else of to in on at by for with from into onto about as is are was were be been
    being am do does did doing have has had having i me my mine we us our you your yours he him his she her it its
    they them their this that these those there here what which who whom whose when where why how can could would
    should will shall may might must please want wanted need needs like just also some any all each every more most
    other such than too very so not no nor only own same s t don now get give tell show let know find me im i'm
    help using use""".split()
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


class _Analyzer:
    def __init__(self) -> None:
        try:
            import Stemmer

            self._stem = Stemmer.Stemmer("english").stemWords
        except Exception:  # noqa: BLE001  PyStemmer is optional
            self._stem = None

    def __call__(self, text: str) -> list[str]:
        text = _CAMEL.sub(r"\1 \2", text)
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
        # CJK text has no spaces: index character bigrams of long runs
        out: list[str] = []
        for w in words:
            if len(w) > 1 and any("\u3400" <= ch <= "\u9fff" for ch in w):
                out.extend(w[i : i + 2] for i in range(len(w) - 1))
            else:
                out.append(w)
        return self._stem(out) if self._stem else out


# ---------------------------------------------------------------- query splitting

_SPLIT = re.compile(
    r"(?:[.;!?\n]+\s+|\s*;\s*|,?\s+(?:and\s+then|and\s+also|then|after\s+that|afterwards|also|as\s+well\s+as|plus|"
    r"followed\s+by|and\s+finally|finally)\s+|,\s+and\s+|\s+and\s+(?=(?:what|how|where|when|which|who|"
    r"can|could|would|will|please|give|get|show|tell|find|provide|recommend|suggest|let|check|send|create|make|"
    r"book|search|look|list|help|translate|convert|calculate|compute|generate|write|summari[sz]e|explain|"
    r"i\b|me\b|also\b|then\b|any\b|some\b|the\b|a\b|an\b|my\b|their\b|its\b)))",
    re.IGNORECASE,
)


def split_clauses(query: str, *, min_words: int = 3, max_parts: int = 6) -> list[str]:
    """Split a compound request into clauses ("X and then Y", "X. Also Y", "X; Y").
    Returns [] when the query is a single clause."""
    parts = [p.strip(" ,.;:-") for p in _SPLIT.split(query) if p and p.strip(" ,.;:-")]
    parts = [p for p in parts if len(p.split()) >= min_words]
    if len(parts) < 2:
        return []
    return parts[:max_parts]


# ---------------------------------------------------------------- outcome memory


class ExperienceMemory:
    """Confirmed outcomes: (query, embedding, capability key, sign) in a small SQLite file."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path) if self.path else ":memory:", check_same_thread=False)
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            """CREATE TABLE IF NOT EXISTS experience (
                run_id TEXT NOT NULL DEFAULT '',
                query TEXT NOT NULL,
                key TEXT NOT NULL,
                sign INTEGER NOT NULL,
                model TEXT NOT NULL,
                embedding BLOB NOT NULL,
                created REAL NOT NULL,
                PRIMARY KEY (run_id, query, key)
            )"""
        )
        self._db.commit()
        self._cache: tuple[str, np.ndarray, list[str], np.ndarray] | None = None
        self._version = 0

    _UPSERT = (
        "INSERT INTO experience(run_id, query, key, sign, model, embedding, created) VALUES (?,?,?,?,?,?,?) "
        "ON CONFLICT(run_id, query, key) DO UPDATE SET sign=excluded.sign, embedding=excluded.embedding, "
        "model=excluded.model"
    )

    def add(self, query: str, key: str, sign: int, model: str, emb: np.ndarray, run_id: str | None) -> None:
        self.add_many([(query, key, sign, emb)], model=model, run_id=run_id)

    def add_many(self, rows: list[tuple[str, str, int, np.ndarray]], *, model: str, run_id: str | None) -> None:
        """Several experiences in one transaction."""
        now = time.time()
        with self._lock:
            with self._db:
                self._db.executemany(
                    self._UPSERT,
                    [
                        (run_id or "", q, k, int(s), model, np.asarray(e, np.float32).tobytes(), now)
                        for q, k, s, e in rows
                    ],
                )
            self._cache = None

    def has(self, query: str, key: str, run_id: str | None) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM experience WHERE run_id=? AND query=? AND key=?", (run_id or "", query, key)
            ).fetchone()
        return row is not None

    def load(self, model: str, dim: int) -> tuple[np.ndarray, list[str], np.ndarray]:
        """(embeddings (m, dim), keys, signs) for the given model (others are ignored)."""
        c = self._cache
        if c is not None and c[0] == model:
            return c[1], c[2], c[3]
        with self._lock:
            rows = self._db.execute(
                "SELECT key, sign, embedding FROM experience WHERE model=? ORDER BY rowid", (model,)
            ).fetchall()
        keys, signs, vecs = [], [], []
        for key, sign, blob in rows:
            v = np.frombuffer(blob, dtype=np.float32)
            if v.shape[0] != dim:
                continue
            keys.append(key)
            signs.append(sign)
            vecs.append(v)
        emb = np.vstack(vecs).astype(np.float32) if vecs else np.zeros((0, dim), np.float32)
        out = (emb, keys, np.asarray(signs, dtype=np.float32))
        self._cache = (model, *out)
        self._protos = None
        return out

    def prototypes(self, model: str, dim: int) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Per (capability, sign): the normalised mean embedding of the queries it solved
        (sign +1) or failed (sign -1)."""
        emb, keys, signs = self.load(model, dim)
        if getattr(self, "_protos", None) is not None and self._protos[0] is self._cache:
            return self._protos[1:]
        groups: dict[tuple[str, int], list[int]] = {}
        for j, (k, sgn) in enumerate(zip(keys, signs)):
            groups.setdefault((k, 1 if sgn > 0 else -1), []).append(j)
        gkeys = list(groups)
        if gkeys:
            P = np.vstack([emb[groups[g]].mean(axis=0) for g in gkeys]).astype(np.float32)
            P /= np.maximum(1e-6, np.linalg.norm(P, axis=1, keepdims=True))
        else:
            P = np.zeros((0, dim), np.float32)
        pkeys = [k for k, _ in gkeys]
        psigns = np.asarray([sg for _, sg in gkeys], dtype=np.float32)
        self._protos = (self._cache, P, pkeys, psigns)
        return P, pkeys, psigns

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM experience").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


# ---------------------------------------------------------------- the retriever


class Retriever:
    """Hybrid retriever over a :class:`CapabilityIndex` (see module docstring)."""

    # fusion parameters (general defaults, not fitted to a benchmark)
    rrf_k: float = 10.0  # reciprocal-rank constant
    w_dense: float = 1.0
    w_bm25: float = 0.5
    depth: int = 100  # how deep each ranking is fused
    clause_weight: float = 0.9  # a clause's best capability vs the whole query's
    mem_k: int = 16  # nearest experiences consulted
    mem_min_sim: float = 0.35  # experiences less similar than this do not vote
    mem_full_sim: float = 0.7  # nearest experience at least this similar: full confidence
    mem_temp: float = 0.05  # softness of the kNN weights
    w_mem: float = 2.0

    def __init__(
        self,
        index: CapabilityIndex,
        *,
        memory_path: Path | None = None,
        chat_model: Any | None = None,
    ):
        self.index = index
        self.memory = ExperienceMemory(memory_path)
        self.chat_model = chat_model
        self.analyzer = _Analyzer()
        self._gen = -1
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._docs: list[str] = []
        self._metas: list[dict] = []
        self._emb = np.zeros((0, 1), np.float32)
        self._bm25 = None
        self._pos: dict[str, int] = {}

    # -- state

    def refresh(self) -> None:
        """Re-read capability documents and vectors from the index (after cards change)."""
        with self._lock:
            snap = self.index.snapshot()
            self._ids = list(snap["ids"])
            self._docs = list(snap["documents"])
            self._metas = [dict(m or {}) for m in snap["metadatas"]]
            self._emb = snap["embeddings"]
            self._pos = {k: i for i, k in enumerate(self._ids)}
            self._bm25 = None
            if self._ids:
                import bm25s

                bm = bm25s.BM25()
                corpus = [self.analyzer(d) for d in self._docs]
                corpus = [c if c else ["\u2205"] for c in corpus]
                bm.index(corpus, show_progress=False)
                self._bm25 = bm
            self._gen = self.index.generation

    def _ensure(self) -> None:
        if self._gen != self.index.generation:
            self.refresh()

    # -- scoring pieces

    def _bm25_scores(self, text: str) -> np.ndarray:
        n = len(self._ids)
        if self._bm25 is None or n == 0:
            return np.zeros(n, np.float32)
        toks = self.analyzer(text)
        vocab = self._bm25.vocab_dict
        toks = [t for t in toks if t in vocab]
        if not toks:
            return np.zeros(n, np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)

    def _rrf(self, scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Reciprocal-rank weights (top = 1) of the ``depth`` best; 0 elsewhere."""
        n = scores.shape[0]
        out = np.zeros(n, np.float32)
        if n == 0:
            return out
        s = scores if mask is None else np.where(mask, scores, -np.inf)
        d = min(self.depth, n)
        top = np.argpartition(-s, d - 1)[:d] if d < n else np.arange(n)
        top = top[np.argsort(-s[top], kind="stable")]
        top = top[np.isfinite(s[top]) & (s[top] > 0)]
        out[top] = (self.rrf_k + 1.0) / (self.rrf_k + 1.0 + np.arange(len(top), dtype=np.float32))
        return out

    def _text_scores(self, q_emb: np.ndarray, text: str, mask: np.ndarray | None,
                     dense: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if dense is None:
            dense = self._emb @ q_emb
        fused = self.w_dense * self._rrf(dense + 1.0, mask) + self.w_bm25 * self._rrf(self._bm25_scores(text), mask)
        return fused / (self.w_dense + self.w_bm25), dense

    def _memory_votes(self, q_emb: np.ndarray) -> np.ndarray:
        """kNN vote of past outcomes, in [-1, 1] per capability.

        The ``mem_k`` nearest experiences vote with weight exp((sim - best_sim) / mem_temp)
        (positive for solved, negative for failed); the votes are normalised to sum to 1 in
        absolute value and scaled by a confidence gate that rises from 0 at ``mem_min_sim``
        to 1 at ``mem_full_sim`` similarity of the nearest experience."""
        n = len(self._ids)
        votes = np.zeros(n, np.float32)
        emb, keys, signs = self.memory.load(self.index.model, self._emb.shape[1] if self._emb.size else self.index.dim)
        if emb.shape[0] == 0 or n == 0:
            return votes
        sims = emb @ q_emb
        m = min(self.mem_k, sims.shape[0])
        top = np.argpartition(-sims, m - 1)[:m] if m < sims.shape[0] else np.arange(sims.shape[0])
        best = float(sims[top].max())
        gate = (best - self.mem_min_sim) / max(1e-6, self.mem_full_sim - self.mem_min_sim)
        gate = min(1.0, max(0.0, gate))
        if gate <= 0.0:
            return votes
        total = 0.0
        for j in top:
            s = float(sims[j])
            if s < self.mem_min_sim:
                continue
            w = float(np.exp((s - best) / self.mem_temp))
            total += w
            i = self._pos.get(keys[j])
            if i is not None:
                votes[i] += signs[j] * w
        if total > 0:
            votes *= gate / total
        # prototype vote: similarity to the centre of what each capability has solved
        # (robust to noisy single experiences); same weighting, half of the memory's say
        P, pkeys, psigns = self.memory.prototypes(self.index.model, emb.shape[1])
        if P.shape[0]:
            ps = P @ q_emb
            pbest = float(ps.max())
            pgate = min(1.0, max(0.0, (pbest - self.mem_min_sim) / max(1e-6, self.mem_full_sim - self.mem_min_sim)))
            if pgate > 0:
                w = np.exp((ps - pbest) / self.mem_temp)
                w[ps < self.mem_min_sim] = 0.0
                w *= pgate / max(1e-9, float(w.sum()))
                for j in np.argsort(-w)[: self.mem_k]:
                    i = self._pos.get(pkeys[j])
                    if i is not None and w[j] > 0:
                        votes[i] += float(psigns[j] * w[j])
            votes *= 0.5
        return votes

    # -- public API

    def retrieve(self, queries: list[str], k: int = 8, where: dict | None = None) -> list[list[Hit]]:
        """One list of hits per query, best first; similarity in [0, 1]."""
        if not queries:
            return []
        self._ensure()
        n = len(self._ids)
        if n == 0 or k <= 0:
            return [[] for _ in queries]
        mask = None
        if where:
            mask = np.fromiter((matches_where(md, where) for md in self._metas), dtype=bool, count=n)
        parts = [[q] + self._subqueries(q) for q in queries]
        flat = [t for p in parts for t in p]
        embs = self.index.embed(flat)
        # one pass over the (n, dim) matrix for every text of the call (the scan is memory-bound:
        # 150 MB at 100k capabilities); columns are the per-text dense scores
        dense_all = self._emb @ np.ascontiguousarray(embs.T) if len(flat) > 1 else None
        out: list[list[Hit]] = []
        row = 0
        for q, ps in zip(queries, parts):
            q_embs = embs[row : row + len(ps)]
            cols = [dense_all[:, row + j] if dense_all is not None else None for j in range(len(ps))]
            row += len(ps)
            main, dense = self._text_scores(q_embs[0], ps[0], mask, cols[0])
            score = main.copy()
            for j in range(1, len(ps)):
                sub, _ = self._text_scores(q_embs[j], ps[j], mask, cols[j])
                score = np.maximum(score, self.clause_weight * sub)
            if len(ps) > 1:
                score = score + 0.05 * main  # tie-break toward the whole query
            votes = self._memory_votes(q_embs[0])
            final = score + self.w_mem * votes
            if mask is not None:
                final = np.where(mask, final, -np.inf)
            kk = min(k, n)
            top = np.argpartition(-final, kk - 1)[:kk] if kk < n else np.arange(n)
            top = top[np.argsort(-final[top], kind="stable")]
            hits = []
            for i in top:
                f = float(final[i])
                if not np.isfinite(f) or (f <= 0 and dense[i] <= -1):
                    continue
                md = public_metadata(self._metas[i])
                md["dense_similarity"] = float(max(0.0, min(1.0, dense[i])))
                md["memory_vote"] = float(votes[i])
                # monotone squash of the fused score into [0, 1): the whole query's best match
                # without memory ~0.68, with full positive memory ~0.86; dense cosine is in metadata
                sim = max(0.0, f) / (max(0.0, f) + 0.5)
                hits.append(
                    Hit(
                        key=self._ids[i],
                        specialist_id=md.get("specialist_id", self._ids[i].split(".", 1)[0]),
                        capability=md.get("capability", self._ids[i].split(".", 1)[-1]),
                        similarity=sim,
                        metadata=md,
                    )
                )
            out.append(hits)
        return out

    def _subqueries(self, query: str) -> list[str]:
        parts = split_clauses(query)
        if self.chat_model is not None:
            parts = _dedupe(parts + rewrite_with_chat_model(self.chat_model, query))
        return [p for p in parts if p.strip() and p.strip() != query.strip()][:6]

    def learn(self, query: str, key: str, positive: bool, *, run_id: str | None = None) -> None:
        """Record an outcome: ``query`` was (positive) or was not (negative) solved by ``key``.
        Idempotent per (run_id, query, key); a later call for the same triple overrides the sign."""
        if not query.strip() or not key:
            return
        sign = 1 if positive else -1
        emb = self.index.embed([query])[0]
        self.memory.add(query, key, sign, self.index.model, emb, run_id)

    def learn_many(self, items: list[tuple[str, str, bool]], *, run_id: str | None = None) -> int:
        """Batch form of :meth:`learn` (one embedding call): items are (query, key, positive)."""
        items = [(q, k, p) for q, k, p in items if q.strip() and k]
        if not items:
            return 0
        uniq = list(dict.fromkeys(q for q, _, _ in items))
        embs = {}
        for off in range(0, len(uniq), 256):
            chunk = uniq[off : off + 256]
            for q, e in zip(chunk, self.index.embed(chunk)):
                embs[q] = e
        self.memory.add_many(
            [(q, k, 1 if p else -1, embs[q]) for q, k, p in items], model=self.index.model, run_id=run_id
        )
        return len(items)

    def close(self) -> None:
        self.memory.close()


def _dedupe(xs: list[str]) -> list[str]:
    seen, out = set(), []
    for x in xs:
        key = x.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(x.strip())
    return out


def rewrite_with_chat_model(chat_model: Any, query: str) -> list[str]:
    """Ask a chat model to decompose/rewrite ``query`` into short capability-seeking sub-queries.
    Structured output; anything that does not parse is ignored (returns [])."""
    try:
        from pydantic import BaseModel, Field

        class Rewrite(BaseModel):
            subqueries: list[str] = Field(
                default_factory=list,
                description="One short request per distinct capability needed, in the words a tool description would use",
            )

        prompt = (
            "Split the user's request into the distinct capabilities (tools) it needs. For each, write one short "
            "request (max 15 words) describing what the tool must do. Do not answer the request.\n\nRequest: " + query
        )
        try:
            structured = chat_model.with_structured_output(Rewrite)
            res = structured.invoke(prompt)
        except NotImplementedError:
            import json

            msg = chat_model.invoke(prompt + '\nReply with JSON only: {"subqueries": ["..."]}')
            text = getattr(msg, "content", msg)
            m = re.search(r"\{.*\}", str(text), re.S)
            res = Rewrite.model_validate(json.loads(m.group(0))) if m else None
        if isinstance(res, Mapping):
            res = Rewrite.model_validate(res)
        if not isinstance(res, Rewrite):
            return []
        return [s.strip() for s in res.subqueries if isinstance(s, str) and 2 <= len(s.split()) <= 40][:6]
    except Exception:  # noqa: BLE001  a chat model is an optional helper; never fail retrieval on it
        return []
