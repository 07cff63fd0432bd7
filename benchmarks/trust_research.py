"""Research-only trust math used by the benchmarks, not by the product.

- :func:`update`: the pure posterior update the ledger applies in SQL (for simulations).
- empirical-Bayes family priors (:func:`empirical_prior`, :func:`empirical_priors`) and
  their application to candidates (:func:`pooled`, :func:`share_difficulty`, :func:`with_family`):
  measured in benchmarks/trust.py (``--family``); not wired into selection.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

from micromarket.capability_index.posterior import DEFAULT_PENALTY, Posterior, evidence_delta, prior
from micromarket.capability_index.ranking import RANKED, Candidate


def update(p: Posterior, kind: str, success: bool, weight: float | None = None, *, penalty: float = DEFAULT_PENALTY, rel: tuple[float, float] | None = None) -> Posterior:
    """Pure posterior update (the ledger applies the same deltas in SQL)."""
    da, db, _, _ = evidence_delta(kind, success, weight, penalty=penalty)
    return replace(p, alpha=p.alpha + da, beta=p.beta + db, n=p.n + da + db)


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


def with_family(cands: Sequence[Candidate], families: dict[str, tuple[float, float] | None], *,
                shared: bool = True) -> list[Candidate]:
    """Copies of ``cands`` whose posteriors use their specialist's family prior (shrinkage),
    shifted by how hard the other rankable candidates found this capability when ``shared``.

    Apply it to the candidates ``rank`` will keep (it drops quarantined and disabled ones here;
    filter by similarity or budget first if you use those).
    """
    out = [replace(c) for c in cands]
    live = [c for c in out if c.status in RANKED]
    raw = [c.posterior or prior(c.status) for c in live]
    fams = [families.get(c.specialist_id) for c in live]
    posts = [pooled(p, f) for p, f in zip(raw, fams)]
    if shared:
        posts = share_difficulty(posts, fams, [p.n for p in raw])
    for c, p in zip(live, posts):
        c.posterior = p
    return out
