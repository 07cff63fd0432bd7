"""Exact dense scoring at scale: bounds from an int8 copy, exact float32 scores for the few that matter.

At 100k capabilities one float32 pass over the (n, 384) matrix is ~150 MB of memory traffic per
query text (~12-15 ms on one core). :class:`Int8Bounds` keeps an int8 copy (per-row scale, a
quarter of the bytes, scanned by NumKong's packed int8 dot products) and returns, for every
capability, an interval that provably contains its float32 cosine (Cauchy-Schwarz on the
quantisation errors). The retriever scores exactly only the capabilities whose interval can reach
the top, and checks that nothing outside could (else it falls back to the full scan).

:class:`Moments` gives the mean and standard deviation of ``E @ q`` over any row mask in closed
form (first and second moments of the rows), which the fusion's z-scores need over all n.
"""

from __future__ import annotations

import numpy as np

SLACK = 1e-4  # float32 rounding of the exact scores and of the bounds' own arithmetic


class Int8Bounds:
    """Intervals [lo, hi] around ``q . e_i`` for every row ``e_i`` of a float32 matrix."""

    def __init__(self, emb: np.ndarray):
        import numkong  # deferred: used only for large indexes

        self._nk = numkong
        emb = np.ascontiguousarray(emb, dtype=np.float32)
        amax = np.abs(emb).max(axis=1)
        scale = np.where(amax > 0, 127.0 / np.maximum(amax, 1e-30), 1.0).astype(np.float32)
        q = np.rint(emb * scale[:, None]).astype(np.int8)
        self.inv = (1.0 / scale).astype(np.float32)
        deq = q.astype(np.float32) * self.inv[:, None]
        self.err = np.linalg.norm(emb - deq, axis=1)  # ||e - e~||
        self.norm = np.linalg.norm(deq, axis=1)  # ||e~||
        self.packed = numkong.dots_pack(q, dtype="int8")

    def bounds(self, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi), each (len(Q), n): lo <= Q @ e_i <= hi (float32 rounding included)."""
        Q = np.ascontiguousarray(Q, dtype=np.float32)
        qa = np.abs(Q).max(axis=1)
        qs = np.where(qa > 0, 127.0 / np.maximum(qa, 1e-30), 1.0).astype(np.float32)
        q8 = np.rint(Q * qs[:, None]).astype(np.int8)
        qd = q8.astype(np.float32) / qs[:, None]
        dots = np.asarray(self._nk.dots_packed(q8, self.packed), dtype=np.float32)
        approx = dots * self.inv[None, :]
        approx /= qs[:, None]
        # q.e - q~.e~ = q.(e - e~) + (q - q~).e~
        slack = np.linalg.norm(Q, axis=1)[:, None] * self.err[None, :]
        slack += np.linalg.norm(Q - qd, axis=1)[:, None] * self.norm[None, :]
        slack += SLACK
        return approx - slack, approx + slack


class Moments:
    """Sum and second-moment matrix of the rows of ``emb`` (float64), for closed-form score stats."""

    def __init__(self, emb: np.ndarray, rows: np.ndarray | None = None, chunk: int = 8192):
        d = emb.shape[1]
        self.count = 0
        self.sum = np.zeros(d, np.float64)
        self.outer = np.zeros((d, d), np.float64)
        n = emb.shape[0]
        for off in range(0, n, chunk):
            block = emb[off : off + chunk]
            if rows is not None:
                block = block[rows[off : off + chunk]]
            b = block.astype(np.float64)
            self.count += b.shape[0]
            self.sum += b.sum(axis=0)
            self.outer += b.T @ b

    def minus(self, other: Moments) -> Moments:
        out = Moments.__new__(Moments)
        out.count = self.count - other.count
        out.sum = self.sum - other.sum
        out.outer = self.outer - other.outer
        return out

    def stats(self, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and (population) standard deviation of ``emb[rows] @ q`` for each row q of ``Q``."""
        q = np.asarray(Q, np.float64)
        mean = q @ self.sum / self.count
        second = ((q @ self.outer) * q).sum(axis=1) / self.count
        return mean, np.sqrt(np.maximum(second - mean * mean, 0.0))
