"""Outcome memory: confirmed (query, capability, sign) pairs and the evidence they give a new query.

Rows live in a small SQLite file (query text, its embedding, capability key, +1 solved / -1
failed). :func:`memory_evidence` turns the memory into per-capability features for a batch of
query embeddings: how many of the ``k`` nearest past queries vote for a capability (weighted by
how close they are), the closest single vote, and the similarity to the capability's prototype
(the mean of the queries it solved). Only eligible capabilities take part: an experience whose
capability is removed or whose specialist is not eligible never votes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class MemoryView:
    """The memory for one embedding model: embeddings (m, dim), keys, signs (+1/-1)."""

    emb: np.ndarray
    keys: list[str]
    signs: np.ndarray
    queries: list[str]

    def __len__(self) -> int:
        return len(self.keys)


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
        self._view: tuple[str, MemoryView] | None = None
        self._protos: tuple[MemoryView, tuple] | None = None
        self.version = 0  # bumped on every write; derived caches compare against it

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
            self._view = None
            self._protos = None
            self.version += 1

    def has(self, query: str, key: str, run_id: str | None) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM experience WHERE run_id=? AND query=? AND key=?", (run_id or "", query, key)
            ).fetchone()
        return row is not None

    def reembed(self, model: str, embed, batch: int = 256) -> int:
        """Re-embed experiences recorded with another model than ``model`` from their stored query text.

        Nothing is dropped: query, capability and sign stay; only the vector and its model change (a new
        query encoder would otherwise hide earlier feedback). Returns how many rows were rewritten."""
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, query, key FROM experience WHERE model != ? ORDER BY rowid", (model,)
            ).fetchall()
        if not rows:
            return 0
        texts = sorted({q for _, q, _ in rows})
        vecs: dict[str, bytes] = {}
        for i in range(0, len(texts), batch):
            chunk = texts[i : i + batch]
            for q, e in zip(chunk, np.asarray(embed(chunk), dtype=np.float32)):
                vecs[q] = e.tobytes()
        with self._lock:
            with self._db:
                self._db.executemany(
                    "UPDATE experience SET model=?, embedding=? WHERE run_id=? AND query=? AND key=? AND model != ?",
                    [(model, vecs[q], r, q, k, model) for r, q, k in rows],
                )
            self._view = None
            self._protos = None
            self.version += 1
        return len(rows)

    def view(self, model: str, dim: int) -> MemoryView:
        """Every experience recorded with ``model`` (others are ignored). Cached until the next write."""
        c = self._view
        if c is not None and c[0] == model:
            return c[1]
        with self._lock:
            rows = self._db.execute(
                "SELECT query, key, sign, embedding FROM experience WHERE model=? ORDER BY rowid", (model,)
            ).fetchall()
        queries, keys, signs, vecs = [], [], [], []
        for query, key, sign, blob in rows:
            v = np.frombuffer(blob, dtype=np.float32)
            if v.shape[0] != dim:
                continue
            queries.append(query)
            keys.append(key)
            signs.append(1.0 if sign > 0 else -1.0)
            vecs.append(v)
        emb = np.vstack(vecs).astype(np.float32) if vecs else np.zeros((0, dim), np.float32)
        view = MemoryView(emb, keys, np.asarray(signs, dtype=np.float32), queries)
        self._view = (model, view)
        return view

    def prototypes(self, view: MemoryView) -> tuple[np.ndarray, list[str], np.ndarray]:
        """:func:`prototypes` of ``view``, cached until the next write."""
        p = self._protos
        if p is not None and p[0] is view:
            return p[1]
        protos = prototypes(view)
        self._protos = (view, protos)
        return protos

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM experience").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


# ---------------------------------------------------------------- evidence for a query


def subview(view: MemoryView, rows: np.ndarray) -> MemoryView:
    """The experiences at ``rows`` (e.g. the part of the feedback a calibration may see)."""
    return MemoryView(view.emb[rows], [view.keys[i] for i in rows], view.signs[rows], [view.queries[i] for i in rows])


def prototypes(view: MemoryView) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Per capability with net positive evidence: the normalised signed sum of the embeddings of
    the queries it solved (+) and failed (-), i.e. the direction its successes lie in; and the
    number of experiences behind each."""
    groups: dict[str, list[int]] = {}
    for j, k in enumerate(view.keys):
        groups.setdefault(k, []).append(j)
    pkeys, rows, counts = [], [], []
    for k, idx in groups.items():
        v = (view.emb[idx] * view.signs[idx, None]).sum(axis=0)
        norm = float(np.linalg.norm(v))
        net = float(view.signs[idx].sum())
        if norm > 1e-6 and net > 0:
            pkeys.append(k)
            rows.append(v / norm)
            counts.append(net)
    P = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, view.emb.shape[1]), np.float32)
    return P, pkeys, np.asarray(counts, np.float32)

FEATURES = ("knn", "nearest", "proto", "head")  # "head" is filled by the retriever (head.py)
PROTO_PRIOR = 5.0


def columns(view: MemoryView, protos, pos: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Column of each experience's and each prototype's capability in ``pos`` (-1: not indexed)."""
    col = np.fromiter((pos.get(key, -1) for key in view.keys), dtype=np.int64, count=len(view))
    pkeys = protos[1] if protos is not None else []
    return col, np.fromiter((pos.get(key, -1) for key in pkeys), dtype=np.int64, count=len(pkeys))


def memory_evidence(
    Q: np.ndarray,
    view: MemoryView,
    pos: dict[str, int],
    n: int,
    *,
    eligible: np.ndarray | None = None,
    k: int = 10,
    min_sim: float = 0.3,
    protos: tuple[np.ndarray, list[str], np.ndarray] | None = None,
    cols: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Memory features for each query embedding in ``Q`` (b, dim): an array (b, 4, n).

    - ``knn``: signed votes of the ``k`` nearest eligible experiences, each weighted by
      (sim - min_sim) / (1 - min_sim), divided by ``k``: near 1 when the whole neighbourhood
      is close and agrees, small when it is thin (few or distant neighbours) or split.
    - ``nearest``: the signed, squared weight of the closest experience for that capability.
    - ``proto``: the same (linear) weight of the cosine to the capability's prototype, shrunk
      by count / (count + PROTO_PRIOR) experiences.

    ``pos`` maps capability keys to columns; experiences with unknown keys (removed
    capabilities) or ineligible columns are dropped before the neighbours are chosen.
    """
    b = Q.shape[0]
    out = np.zeros((b, len(FEATURES), n), np.float32)
    m = len(view)
    if b == 0 or n == 0:
        return out
    scale = 1.0 / max(1e-6, 1.0 - min_sim)
    col, pcol = cols if cols is not None else columns(view, protos, pos)
    if m:
        ok = col >= 0
        if eligible is not None:
            ok &= np.where(ok, eligible[np.maximum(col, 0)], False)
        if ok.any():
            S = np.ascontiguousarray((view.emb @ Q.T).T)  # (b, m); (m, d) @ (d, b) is the fast BLAS shape
            if not ok.all():
                S[:, ~ok] = -np.inf
            kk = min(k, m)
            top = np.argpartition(-S, kk - 1, axis=1)[:, :kk] if kk < m else np.tile(np.arange(m), (b, 1))
            sims = np.take_along_axis(S, top, axis=1)
            w = np.clip((sims - min_sim) * scale, 0.0, 1.0)  # -inf (ineligible) -> 0
            signed = w * view.signs[top]
            cols = col[top]
            rows = np.repeat(np.arange(b), top.shape[1])
            live = (w > 0).ravel()
            np.add.at(out[:, 0, :], (rows[live], cols.ravel()[live]), signed.ravel()[live] / k)
            # closest experience per capability: keep the largest |weight|
            order = np.argsort(w.ravel()[live], kind="stable")
            r, c, v = rows[live][order], cols.ravel()[live][order], signed.ravel()[live][order]
            out[r, 1, c] = v * np.abs(v)  # later (larger) overwrite smaller; squared: one close call counts, a loose one barely
    if protos is not None and protos[0].shape[0]:
        P, pkeys, counts = protos
        shrink = counts / (counts + PROTO_PRIOR)  # a prototype of one query is weak evidence
        keep = pcol >= 0
        if eligible is not None:
            keep &= np.where(keep, eligible[np.maximum(pcol, 0)], False)
        if keep.any():
            ps = np.clip((Q @ P[keep].T - min_sim) * scale, 0.0, 1.0)
            out[:, 2, pcol[keep]] = ps * shrink[keep]
    return out
