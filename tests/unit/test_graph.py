"""The marketplace graph's logic with fake embeddings, in-process fake specialists and fake chat models.

Node-level tests call the node functions with a constructed ``Runtime``; the retry tests run a node
under the RetryPolicy the marketplace graph gives it.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from micromarket.graphs import marketplace
from micromarket.graphs.context import Context
from micromarket.graphs.state import State, attempt, subtask_result
from micromarket.nodes.common import is_transient
from micromarket.nodes.decompose import decompose
from micromarket.nodes.integrate import integrate
from micromarket.services import Services
from micromarket.specialists.result import SolveResult
from tests.conftest import INTEGRAL, MILES, inproc_card
from tests.fakes import servers
from tests.fakes.chat import FlakyChatModel, ScriptedChatModel

SAMPLE = "Convert 26.2 miles to kilometers, then integrate x^2*sin(x) from 0 to pi"


def test_sample_task_is_split_routed_and_attributed(fake_market):
    out = fake_market.solve(SAMPLE, seed=1)
    by_text = {r["text"]: r for r in out["subtasks"]}
    assert by_text["Convert 26.2 miles to kilometers"]["specialist"] == "miles"
    assert by_text["integrate x^2*sin(x) from 0 to pi"]["specialist"] == "calculus"
    assert "42.16 km" in out["answer"] and "5.87" in out["answer"]
    assert "[miles.convert_length" in out["answer"] and "[calculus.integrate" in out["answer"]
    assert out["unsupported"] == []


def test_unsupported_task_is_reported_not_invented(fake_market):
    out = fake_market.solve("What will the weather be in Paris tomorrow?")
    assert [u["text"] for u in out["unsupported"]] == ["What will the weather be in Paris tomorrow?"]
    assert "unsupported" in out["answer"] and "Nothing was made up" in out["answer"]
    assert all(r["answer"] == "" for r in out["subtasks"])


INTERVALS: dict[str, tuple[float, float]] = {}


def _timed_server(name: str, word: str, answer: str):
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer(f"timed-{name}", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        if word not in task.lower():
            return SolveResult(answer="", confidence=0.0, explanation=f"not a {word} task")
        start = time.monotonic()
        await asyncio.sleep(0.5)
        INTERVALS[name] = (start, time.monotonic())
        return SolveResult(answer=answer, confidence=0.9)

    return mcp


def timed_miles_server():
    return _timed_server("miles", "mile", "26.2 mi = 42.16 km")


def timed_integral_server():
    return _timed_server("integral", "integrate", "π² − 4 ≈ 5.87")


def test_parallel_fan_out_runs_branches_concurrently(tmp_path, monkeypatch):
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    INTERVALS.clear()
    with Marketplace.open(home=tmp_path / "home", builtins=False) as mp:
        mp.register(inproc_card("miles", f"{__name__}:timed_miles_server", [MILES]))
        mp.register(inproc_card("calculus", f"{__name__}:timed_integral_server", [INTEGRAL]))
        out = mp.solve(SAMPLE)
    assert all(r["status"] == "ok" for r in out["subtasks"])
    (a0, a1), (b0, b1) = INTERVALS["miles"], INTERVALS["integral"]
    assert a0 < b1 and b0 < a1, f"the two Send branches did not overlap: {INTERVALS}"


def test_failing_specialist_falls_back_to_next_candidate_and_is_recorded(fake_market):
    fake_market.register(inproc_card("miles-backup", "tests.fakes.servers:miles_backup_server", [MILES]))
    servers.BEHAVIOUR["fail"] = True
    for seed in range(20):  # until the broken specialist has been tried first at least once
        out = fake_market.solve("Convert 26.2 miles to kilometers", seed=seed)
        r = out["subtasks"][0]
        assert r["status"] == "ok" and r["specialist"] == "miles-backup"
        if r["attempts"][0]["specialist_id"] == "miles":
            assert [a["outcome"] for a in r["attempts"]] == ["error", "ok"]
            break
    else:
        pytest.fail("the broken specialist was never tried")
    recs = fake_market.routing(limit=50)
    failed = [a for rec in recs for a in rec["attempts"] if a["specialist_id"] == "miles"]
    assert failed and all(a["outcome"] == "error" for a in failed)
    trust = {(t["specialist_id"], t["capability"]): t for t in fake_market.trust()}
    assert trust[("miles", "convert_length")]["errors"] >= 1


def test_bad_feedback_lowers_trust_and_shifts_selection(fake_market):
    fake_market.register(inproc_card("miles-backup", "tests.fakes.servers:miles_backup_server", [MILES]))
    picks, bad_given = [], 0
    for i in range(40):
        out = fake_market.solve("Convert 26.2 miles to kilometers", seed=i)
        r = out["subtasks"][0]
        picks.append(r["specialist"])
        fake_market.feedback(out["run_id"], r["specialist"] != "miles")
        bad_given += r["specialist"] == "miles"
    assert bad_given >= 1, "the first specialist was never tried: nothing to learn from"
    trust = {(t["specialist_id"], t["capability"]): t["mean"] for t in fake_market.trust()}
    assert trust[("miles", "convert_length")] < trust[("miles-backup", "convert_length")]
    assert picks[-10:].count("miles-backup") >= 8, picks


def test_feedback_on_unknown_run_is_a_clear_error(fake_market):
    from micromarket.errors import UnknownRunError

    with pytest.raises(UnknownRunError, match="nope"):
        fake_market.feedback("nope", True)


def test_chat_model_plan_is_used_and_bad_output_falls_back(fake_market, monkeypatch):
    good = ScriptedChatModel(responses=['{"subtasks": [{"text": "Convert 26.2 miles to kilometers"}, {"text": "integrate x^2*sin(x) from 0 to pi"}]}'])
    monkeypatch.setattr(type(fake_market.services), "chat_model", lambda self, spec: good if spec else None)
    out = fake_market.solve("26.2 miles in km; and the integral of x^2*sin(x) over [0, pi]", chat_model="fake:planner")
    assert [r["text"] for r in out["subtasks"]] == ["Convert 26.2 miles to kilometers", "integrate x^2*sin(x) from 0 to pi"]

    bad = ScriptedChatModel(responses=["sure! here is a plan: miles then integral"])
    monkeypatch.setattr(type(fake_market.services), "chat_model", lambda self, spec: bad if spec else None)
    out = fake_market.solve(SAMPLE, chat_model="fake:planner")
    assert len(out["subtasks"]) == 2 and all(r["status"] == "ok" for r in out["subtasks"])


def test_hung_specialist_times_out_and_is_recorded(fake_market):
    from tests.conftest import INTEGRAL

    fake_market.register(inproc_card("hang", "tests.fakes.servers:hanging_server", [INTEGRAL]))
    out = fake_market.solve("integrate x from 0 to 1", call_timeout_s=0.5, seed=3)
    attempts = out["subtasks"][0]["attempts"]
    assert out["subtasks"][0]["status"] == "ok"
    hung = [a for a in attempts if a["specialist_id"] == "hang"]
    assert all(a["outcome"] == "timeout" for a in hung)


def test_graph_module_exports_builder_and_compiled_graph():
    from micromarket.graphs import marketplace

    assert marketplace.graph.name == "micromarket"
    nodes = set(marketplace.builder.nodes)
    assert {"decompose", "discover", "select", "run_specialist", "integrate", "update_trust"} <= nodes
    assert marketplace.graph.checkpointer is None


def test_selection_is_deterministic_for_a_fixed_seed(tmp_path, monkeypatch):
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    orders = []
    for home in ("a", "b"):
        mp = Marketplace.open(home=tmp_path / home, builtins=False)
        for sid in ("miles", "miles-b", "miles-c"):
            mp.register(inproc_card(sid, "tests.fakes.servers:miles_backup_server", [MILES]))
        for seed in (7, 8, 9):
            out = mp.solve("Convert 26.2 miles to kilometers", seed=seed)
            orders.append((home, seed, tuple(c["key"] for c in mp.routing(out["run_id"])[0]["candidates"])))
        mp.close()
    a = [o[2] for o in orders if o[0] == "a"]
    b = [o[2] for o in orders if o[0] == "b"]
    assert a == b


# ---------------------------------------------------------------- nodes with a constructed Runtime and fake chat models

PLAN_JSON = '{"subtasks": [{"text": "Convert 26.2 miles to kilometers"}, {"text": "integrate x^2*sin(x) from 0 to pi", "depends_on": []}]}'


@pytest.fixture
def chat_models(monkeypatch, tmp_path):
    """Fake chat models by spec, and a Runtime factory whose Context names one (fake embeddings, no network)."""
    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    models: dict = {}
    monkeypatch.setattr(Services, "chat_model", lambda self, spec: models.get(spec) if spec else None)

    def runtime(spec: str | None = "fake:model") -> Runtime:
        return Runtime(context=Context(home=str(tmp_path / "home"), chat_model=spec))

    models["runtime"] = runtime
    return models


def _only(node, name: str) -> StateGraph:
    """A one-node graph running ``node`` under the RetryPolicy the marketplace graph gives ``name`` (its attempts and
    what it retries; without the waits between attempts)."""
    g = StateGraph(State, context_schema=Context)
    g.add_node(name, node, retry_policy=marketplace.builder.nodes[name].retry_policy._replace(initial_interval=0.0, jitter=False))
    g.add_edge(START, name)
    g.add_edge(name, END)
    return g.compile()


async def test_decompose_takes_the_models_plan(chat_models):
    chat_models["fake:model"] = FlakyChatModel(responses=[PLAN_JSON], failures=0)
    out = await decompose({"task": SAMPLE}, chat_models["runtime"]())
    assert [s["text"] for s in out["plan"]] == ["Convert 26.2 miles to kilometers", "integrate x^2*sin(x) from 0 to pi"]
    assert out["warnings"] == [] and out["run_id"]


async def test_decompose_falls_back_to_the_offline_planner_on_garbage(chat_models):
    chat_models["fake:model"] = FlakyChatModel(responses=["sure! here is a plan: miles then integral"], failures=0)
    out = await decompose({"task": SAMPLE}, chat_models["runtime"]())
    assert [s["text"] for s in out["plan"]] == ["Convert 26.2 miles to kilometers", "integrate x^2*sin(x) from 0 to pi"]
    assert len(out["warnings"]) == 1 and "used the offline planner" in out["warnings"][0]


async def test_decompose_lets_a_transient_error_reach_the_retry_policy(chat_models):
    model = chat_models["fake:model"] = FlakyChatModel(responses=['{"subtasks": [{"text": "Convert 26.2 miles to km"}]}'], failures=2)
    with pytest.raises(ConnectionError):
        await decompose({"task": SAMPLE}, chat_models["runtime"]())  # the node itself does not swallow it
    model.calls = 0
    out = await _only(decompose, "decompose").ainvoke({"task": SAMPLE}, context=chat_models["runtime"]().context)
    assert model.calls == 3  # failed twice, retried by the graph, answered the third time
    assert [s["text"] for s in out["plan"]] == ["Convert 26.2 miles to km"] and not out.get("warnings")


def _state(task: str = SAMPLE) -> dict:
    plan = [{"id": "s1", "text": "Convert 26.2 miles to kilometers", "depends_on": []},
            {"id": "s2", "text": "integrate x^2*sin(x) from 0 to pi", "depends_on": []}]
    cand = {"key": "miles.convert_length", "specialist_id": "miles"}
    results = [  # arrive out of plan order, as Send branches finish
        subtask_result("r1", plan[1], "unsupported", reason="no candidate specialist"),
        subtask_result("r1", plan[0], "ok", attempts=[attempt(cand, "ok", 3.0)], specialist="miles", capability="convert_length",
                       version="0.1.0", answer="26.2 mi = 42.16 km", confidence=0.9, value=42.16),
    ]
    return {"task": task, "run_id": "r1", "plan": plan, "results": results}


async def test_integrate_keeps_plan_order_and_uses_faithful_prose(chat_models):
    prose = "26.2 miles are 42.16 km (miles); the integral is unsupported."
    chat_models["fake:model"] = FlakyChatModel(responses=[prose], failures=0)
    out = await integrate(_state(), chat_models["runtime"]())
    assert [r["subtask_id"] for r in out["subtasks"]] == ["s1", "s2"]
    assert out["integration"] == "model" and out["answer"].startswith(prose) and "Sources:" in out["answer"]
    assert [u["subtask_id"] for u in out["unsupported"]] == ["s2"]


async def test_integrate_falls_back_on_a_non_transient_model_error(chat_models):
    chat_models["fake:model"] = FlakyChatModel(responses=["unused"], failures=1, error=ValueError("the model refused"))
    out = await integrate(_state(), chat_models["runtime"]())
    assert out["integration"] == "deterministic" and "42.16 km" in out["answer"]
    assert len(out["warnings"]) == 1 and "failed to integrate (ValueError" in out["warnings"][0]


async def test_integrate_retries_a_transient_model_error(chat_models):
    rate_limited = httpx.HTTPStatusError("429", request=httpx.Request("POST", "http://m"), response=httpx.Response(429))
    model = chat_models["fake:model"] = FlakyChatModel(responses=["26.2 miles are 42.16 km."], failures=2, error=rate_limited)
    out = await _only(integrate, "integrate").ainvoke(_state(), context=chat_models["runtime"]().context)
    assert model.calls == 3 and out["integration"] == "model"


class _Status(Exception):
    def __init__(self, code: int):
        super().__init__(f"HTTP {code}")
        self.status_code = code


@pytest.mark.parametrize(
    "exc, transient",
    [
        (ConnectionError("reset"), True),
        (TimeoutError(), True),
        (httpx.ConnectTimeout("slow"), True),
        (_Status(503), True),
        (_Status(429), True),
        (_Status(401), False),
        (_Status(400), False),
        (ValueError("bad json"), False),
        (RuntimeError("wrapped"), False),
    ],
)
def test_transient_errors_are_classified(exc, transient):
    assert is_transient(exc) is transient


def test_a_transient_cause_makes_the_error_transient():
    try:
        try:
            raise ConnectionError("reset")
        except ConnectionError as e:
            raise RuntimeError("the provider failed") from e
    except RuntimeError as wrapped:
        assert is_transient(wrapped)


async def test_a_run_makes_no_blocking_call_on_the_event_loop(fake_market, monkeypatch):
    """What `langgraph dev` enforces: stores, ledger, slicing and model loading stay off the loop."""
    blockbuster = pytest.importorskip("blockbuster")
    planner = FlakyChatModel(responses=[PLAN_JSON, "26.2 mi = 42.16 km and π² − 4 ≈ 5.87"], failures=0)
    monkeypatch.setattr(type(fake_market.services), "chat_model", lambda self, spec: planner if spec else None)
    await fake_market.asolve("Convert 1 mile to kilometers")  # opens the services and imports the graph once
    with blockbuster.blockbuster_ctx():
        out = await fake_market.asolve(SAMPLE, chat_model="fake:model", seed=1, context="Notes.\n\nAlice ran 26.2 miles on Sunday.")
    assert [r["status"] for r in out["subtasks"]] == ["ok", "ok"]
