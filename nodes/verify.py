"""Verify a specialist's answer against the request: does its stated reading use every number, time, unit and
named date of the subtask?

Generic for every specialist. A specialist that states its reading (``understood as: ...`` at the end of its
explanation, see micromarket.specialists.interpretation) and leaves part of the request unexplained is treated
as a decline, so the next candidate is tried or the subtask is reported as not understood. A specialist that
states no reading is checked against its answer and explanation; what they leave unexplained caps its
confidence (it may be right, but the marketplace cannot tell), and the explanation says what was not shown.
"""

from __future__ import annotations

from typing import Any

from micromarket.specialists.interpretation import stated, unexplained

UNVERIFIED_CAP = 0.5  # confidence ceiling for an answer whose unstated reading leaves inputs unexplained


def verify_outcome(request: str, res: dict[str, Any]) -> dict[str, Any]:
    """``res`` (answer, confidence, explanation, ...) checked against ``request``; returns it updated."""
    answer = str(res.get("answer") or "")
    if not answer.strip() or res.get("confidence") == 0.0:
        return res
    explanation = str(res.get("explanation") or "")
    reading = stated(explanation)
    missing = unexplained(request, reading if reading is not None else f"{answer} {explanation}")
    if not missing:
        return res
    what = ", ".join(repr(m) for m in missing[:6])
    out = dict(res)
    if reading is not None:
        out["confidence"] = 0.0
        out["explanation"] = f"its reading ({reading[:160]}) leaves {what} of the request unexplained"
    else:
        conf = res.get("confidence")
        out["confidence"] = UNVERIFIED_CAP if conf is None else min(conf, UNVERIFIED_CAP)
        out["explanation"] = (explanation + "; " if explanation else "") + f"not shown to use {what} of the request"
    return out
