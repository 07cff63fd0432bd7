"""The product retriever: hybrid dense + BM25 retrieval with outcome memory.

Used by the orchestrator's discover node and by ``micromarket bench retrieval``
(the same class, not a copy).

For each query:
1. The query is split into clauses (compound requests: "X and then Y", lists,
   several sentences); the query and its parts are embedded in ONE batch.
2. Zero-shot: every text is scored densely (exact cosine against the capability
   vectors read from the Chroma collection) and lexically (bm25s over the
   capability documents); the two scores are standardised over the eligible capabilities
   and added, and each clause may lift the capabilities it matches best.
3. Outcome memory (:mod:`.memory`): confirmed solved (+) or failed (-) subtasks
   vote for or against their capabilities, in proportion to how many near past
   queries agree; per-capability prototypes add what each capability has solved.
4. The mix (:mod:`.fusion`) is fitted on held-out feedback by
   ``micromarket index learn``; only eligible specialists are ranked or voted for.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Collection
from pathlib import Path

import numpy as np

from micromarket.capability_index.dense import Int8Bounds, Moments
from micromarket.capability_index.fusion import Fusion
from micromarket.capability_index.head import Head
from micromarket.capability_index.index import CapabilityIndex, Hit, matches_where, public_metadata
from micromarket.capability_index.memory import ExperienceMemory, MemoryView, columns, memory_evidence
from micromarket.capability_index.query_adapter import TAG, enabled, query_embeddings

log = logging.getLogger(__name__)

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


# ---------------------------------------------------------------- the retriever


class Retriever:
    """Hybrid retriever over a :class:`CapabilityIndex` (see module docstring)."""

    # zero-shot fusion: per query, dense cosine and BM25 are z-scored over the eligible capabilities
    # and added, BM25 weighted by w_bm25: 0.1 with the tuned query encoder, 0.2 without (each chosen on
    # validation parts only: MetaTool train-part queries, of tools the adapter never saw for the tuned
    # encoder, and LiveMCPBench's 70 train tasks; see docs/retrieval.md)
    w_bm25_tuned: float = 0.1
    w_bm25_plain: float = 0.2
    clause_weight: float = 0.9  # a clause's strength vs the whole query's, in (0, 1]
    spread: float = 3.0  # standard deviations below the best match that count e^-1 (see zero_shot)
    # from this many capabilities on, dense scores come from int8 bounds plus exact float32 scores of
    # the candidates that can reach the top (same hits and scores as the full scan; see _retrieve_bounded)
    bounded_from: int = 20_000

    def __init__(self, index: CapabilityIndex, *, memory_path: Path | None = None, fusion_path: Path | None = None):
        self.index = index
        # queries go through the tuned query encoder when there is one (capability vectors stay the index's);
        # the memory and the fit hold query vectors, so they are keyed by the query model
        # the tuned encoder (a second ONNX session) loads on the first query, not when a retriever is built
        self._tuned = enabled(index.model)
        self.w_bm25 = self.w_bm25_tuned if self._tuned else self.w_bm25_plain
        self.query_model = f"{index.model}+{TAG}" if self._tuned else index.model
        self.memory = ExperienceMemory(memory_path)
        if fusion_path is None and memory_path is not None:
            fusion_path = Path(memory_path).with_suffix(".fusion.json")
        self.fusion_path = fusion_path
        self.fusion = Fusion.load(fusion_path, self.query_model)
        self.head_path = Path(fusion_path).with_suffix(".head.npz") if fusion_path is not None else None
        self.head = Head.load(self.head_path, self.query_model)
        self.analyzer = _Analyzer()
        self._gen = -1
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._docs: list[str] = []
        self._metas: list[dict] = []
        self._sids: list[str] = []
        self._emb = np.zeros((0, 1), np.float32)
        self._bm25 = None
        self._pos: dict[str, int] = {}
        self._cols: tuple | None = None
        self._int8: Int8Bounds | None = None
        self._moments: dict = {}
        self._mask: tuple | None = None  # (where, eligible) -> mask of the last call (100k lookups: ~14 ms)
        self._reembedded = False
        self._reembed_lock = threading.Lock()

    # -- state

    def refresh(self) -> None:
        """Re-read capability documents and vectors from the index (after cards change)."""
        with self._lock:
            snap = self.index.snapshot()
            self._ids = list(snap["ids"])
            self._docs = list(snap["documents"])
            self._metas = [dict(m or {}) for m in snap["metadatas"]]
            self._sids = [m.get("specialist_id", k.split(".", 1)[0]) for k, m in zip(self._ids, self._metas)]
            self._emb = snap["embeddings"]
            self._pos = {k: i for i, k in enumerate(self._ids)}
            self._bm25 = None
            self._int8 = None
            self._moments = {}
            self._mask = None
            if self._ids:
                import bm25s

                if logging.getLogger("bm25s").level == logging.DEBUG:  # bm25s sets DEBUG on import: its "Building index
                    logging.getLogger("bm25s").setLevel(logging.WARNING)  # from tokens" reached a cold CLI's stderr
                bm = bm25s.BM25()
                corpus = [self.analyzer(d) for d in self._docs]
                corpus = [c if c else ["\u2205"] for c in corpus]
                bm.index(corpus, show_progress=False)
                self._bm25 = bm
            self._gen = self.index.generation

    def _ensure(self) -> None:
        if self._gen != self.index.generation:
            self.refresh()

    def set_fusion(self, fusion: Fusion, head: Head | None = None) -> None:
        self.fusion, self.head = fusion, head

    def memory_view(self) -> MemoryView:
        self._reembed_memory()
        return self.memory.view(self.query_model, self._emb.shape[1] if self._emb.size else self.index.dim)

    def _reembed_memory(self) -> None:
        """Once per retriever: experiences recorded under another query model are re-embedded from their text."""
        if self._reembedded:
            return
        with self._reembed_lock:
            if not self._reembedded:
                n = self.memory.reembed(self.query_model, self.embed_queries)
                if n:
                    log.info("re-embedded %d remembered outcomes for the query model %s", n, self.query_model)
                self._reembedded = True

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors (n, dim): the tuned query encoder's, else the index's model's."""
        if not self._tuned or not texts:
            return self.index.embed(texts)
        return np.asarray(query_embeddings(self.index.model).embed_documents(list(texts)), dtype=np.float32)

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

    @staticmethod
    def _stats(scores: np.ndarray, mask: np.ndarray | None) -> tuple[float, float]:
        """Mean and standard deviation over the eligible capabilities."""
        s = scores if mask is None or not mask.any() else scores[mask]
        return s.mean(), s.std()

    @staticmethod
    def _z(scores: np.ndarray, mask: np.ndarray | None, stats: tuple | None = None) -> np.ndarray:
        """Scores standardised over the eligible capabilities (a constant ranking gives 0); ``stats``:
        their (mean, std) when ``scores`` is only part of them."""
        mean, std = Retriever._stats(scores, mask) if stats is None else stats
        return (scores - mean) / (std + 1e-6)

    def _text_scores(self, text: str, mask: np.ndarray | None, dense: np.ndarray, bm25: np.ndarray | None = None,
                     stats: tuple | None = None) -> np.ndarray:
        """Dense and lexical evidence of one text, z-scored and added (unbounded, higher is better).
        ``stats``: (dense (mean, std), BM25 (mean, std)) over all n when ``dense`` and ``bm25`` are a subset."""
        bm25 = self._bm25_scores(text) if bm25 is None else bm25
        ds, bs = (None, None) if stats is None else stats
        return self._z(dense, mask, ds) + self.w_bm25 * self._z(bm25, mask, bs)

    def fused(self, parts: list[str], dense_cols: np.ndarray, mask: np.ndarray | None,
              bm25: list[np.ndarray] | None = None, stats: list[tuple] | None = None) -> np.ndarray:
        """The zero-shot score before its squash: the whole query's evidence, lifted by each clause's;
        ineligible capabilities -inf. ``bm25`` and ``stats`` (per text) as in :meth:`_text_scores`."""
        def text(j: int) -> np.ndarray:
            if bm25 is None and stats is None:
                return self._text_scores(parts[j], mask, dense_cols[:, j])
            return self._text_scores(parts[j], mask, dense_cols[:, j], bm25=bm25[j], stats=stats[j])

        score = text(0)
        # a clause counts `clause_weight` times its own strength: in the log domain of the strength
        # below that is a fixed shift, so it lowers negative and positive z-scores alike (a factor
        # on a signed z-score would raise the negative ones)
        shift = self.spread * np.log(self.clause_weight)
        for j in range(1, len(parts)):
            score = np.maximum(score, text(j) + shift)
        if mask is not None and mask.any():
            score = np.where(mask, score, -np.inf)
        return score

    def squash(self, score: np.ndarray, top: float) -> np.ndarray:
        """Relative strength in (0, 1]: the best capability (``top``) 1, one `spread` standard deviations
        below it e^-1 (a wide spread keeps near matches above the select node's similarity floor)."""
        return np.exp((score - top) / self.spread).astype(np.float32)

    def zero_shot(self, parts: list[str], dense_cols: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Fused zero-shot score in (0, 1] of one query from its texts (query first, then its clauses)
        and their dense scores (n, len(parts)): each clause may lift the capabilities it matches best."""
        score = self.fused(parts, dense_cols, mask)
        return self.squash(score, score.max())

    def evidence(self, Q: np.ndarray, eligible: np.ndarray | None, view: MemoryView | None = None) -> np.ndarray:
        """Memory features (b, 3, n) for query embeddings ``Q`` (see :func:`.memory.memory_evidence`)."""
        view = self.memory_view() if view is None else view
        protos = self.memory.prototypes(view) if len(view) else None
        key = (id(view), id(self._pos))
        if self._cols is None or self._cols[0] != key:
            self._cols = (key, columns(view, protos, self._pos))  # the view and pos objects are kept alive
            self._cols_refs = (view, self._pos)
        mem = memory_evidence(Q, view, self._pos, len(self._ids), eligible=eligible, k=self.fusion.k,
                              min_sim=self.fusion.min_sim, protos=protos, cols=self._cols[1])
        if self.head is not None and self.fusion.head:
            mem[:, 3, :] = self.head.probabilities(Q, self._pos, len(self._ids), eligible)
        return mem

    def eligibility(self, where: dict | None, eligible: Collection[str] | None) -> np.ndarray | None:
        """Mask of the capabilities a query may return (and the memory may vote for)."""
        n = len(self._ids)
        key = (json.dumps(where, sort_keys=True, default=str) if where else None,
               None if eligible is None else frozenset(eligible))
        cached = self._mask
        if cached is not None and cached[0] == key:
            return cached[1]
        mask = None
        if where:
            mask = np.fromiter((matches_where(md, where) for md in self._metas), dtype=bool, count=n)
        if eligible is not None:
            ok = set(eligible)
            emask = np.fromiter((sid in ok for sid in self._sids), dtype=bool, count=n)
            mask = emask if mask is None else (mask & emask)
        if mask is not None:
            mask.flags.writeable = False  # shared by later calls with the same arguments
        self._mask = (key, mask)
        return mask

    def split(self, query: str) -> list[str]:
        """The query followed by its clauses (a single-clause query is just itself)."""
        q = query.strip()
        return [query] + [p for p in split_clauses(query) if p.strip() and p.strip() != q][:6]

    # -- public API

    def retrieve(self, queries: list[str], k: int = 8, where: dict | None = None,
                 eligible: Collection[str] | None = None) -> list[list[Hit]]:
        """One list of hits per query, best first; similarity in [0, 1].

        ``eligible``: the specialist ids that may be returned (e.g. not quarantined or removed);
        None means all. Ineligible specialists are neither ranked nor voted for by the memory."""
        if not queries:
            return []
        self._ensure()
        n = len(self._ids)
        if n == 0 or k <= 0:
            return [[] for _ in queries]
        mask = self.eligibility(where, eligible)
        parts = [self.split(q) for q in queries]
        flat = [t for p in parts for t in p]
        embs = self.embed_queries(flat)
        starts = np.cumsum([0] + [len(p) for p in parts[:-1]])
        mem = self.evidence(embs[starts], mask)
        if n >= self.bounded_from:
            bounded = self._retrieve_bounded(parts, embs, starts, mask, mem, k)
            if bounded is not None:
                return bounded
        # one pass over the (n, dim) matrix for every text of the call (memory-bound at scale)
        dense_all = self._emb @ np.ascontiguousarray(embs.T)
        out: list[list[Hit]] = []
        for qi, (ps, row) in enumerate(zip(parts, starts)):
            cols = dense_all[:, row : row + len(ps)]
            dense = cols[:, 0]
            final = self.fusion.score(self.zero_shot(ps, cols, mask), dense, mem[qi])
            if mask is not None:
                final = np.where(mask, final, -np.inf)
            out.append(self._hits(final, dense, mem[qi], k))
        return out

    # -- large indexes: exact top k without a float32 pass over every capability

    def _moments_of(self, mask: np.ndarray | None) -> Moments:
        """Row moments over the capabilities the z-scores are taken over (cached per mask)."""
        key = None if mask is None or mask.all() or not mask.any() else hashlib.blake2b(
            np.packbits(mask).tobytes(), digest_size=16).digest()
        got = self._moments.get(key)
        if got is None:
            full = self._moments.get(None)
            if full is None:
                full = self._moments[None] = Moments(self._emb)
            if key is None:
                return full
            out = ~mask
            got = full.minus(Moments(self._emb, out)) if out.sum() < mask.sum() else Moments(self._emb, mask)
            if len(self._moments) > 8:
                self._moments = {None: full}
            self._moments[key] = got
        return got

    def _retrieve_bounded(self, parts: list[list[str]], embs: np.ndarray, starts: np.ndarray,
                          mask: np.ndarray | None, mem: np.ndarray, k: int) -> list[list[Hit]] | None:
        """:meth:`retrieve`'s hits from int8 bounds on every dense score plus exact float32 scores of the
        candidates whose upper bound reaches the k-th best lower bound (the z-score statistics come from
        the rows' moments, over all n). Returns None, and the caller scans everything, whenever it cannot
        prove that no other capability reaches the top k."""
        n = len(self._ids)
        if mask is not None and not mask.any():
            return None
        if self._int8 is None:
            with self._lock:
                if self._int8 is None:
                    self._int8 = Int8Bounds(self._emb)
        lo_all, hi_all = self._int8.bounds(embs)
        mean, std = self._moments_of(mask).stats(embs)
        kk = min(k, n)
        w_dense = self.fusion.dense
        out: list[list[Hit]] = []
        for qi, (ps, row) in enumerate(zip(parts, starts)):
            rows = slice(row, row + len(ps))
            bm = [self._bm25_scores(t) for t in ps]
            stats = [((np.float32(mean[row + j]), np.float32(std[row + j])), self._stats(bm[j], mask))
                     for j in range(len(ps))]
            s_hi = self.fused(ps, hi_all[rows].T, mask, bm, stats)  # the fusion is monotone in each dense score
            s_lo = self.fused(ps, lo_all[rows].T, mask, bm, stats)
            lo_top, hi_top = s_lo.max(), s_hi.max()  # the best zero-shot score lies between them
            # bounds of the final score (Fusion.score: squashed zero-shot + w_dense * dense + memory terms)
            d_lo, d_hi = w_dense * lo_all[row], w_dense * hi_all[row]
            d_lo, d_hi = np.minimum(d_lo, d_hi), np.maximum(d_lo, d_hi)
            memterm = self.fusion.score(np.zeros(n, np.float32), np.zeros(n, np.float32), mem[qi])
            f_lo = self.squash(s_lo, hi_top) + d_lo + memterm
            if mask is not None:
                f_lo = np.where(mask, f_lo, -np.inf)
            floor = np.partition(f_lo, n - kk)[n - kk]  # k-th best lower bound
            if not np.isfinite(floor):
                return None
            f_hi = self.squash(s_hi, lo_top) + d_hi + memterm
            memcols = np.flatnonzero((mem[qi] != 0).any(axis=0))
            cand = np.union1d(np.flatnonzero((f_hi >= floor) | (s_hi >= lo_top)), memcols)
            if len(cand) > n // 4:
                return None
            exact = self._emb[cand] @ np.ascontiguousarray(embs[rows].T)
            cmask = None if mask is None else mask[cand]
            s_c = self.fused(ps, exact, cmask, [b[cand] for b in bm], stats)
            top = s_c.max()
            final = self.fusion.score(self.squash(s_c, top), exact[:, 0], mem[qi][:, cand])
            if cmask is not None:
                final = np.where(cmask, final, -np.inf)
            good = np.sort(final[np.isfinite(final)])
            if len(good) < kk:
                return None
            # any other capability has no memory evidence: Fusion.score is its squashed zero-shot score
            # plus w_dense * its dense score, both bounded above
            rest = np.ones(n, bool)
            rest[cand] = False
            if mask is not None:
                rest &= mask
            if rest.any():
                if float((self.squash(s_hi[rest], top) + d_hi[rest]).max()) >= good[-kk]:
                    return None
            out.append(self._hits(final, exact[:, 0], mem[qi][:, cand], k, rows=cand))
        return out

    def _hits(self, final: np.ndarray, dense: np.ndarray, mem: np.ndarray, k: int,
              rows: np.ndarray | None = None) -> list[Hit]:
        """The best ``k``; ``rows``: the capability of each position when the arrays are a subset."""
        n = final.shape[0]
        kk = min(k, n)
        top = np.argpartition(-final, kk - 1)[:kk] if kk < n else np.arange(n)
        top = top[np.argsort(-final[top], kind="stable")]
        hits = []
        for i in top:
            f = float(final[i])
            if not np.isfinite(f):
                continue
            g = int(i if rows is None else rows[i])
            md = public_metadata(self._metas[g])
            md["dense_similarity"] = float(max(0.0, min(1.0, dense[i])))
            md["memory_vote"] = float(mem[0, i])
            # monotone squash of the fused score into [0, 1): the whole query's best zero-shot
            # match ~0.67, with an agreeing memory higher; dense cosine is in metadata
            sim = max(0.0, f) / (max(0.0, f) + 0.5)
            hits.append(Hit(key=self._ids[g], specialist_id=self._sids[g],
                            capability=md.get("capability", self._ids[g].split(".", 1)[-1]),
                            similarity=sim, metadata=md))
        return hits

    def learn(self, query: str, key: str, positive: bool, *, run_id: str | None = None) -> None:
        """Record an outcome: ``query`` was (positive) or was not (negative) solved by ``key``.
        Idempotent per (run_id, query, key); a later call for the same triple overrides the sign."""
        if not query.strip() or not key:
            return
        sign = 1 if positive else -1
        emb = self.embed_queries([query])[0]
        self.memory.add(query, key, sign, self.query_model, emb, run_id)

    def learn_many(self, items: list[tuple[str, str, bool]], *, run_id: str | None = None,
                   progress=None) -> int:
        """Batch form of :meth:`learn`: items are (query, key, positive). ``progress(done, total)``
        is called after each embedding batch."""
        items = [(q, k, p) for q, k, p in items if q.strip() and k]
        if not items:
            return 0
        uniq = list(dict.fromkeys(q for q, _, _ in items))
        embs = {}
        for off in range(0, len(uniq), 256):
            chunk = uniq[off : off + 256]
            for q, e in zip(chunk, self.embed_queries(chunk)):
                embs[q] = e
            if progress is not None:
                progress(min(off + 256, len(uniq)), len(uniq))
        self.memory.add_many(
            [(q, k, 1 if p else -1, embs[q]) for q, k, p in items], model=self.query_model, run_id=run_id
        )
        return len(items)

    def close(self) -> None:
        self.memory.close()
