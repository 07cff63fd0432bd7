"""How the zero-shot signals and the outcome memory are mixed, and how the mix is learned.

The final score of a capability for a query is

    zero_shot + w_dense * dense + w_knn * knn + w_nearest * nearest + w_proto * proto + w_head * head

(features from :mod:`micromarket.capability_index.memory`). The zero-shot weight is fixed at 1
so that scores keep their scale. The other weights, and the memory's neighbourhood size and
similarity floor, are fitted by :func:`fit` on a held-out part of the feedback (listwise
softmax cross-entropy, L-BFGS) and stored next to the memory as JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from micromarket.errors import MicromarketError

WEIGHTS = ("dense", "knn", "nearest", "proto", "head")


@dataclass
class Fusion:
    """The mix. Defaults (before any ``micromarket index learn``) let an agreeing neighbourhood
    outvote the zero-shot ranking while a single distant experience only nudges it."""

    dense: float = 0.0
    knn: float = 4.0
    nearest: float = 0.5
    proto: float = 0.5
    head: float = 0.0  # the learned classifier head (head.py), 0 until `index learn` trains one
    k: int = 10
    min_sim: float = 0.3
    model: str = ""  # embedding model the fit was made with ("" = defaults)
    fitted: dict = field(default_factory=dict)  # what the fit saw and bought (for `index learn`)

    def vector(self) -> np.ndarray:
        return np.asarray([getattr(self, w) for w in WEIGHTS], np.float32)

    def score(self, zero_shot: np.ndarray, dense: np.ndarray, mem: np.ndarray) -> np.ndarray:
        """``zero_shot``, ``dense`` (..., n); ``mem`` (..., 4, n) -> (..., n)."""
        w = self.vector()
        return zero_shot + w[0] * dense + np.einsum("f,...fn->...n", w[1:], mem)

    @classmethod
    def load(cls, path: Path | None, model: str) -> Fusion:
        """The stored fit for ``model``, else the defaults (a fit for another model does not apply)."""
        if path is None or not Path(path).exists():
            return cls()
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            fusion = cls(**{k: data[k] for k in asdict(cls()) if k in data})
        except (OSError, ValueError, TypeError) as e:
            raise MicromarketError(
                f"the retrieval fit at {path} is unreadable ({e}); delete it or run `micromarket index learn`"
            ) from e
        return fusion if fusion.model == model else cls()

    def save(self, path: Path) -> None:
        path = Path(path)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.replace(path)


# ---------------------------------------------------------------- fitting


def _loss(params: np.ndarray, X: np.ndarray, base: np.ndarray, Y: np.ndarray, l2: float):
    """Listwise loss: -log P(a relevant candidate ranks first), softmax over candidates.
    params = [log temperature, weights...]; X (b, F, c), base (b, c), Y (b, c) bool."""
    t = math.exp(params[0])
    w = params[1:]
    s = t * (base + np.einsum("f,bfc->bc", w, X))
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    p = e / e.sum(axis=1, keepdims=True)
    prel = np.maximum((p * Y).sum(axis=1), 1e-12)
    loss = -np.log(prel).mean() + l2 * float(w @ w)
    # d loss / d s = p - p*Y/prel
    g_s = (p - p * Y / prel[:, None]) / X.shape[0]
    g_w = t * np.einsum("bc,bfc->f", g_s, X) + 2 * l2 * w
    g_t = float((g_s * s).sum())  # d s / d log t = s (the max shift cancels: g_s sums to 0 per row)
    return loss, np.concatenate([[g_t], g_w])


def fit_weights(
    zero_shot: np.ndarray, dense: np.ndarray, mem: np.ndarray, relevant: np.ndarray, *, candidates: int = 100,
    start: Fusion | None = None, l2: float = 1e-3,
) -> np.ndarray:
    """Weights (dense, knn, nearest, proto, head) maximising the held-out likelihood of the relevant
    capabilities. Inputs: (b, n) zero-shot, (b, n) dense, (b, 4, n) memory, (b, n) bool."""
    from scipy.optimize import minimize  # deferred: scipy is heavy and only needed to fit

    start = start or Fusion()
    X = np.concatenate([dense[:, None, :], mem], axis=1).astype(np.float64)
    base = zero_shot.astype(np.float64)
    Y = relevant.astype(np.float64)
    n = base.shape[1]
    if n > candidates:  # the zero-shot and the memory's best candidates, plus the relevant ones
        pre = start.score(zero_shot, dense, mem)
        top = np.argpartition(-pre, candidates - 1, axis=1)[:, :candidates]
        sel = np.zeros_like(relevant, dtype=bool)
        np.put_along_axis(sel, top, True, axis=1)
        sel |= relevant
        c = int(sel.sum(axis=1).max())
        idx = np.argsort(~sel, axis=1, kind="stable")[:, :c]
        pad = np.take_along_axis(sel, idx, axis=1)
        X = np.take_along_axis(X, idx[:, None, :], axis=2)
        base = np.where(pad, np.take_along_axis(base, idx, axis=1), -1e4)
        Y = np.take_along_axis(Y, idx, axis=1) * pad
    keep = Y.sum(axis=1) > 0
    if not keep.any():
        return start.vector()
    X, base, Y = X[keep], base[keep], Y[keep]
    x0 = np.concatenate([[math.log(5.0)], start.vector().astype(np.float64)])
    res = minimize(_loss, x0, args=(X, base, Y, l2), jac=True, method="L-BFGS-B",
                   bounds=[(-3.0, 5.0)] + [(0.0, 50.0)] * len(WEIGHTS), options={"maxiter": 200})
    return np.asarray(res.x[1:], np.float32)


def hit_at(scores: np.ndarray, relevant: np.ndarray, k: int = 5) -> float:
    """Share (%) of queries with a relevant capability among the ``k`` best scores."""
    if scores.shape[0] == 0:
        return 0.0
    kk = min(k, scores.shape[1])
    top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
    return float(np.take_along_axis(relevant, top, axis=1).any(axis=1).mean() * 100.0)


def knn_scores(Q: np.ndarray, emb: np.ndarray, cols: np.ndarray, n: int, k: int = 10) -> np.ndarray:
    """The naive baseline: the ``k`` nearest past queries vote one each (ties by similarity)."""
    out = np.zeros((Q.shape[0], n), np.float32)
    m = emb.shape[0]
    if m == 0:
        return out
    S = (emb @ Q.T).T
    kk = min(k, m)
    top = np.argpartition(-S, kk - 1, axis=1)[:, :kk] if kk < m else np.tile(np.arange(m), (Q.shape[0], 1))
    sims = np.take_along_axis(S, top, axis=1)
    c = cols[top]
    ok = c >= 0
    rows = np.repeat(np.arange(Q.shape[0]), kk).reshape(top.shape)
    np.add.at(out, (rows[ok], c[ok]), 1.0 + 1e-3 * sims[ok])
    return out
