"""Vetting and demotion: when a newcomer becomes active, when an active specialist is demoted.

Runs inside the ledger's evidence transaction after each piece of verified
evidence. A newcomer with ``vet_n`` verified successes since it became a
newcomer (and a posterior mean of at least ``vet_min_mean``) is vetted. An
active specialist whose last ``window`` verified outcomes collapse far below
its own record (:func:`sudden_drop`, the on-off attack) is demoted to newcomer
and must be vetted again. Status changes go through :mod:`capability_index.identities`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from micromarket.capability_index import identities
from micromarket.capability_index.posterior import VERIFIED_KINDS, Posterior


@dataclass(frozen=True)
class VettingPolicy:
    vet_n: int = 5  # verified successes a newcomer needs ...
    vet_min_mean: float = 0.6  # ... with at least this posterior mean
    window: int = 10  # recent verified outcomes the on-off detector looks at


def binom_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    p = min(max(p, 0.0), 1.0)
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def sudden_drop(recent: Sequence[bool], successes: float, failures: float, *, min_fail: int = 3, p_value: float = 1e-4) -> bool:
    """True when the recent failures are far beyond the specialist's own long-run failure rate.

    ``recent`` is the last few verified outcomes (True = success), ``successes``
    and ``failures`` the raw long-run counts *before* that window.
    """
    n = len(recent)
    fails = sum(1 for ok in recent if not ok)
    if fails < min_fail:
        return False
    base = (failures + 1.0) / (successes + failures + 2.0)  # Laplace-smoothed long-run failure rate
    return binom_tail(fails, n, base) < p_value


_KINDS = tuple(sorted(VERIFIED_KINDS | {"injection"}))
_QMARKS = ",".join("?" * len(_KINDS))


def after_verified(c: Any, sid: str, cap: str, status: str, now: float, policy: VettingPolicy, rowid: str,
                   posterior: Callable[[], Posterior]) -> None:
    """Vet a newcomer or demote a collapsing active specialist (inside the evidence transaction)."""
    if status == "newcomer":
        n_ok = c.execute(
            f"SELECT COUNT(*) FROM evidence WHERE specialist_id=? AND success=1 AND kind IN ({_QMARKS})"
            " AND created_at >= ?",
            (sid, *_KINDS, identities.status_since(c, sid)),
        ).fetchone()[0]
        if n_ok >= policy.vet_n and posterior().mean >= policy.vet_min_mean:
            identities.set_status(c, sid, "active", f"vetted after {n_ok} verified successes", now)
        return
    if status != "active":
        return
    recent = c.execute(
        f"SELECT success FROM evidence WHERE specialist_id=? AND capability=? AND kind IN ({_QMARKS})"
        f" ORDER BY created_at DESC, {rowid} DESC LIMIT ?",
        (sid, cap, *_KINDS, policy.window),
    ).fetchall()
    recent_ok = [bool(r[0]) for r in recent]
    if len(recent_ok) < 3:
        return
    row = c.execute(
        "SELECT succ, fail FROM posteriors WHERE specialist_id=? AND capability=? AND version=''", (sid, cap)
    ).fetchone()
    succ = row["succ"] - sum(recent_ok)
    fail = row["fail"] - (len(recent_ok) - sum(recent_ok))
    if succ + fail < policy.window:  # not enough history to call it a collapse
        return
    if sudden_drop(recent_ok, succ, fail):
        n_bad = len(recent_ok) - sum(recent_ok)
        identities.set_status(
            c, sid, "newcomer",
            f"demoted: {n_bad} failures in the last {len(recent_ok)} verified outcomes on {cap}, "
            f"far above its record ({succ} ok / {fail} failed); must be vetted again",
            now,
        )
