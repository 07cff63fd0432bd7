"""Hypothesis properties of the trust math and the ledger."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micromarket.capability_index.ledger import TrustLedger
from micromarket.benchmarks.trust_research import update
from micromarket.capability_index.trust import EVIDENCE_WEIGHTS, MAX_WEIGHT, Candidate, consensus, make_posterior, rank
from micromarket.errors import InputError

counts = st.floats(min_value=1.0, max_value=500.0, allow_nan=False)
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
good_kinds = st.sampled_from(sorted(k for k in EVIDENCE_WEIGHTS if k not in ("error", "timeout", "injection")))


bad_units = st.one_of(
    st.just(float("nan")), st.just(float("inf")), st.just(float("-inf")),
    st.floats(max_value=0.0, exclude_max=True, allow_nan=False),
    st.floats(min_value=1.0, exclude_min=True, allow_nan=False),
)


@given(a=counts, b=counts, pa=counts, pb=counts, kind=good_kinds, w=st.none() | st.floats(0.01, MAX_WEIGHT))
def test_success_never_lowers_against_unchanged_peer(a, b, pa, pb, kind, w):
    me, peer = make_posterior(a, b), make_posterior(pa, pb)
    after = update(me, kind, True, w)
    assert after.mean >= me.mean
    assert after.mean - peer.mean >= me.mean - peer.mean - 1e-12


@given(a=counts, b=counts, pa=counts, pb=counts, seed=st.integers(0, 2**32), sim=unit, psim=unit)
def test_greedy_leader_stays_leader_after_success(a, b, pa, pb, seed, sim, psim):
    # (the score is in expected accuracy, a monotone map of trust, so this holds on either scale)
    def cands(p):
        return [Candidate("me.x", "me", "x", sim, 1.0, posterior=p),
                Candidate("peer.x", "peer", "x", psim, 1.0, posterior=make_posterior(pa, pb))]
    before = rank(cands(make_posterior(a, b)), rng=random.Random(seed), exploration=0.0)
    if before[0].key == "me.x" and before[0].score > before[1].score:
        after = rank(cands(update(make_posterior(a, b), "verified", True)), rng=random.Random(seed), exploration=0.0)
        assert after[0].key == "me.x"


statuses = st.sampled_from(["active", "newcomer", "quarantined"])


@st.composite
def candidate_lists(draw):
    n = draw(st.integers(0, 8))
    out = []
    for i in range(n):
        out.append(Candidate(f"s{i}.c", f"s{i}", "c", draw(unit), draw(st.floats(0, 100, allow_nan=False)),
                             status=draw(statuses), posterior=make_posterior(draw(counts), draw(counts))))
    return out


@given(cs=candidate_lists(), seed=st.integers(0, 2**32), lam=unit, share=unit,
       budget=st.none() | st.floats(0, 100, allow_nan=False), min_sim=unit, gated=st.booleans(),
       settle=st.none() | st.floats(1, 100), fam=st.none() | st.tuples(st.floats(0.01, 0.99), st.floats(1, 50)))
def test_quarantined_never_ranked_and_filters_hold(cs, seed, lam, share, budget, min_sim, gated, settle, fam):
    for i, c in enumerate(cs):
        c.family = fam if i % 2 else None
    kw = {"gated": gated, "settle": settle}
    out = rank(cs, rng=random.Random(seed), quality_cost=lam, newcomer_share=share, budget=budget,
               min_similarity=min_sim, **kw)
    assert all(c.status != "quarantined" for c in out)
    assert all(c.similarity >= min_sim for c in out)
    assert budget is None or all(c.cost <= budget for c in out)
    eligible = {c.key for c in cs if c.status != "quarantined" and c.similarity >= min_sim
                and (budget is None or c.cost <= budget)}
    assert {c.key for c in out} == eligible
    # deterministic for a fixed seed, whatever the input order
    again = rank(list(reversed(cs)), rng=random.Random(seed), quality_cost=lam, newcomer_share=share,
                 budget=budget, min_similarity=min_sim, **kw)
    assert [c.key for c in again] == [c.key for c in out]


bad_numbers = st.one_of(
    st.just(float("nan")), st.just(float("inf")), st.just(float("-inf")),
    st.floats(max_value=0.0, allow_nan=False), st.floats(min_value=MAX_WEIGHT, exclude_min=True, allow_nan=False),
)


@given(w=bad_numbers, kind=st.sampled_from(sorted(EVIDENCE_WEIGHTS)), ok=st.booleans())
def test_bad_weights_rejected_pure(w, kind, ok):
    with pytest.raises(InputError, match="weight"):
        update(make_posterior(1, 1), kind, ok, w)


@pytest.fixture(scope="module")
def led(tmp_path_factory):
    ledger = TrustLedger(tmp_path_factory.mktemp("prop") / "l.sqlite")
    ledger.record_run("run", "task", {})
    ledger.record_routing({"run_id": "run", "subtask_id": "0", "chosen": "a.x", "specialist_id": "a",
                           "capability": "x", "outcome": "ok"})
    yield ledger
    ledger.close()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(w=bad_numbers, conf=st.none() | bad_units)
def test_bad_weights_and_confidence_rejected_by_ledger(led, w, conf):
    before = led.posterior("a", "x")
    with pytest.raises(InputError):
        led.record_evidence(run_id="r", subtask_id="0", specialist_id="a", capability="x", kind="verified",
                            success=True, weight=w)
    if conf is not None:
        with pytest.raises(InputError, match="confidence"):
            led.record_evidence(run_id="r2", subtask_id="0", specialist_id="a", capability="x", kind="verified",
                                success=True, confidence=conf)
    assert led.posterior("a", "x") == before


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(good=st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=5), st.lists(st.booleans(), max_size=2)))
def test_non_boolean_feedback_rejected(led, good):
    before = led.posterior("a", "x")
    with pytest.raises(InputError):
        led.feedback("run", good)
    assert led.posterior("a", "x") == before


@given(bad=bad_units)
def test_out_of_range_knobs_rejected(bad):
    c = [Candidate("a.x", "a", "x", 1.0, 1.0)]
    with pytest.raises(InputError):
        rank(c, rng=random.Random(0), quality_cost=bad)
    with pytest.raises(InputError):
        rank(c, rng=random.Random(0), newcomer_share=bad)


answers = st.lists(
    st.fixed_dictionaries({"key": st.text(min_size=1, max_size=3),
                           "answer": st.one_of(st.integers(-5, 5), st.sampled_from(["x", "Y", " y ", "1.0", "2"])),
                           "confidence": unit}),
    max_size=6,
)


@given(ans=answers)
def test_consensus_never_averages(ans):
    r = consensus(ans)
    assert r["value"] is None or any(r["value"] == a["answer"] for a in ans)
    assert r["disagreement"] == (len(r["groups"]) > 1)
    assert sum(len(g["members"]) for g in r["groups"]) == len(ans)
    assert math.isfinite(r["support"])
