"""Chained tasks end to end with the real built-in specialists (units, math/quickcalc, dates), real MiniLM and MCP subprocesses."""

from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.integration

CHAIN = "Convert 10 miles to km, then multiply that by 3, then add that many days to 2024-01-01"


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    from micromarket import Marketplace

    mp = Marketplace.open(home=tmp_path_factory.mktemp("dag") / "home")  # registers the builtins, builds the index
    yield mp
    mp.close()


def _by_id(out):
    return {r["subtask_id"]: r for r in out["subtasks"]}


def test_units_then_arithmetic_then_date_offset(market):
    # Thompson sampling may try a wrong specialist first; it declines and the next is tried (declines are free)
    out = market.solve(CHAIN, seed=1)
    r = _by_id(out)
    assert [r[s]["status"] for s in ("s1", "s2", "s3")] == ["ok", "ok", "ok"], out["answer"]
    assert [r[s]["depends_on"] for s in ("s1", "s2", "s3")] == [[], ["s1"], ["s2"]]
    assert r["s1"]["specialist"] == "units" and float(r["s1"]["value"]) == pytest.approx(16.09344)
    assert r["s2"]["text"] == "multiply 16.09344 by 3" and float(r["s2"]["value"]) == pytest.approx(48.28032)
    assert r["s3"]["text"] == "add 48 days to 2024-01-01"  # "that many days" is a whole count
    assert r["s3"]["specialist"] == "dates" and r["s3"]["value"] == "2024-02-18"
    assert "2024-02-18" in out["answer"]
    for x in out["subtasks"]:
        assert x["provenance"]["specialist"] == x["specialist"] and x["provenance"]["version"]


def test_convert_then_multiply(market):
    out = market.solve("Convert 3 miles to km, then multiply that by 4", seed=2)
    r = _by_id(out)
    assert r["s2"]["depends_on"] == ["s1"] and r["s2"]["text"] == "multiply 4.828032 by 4"
    assert float(r["s2"]["value"]) == pytest.approx(19.312128)


def test_chain_with_a_long_context_sends_each_specialist_a_slice(market):
    from micromarket.benchmarks.context import make_case
    from micromarket.nodes.context_slicing import count_tokens

    case = make_case(random.Random(11), 5000)
    out = market.solve(CHAIN, context=case["context"], seed=3)
    r = _by_id(out)
    assert r["s3"]["value"] == "2024-02-18", out["answer"]
    full = count_tokens(case["context"])
    recs = market.routing(out["run_id"])
    for rec in recs:
        budget = market.card(rec["specialist_id"]).context_tokens
        assert rec["context_tokens"] <= min(budget, 0.2 * full), rec
    assert any(rec["context_tokens"] > 0 for rec in recs)  # the dependents at least get their inputs' results
