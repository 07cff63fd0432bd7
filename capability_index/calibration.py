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


# --- the confidence shown to users: isotonic calibration per specialist × capability --------------------------

MIN_CALIBRATION = 8  # verified answers before a specialist × capability's record reshapes its shown confidence
SHRINK = 8.0  # weight, in answers, of the self-report against the fitted record


def isotonic(pairs: Iterable[tuple[float, bool]]) -> list[tuple[float, float]]:
    """The isotonic (non-decreasing) fit of P(right) on self-reported confidence, by pool-adjacent-violators:
    ``[(confidence, p_right), ...]`` knots, sorted by confidence (one per pooled block)."""
    tied: dict[float, list[float]] = {}  # equal confidences form one block from the start
    for c, ok in pairs:
        if c is not None and math.isfinite(float(c)):
            b = tied.setdefault(float(c), [0.0, 0.0])
            b[0] += 1.0 if ok else 0.0
            b[1] += 1.0
    blocks: list[list[float]] = []  # [sum x, sum y, n]
    for x, (y, n) in sorted(tied.items()):
        blocks.append([x * n, y, n])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            sx, sy, n = blocks.pop()
            blocks[-1][0] += sx
            blocks[-1][1] += sy
            blocks[-1][2] += n
    return [(b[0] / b[2], b[1] / b[2]) for b in blocks]


def interpolate(knots: list[tuple[float, float]], x: float) -> float:
    """The fitted map at ``x``: linear between knots, flat beyond the ends."""
    if not knots:
        return x
    if x <= knots[0][0]:
        return knots[0][1]
    for (x0, y0), (x1, y1) in zip(knots, knots[1:]):
        if x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return knots[-1][1]


def calibrator(pairs: Iterable[tuple[float, bool]], min_n: int = MIN_CALIBRATION) -> dict | None:
    """A compact calibration map of one specialist × capability from its verified record (``None`` below
    ``min_n`` answers): ``{"n": answers, "knots": [[confidence, p_right], ...]}``."""
    data = [(c, ok) for c, ok in pairs if c is not None]
    if len(data) < min_n:
        return None
    return {"n": len(data), "knots": [[round(x, 4), round(y, 4)] for x, y in isotonic(data)]}


def shown_confidence(confidence: float | None, cal: dict | None, shrink: float = SHRINK) -> float | None:
    """The confidence shown for a self-reported ``confidence``: the record's isotonic P(right) at it, shrunk
    towards the self-report by ``shrink`` answers' weight (a short record moves it a little). Unchanged without
    a calibrator; a decline (0) stays 0."""
    if confidence is None or not cal or not cal.get("knots") or not confidence:
        return confidence
    n = float(cal.get("n") or 0)
    p = interpolate([(float(a), float(b)) for a, b in cal["knots"]], float(confidence))
    return round(min(max((n * p + shrink * float(confidence)) / (n + shrink), 0.0), 1.0), 4)
