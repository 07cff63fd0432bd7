"""DAG planning: offline and chat-model plans, validation, waves, and the graph running them in waves."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from micromarket.graphs.state import Subtask
from micromarket.nodes.decompose import plan_with_model
from micromarket.nodes.planner import PlanError, split_task, substitute_inputs, validate_plan, waves
from micromarket.specialists.result import SolveResult
from tests.conftest import inproc_card
from tests.fakes.chat import ScriptedChatModel

CALLS: list[dict] = []  # (server, task, context, start, end): in-process servers share this process


def _server(name: str, sleep: float, solve_fn):
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer(name, log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        t0 = time.monotonic()
        await asyncio.sleep(sleep)
        out = solve_fn(task, context)
        CALLS.append({"server": name, "task": task, "context": context, "start": t0, "end": time.monotonic(), "ok": out.confidence > 0})
        return out

    return mcp


def _first_call(task_part: str) -> dict:
    """A subtask's span: from its first specialist call (which may decline) to the end of its last."""
    calls = [c for c in CALLS if task_part in c["task"]]
    return {"start": min(c["start"] for c in calls), "end": max(c["end"] for c in calls)}


def _overlap(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def _first_number(task: str) -> float | None:
    m = re.search(r"-?\d+(?:\.\d+)?", task)
    return float(m.group()) if m else None


def slow_miles_server():
    def f(task, context):
        n = _first_number(task)
        if n is None or "mile" not in task.lower():
            return SolveResult(answer="", confidence=0.0, explanation="no miles")
        return SolveResult(answer=f"{n:g} mi = {n * 1.609344:.6g} km", confidence=0.95, explanation="1 mi = 1.609344 km", value=n * 1.609344)

    return _server("slow-miles", 0.6, f)


def slow_integral_server():
    def f(task, context):
        if "integrate" not in task.lower():
            return SolveResult(answer="", confidence=0.0, explanation="not an integral")
        return SolveResult(answer="π² − 4 ≈ 5.8696", confidence=0.97, explanation="by parts", value=5.869604401)

    return _server("slow-integral", 0.6, f)


def multiply_server():
    def f(task, context):
        m = re.search(r"multiply\s+(-?\d+(?:\.\d+)?)\s+by\s+(-?\d+(?:\.\d+)?)", task, re.I)
        if not m:
            return SolveResult(answer="", confidence=0.0, explanation="no product in " + task)
        a, b = float(m.group(1)), float(m.group(2))
        return SolveResult(answer=f"{a * b:.10g}", confidence=0.99, explanation=f"context seen: {context}", value=a * b)

    return _server("mult", 0.0, f)


MILES_CAP = {"name": "convert_length", "description": "convert miles to kilometers, length unit conversion of distances",
             "examples": ["convert 5 miles to km", "how many kilometers is 26.2 miles"]}
INTEGRAL_CAP = {"name": "integrate", "description": "integrate a function, definite integral of an expression from a to b",
                "examples": ["integrate x^2 from 0 to 1", "integrate sin(x) from 0 to pi"]}
MULT_CAP = {"name": "multiply", "description": "multiply a number by another number, product arithmetic",
            "examples": ["multiply 3 by 4", "multiply 2.5 by 8"]}


@pytest.fixture
def dag_market(tmp_path, monkeypatch):
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    CALLS.clear()
    mp = Marketplace.open(home=tmp_path / "home", builtins=False, call_timeout_s=10)
    mp.register(inproc_card("miles", f"{__name__}:slow_miles_server", [MILES_CAP]))
    mp.register(inproc_card("calculus", f"{__name__}:slow_integral_server", [INTEGRAL_CAP]))
    mp.register(inproc_card("mult", f"{__name__}:multiply_server", [MULT_CAP]))
    yield mp
    mp.close()


# ------------------------------------------------------------------ offline planner


def test_then_that_makes_a_dependency():
    plan = split_task("Convert 3 miles to km, then multiply that by 4")
    assert [(s["text"], s["depends_on"]) for s in plan] == [("Convert 3 miles to km", []), ("multiply that by 4", ["s1"])]
    assert waves(plan) == [["s1"], ["s2"]]


def test_three_step_chain_and_independent_subtasks():
    plan = split_task("Convert 10 miles to km, then multiply that by 3, then add that many days to 2024-01-01")
    assert [s["depends_on"] for s in plan] == [[], ["s1"], ["s2"]]
    assert waves(plan) == [["s1"], ["s2"], ["s3"]]
    indep = split_task("Convert 26.2 miles to kilometers, then integrate x^2*sin(x) from 0 to pi")
    assert [s["depends_on"] for s in indep] == [[], []] and waves(indep) == [["s1", "s2"]]


def test_substitute_inputs_puts_the_value_in_the_text():
    r = {"status": "ok", "value": 4.828032, "answer": "3 mi = 4.828 km"}
    assert substitute_inputs("multiply that by 4", {"s1": r}) == "multiply 4.828032 by 4"
    assert substitute_inputs("add that many days to 2024-01-01", {"s2": {"value": 48.0, "answer": "48"}}) == "add 48 days to 2024-01-01"
    # "that many" is a count: the nearest whole number
    assert substitute_inputs("add that many days to 2024-01-01", {"s2": {"value": 48.28032}}) == "add 48 days to 2024-01-01"
    # no value: the answer is used; only the first back-reference takes a single input
    assert substitute_inputs("take that and add it to 3", {"s1": {"value": None, "answer": "5"}}) == "take 5 and add it to 3"
    assert substitute_inputs("add that to it", {"s1": {"value": 5.0}, "s2": {"value": "7"}}) == "add 5 to 7"
    assert substitute_inputs("no reference here", {"s1": {"value": 1.0}}) == "no reference here"


@pytest.mark.parametrize(
    "plan, match",
    [
        ([Subtask(id="s1", text="a", depends_on=["s2"]), Subtask(id="s2", text="b", depends_on=["s1"])], r"cycle: s1 -> s2 -> s1"),
        ([Subtask(id="s1", text="a", depends_on=["s1"])], "depends on itself"),
        ([Subtask(id="s1", text="a", depends_on=["s9"])], r"depends on 's9', which is not in the plan"),
        ([Subtask(id="s1", text="a", depends_on=[]), Subtask(id="s1", text="b", depends_on=[])], "duplicate"),
        ([Subtask(id="s1", text="a", depends_on=[]), Subtask(id="s2", text="b", depends_on=["s3"]),
          Subtask(id="s3", text="c", depends_on=["s4"]), Subtask(id="s4", text="d", depends_on=["s2"])], r"cycle: s2 -> s3 -> s4 -> s2"),
    ],
)
def test_bad_plans_are_clear_errors(plan, match):
    with pytest.raises(PlanError, match=match):
        validate_plan(plan)
    with pytest.raises(ValueError):  # PlanError is a ValueError too
        waves(plan)


# ------------------------------------------------------------------ the chat-model planner


async def test_model_plan_with_dependencies_is_a_dag():
    model = ScriptedChatModel(responses=['{"subtasks": [{"text": "Convert 3 miles to km"}, {"text": "multiply that by 4", "depends_on": [1]}]}'])
    plan = await plan_with_model(model, "Convert 3 miles to km, then multiply that by 4")
    assert plan == [Subtask(id="s1", text="Convert 3 miles to km", depends_on=[]), Subtask(id="s2", text="multiply that by 4", depends_on=["s1"])]


@pytest.mark.parametrize(
    "reply, match",
    [
        ('{"subtasks": [{"text": "a", "depends_on": [2]}, {"text": "b", "depends_on": [1]}]}', "cycle"),
        ('{"subtasks": [{"text": "a"}, {"text": "b", "depends_on": [7]}]}', r"depends on subtask 7, which is not in the plan \(1..2\)"),
        ('{"subtasks": [{"text": "a", "depends_on": [1]}]}', "depends on itself"),
        ('{"subtasks": [{"text": "a"}, {"text": "b", "depends_on": [0]}]}', "not in the plan"),
        ('{"subtasks": [{"text": "  "}]}', "empty"),
    ],
)
async def test_model_plan_with_bad_dependencies_raises_a_clear_error(reply, match):
    with pytest.raises(PlanError, match=match):
        await plan_with_model(ScriptedChatModel(responses=[reply]), "whatever")


def test_model_plan_with_a_cycle_falls_back_to_the_offline_planner_with_a_warning(dag_market, monkeypatch):
    cyclic = ScriptedChatModel(responses=[
        '{"subtasks": [{"text": "Convert 3 miles to km", "depends_on": [2]}, {"text": "multiply that by 4", "depends_on": [1]}]}',
        "not used",
    ])
    monkeypatch.setattr(type(dag_market.services), "chat_model", lambda self, spec: cyclic if spec else None)
    out = dag_market.solve("Convert 3 miles to km, then multiply that by 4", chat_model="fake:planner")
    assert any("not a valid DAG" in w and "cycle" in w for w in out["warnings"]), out.get("warnings")
    by_id = {r["subtask_id"]: r for r in out["subtasks"]}
    assert by_id["s2"]["depends_on"] == ["s1"] and by_id["s2"]["status"] == "ok"
    assert by_id["s2"]["text"] == "multiply 4.828032 by 4" and by_id["s2"]["value"] == pytest.approx(19.312128)


# ------------------------------------------------------------------ the graph runs the DAG in waves


def test_dependent_subtask_waits_and_receives_the_result_independent_ones_run_concurrently(dag_market):
    out = dag_market.solve("Convert 3 miles to km, then integrate x^2*sin(x) from 0 to pi. Then multiply that by 4", seed=1)
    by_id = {r["subtask_id"]: r for r in out["subtasks"]}
    assert [by_id[s]["status"] for s in ("s1", "s2", "s3")] == ["ok", "ok", "ok"], out["answer"]
    calls = {c["server"]: c for c in CALLS if c["ok"]}  # the calls that answered (declines are retried elsewhere)
    miles, integral, mult = calls["slow-miles"], calls["slow-integral"], calls["mult"]
    # wave 1: the two independent subtasks overlap in time (their first calls, whoever answered them)
    assert _overlap(_first_call("Convert 3 miles"), _first_call("integrate x^2")), "independent subtasks did not run concurrently"
    # wave 2: the dependent one starts only after its dependency finished, and gets its value and result as context
    dep = by_id["s3"]["depends_on"][0]
    upstream = miles if dep == "s1" else integral
    assert mult["start"] >= upstream["end"]
    assert f"Result of {dep}" in mult["context"]
    assert by_id["s3"]["text"].startswith("multiply ") and "that" not in by_id["s3"]["text"]


def test_chain_of_three_runs_in_three_waves(dag_market):
    model = ScriptedChatModel(responses=[
        '{"subtasks": [{"text": "Convert 3 miles to km"}, {"text": "multiply that by 4", "depends_on": [1]},'
        ' {"text": "multiply that by 2", "depends_on": [2]}, {"text": "integrate x from 0 to 1"}]}',
        "unused",
    ])
    import micromarket.services as ms

    orig = ms.Services.chat_model
    ms.Services.chat_model = lambda self, spec: model if spec else None
    try:
        out = dag_market.solve("Convert 3 miles to km, multiply that by 4, double it; and integrate x from 0 to 1", chat_model="fake:planner")
    finally:
        ms.Services.chat_model = orig
    by_id = {r["subtask_id"]: r for r in out["subtasks"]}
    assert by_id["s3"]["value"] == pytest.approx(3 * 1.609344 * 4 * 2)
    assert [by_id[s]["depends_on"] for s in ("s1", "s2", "s3", "s4")] == [[], ["s1"], ["s2"], []]
    mults = sorted((c for c in CALLS if c["server"] == "mult" and c["ok"]), key=lambda c: c["start"])
    assert len(mults) == 2 and mults[1]["start"] >= mults[0]["end"]
    ok = {c["server"]: c for c in CALLS if c["ok"]}
    assert _overlap(_first_call("Convert 3 miles"), _first_call("integrate x from 0 to 1"))
    assert mults[0]["start"] >= ok["slow-miles"]["end"]
    # provenance on every structured result
    for r in out["subtasks"]:
        assert r["provenance"]["specialist"] == r["specialist"] and "evidence" in r["provenance"]


def _texts(task):
    return [(s["text"], s["depends_on"]) for s in split_task(task)]


def test_a_plural_request_over_a_list_is_one_subtask_per_item():
    assert _texts("What are the molar masses of KCl and MgO?") == [
        ("What is the molar mass of KCl", []), ("What is the molar mass of MgO?", [])]
    assert [t for t, _ in _texts("boiling points of H2O, NH3 and CH4")] == [
        "boiling point of H2O", "boiling point of NH3", "boiling point of CH4"]


def test_a_list_of_numbers_stays_one_request():
    assert _texts("what's the mean of 3.5, 4.2, 5.1 and 6.0") == [("what's the mean of 3.5, 4.2, 5.1 and 6.0", [])]


def test_text_to_work_on_is_not_split_into_subtasks():
    task = "summarize this text: The cat sat on the mat. Then it slept. The dog barked and ran away."
    assert _texts(task) == [(task, [])]
    from micromarket.nodes.planner import payload_of

    assert payload_of(task) == ("summarize this text", "The cat sat on the mat. Then it slept. The dog barked and ran away.")
    assert payload_of("Convert 3 feet to meters and write me a limerick") is None


def test_a_statement_before_a_question_is_the_question_data():
    for task in ("I weigh 150 pounds, what's that in kg?", "She's 5 foot 6, how tall is that in cm?",
                 "If I put 1000 dollars in a savings account at 2% compounded annually, what's it worth in 10 years?"):
        assert _texts(task) == [(task, [])]
    # two requests are still two
    assert len(_texts("What date is 30 days after 2026-12-15, and what weekday is it?")) == 2


def test_then_with_a_missing_operand_works_on_the_previous_result():
    assert _texts("convert 2 hours to minutes then divide by 4") == [
        ("convert 2 hours to minutes", []), ("divide that by 4", ["s1"])]
    assert _texts("Convert 3 feet to meters and write me a limerick") == [
        ("Convert 3 feet to meters", []), ("write me a limerick", [])]


@pytest.mark.parametrize("text, first", [
    ("5 km to miles; what is that in feet?", "5 km to miles"),
    ("2+3*4; what is it squared?", "2+3*4"),
])
def test_a_bare_request_is_not_data_for_the_question_after_it(text, first):
    s1, s2 = split_task(text)
    assert s1["text"] == first and s2["depends_on"] == [s1["id"]]


def test_a_statement_is_the_data_of_the_question_after_it():
    [one] = split_task("The tank holds 40 gallons. How many litres is that?")
    assert "40 gallons" in one["text"] and "litres" in one["text"]
