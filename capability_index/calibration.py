"""Calibration of self-reported confidence against verified outcomes (reported, never evidence)."""

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
