"""TrustLedger: idempotent evidence, decay, runs, routing records, feedback, identities, status."""

from __future__ import annotations

import math

import pytest

from micromarket.capability_index.ledger import TrustLedger
from micromarket.errors import InputError, UnknownRunError


class Clock:
    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def led(tmp_path, clock):
    ledger = TrustLedger(tmp_path / "ledger.sqlite", clock=clock)
    yield ledger
    ledger.close()


def ev(led, run, sid="a", cap="x", kind="verified", success=True, **kw):
    return led.record_evidence(run_id=run, subtask_id="0", specialist_id=sid, capability=cap, kind=kind,
                               success=success, **kw)


def test_wal_mode(led):
    assert led.db.conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"


def test_unknown_pair_is_the_prior(led):
    p = led.posterior("nobody", "nothing")
    assert (p.alpha, p.beta, p.n) == (1.0, 1.0, 0.0)
    assert p.mean == 0.5


def test_evidence_is_idempotent(led):
    assert ev(led, "r1") is True
    assert ev(led, "r1") is False
    assert led.posterior("a", "x").alpha == 2.0
    # another kind on the same subtask is other evidence
    assert ev(led, "r1", kind="agreement") is True
    assert led.posterior("a", "x").alpha == 2.5


def test_failure_falls_faster_than_success_rises(led):
    ev(led, "r1", success=True)
    ev(led, "r2", success=False)
    p = led.posterior("a", "x")
    assert p.alpha - 1 == 1.0 and p.beta - 1 == 2.0  # penalty 2 on negative evidence


def test_errors_and_timeouts_are_reliability_not_accuracy(led):
    ev(led, "r1", kind="error", success=False)
    ev(led, "r2", kind="timeout", success=False)
    p = led.posterior("a", "x")
    assert (p.alpha, p.beta) == (1.0, 1.0)
    assert p.reliability < 1.0
    row = led.trust_table()[0]
    assert row["errors"] == 1 and row["timeouts"] == 1


def test_decay_towards_prior(led, clock):
    for i in range(10):
        ev(led, f"r{i}")
    assert led.posterior("a", "x").n == pytest.approx(10)
    clock.t += 30 * 86400  # one half-life
    assert led.posterior("a", "x").n == pytest.approx(5, rel=0.05)
    clock.t += 3000 * 86400
    assert led.posterior("a", "x").mean == pytest.approx(0.5, abs=1e-6)


def test_posteriors_batch(led):
    ev(led, "r1", sid="a")
    ev(led, "r1", sid="b", success=False)
    out = led.posteriors([("a", "x"), ("b", "x"), ("c", "x")])
    assert out[("a", "x")].mean > out[("c", "x")].mean > out[("b", "x")].mean


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), -1.0, 0.0, 1e9, "1", True])
def test_bad_weights_rejected(led, weight):
    with pytest.raises(InputError, match="weight"):
        ev(led, "r1", weight=weight)
    assert led.posterior("a", "x").n == 0


@pytest.mark.parametrize("kind", ["rating", "peer_review", "", None])
def test_unknown_kinds_rejected(led, kind):
    with pytest.raises(InputError, match="kind"):
        ev(led, "r1", kind=kind)


def test_confidence_is_calibration_not_evidence(led):
    ev(led, "r1", success=False, confidence=1.0)
    ev(led, "r2", success=False, confidence=0.9)
    ev(led, "r3", sid="b", success=False)
    ev(led, "r4", sid="b", success=False)
    pa, pb = led.posterior("a", "x"), led.posterior("b", "x")
    assert (pa.alpha, pa.beta) == (pb.alpha, pb.beta)  # confidence changed nothing
    rows = {r["specialist_id"]: r for r in led.trust_table()}
    assert rows["a"]["calibration"]["brier"] == pytest.approx((1.0 + 0.81) / 2)
    assert rows["b"]["calibration"] is None
    with pytest.raises(InputError, match="confidence"):
        ev(led, "r5", confidence=float("nan"))


def test_runs_routing_and_feedback(led):
    led.record_run("run1", "task text", {"answer": "42"})
    assert led.get_run("run1")["result"] == {"answer": "42"}
    assert led.get_run("nope") is None
    led.record_routing({"run_id": "run1", "subtask_id": "s0", "subtask": "t", "capability_query": "q",
                        "candidates": [{"key": "a.x", "similarity": 0.9, "trust": 0.5, "cost": 0.0, "score": 0.4}],
                        "chosen": "a.x", "specialist_id": "a", "capability": "x", "outcome": "ok",
                        "latency_ms": 12.0, "confidence": 0.8, "attempts": [], "context_tokens": 0})
    led.record_routing({"run_id": "run1", "subtask_id": "s1", "chosen": None, "outcome": "unsupported"})
    recs = led.routing_records(run_id="run1")
    assert len(recs) == 2 and recs[0]["outcome"] == "unsupported"
    assert led.routing_records()[1]["chosen"] == "a.x"
    before = led.posterior("a", "x").mean
    out = led.feedback("run1", False)
    assert [(o["specialist_id"], o["capability"], o["updated"]) for o in out] == [("a", "x", True)]
    assert led.posterior("a", "x").mean < before
    # replayed feedback counts nothing
    again = led.feedback("run1", False)
    assert again[0]["updated"] is False
    assert led.posterior("a", "x").mean == out[0]["mean_after"]


def test_feedback_rejects_bad_input(led):
    led.record_run("run1", "t", {})
    with pytest.raises(UnknownRunError):
        led.feedback("missing", True)
    for bad in (None, 1, "yes", float("nan")):
        with pytest.raises(InputError):
            led.feedback("run1", bad)
    with pytest.raises(InputError):
        led.feedback("", True)
    with pytest.raises(InputError):
        led.feedback("run1", True, subtask_id="nope")


def test_status_and_quarantine(led):
    assert led.status("a") == "active"
    led.set_status("a", "quarantined", "manual")
    assert led.status("a") == "quarantined"
    assert led.statuses() == {"a": "quarantined"}
    with pytest.raises(InputError):
        led.set_status("a", "banned")


def test_whitewashing_keeps_history(led):
    assert led.register("bad", "fp1", "http://x/mcp", status="active")["inherited_from"] is None
    for i in range(5):
        ev(led, f"r{i}", sid="bad", success=False)
    led.set_status("bad", "quarantined", "caught")
    low = led.posterior("bad", "x").mean
    # same endpoint under a new id: inherits history and quarantine
    assert led.register("fresh", "fp2", "http://x/mcp")["inherited_from"] == "bad"
    assert led.posterior("fresh", "x").mean == pytest.approx(low)
    assert led.status("fresh") == "quarantined"
    # same fingerprint
    assert led.register("fresh2", "fp1", "http://y/mcp")["inherited_from"] == "bad"
    # a genuinely new identity is a newcomer with a low prior
    assert led.register("new", "fp3", "http://z/mcp")["inherited_from"] is None
    assert led.status("new") == "newcomer"
    assert led.posterior("new", "x").mean < 0.5


def test_newcomer_vetted_after_verified_successes(led):
    led.register("n", "fpn", "epn")
    for i in range(4):
        ev(led, f"r{i}", sid="n")
    assert led.status("n") == "newcomer"
    ev(led, "r4", sid="n")
    assert led.status("n") == "active"


def test_on_off_attacker_demoted(led, clock):
    for i in range(100):
        clock.t += 1
        ev(led, f"good{i}", sid="oo", success=(i % 20 != 0))
    assert led.status("oo") == "active"
    bad = 0
    while led.status("oo") == "active":
        clock.t += 1
        ev(led, f"bad{bad}", sid="oo", success=False)
        bad += 1
        assert bad <= 10
    assert "demoted" in led.status_info("oo")["reason"]


def test_honest_specialist_not_demoted(led, clock):
    import random

    rng = random.Random(0)
    for i in range(2000):
        clock.t += 1
        ev(led, f"r{i}", sid="h", success=rng.random() < 0.9)
    assert led.status("h") == "active"


def test_injection_quarantines(led):
    ev(led, "r1", kind="injection", success=False)
    assert led.status("a") == "quarantined"


def test_per_version_posteriors(led):
    for i in range(10):
        ev(led, f"r{i}", version="1.0")
    v1 = led.posterior("a", "x", version="1.0")
    v2 = led.posterior("a", "x", version="2.0")
    agg = led.posterior("a", "x")
    assert v1.n == pytest.approx(10) and agg.n == pytest.approx(10)
    assert v2.n == pytest.approx(5)  # half the history carries over to a new version
    ev(led, "s", version="2.0", success=False)
    assert led.posterior("a", "x", version="2.0").mean < v2.mean
    assert led.trust_table()[0]["versions"] == 2


def test_bad_ids_rejected(led):
    with pytest.raises(InputError):
        ev(led, "", sid="a")
    with pytest.raises(InputError):
        led.record_evidence(run_id="r", subtask_id="0", specialist_id="a" * 1000, capability="x",
                            kind="verified", success=True)
    with pytest.raises(InputError):
        led.record_evidence(run_id="r", subtask_id="0", specialist_id="a", capability="x",
                            kind="verified", success="yes")
    with pytest.raises(InputError):
        led.record_routing({"run_id": "r", "outcome": "great"})


def test_closed_ledger_errors_cleanly(tmp_path):
    led = TrustLedger(tmp_path / "l.sqlite")
    led.close()
    with pytest.raises(InputError, match="closed"):
        led.posterior("a", "x")


def test_trust_table_values_are_finite(led):
    ev(led, "r1")
    for row in led.trust_table():
        assert all(math.isfinite(row[k]) for k in ("alpha", "beta", "mean", "n"))
