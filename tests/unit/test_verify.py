"""Verification of a specialist's stated reading against the request (nodes/verify.py, specialists/interpretation.py)."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver import MCPServer

from micromarket.nodes.verify import UNVERIFIED_CAP, verify_outcome
from micromarket.specialists.interpretation import attach, stated, unexplained
from micromarket.specialists.result import SolveResult
from tests.conftest import inproc_card

WEIGHT = "I weigh 150 pounds, what's that in kg?"


def test_a_reading_that_ignores_the_quantities_is_flagged():
    assert unexplained(WEIGHT, "molar mass of I") == ["150", "pounds", "kg"]
    assert unexplained(WEIGHT, "150 lb -> kg") == []


@pytest.mark.parametrize("request_text, reading, missing", [
    ("How many hours from 2026-11-29 09:15 to 2026-11-30 18:45?", "from 2026-11-29 to 2026-11-30", ["09", "15", "18", "45"]),
    ("monthly payment on a 300k mortgage at 7% for 30 years", "loan of 300000 at 7% for 30 years, payments monthly", []),
    ("monthly payment on a 300k mortgage at 7% for 30 years", "loan of 300000 at 7% for 30 years", ["monthly"]),
    ("How many days until Christmas 2026 from 2026-11-29", "from 2026-11-29 to 2026-12-25", ["Christmas"]),
    ("molar mass of Mg3(PO4)2", "Mg3(PO4)2", []),  # digits inside a formula are not separate quantities
    ("What is 40% of 85?", "evaluated (40/100)*85", []),
    ("Expand (x + 3)^2", "(x + 3)² = x² + 6x + 9", []),
])
def test_numbers_times_units_and_named_days_must_be_used(request_text, reading, missing):
    assert unexplained(request_text, reading) == missing


def test_prose_words_are_not_quantities():
    # "a pound of", "what day of the week": no number, so not a quantity to account for
    assert unexplained("What day of the week is 2031-01-01?", "2031-01-01 is a Wednesday") == []


def test_stated_reading_round_trips_through_the_explanation():
    expl = attach("1 lb = 0.4536 kg", "150 lb -> kg")
    assert stated(expl) == "150 lb -> kg"
    assert stated("no marker here") is None


def test_stated_reading_that_leaves_part_unexplained_is_a_decline():
    res = {"answer": "Molar mass of I = 126.900 g/mol", "confidence": 0.97,
           "explanation": attach("I (126.9)", "molar mass of I")}
    out = verify_outcome(WEIGHT, res)
    assert out["confidence"] == 0.0
    assert "150" in out["explanation"] and "unexplained" in out["explanation"]


def test_complete_reading_keeps_its_confidence():
    res = {"answer": "150 lb = 68.04 kg", "confidence": 0.97, "explanation": attach("", "150 lb -> kg")}
    assert verify_outcome(WEIGHT, res)["confidence"] == 0.97


def test_specialist_without_a_reading_is_capped_not_declined():
    res = {"answer": "126.9", "confidence": 0.99, "explanation": ""}
    out = verify_outcome(WEIGHT, res)
    assert out["confidence"] == UNVERIFIED_CAP and "not shown to use" in out["explanation"]
    ok = {"answer": "150 pounds = 68.04 kg", "confidence": 0.99, "explanation": ""}
    assert verify_outcome(WEIGHT, ok)["confidence"] == 0.99


# --- through the marketplace: a misreading is not presented as the answer --------------------------------

WEIGHTS = {"name": "weights", "description": "convert body weight pounds to kilograms, mass unit conversion",
           "examples": ["I weigh 150 pounds, what's that in kg?", "convert 3 pounds to kg"]}


def misreading_server() -> MCPServer:
    mcp = MCPServer("fake-misreader", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        return SolveResult(answer="Molar mass of I = 126.900 g/mol", confidence=0.97,
                           explanation=attach("I (126.9)", "molar mass of I"), value=126.9)

    return mcp


def reading_server() -> MCPServer:
    mcp = MCPServer("fake-reader", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        return SolveResult(answer="150 lb = 68.04 kg", confidence=0.9, explanation=attach("", "150 lb -> kg"), value=68.04)

    return mcp


@pytest.fixture
def market(tmp_path, monkeypatch):
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    mp = Marketplace.open(home=tmp_path / "home", builtins=False, call_timeout_s=5)
    mp.register(inproc_card("misreader", "tests.unit.test_verify:misreading_server", [WEIGHTS]))
    yield mp
    mp.close()


def test_marketplace_declines_a_confident_misreading(market):
    r = market.solve(WEIGHT)["subtasks"][0]
    assert r["status"] == "unsupported" and r["answer"] == ""
    assert "150" in r["reason"]


def test_marketplace_moves_on_to_a_specialist_that_read_the_request(market):
    market.register(inproc_card("reader", "tests.unit.test_verify:reading_server", [WEIGHTS]))
    for seed in range(10):
        r = market.solve(WEIGHT, seed=seed)["subtasks"][0]
        assert r["status"] == "ok" and r["specialist"] == "reader" and "68.04" in r["answer"]


def test_names_of_formats_and_standards_are_not_quantities_to_account_for():
    from micromarket.specialists.interpretation import unexplained

    assert unexplained("normalize 1999.12.23 to yyyy-mm-dd", "1999-12-23 from '1999.12.23'") == []
    assert unexplained("convert Oct.85 / 23Rd to ISO 8601", "1985-10-23 from 'Oct.85 / 23Rd'") == []
    assert unexplained("convert 5 mm to inches", "5 -> inches") == ["mm"]  # a unit is still a unit


@pytest.mark.parametrize(
    ("request_text", "reading", "missing"),
    [
        ("what's the GCD of 84 and 126", "(84.0) + (126.0)", ["GCD"]),  # read past the operation: a sum
        ("what's the GCD of 84 and 126", "gcd(84, 126)", []),
        ("the least common multiple of 12 and 18", "12 * 18", ["multiple"]),
        ("17 mod 5", "17 % 5", []),  # Python's remainder operator names the operation
        ("is 97 prime?", "97", ["prime"]),
        ("How many teaspoons are in a quarter cup?", "cup -> tsp (no amount given, assumed 1)", ["quarter"]),
        ("How many teaspoons are in a quarter cup?", "0.25 cup -> tsp", []),
    ],
)
def test_an_operation_the_request_names_must_be_in_the_reading(request_text, reading, missing):
    assert unexplained(request_text, reading) == missing


def test_an_answer_that_read_past_the_named_operation_is_a_decline():
    res = {"answer": "210", "confidence": 0.9, "explanation": attach("evaluated 84 + 126", "(84) + (126)")}
    out = verify_outcome("what's the GCD of 84 and 126", res)
    assert out["confidence"] == 0.0 and "GCD" in out["explanation"]
