"""The math and quickcalc readers, arithmetic on amounts with units, and chains that pass a result (with its
unit) to the next step."""

from __future__ import annotations

import random

import pytest

from micromarket.specialists.reading.domains import domains


def test_generated_gold_calls_compute():
    from micromarket.benchmarks.understanding import TARGETS

    for name in ("math", "quickcalc"):
        _, expected = TARGETS[name]
        for e in domains()[name].sample(40, random.Random(1), heldout_templates=True):
            assert expected(e.gold) is not None, e.text


def _model(mod, text):
    res = mod.read_by_model(text)
    assert res is not None and res.confidence, text
    assert "read by minilm+heads" in res.explanation
    return mod.checked(text, res)


def test_math_reader_reads_the_operation_and_the_expression():
    from micromarket.specialists.builtin import math

    assert _model(math, "What is the sum of the first 100 positive integers?").value == 5050
    assert _model(math, "what do the first 20 odd numbers add up to?").value == 400
    res = _model(math, "evaluate x*(x*cos(x) + 2*sin(x)) at x = pi")
    assert res.value == pytest.approx(-9.8696044, rel=1e-6)
    assert "x*cos(x)" in _model(math, "Find the derivative of x^2*sin(x)").value.replace(" ", "")
    assert _model(math, "integrate x^2*sin(x) from 0 to pi").value == pytest.approx(5.8696044, rel=1e-6)


def test_math_rules_read_series_and_values_at_a_point():
    from micromarket.specialists.builtin import math

    assert math.solve_by_rules("What is the sum of the first 10 squares?").value == 385
    assert math.solve_by_rules("evaluate x^2 + 1 at x = 3").value == 10
    assert math.series_sum("cube", 3).value == 36


def test_quickcalc_reader_reads_arithmetic_in_words():
    from micromarket.specialists.builtin import quickcalc

    assert _model(quickcalc, "what's 15% of 80").value == 12
    assert quickcalc.expression_of("expr", [("NUM", "12"), ("SQ", "squared"), ("MINUS", "minus"), ("NUM", "5"), ("CUBE", "cubed")]) \
        == "(12.0)**2 - (5.0)**3"
    assert quickcalc.expression_of("expr", [("NUM", "12"), ("NUM", "5")]) is None  # two numbers, no operator
    assert quickcalc.expression_of("expr", [("NUM", "77"), ("SQ", "^"), ("NUM", "2")]) == "(77.0) ** (2.0)"
    assert quickcalc.expression_of("expr", [("NUM", "4"), ("SQ", "to"), ("CUBE", "the third power")]) == "(4.0)**3"
    assert quickcalc.expression_of("sub_from", [("NUM", "5"), ("NUM", "12")]) == "(12.0) - (5.0)"
    assert quickcalc.solve_task("12 squared minus 5 cubed").value == 19


def test_quickcalc_adds_amounts_with_units_and_verbs_on_one_amount():
    from micromarket.specialists.builtin import quickcalc

    res = quickcalc.solve_tool("add 10 pounds to 11.02311311 lb")
    assert res.value == pytest.approx(21.02311311) and res.answer.endswith("lb")
    assert quickcalc.solve_tool("5 km minus 300 m").value == pytest.approx(4.7)
    assert not quickcalc.solve_tool("add 10 pounds to 68 °F").confidence  # not amounts that add
    assert quickcalc.solve_tool("square 7").value == 49
    assert quickcalc.solve_tool("the square of 12 minus 5").value == 139


def test_a_dependency_passes_its_value_with_the_unit_its_answer_states():
    from micromarket.nodes.planner import split_task, substitute_inputs, value_text

    assert value_text({"value": 11.02311311, "answer": "5 kg = 11.02 lb"}) == "11.02311311 lb"
    assert value_text({"value": 68.0, "answer": "20 °C = 68 °F"}) == "68 °F"
    assert value_text({"value": 7.0, "answer": "mean = 7"}) == "7"
    assert value_text({"value": 0.5, "answer": "50%"}) == "0.5"  # the shown amount is not the value: no unit
    chain = split_task("Convert 5 kg to pounds, then add 10 pounds to that")
    assert [s["depends_on"] for s in chain] == [[], ["s1"]]
    from micromarket.nodes.run_specialist import safe_inputs

    inputs, problem = safe_inputs({"s1": {"status": "ok", "value": 11.02311311, "answer": "5 kg = 11.02 lb",
                                          "explanation": "1 kg = 2.2 lb"}})
    assert problem is None and inputs["s1"] == {"status": "ok", "value": 11.02311311, "answer": "11.02311311", "unit": "lb"}
    assert substitute_inputs(chain[1]["text"], inputs) == "add 10 pounds to 11.02311311 lb"
    assert substitute_inputs("multiply that by 4", inputs) == "multiply 11.02311311 by 4"  # plain arithmetic: the number
    square = split_task("Take the mean of 3, 7 and 11, then square it")
    assert [s["text"] for s in square] == ["Take the mean of 3, 7 and 11", "square it"] and square[1]["depends_on"] == ["s1"]


def test_learned_split_keeps_requests_whole_and_finds_the_chain():
    from micromarket.nodes.planner import split_task

    plan = split_task("Find the derivative of x^2*sin(x), then evaluate it at x = pi", learned=True)
    assert [s["text"] for s in plan] == ["Find the derivative of x^2*sin(x)", "evaluate it at x = pi"]
    assert plan[1]["depends_on"] == ["s1"]


def test_train_reading_cli_rejects_an_unknown_domain():
    from typer.testing import CliRunner

    from micromarket.specialists.reading.train import app

    out = CliRunner().invoke(app, ["--domain", "astrology", "--steps", "1"])
    assert out.exit_code != 0 and "unknown domain" in out.output


def test_after_a_decline_the_next_candidate_answers(monkeypatch):
    """'what's 12 squared minus 5 cubed?' with units drawn first: units declines, the next candidate answers; and
    the answer's shown confidence goes through the candidate's calibrator."""
    import asyncio

    import micromarket.nodes.run_specialist as rs

    tried = []

    async def fake_try(runtime, svc, cand, text, context, inputs=None):
        tried.append(cand["specialist_id"])
        if cand["specialist_id"] == "units":
            return {"key": cand["key"], "specialist_id": "units", "outcome": "declined", "latency_ms": 1.0}, None
        return ({"key": cand["key"], "specialist_id": cand["specialist_id"], "outcome": "ok", "latency_ms": 1.0},
                {"answer": "19", "confidence": 0.95, "explanation": "", "value": 19, "latency_ms": 1.0, "context_tokens": 0,
                 "version": "1"})

    async def no_services(runtime):
        return None

    monkeypatch.setattr(rs, "try_candidate", fake_try)
    monkeypatch.setattr(rs, "aservices", no_services)
    over = {"n": 20, "knots": [[0.9, 0.5], [1.0, 0.5]]}  # right half the time at 0.9-1.0
    cands = [{"key": "units.convert", "specialist_id": "units", "capability": "convert"},
             {"key": "quickcalc.arithmetic", "specialist_id": "quickcalc", "capability": "arithmetic", "calibrator": over},
             {"key": "math.arithmetic", "specialist_id": "math", "capability": "arithmetic"}]
    state = {"run_id": "r", "subtask": {"id": "s1", "text": "what's 12 squared minus 5 cubed?", "depends_on": []},
             "candidates": cands, "inputs": {}, "context": ""}
    out = asyncio.run(rs.solve_subtask(state, None))
    assert tried == ["units", "quickcalc"] and out["status"] == "ok" and out["specialist"] == "quickcalc"
    assert out["raw_confidence"] == 0.95 and out["confidence"] == pytest.approx((20 * 0.5 + 8 * 0.95) / 28, abs=1e-3)


def test_declines_do_not_use_up_the_attempts(monkeypatch):
    """Four candidates say "not mine" before the fifth reads the request: with the default max_attempts (3) the
    fifth is still asked, while failures do use up the attempts."""
    import asyncio

    import micromarket.nodes.run_specialist as rs

    tried = []

    def fake(outcome_of):
        async def fake_try(runtime, svc, cand, text, context, inputs=None):
            tried.append(cand["specialist_id"])
            outcome = outcome_of(cand["specialist_id"])
            att = {"key": cand["key"], "specialist_id": cand["specialist_id"], "outcome": outcome, "latency_ms": 1.0}
            if outcome != "ok":
                return att, None
            return att, {"answer": "6", "confidence": 0.95, "explanation": "", "value": 6, "latency_ms": 1.0,
                         "context_tokens": 0, "version": "1"}
        return fake_try

    async def no_services(runtime):
        return None

    monkeypatch.setattr(rs, "aservices", no_services)
    names = ["units", "dates", "finance", "stats", "math"]
    cands = [{"key": f"{n}.x", "specialist_id": n, "capability": "x"} for n in names]
    state = {"run_id": "r", "subtask": {"id": "s1", "text": "the GCD of 84 and 126", "depends_on": []},
             "candidates": cands, "inputs": {}, "context": ""}
    monkeypatch.setattr(rs, "try_candidate", fake(lambda n: "ok" if n == "math" else "declined"))
    out = asyncio.run(rs.solve_subtask(state, None))
    assert tried == names and out["status"] == "ok" and out["specialist"] == "math"

    tried.clear()
    monkeypatch.setattr(rs, "try_candidate", fake(lambda n: "ok" if n == "math" else "error"))
    out = asyncio.run(rs.solve_subtask(state, None))
    assert tried == names[:3] and out["status"] == "failed"


def test_math_interval_bounds_and_operation_words():
    from micromarket.specialists.builtin.math import _INTERVAL_RE, _OP_WORDS

    m = _INTERVAL_RE.search("integrate x^2 over [2, 4]")
    assert (m.group("lo"), m.group("hi")) == ("2", "4")
    assert _INTERVAL_RE.search("area under sin(x) on [0, pi/2]").group("hi") == "pi/2"
    assert not _INTERVAL_RE.search("integrate sin(x)")
    assert not _OP_WORDS["derivative"].search("find sin(k) at k = -2")  # no word names a derivative: an evaluation
    assert _OP_WORDS["derivative"].search("what is f'(2) when f = x^3")
    assert _OP_WORDS["limit"].search("what does 1/x tend to as x goes to oo")


def test_quickcalc_power_phrase_names_its_power():
    from micromarket.specialists.builtin.quickcalc import expression_of

    spans = [("NUM", "206"), ("CUBE", "to the second power"), ("PLUS", "together with"), ("NUM", "207"), ("CUBE", "to the power of three")]
    assert expression_of("expr", spans) == "(206.0)**2 + (207.0)**3"
