"""Trust math: Beta posteriors over "this specialist answers this capability correctly". Pure, no I/O.

Each specialist × capability (× version) has a Beta(alpha, beta) posterior. Evidence
of each kind has its own default weight (:data:`EVIDENCE_WEIGHTS`). Negative
accuracy evidence is multiplied by ``penalty`` (default 2): trust falls fast and
recovers slowly, which blunts on-off behaviour. Errors and timeouts are
*reliability* evidence, kept in a second Beta (``rel_ok``/``rel_fail``) and never
mixed into accuracy. Self-reported confidence is never evidence; only its
calibration is tracked. Posteriors decay towards the prior with a half-life.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from micromarket.errors import InputError

# --------------------------------------------------------------------------- constants

PRIOR_ALPHA = 1.0
PRIOR_BETA = 1.0
# Fresh identities start low: a newcomer's prior mean is 1/3, not 1/2.
NEWCOMER_PRIOR_ALPHA = 1.0
NEWCOMER_PRIOR_BETA = 2.0

DEFAULT_PENALTY = 2.0  # multiplier on negative accuracy evidence (trust falls fast)
MAX_WEIGHT = 10.0  # largest weight one piece of evidence may carry

# Default weight of each kind of evidence.
EVIDENCE_WEIGHTS: dict[str, float] = {
    "verified": 1.0,  # checked by another specialist or a typed tool
    "agreement": 0.5,  # agreed with peers (caller scales by the peers' own trust)
    "disagreement": 0.5,  # disagreed with a trusted majority
    "user": 2.0,  # explicit user feedback
    "outcome": 0.1,  # ran and returned a usable answer, unverified
    "error": 1.0,  # reliability: the call failed
    "timeout": 1.0,  # reliability: the call timed out
    "injection": 5.0,  # the answer carried a prompt-injection attempt
}
RELIABILITY_KINDS = frozenset({"error", "timeout"})
# kinds strong enough to vet a newcomer and to feed calibration
VERIFIED_KINDS = frozenset({"verified", "user", "agreement", "disagreement"})


# --------------------------------------------------------------------------- validation


def check_unit(name: str, x: object, *, lo: float = 0.0, hi: float = 1.0) -> float:
    """Return ``x`` as a float in [lo, hi]; raise InputError naming ``name`` otherwise."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise InputError(f"{name} must be a number in [{lo:g}, {hi:g}], got {x!r}")
    v = float(x)
    if math.isnan(v) or math.isinf(v) or v < lo or v > hi:
        raise InputError(f"{name} must be a finite number in [{lo:g}, {hi:g}], got {x!r}")
    return v


def check_weight(weight: object) -> float:
    """A weight must be finite and in (0, MAX_WEIGHT]."""
    v = check_unit("weight", weight, lo=0.0, hi=MAX_WEIGHT)
    if v <= 0.0:
        raise InputError(f"weight must be positive (0 < weight <= {MAX_WEIGHT:g}), got {weight!r}")
    return v


def check_kind(kind: object) -> str:
    if not isinstance(kind, str) or kind not in EVIDENCE_WEIGHTS:
        raise InputError(
            f"unknown evidence kind {kind!r}; expected one of {', '.join(sorted(EVIDENCE_WEIGHTS))} "
            "(ratings from specialists are not accepted as evidence)"
        )
    return kind


# --------------------------------------------------------------------------- posterior


@dataclass(frozen=True)
class Posterior:
    """Beta posterior over "this specialist answers this capability correctly"."""

    alpha: float
    beta: float
    n: float  # effective evidence count (alpha + beta - prior)
    reliability: float = 1.0  # posterior mean of "the call completes" (errors/timeouts)
    prior_alpha: float = PRIOR_ALPHA
    prior_beta: float = PRIOR_BETA
    penalty: float = DEFAULT_PENALTY  # the multiplier its negative evidence was recorded with

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def std(self) -> float:
        s = self.alpha + self.beta
        return math.sqrt(self.alpha * self.beta / (s * s * (s + 1.0)))

    def sample(self, rng: random.Random) -> float:
        return rng.betavariate(self.alpha, self.beta)


def prior(status: str = "active") -> Posterior:
    if status == "newcomer":
        return Posterior(NEWCOMER_PRIOR_ALPHA, NEWCOMER_PRIOR_BETA, 0.0, 1.0, NEWCOMER_PRIOR_ALPHA, NEWCOMER_PRIOR_BETA)
    return Posterior(PRIOR_ALPHA, PRIOR_BETA, 0.0)


def make_posterior(
    alpha: float,
    beta: float,
    *,
    rel_ok: float = 0.0,
    rel_fail: float = 0.0,
    prior_alpha: float = PRIOR_ALPHA,
    prior_beta: float = PRIOR_BETA,
) -> Posterior:
    """Build a Posterior from stored counts.

    Reliability is (4 + ok) / (4 + ok + failed): 1.0 with no evidence, and one
    early error costs a fifth, not everything.
    """
    reliability = (4.0 + rel_ok) / (4.0 + rel_ok + rel_fail)
    n = max(0.0, alpha + beta - prior_alpha - prior_beta)
    return Posterior(alpha, beta, n, reliability, prior_alpha, prior_beta)


def decay_factor(dt_seconds: float, half_life_s: float | None) -> float:
    """Fraction of evidence kept after ``dt_seconds``; 1.0 when decay is off."""
    if not half_life_s or half_life_s <= 0 or dt_seconds <= 0:
        return 1.0
    return 0.5 ** (dt_seconds / half_life_s)


def decay_counts(alpha: float, beta: float, factor: float, prior_alpha: float = PRIOR_ALPHA, prior_beta: float = PRIOR_BETA) -> tuple[float, float]:
    """Shrink the evidence part of (alpha, beta) towards the prior by ``factor``."""
    if factor >= 1.0:
        return alpha, beta
    return prior_alpha + (alpha - prior_alpha) * factor, prior_beta + (beta - prior_beta) * factor


def evidence_delta(kind: str, success: bool, weight: float | None = None, *, penalty: float = DEFAULT_PENALTY) -> tuple[float, float, float, float]:
    """(d_alpha, d_beta, d_rel_ok, d_rel_fail) for one piece of evidence.

    Accuracy kinds move alpha/beta (negative evidence × ``penalty``); every
    completed call (accuracy kinds) counts as reliability success; error and
    timeout move only the reliability counts.
    """
    check_kind(kind)
    if not isinstance(success, bool):
        raise InputError(f"success must be true or false, got {success!r}")
    w = EVIDENCE_WEIGHTS[kind] if weight is None else check_weight(weight)
    if kind in RELIABILITY_KINDS:
        return 0.0, 0.0, 0.0, w
    if kind == "injection":  # an injection attempt is always negative evidence
        return 0.0, w * penalty, 1.0, 0.0
    if success:
        return w, 0.0, 1.0, 0.0
    return 0.0, w * penalty, 1.0, 0.0
