"""Research-only trust math (benchmarks/trust_research.py): empirical-Bayes family priors."""

from __future__ import annotations

import random

import pytest

from micromarket.benchmarks.trust_research import empirical_priors, pooled, share_difficulty, with_family
from micromarket.capability_index.trust import Candidate, make_posterior, rank


def test_empirical_priors_correct_for_where_a_specialist_was_used():
    # both specialists are 0.1 apart everywhere; "strong" was only used on the hard capabilities
    acc = {"easy1": 0.9, "easy2": 0.85, "mid": 0.7, "hard1": 0.5, "hard2": 0.45}
    cells = {}
    for cap, p in acc.items():
        if cap.startswith("hard") or cap == "mid":
            cells[("strong", cap)] = make_posterior(1 + 100 * (p + 0.1), 1 + 100 * (0.9 - p))
        if not cap.startswith("hard"):
            cells[("weak", cap)] = make_posterior(1 + 100 * p, 1 + 100 * (1 - p))
    raw_strong = sum(cells[k].mean for k in cells if k[0] == "strong") / 3
    raw_weak = sum(cells[k].mean for k in cells if k[0] == "weak") / 3
    assert raw_strong < raw_weak  # naive averages rank them the wrong way round
    fam = empirical_priors(cells)
    assert fam["strong"][0] > fam["weak"][0]
    assert all(1.0 <= k <= 50.0 for _, k in fam.values())
    assert empirical_priors({("a", "x"): make_posterior(5, 2)}) == {}


def test_family_prior_and_shared_difficulty():
    fresh = make_posterior(1, 1)
    assert pooled(fresh, (0.8, 10.0)).mean == pytest.approx(0.8)
    assert pooled(fresh, None) is fresh
    # the peer does much worse here than its own record (0.8): the newcomer to this capability starts lower
    peer = pooled(make_posterior(1 + 10, 1 + 30), (0.8, 10.0))
    me = pooled(fresh, (0.7, 10.0))
    shifted = share_difficulty([me, peer], [(0.7, 10.0), (0.8, 10.0)], [0.0, 40.0])
    assert shifted[0].mean < me.mean
    assert shifted[1].mean == pytest.approx(peer.mean)  # my missing evidence moves nothing
    # no family: untouched
    assert share_difficulty([fresh], [None], [0.0]) == [fresh]


def test_rank_uses_family_and_stays_deterministic():
    fam = {"s": (0.9, 20.0), "w": (0.5, 20.0)}
    cs = with_family([Candidate("s.x", "s", "x", 1.0, 10.0, posterior=make_posterior(1, 1)),
                      Candidate("w.x", "w", "x", 1.0, 0.6, posterior=make_posterior(1, 1))], fam)
    r1 = [c.key for c in rank(cs, rng=random.Random(3), quality_cost=0.1)]
    r2 = [c.key for c in rank(list(reversed(cs)), rng=random.Random(3), quality_cost=0.1)]
    assert r1 == r2
    wins = sum(rank(cs, rng=random.Random(s), quality_cost=0.0)[0].key == "s.x" for s in range(200))
    assert wins > 180
