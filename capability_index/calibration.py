"""Calibration of self-reported confidence against verified outcomes.

A self-report is never evidence; what a specialist's confidence is *worth* is read from its own verified
record at that confidence (:func:`calibrated_confidence`), and that is what weighs in a disagreement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def calibration(pairs: Iterable[tuple[float, bool]], buckets: int = 5) -> dict | None:
    """Brier score and reliability buckets of self-reported confidence vs verified outcome."""
    data = [(float(c), bool(ok)) for c, ok in pairs if c is not None and math.isfinite(float(c))]
    if not data:
        return None
    brier = sum((c - (1.0 if ok else 0.0)) ** 2 for c, ok in data) / len(data)
    rows = []
    for b in range(buckets):
        lo, hi = b / buckets, (b + 1) / buckets
        sel = [(c, ok) for c, ok in data if (lo <= c < hi) or (b == buckets - 1 and c == 1.0)]
        if sel:
            rows.append(
                {
                    "lo": lo,
                    "hi": hi,
                    "n": len(sel),
                    "confidence": sum(c for c, _ in sel) / len(sel),
                    "accuracy": sum(1 for _, ok in sel if ok) / len(sel),
                }
            )
    return {"n": len(data), "brier": brier, "buckets": rows}


# kinds of evidence that check an answer independently of the answers it competed with
CALIBRATION_KINDS = ("user", "verified")
BUCKETS = 5


def bucket_of(confidence: float, buckets: int = BUCKETS) -> int:
    return min(max(int(float(confidence) * buckets), 0), buckets - 1)


def bucket_counts(pairs: Iterable[tuple[float, bool]], buckets: int = BUCKETS) -> list[list[int]]:
    """``[[n, right], ...]`` per confidence bucket of one specialist × capability's verified record."""
    out = [[0, 0] for _ in range(buckets)]
    for c, ok in pairs:
        if c is None or not math.isfinite(float(c)):
            continue
        b = out[bucket_of(c, buckets)]
        b[0] += 1
        b[1] += int(bool(ok))
    return out


def calibrated_confidence(confidence: float | None, counts: list[list[int]] | None, prior: float,
                          strength: float = 2.0) -> float:
    """P(right | it reported ``confidence``): its verified record at that confidence, shrunk towards ``prior``.

    ``prior`` is what its trust implies; ``strength`` is the prior's weight in outcomes. Without a record
    at that confidence the answer is the prior, whatever the specialist claims: a raw self-report moves nothing.
    """
    prior = min(max(float(prior), 0.0), 1.0)
    if confidence is None or not counts:
        return prior
    n, right = counts[bucket_of(confidence, len(counts))]
    return (strength * prior + right) / (strength + n)
