"""Trust math and the selection policy. Pure functions, no I/O.

The ledger (capability_index/ledger.py) stores evidence and calls the update
functions here; the select node and the benchmarks call :func:`rank`. Keeping
the math in one place means the product and the benchmarks run the same code.

Model
-----
Each specialist × capability (× version) has a Beta(alpha, beta) posterior over
"the answer is right". Evidence of each kind has its own default weight
(:data:`EVIDENCE_WEIGHTS`). Negative accuracy evidence is multiplied by
``penalty`` (default 2): trust falls fast and recovers slowly, which blunts
on-off behaviour. Errors and timeouts are *reliability* evidence, kept in a
second Beta (``rel_ok``/``rel_fail``) and never mixed into accuracy.
Self-reported confidence is never evidence; only its calibration is tracked.

Posteriors decay towards the prior with a half-life, so old evidence fades.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

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
ACCURACY_KINDS = frozenset({"verified", "agreement", "disagreement", "user", "outcome", "injection"})
RELIABILITY_KINDS = frozenset({"error", "timeout"})
# kinds strong enough to vet a newcomer and to feed calibration
VERIFIED_KINDS = frozenset({"verified", "user", "agreement", "disagreement"})
STATUSES = ("active", "newcomer", "quarantined")


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


def update(p: Posterior, kind: str, success: bool, weight: float | None = None, *, penalty: float = DEFAULT_PENALTY, rel: tuple[float, float] | None = None) -> Posterior:
    """Pure posterior update (the ledger applies the same deltas in SQL)."""
    da, db, _, _ = evidence_delta(kind, success, weight, penalty=penalty)
    return replace(p, alpha=p.alpha + da, beta=p.beta + db, n=p.n + da + db)


def pool(p: Posterior, parent: Posterior | None, strength: float = 2.0) -> Posterior:
    """Shrink a capability posterior towards the specialist's overall record.

    Replaces the flat prior by ``strength`` pseudo-observations at the parent's
    mean, so a specialist that is good elsewhere starts higher on a new
    capability (and a bad one lower). ``n`` is unchanged: pooling is not evidence.
    """
    if parent is None or strength <= 0:
        return p
    m = parent.mean
    a = p.alpha - p.prior_alpha + strength * m
    b = p.beta - p.prior_beta + strength * (1.0 - m)
    return replace(p, alpha=max(a, 1e-3), beta=max(b, 1e-3))


def sharpen(p: Posterior, exploration: float) -> Posterior:
    """The posterior with its evidence counted 1/exploration times (same mean-ish, less spread)."""
    if exploration == 1.0:
        return p
    k = 1.0 / exploration
    a = p.prior_alpha + (p.alpha - p.prior_alpha) * k
    b = p.prior_beta + (p.beta - p.prior_beta) * k
    return replace(p, alpha=max(a, 1e-6), beta=max(b, 1e-6))


# --------------------------------------------------------------------------- selection


@dataclass
class Candidate:
    """One capability nominated by retrieval for a subtask."""

    key: str
    specialist_id: str
    capability: str
    similarity: float  # in [0,1]
    cost: float  # declared cost per call
    version: str = ""
    status: str = "active"  # "active" | "newcomer" | "quarantined"
    posterior: Posterior | None = None
    score: float = 0.0  # filled by rank()
    sampled_trust: float = 0.0
    extra: dict = field(default_factory=dict)
    # optional empirical-Bayes prior (mean, strength) from the specialist's other capabilities
    family: tuple[float, float] | None = None


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def prob_leader_best(means: Sequence[float], sds: Sequence[float], leader: int) -> float:
    """Approximate P(candidate ``leader`` is truly best) from score means and sds.

    Product of pairwise normal approximations P(score_L > score_j); a lower
    bound-ish estimate that is cheap, deterministic and needs no sampling.
    """
    p = 1.0
    for j, (m, s) in enumerate(zip(means, sds)):
        if j == leader:
            continue
        d = means[leader] - m
        v = sds[leader] ** 2 + s**2
        p *= normal_cdf(d / math.sqrt(v)) if v > 0 else (1.0 if d >= 0 else 0.0)
    return p


def empirical_prior(records: Iterable[Posterior], *, max_strength: float = 50.0) -> tuple[float, float] | None:
    """Empirical-Bayes Beta prior ``(mean, strength)`` from one specialist's per-capability records.

    Method of moments over the capabilities it has evidence on: the mean is the
    evidence-weighted mean of the capability means; the between-capability
    variance (minus the average sampling variance) sets how many
    pseudo-observations the prior is worth, ``m(1-m)/tau^2 - 1`` clipped to
    [1, max_strength]. With records on fewer than two capabilities there is
    nothing to pool and None is returned.
    """
    recs = [r for r in records if r.n > 0]
    if len(recs) < 2:
        return None
    tot = sum(r.n for r in recs)
    m = sum(r.n * r.mean for r in recs) / tot
    raw = sum(r.n * (r.mean - m) ** 2 for r in recs) / tot
    noise = sum(r.n * r.std**2 for r in recs) / tot
    tau2 = max(raw - noise, 1e-4)
    strength = min(max(m * (1.0 - m) / tau2 - 1.0, 1.0), max_strength)
    return m, strength


def empirical_priors(cells: dict[tuple[str, str], Posterior], *, iterations: int = 20,
                     max_strength: float = 50.0) -> dict[str, tuple[float, float]]:
    """Empirical-Bayes priors ``{specialist: (mean, strength)}`` corrected for capability difficulty.

    ``cells`` maps (specialist, capability) to its posterior. A specialist's raw
    average is confounded by *where* it was used: a router sends the strong,
    expensive specialist to the hard capabilities and the cheap one to the easy
    ones, so the raw averages understate the first and flatter the second. We
    fit an additive logit model, ``logit p = skill(specialist) + difficulty
    (capability)``, by evidence-weighted alternating least squares (difficulties
    shrunk towards 0), and return ``sigmoid(skill)`` as each specialist's prior
    mean. The strength is the method-of-moments value from the spread of its
    capabilities around that mean (as in :func:`empirical_prior`). Specialists
    with evidence on fewer than two capabilities get no entry.
    """
    data = [(sid, cap, p.n, _logit(p.mean)) for (sid, cap), p in cells.items() if p.n > 0]
    sids = {sid for sid, *_ in data}
    counts = {sid: sum(1 for s, *_ in data if s == sid) for sid in sids}
    skill = {sid: 0.0 for sid in sids}
    diff: dict[str, float] = {cap: 0.0 for _, cap, _, _ in data}
    for _ in range(iterations):
        num: dict[str, float] = {}
        den: dict[str, float] = {}
        for sid, cap, n, lg in data:
            num[sid] = num.get(sid, 0.0) + n * (lg - diff[cap])
            den[sid] = den.get(sid, 0.0) + n
        skill = {sid: num[sid] / den[sid] for sid in num}
        num, den = {}, {}
        for sid, cap, n, lg in data:
            num[cap] = num.get(cap, 0.0) + n * (lg - skill[sid])
            den[cap] = den.get(cap, 0.0) + n
        diff = {cap: num[cap] / (den[cap] + 1.0) for cap in num}
    out: dict[str, tuple[float, float]] = {}
    for sid in sids:
        if counts[sid] < 2:
            continue
        m = _sigmoid(skill[sid])
        recs = [p for (s, _), p in cells.items() if s == sid and p.n > 0]
        tot = sum(r.n for r in recs)
        raw = sum(r.n * (r.mean - m) ** 2 for r in recs) / tot
        noise = sum(r.n * r.std**2 for r in recs) / tot
        tau2 = max(raw - noise, 1e-4)
        out[sid] = (m, min(max(m * (1.0 - m) / tau2 - 1.0, 1.0), max_strength))
    return out


def pooled(p: Posterior, family: tuple[float, float] | None) -> Posterior:
    """``p`` with its status prior replaced by the family prior ``(mean, strength)`` (shrinkage)."""
    if family is None:
        return p
    m, strength = family
    a = p.alpha - p.prior_alpha + strength * m
    b = p.beta - p.prior_beta + strength * (1.0 - m)
    return replace(p, alpha=max(a, 1e-3), beta=max(b, 1e-3))


def accuracy_of(t: float, penalty: float = DEFAULT_PENALTY) -> float:
    """Expected accuracy implied by a trust value ``t`` on the penalised scale.

    With failures counted ``penalty`` times, a specialist right a fraction ``r``
    of the time has trust ``r / (r + penalty (1 - r))``; this is the inverse. The
    penalty is deliberate pessimism (trust falls fast); trading quality against
    cost must be done in expected correct answers, or easy capabilities (few
    failures, inflated trust gaps) would look more worth paying for than they are.
    Monotone, so it never changes the order of equally similar candidates.
    """
    if penalty == 1.0 or t <= 0.0 or t >= 1.0:
        return t
    return penalty * t / (1.0 + (penalty - 1.0) * t)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def share_difficulty(posts: Sequence[Posterior], families: Sequence[tuple[float, float] | None],
                     evidence: Sequence[float]) -> list[Posterior]:
    """Shift each family prior by how hard the *other* specialists found this capability.

    A capability's difficulty is shared: if every peer does worse here than on
    its own record elsewhere, a specialist with little evidence here probably
    will too. Each peer's deviation is ``logit(its shrunk mean here) -
    logit(its family mean)``; specialist j's prior mean moves by the
    evidence-weighted average of its peers' deviations, damped by j's family
    strength (``sum n_i d_i / (sum n_i + strength_j)``). ``posts`` are already
    pooled with their family prior (:func:`pooled`), ``evidence`` is each one's
    own evidence count. Only candidates with a family prior take part; j's own
    evidence is never counted twice.
    """
    devs = []
    for p, f, n in zip(posts, families, evidence):
        if f is None:
            devs.append(None)
            continue
        devs.append((max(n, 0.0), _logit(p.mean) - _logit(f[0])))
    out = []
    for j, (p, f) in enumerate(zip(posts, families)):
        if f is None:
            out.append(p)
            continue
        num = sum(d[0] * d[1] for i, d in enumerate(devs) if i != j and d is not None)
        den = sum(d[0] for i, d in enumerate(devs) if i != j and d is not None)
        if den <= 0:
            out.append(p)
            continue
        m, k = f
        m2 = _sigmoid(_logit(m) + num / (den + k))
        out.append(replace(p, alpha=max(p.alpha - k * m + k * m2, 1e-3), beta=max(p.beta - k * (1 - m) + k * (1 - m2), 1e-3)))
    return out


def rank(
    candidates: Sequence[Candidate],
    *,
    rng: random.Random,
    quality_cost: float = 0.0,
    budget: float | None = None,
    min_similarity: float = 0.0,
    newcomer_share: float = 0.1,
    exploration: float = 1.0,
    gated: bool = False,
    settle: float | None = 5.0,
    shared: bool = True,
) -> list[Candidate]:
    """Order candidates best first by trust × similarity, traded off against cost.

    - ``score = (1 - quality_cost) * accuracy_of(t) * similarity - quality_cost * cost / max_cost``
      where ``t`` (``sampled_trust``) is the candidate's drawn trust times its
      reliability and :func:`accuracy_of` undoes the failure penalty, so quality
      is traded against cost in expected correct answers.
      ``quality_cost = 0`` is quality only; ``1`` is the cheapest acceptable one
      (trust × similarity breaks ties). For two candidates this is a threshold on
      the expected gain per extra cost.
    - Gated Thompson sampling (``gated=True``, opt-in; measured worse): ``t`` is the
      posterior mean, except in an *exploration round*, where every candidate
      draws ``t ~ Beta(alpha, beta)``. A decision is an exploration round with
      probability ``1 - P(the mean-leader is best)``, estimated from the
      posteriors (:func:`prob_leader_best`). While posteriors overlap this is
      Thompson sampling; as evidence separates them, exploration fades, so the
      policy stops splitting traffic between candidates it can already tell
      apart, but an unlucky best candidate is rarely retried. ``gated=False``
      (default) draws on every decision.
    - Newcomers always draw from their posterior (they are unvetted), but compete
      only in a ``newcomer_share`` fraction of decisions; otherwise they rank
      after every established candidate (still available as fallbacks, and
      first when nothing else qualifies).
    - ``family`` on a candidate, ``(mean, strength)`` from :func:`empirical_priors`,
      replaces its flat prior (shrinkage towards the specialist's overall record);
      with ``shared`` the prior is shifted by how hard the other candidates found
      this capability (:func:`share_difficulty`).
    - Dropped: quarantined candidates, cost above ``budget`` (a per-call ceiling),
      similarity below ``min_similarity``.
    - ``settle``: once a posterior holds more than ``settle`` pieces of evidence
      (n), its draws come from the posterior with the evidence counted
      ``n / settle`` times, so the spread shrinks like 1/n instead of 1/sqrt(n).
      Thin posteriors explore as in plain Thompson sampling; well-known
      candidates stop splitting traffic they can already tell apart. None is
      plain Thompson sampling.
    - ``exploration`` scales the posterior spread: 1 is the posterior itself,
      values below 1 a sharper posterior (the evidence counted 1/exploration
      times), 0 is greedy on the posterior mean.
    - Deterministic for a fixed ``rng`` state: candidates are sampled in key order
      and ties broken by key. The input list is not modified (copies are returned).
    """
    lam = check_unit("quality_cost", quality_cost)
    share = check_unit("newcomer_share", newcomer_share)
    min_sim = check_unit("min_similarity", min_similarity)
    explo = check_unit("exploration", exploration, lo=0.0, hi=10.0)
    if budget is not None:
        budget = check_unit("budget", budget, lo=0.0, hi=float("1e300"))
    explore = rng.random() < share  # always drawn, so the rng stream does not depend on the pool
    u = rng.random()  # the exploration-round draw, likewise always drawn
    pool_: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (c.key, c.version)):
        if c.status not in STATUSES:
            raise InputError(f"candidate {c.key}: unknown status {c.status!r}")
        if c.status == "quarantined":
            continue
        sim = check_unit(f"similarity of {c.key}", c.similarity)
        cost = check_unit(f"cost of {c.key}", c.cost, lo=0.0, hi=float("1e300"))
        if sim < min_sim or (budget is not None and cost > budget):
            continue
        pool_.append(replace(c))
    if not pool_:
        return []
    max_cost = max(c.cost for c in pool_)
    raw = [c.posterior or prior(c.status) for c in pool_]
    posts = [pooled(p, c.family) for p, c in zip(raw, pool_)]
    if shared:
        posts = share_difficulty(posts, [c.family for c in pool_], [p.n for p in raw])
    sharp = [sharpen(p, explo * (min(1.0, settle / p.n) if settle and p.n > settle else 1.0)) if explo > 0 else p
             for p in posts]
    draws = [s.sample(rng) if explo > 0 else p.mean for s, p in zip(sharp, posts)]
    weights = [(1.0 - lam) * c.similarity * p.reliability for c, p in zip(pool_, posts)]
    costs = [(c.cost / max_cost if max_cost > 0 else 0.0) for c in pool_]
    est = [i for i, c in enumerate(pool_) if c.status != "newcomer"]
    round_explores = not gated
    if gated and explo > 0 and len(est) > 1:
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

    def order(c: Candidate):
        held_back = c.status == "newcomer" and not explore
        return (held_back, -c.score, c.key, c.version)

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


# --------------------------------------------------------------------------- consensus

_NUM_RE = re.compile(r"^[-+]?(?:\d+(?:[.,]\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")


def _as_number(x: object) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, str):
        s = x.strip().replace("\u2212", "-").replace(" ", "").replace("_", "")
        if s.count(",") and s.count("."):  # 1,234.5
            s = s.replace(",", "")
        elif s.count(",") == 1 and len(s.split(",")[1]) != 3:  # 3,14 (decimal comma)
            s = s.replace(",", ".")
        else:
            s = s.replace(",", "")
        if _NUM_RE.match(s):
            v = float(s)
            return v if math.isfinite(v) else None
    return None


def normalize_text(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold().strip()
    s = re.sub(r"[\s]+", " ", s)
    s = re.sub(r"[^\w\s.\-+/^*=()]", "", s)
    return s.strip(" .")


def _answer_value(a: dict) -> object:
    v = a.get("value")
    if v is None:
        v = a.get("answer")
    return v


def consensus(answers: Sequence[dict], *, rel_tol: float = 1e-3, abs_tol: float = 1e-9) -> dict:
    """Compare redundant answers to one subtask; surface disagreement, never average.

    Each answer is a dict with ``key`` (who answered), ``answer`` and/or
    ``value`` (``value`` wins when both are present), ``confidence`` in [0,1]
    (default 0.5) and optionally ``trust`` in [0,1] (default 1). Numbers are
    grouped by relative tolerance, strings after normalisation (case, width,
    whitespace, punctuation). A group's weight is the sum of confidence × trust.

    Returns ``{"value", "agreed", "disagreement", "support", "groups"}``:
    ``value`` is the heaviest group's representative answer (None on a tie or
    no answers), ``agreed`` is true when every answer falls in one group and
    there are at least two, ``disagreement`` is true when there are two or more
    groups, ``support`` is the winning group's share of the total weight.
    """
    groups: list[dict] = []
    for a in answers:
        if not isinstance(a, dict):
            raise InputError(f"consensus: each answer must be a mapping, got {type(a).__name__}")
        raw = _answer_value(a)
        if raw is None:
            continue
        conf = a.get("confidence", 0.5)
        conf = 0.5 if conf is None else check_unit("confidence", conf)
        trust = a.get("trust", 1.0)
        trust = 1.0 if trust is None else check_unit("trust", trust)
        w = conf * trust
        num = _as_number(raw)
        norm: object = num if num is not None else normalize_text(str(raw))
        for g in groups:
            if num is not None and g["numeric"]:
                if math.isclose(num, g["norm"], rel_tol=rel_tol, abs_tol=abs_tol):
                    break
            elif num is None and not g["numeric"] and norm == g["norm"]:
                break
        else:
            g = {"norm": norm, "numeric": num is not None, "value": raw, "members": [], "weight": 0.0}
            groups.append(g)
        g["members"].append(a.get("key"))
        g["weight"] += w
    groups.sort(key=lambda g: (-g["weight"], -len(g["members"])))
    total = sum(g["weight"] for g in groups)
    value = None
    support = 0.0
    if groups:
        tie = len(groups) > 1 and math.isclose(groups[0]["weight"], groups[1]["weight"]) and len(groups[0]["members"]) == len(groups[1]["members"])
        if not tie:
            value = groups[0]["value"]
            support = groups[0]["weight"] / total if total > 0 else 1.0 / len(groups)
    n_answers = sum(len(g["members"]) for g in groups)
    out_groups = [{"value": g["value"], "members": g["members"], "weight": round(g["weight"], 6)} for g in groups]
    return {
        "value": value,
        "agreed": len(groups) == 1 and n_answers >= 2,
        "disagreement": len(groups) > 1,
        "support": support,
        "groups": out_groups,
    }


def consensus_evidence(result: dict, trust: dict[str, float] | None = None) -> list[tuple[str, str, bool, float]]:
    """Turn a consensus result into ledger evidence ``(key, kind, success, weight)``.

    Agreement counts for a specialist in proportion to the *other* agreeing
    specialists' own trust (a clique of untrusted sybils earns little);
    a specialist outside a strict majority gets "disagreement" weighted by the
    majority's trust. Nothing is produced on a tie or a single answer.
    Self-reported confidence plays no part here.
    """
    trust = trust or {}
    groups = result.get("groups") or []
    if result.get("value") is None or sum(len(g["members"]) for g in groups) < 2:
        return []
    base_a = EVIDENCE_WEIGHTS["agreement"]
    base_d = EVIDENCE_WEIGHTS["disagreement"]
    top = groups[0]
    out: list[tuple[str, str, bool, float]] = []
    top_trust = [float(trust.get(k, 0.5)) for k in top["members"]]
    for i, k in enumerate(top["members"]):
        peers = top_trust[:i] + top_trust[i + 1 :]
        if peers:
            w = base_a * min(1.0, sum(peers))
            if w > 0:
                out.append((k, "agreement", True, w))
    if len(groups) > 1 and len(top["members"]) >= 2:
        w = base_d * min(1.0, sum(top_trust) / len(top_trust))
        for g in groups[1:]:
            for k in g["members"]:
                if w > 0:
                    out.append((k, "disagreement", False, w))
    return out


# --------------------------------------------------------------------------- calibration


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


# --------------------------------------------------------------------------- on-off detection


def binom_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    p = min(max(p, 0.0), 1.0)
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def sudden_drop(recent: Sequence[bool], successes: float, failures: float, *, min_fail: int = 3, p_value: float = 1e-4) -> bool:
    """True when the recent failures are far beyond the specialist's own long-run failure rate.

    ``recent`` is the last few verified outcomes (True = success), ``successes``
    and ``failures`` the raw long-run counts *before* that window. Used to
    demote an on-off attacker that built a record and then turned bad.
    """
    n = len(recent)
    fails = sum(1 for ok in recent if not ok)
    if fails < min_fail:
        return False
    base = (failures + 1.0) / (successes + failures + 2.0)  # Laplace-smoothed long-run failure rate
    return binom_tail(fails, n, base) < p_value
