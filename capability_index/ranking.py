"""The selection policy: rank a subtask's candidates, and decide how many to ask. Pure, no I/O.

The select node calls :func:`rank` and :func:`choose_k`; the benchmarks call the same code.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from micromarket.capability_index.posterior import Posterior, check_unit, prior
from micromarket.errors import InputError

STATUSES = ("active", "newcomer", "quarantined", "disabled")
RANKED = ("active", "newcomer")  # quarantined and disabled candidates are never ranked


@dataclass
class Candidate:
    """One capability nominated by retrieval for a subtask."""

    key: str
    specialist_id: str
    capability: str
    similarity: float  # in [0,1]
    cost: float  # declared cost per call
    version: str = ""
    status: str = "active"  # see STATUSES
    posterior: Posterior | None = None
    score: float = 0.0  # filled by rank()
    sampled_trust: float = 0.0
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RankOptions:
    """How :func:`rank` trades trust, similarity and cost.

    - ``quality_cost``: 0 is quality only; 1 the cheapest acceptable candidate.
    - ``budget``: a per-call cost ceiling (None: none); ``min_similarity``: a floor.
    - ``newcomer_share``: the fraction of decisions in which newcomers compete (exploration rounds).
    - ``newcomer_trials``: in an exploration round the best-scoring newcomer with less evidence than this is
      tried first, so a newcomer is measured even beside an incumbent whose record it cannot outdraw.
    - ``exploration``: scales the posterior spread (1 the posterior, 0 greedy on the mean).
    - ``gated``: explore only in rounds where the mean-leader may not be best (opt-in; measured worse).
    - ``settle``: beyond this much evidence the spread shrinks like 1/n (None: plain Thompson sampling).
    """

    quality_cost: float = 0.0
    budget: float | None = None
    min_similarity: float = 0.0
    newcomer_share: float = 0.1
    newcomer_trials: float = 5.0
    exploration: float = 1.0
    gated: bool = False
    settle: float | None = 5.0

    def checked(self) -> RankOptions:
        check_unit("quality_cost", self.quality_cost)
        check_unit("newcomer_share", self.newcomer_share)
        check_unit("newcomer_trials", self.newcomer_trials, lo=0.0, hi=float("1e300"))
        check_unit("min_similarity", self.min_similarity)
        check_unit("exploration", self.exploration, lo=0.0, hi=10.0)
        if self.budget is not None:
            check_unit("budget", self.budget, lo=0.0, hi=float("1e300"))
        return self


def sharpen(p: Posterior, exploration: float) -> Posterior:
    """The posterior with its evidence counted 1/exploration times (same mean-ish, less spread)."""
    if exploration == 1.0:
        return p
    k = 1.0 / exploration
    a = p.prior_alpha + (p.alpha - p.prior_alpha) * k
    b = p.prior_beta + (p.beta - p.prior_beta) * k
    return replace(p, alpha=max(a, 1e-6), beta=max(b, 1e-6))


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def prob_leader_best(means: Sequence[float], sds: Sequence[float], leader: int) -> float:
    """Approximate P(candidate ``leader`` is truly best): product of pairwise normal approximations."""
    p = 1.0
    for j, (m, s) in enumerate(zip(means, sds)):
        if j == leader:
            continue
        d = means[leader] - m
        v = sds[leader] ** 2 + s**2
        p *= normal_cdf(d / math.sqrt(v)) if v > 0 else (1.0 if d >= 0 else 0.0)
    return p


def accuracy_of(t: float, penalty: float = 2.0) -> float:
    """Expected accuracy implied by a trust value ``t`` on the penalised scale.

    With failures counted ``penalty`` times, a specialist right a fraction ``r``
    of the time has trust ``r / (r + penalty (1 - r))``; this is the inverse, so
    quality is traded against cost in expected correct answers. Monotone.
    """
    if penalty == 1.0 or t <= 0.0 or t >= 1.0:
        return t
    return penalty * t / (1.0 + (penalty - 1.0) * t)


def rank(candidates: Sequence[Candidate], *, rng: random.Random, options: RankOptions | None = None,
         **overrides) -> list[Candidate]:
    """Order candidates best first by trust × similarity, traded off against cost.

    ``options`` (or keyword overrides of :class:`RankOptions`) set the policy.

    - ``score = (1 - quality_cost) * accuracy_of(t) * similarity - quality_cost * cost / max_cost``
      where ``t`` (``sampled_trust``) is the candidate's drawn trust times its reliability.
    - Thompson sampling: every candidate draws ``t ~ Beta(alpha, beta)`` (sharpened by
      ``exploration`` and ``settle``). With ``gated`` a decision draws only with
      probability ``1 - P(the mean-leader is best)`` and otherwise uses posterior means.
    - Newcomers always draw (they are unvetted) but compete only in a ``newcomer_share``
      fraction of decisions; otherwise they rank after every established candidate. In those
      exploration rounds the best-scoring newcomer that is still untried (evidence below
      ``newcomer_trials``) goes first: a draw from the newcomer prior almost never beats an
      incumbent with a record, so without this a newcomer would never earn the outcomes that vet it.
    - Dropped: quarantined and disabled candidates, cost above ``budget``, similarity below ``min_similarity``.
    - Deterministic for a fixed ``rng`` state; the input list is not modified (copies are returned).
    """
    o = replace(options or RankOptions(), **overrides).checked()
    lam, explo = o.quality_cost, o.exploration
    explore = rng.random() < o.newcomer_share  # always drawn, so the rng stream does not depend on the pool
    u = rng.random()  # the exploration-round draw, likewise always drawn
    pool_: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (c.key, c.version)):
        if c.status not in STATUSES:
            raise InputError(f"candidate {c.key}: unknown status {c.status!r}")
        if c.status not in RANKED:
            continue
        sim = check_unit(f"similarity of {c.key}", c.similarity)
        cost = check_unit(f"cost of {c.key}", c.cost, lo=0.0, hi=float("1e300"))
        if sim < o.min_similarity or (o.budget is not None and cost > o.budget):
            continue
        pool_.append(replace(c))
    if not pool_:
        return []
    max_cost = max(c.cost for c in pool_)
    posts = [c.posterior or prior(c.status) for c in pool_]
    settle = o.settle
    sharp = [sharpen(p, explo * (min(1.0, settle / p.n) if settle and p.n > settle else 1.0)) if explo > 0 else p
             for p in posts]
    draws = [s.sample(rng) if explo > 0 else p.mean for s, p in zip(sharp, posts)]
    weights = [(1.0 - lam) * c.similarity * p.reliability for c, p in zip(pool_, posts)]
    costs = [(c.cost / max_cost if max_cost > 0 else 0.0) for c in pool_]
    est = [i for i, c in enumerate(pool_) if c.status != "newcomer"]
    round_explores = not o.gated
    if o.gated and explo > 0 and len(est) > 1:
        ms = [weights[i] * accuracy_of(posts[i].mean, posts[i].penalty) - lam * costs[i] for i in est]
        sds = [weights[i] * sharp[i].std for i in est]
        lead = max(range(len(est)), key=lambda k: (ms[k], -k))
        round_explores = u < 1.0 - prob_leader_best(ms, sds, lead)
    for i, c in enumerate(pool_):
        p = posts[i]
        t = draws[i] if (round_explores or c.status == "newcomer") else p.mean
        t *= p.reliability
        c.sampled_trust = t
        q = accuracy_of(t, p.penalty) * c.similarity
        c.score = (1.0 - lam) * q - lam * costs[i] + (1e-6 * q if lam >= 1.0 else 0.0)

    untried = [c for c, p in zip(pool_, posts) if explore and c.status == "newcomer" and p.n < o.newcomer_trials]
    trial = min(untried, key=lambda c: (-c.score, c.key, c.version)) if untried else None

    def order(c: Candidate):
        held_back = c.status == "newcomer" and not explore
        return (c is not trial, held_back, -c.score, c.key, c.version)

    return sorted(pool_, key=order)


def choose_k(
    ranked: Sequence[Candidate],
    *,
    max_k: int = 3,
    min_n: float = 5.0,
    margin: float = 0.1,
    confident_mean: float = 0.9,
) -> int:
    """How many specialists to ask for one subtask (redundancy when trust is uncertain).

    k = 1 when the top candidate is established (n ≥ min_n, not a newcomer)
    and either clearly ahead of the runner-up (posterior means differ by more
    than ``margin`` + both standard deviations) or confidently good (mean ≥
    ``confident_mean``). Otherwise 2, or 3 when the top one is a newcomer or
    has no evidence at all. Never more than the candidates available or max_k.
    """
    if not ranked:
        return 0
    top = ranked[0]
    p = top.posterior or prior(top.status)
    k = 1
    if top.status == "newcomer" or p.n < 1.0:
        k = 3
    elif p.n < min_n:
        k = 2
    elif len(ranked) > 1:
        q = ranked[1].posterior or prior(ranked[1].status)
        clear = p.mean - q.mean > margin + p.std + q.std
        if not (clear or p.mean >= confident_mean):
            k = 2
    return max(1, min(k, max_k, len(ranked)))
