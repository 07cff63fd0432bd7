"""A small classifier head learned from the outcome memory: softmax regression from the query
embedding to the capability that solved it. The base embedding model is untouched (the
zero-shot path keeps it); the head only adds a feature to the mix, and only for capabilities
with feedback. Trained by ``micromarket index learn`` and stored next to the memory (.npz).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_CLASSES = 5000  # beyond this the head is skipped (the kNN memory still counts)


@dataclass
class Head:
    keys: list[str]
    W: np.ndarray  # (classes, dim)
    b: np.ndarray  # (classes,)
    model: str

    def probabilities(self, Q: np.ndarray, pos: dict[str, int], n: int, eligible: np.ndarray | None) -> np.ndarray:
        """(b, n): softmax over the head's classes that are indexed and eligible; 0 elsewhere."""
        out = np.zeros((Q.shape[0], n), np.float32)
        col = np.fromiter((pos.get(k, -1) for k in self.keys), dtype=np.int64, count=len(self.keys))
        keep = col >= 0
        if eligible is not None:
            keep &= np.where(keep, eligible[np.maximum(col, 0)], False)
        if not keep.any() or Q.shape[0] == 0:
            return out
        z = (self.W[keep] @ Q.T).T + self.b[keep]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out[:, col[keep]] = e / e.sum(axis=1, keepdims=True)
        return out

    def save(self, path: Path) -> None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, keys=np.asarray(self.keys), W=self.W, b=self.b, model=np.asarray(self.model))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path | None, model: str) -> Head | None:
        if path is None or not Path(path).exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            head = cls([str(k) for k in z["keys"]], z["W"].astype(np.float32), z["b"].astype(np.float32), str(z["model"]))
        return head if head.model == model else None


def train_head(emb: np.ndarray, keys: list[str], signs: np.ndarray, model: str, *, l2: float = 1e-4,
               maxiter: int = 80) -> Head | None:
    """Softmax regression on the positive experiences (L-BFGS). None when there is too little
    (fewer than 2 capabilities) or too much (over MAX_CLASSES) to learn."""
    from scipy.optimize import minimize  # deferred: scipy is heavy and only needed to fit

    rows = np.flatnonzero(signs > 0)
    classes = sorted({keys[i] for i in rows})
    if len(classes) < 2 or len(classes) > MAX_CLASSES:
        return None
    cidx = {k: i for i, k in enumerate(classes)}
    X = emb[rows].astype(np.float32)
    y = np.fromiter((cidx[keys[i]] for i in rows), dtype=np.int64, count=len(rows))
    C, d, m = len(classes), X.shape[1], X.shape[0]

    def loss(theta):
        W = theta[: C * d].reshape(C, d).astype(np.float32)
        b = theta[C * d :].astype(np.float32)
        z = X @ W.T + b
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        nll = -np.log(np.maximum(p[np.arange(m), y], 1e-12)).mean()
        p[np.arange(m), y] -= 1.0
        p /= m
        gW = p.T @ X + 2 * l2 * W
        gb = p.sum(axis=0)
        return float(nll + l2 * float((W * W).sum())), np.concatenate([gW.ravel(), gb]).astype(np.float64)

    res = minimize(loss, np.zeros(C * d + C), jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
    W = res.x[: C * d].reshape(C, d).astype(np.float32)
    return Head(classes, W, res.x[C * d :].astype(np.float32), model)
