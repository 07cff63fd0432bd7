"""Calibrated confidence: the isotonic map from a specialist × capability's self-reported confidence to the
confidence shown, fitted on its verified record (owned by the trust ledger)."""

from __future__ import annotations

import random

import pytest

from micromarket.capability_index.calibration import calibrator, interpolate, isotonic, shown_confidence


def test_isotonic_fit_is_monotone_and_pools_violators():
    knots = isotonic([(0.9, False), (0.5, True), (0.95, True), (0.7, False), (0.99, True)])
    ys = [y for _, y in knots]
    assert ys == sorted(ys)
    # 0.5 right, then 0.7 and 0.9 wrong violate monotonicity: pooled into one block, right 1 in 3
    assert knots[0] == pytest.approx((0.7, 1 / 3))
    assert interpolate(knots, 0.0) == knots[0][1] and interpolate(knots, 1.0) == knots[-1][1]


def test_overconfident_specialist_is_shown_lower_and_a_short_record_changes_nothing():
    rng = random.Random(0)
    record = [(0.95, rng.random() < 0.5) for _ in range(200)]  # claims 0.95, right half the time
    cal = calibrator(record)
    assert cal is not None and cal["n"] == 200
    shown = shown_confidence(0.95, cal)
    assert 0.45 < shown < 0.6
    assert calibrator(record[:3]) is None
    assert shown_confidence(0.95, None) == 0.95
    assert shown_confidence(0.0, cal) == 0.0  # a decline stays a decline


def test_calibration_separates_right_from_wrong_across_specialists():
    """Two specialists both claim 0.9; one is right 95% of the time, the other 40%: the shown confidence ranks them."""
    rng = random.Random(1)
    good = calibrator([(0.9, rng.random() < 0.95) for _ in range(100)])
    bad = calibrator([(0.9, rng.random() < 0.4) for _ in range(100)])
    assert shown_confidence(0.9, good) > 0.85 > 0.6 > shown_confidence(0.9, bad)


def test_ledger_owns_the_calibration_data(tmp_path):
    from micromarket.capability_index.ledger import TrustLedger

    led = TrustLedger(tmp_path / "t.sqlite")
    for i in range(10):
        led.record_evidence(run_id=f"r{i}", subtask_id="s1", specialist_id="a", capability="x", kind="user",
                            success=i % 2 == 0, confidence=0.9)
    led.record_evidence(run_id="z", subtask_id="s1", specialist_id="b", capability="x", kind="user", success=True, confidence=0.9)
    cals = led.calibrators([("a", "x"), ("b", "x")])
    assert cals[("b", "x")] is None  # one answer: too short a record
    assert cals[("a", "x")]["n"] == 10
    assert shown_confidence(0.9, cals[("a", "x")]) < 0.9
    led.close()
