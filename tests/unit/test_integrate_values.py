"""Integration: provenance, disagreements, structured output, and an adversarial chat model that tries to change values."""

from __future__ import annotations

import pytest

from micromarket.graphs.state import attempt, subtask_result
from micromarket.nodes.integrate import deterministic_answer
from micromarket.nodes.values import extract_values, value_check
from micromarket.specialists.result import SolveResult
from tests.conftest import INTEGRAL, MILES, inproc_card
from tests.fakes.chat import ScriptedChatModel


def miles_server():
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("values-miles", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        if "mile" not in task.lower():
            return SolveResult(answer="", confidence=0.0, explanation="no miles")
        return SolveResult(answer="26.2 mi = 42.16 km", confidence=0.95, explanation="1 mi = 1.609344 km", value=42.1648128)

    return mcp


def integral_server():
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("values-integral", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        if "integrate" not in task.lower():
            return SolveResult(answer="", confidence=0.0, explanation="not an integral")
        return SolveResult(answer="π² − 4 ≈ 5.8696", confidence=0.97, explanation="by parts", value=5.869604401)

    return mcp


@pytest.fixture
def market(tmp_path, monkeypatch):
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    mp = Marketplace.open(home=tmp_path / "home", builtins=False, call_timeout_s=10)
    mp.register(inproc_card("miles", f"{__name__}:miles_server", [MILES]))
    mp.register(inproc_card("calculus", f"{__name__}:integral_server", [INTEGRAL]))
    yield mp
    mp.close()

TASK = "Convert 26.2 miles to kilometers, then integrate x^2*sin(x) from 0 to pi"
PLAN = '{"subtasks": [{"text": "Convert 26.2 miles to kilometers"}, {"text": "integrate x^2*sin(x) from 0 to pi"}]}'
FAITHFUL = "26.2 miles are 42.16 km (miles specialist), and the integral is π² − 4 ≈ 5.8696 (calculus specialist)."

ADVERSARIAL = {
    "rounded": "26.2 miles are 42.2 km, and the integral is π² − 4 ≈ 5.87.",
    "extra digits": "26.2 miles are 42.1648 km, and the integral is π² − 4 ≈ 5.8696.",
    "unit changed": "26.2 miles are 42.16 miles, and the integral is π² − 4 ≈ 5.8696.",
    "operator flipped": "26.2 miles are 42.16 km, and the integral is π² + 4 ≈ 5.8696.",
    "sign flipped": "26.2 miles are -42.16 km, and the integral is π² − 4 ≈ 5.8696.",
    "unicode sign flipped": "26.2 miles are −42.16 km, and the integral is π² − 4 ≈ 5.8696.",
    "values swapped": "26.2 miles are 5.8696 km, and the integral is π² − 4 ≈ 42.16 km.",
    "answers reordered": "The integral is π² − 4 ≈ 5.8696, and 26.2 miles are 42.16 km.",
    "value dropped": "The integral is π² − 4 ≈ 5.8696.",
    "number added": "26.2 miles are 42.16 km, about 26 laps, and the integral is π² − 4 ≈ 5.8696.",
    "scientific, changed": "26.2 miles are 4.2e1 km, and the integral is π² − 4 ≈ 5.8696.",
    "thousands trick": "26.2 miles are 42,16 km, and the integral is π² − 4 ≈ 5.8696.",
    "digits transposed": "26.2 miles are 42.61 km, and the integral is π² − 4 ≈ 5.8696.",
    "input changed": "26.3 miles are 42.16 km, and the integral is π² − 4 ≈ 5.8696.",
    "pi expression changed": "26.2 miles are 42.16 km, and the integral is 2π − 4 ≈ 5.8696.",
    "words for digits": "Twenty-six point two miles are forty-two point one six km; the integral is π² − 4 ≈ 5.8696.",
    "empty": "",
}


def _results(**over):
    base = [
        {"subtask_id": "s1", "status": "ok", "text": "Convert 26.2 miles to kilometers", "answer": "26.2 mi = 42.16 km", "value": 42.1648128,
         "explanation": "1 mi = 1.609344 km", "specialist": "miles", "capability": "convert_length", "version": "0.1.0",
         "confidence": 0.95, "attempts": []},
        {"subtask_id": "s2", "status": "ok", "text": "integrate x^2*sin(x) from 0 to pi", "answer": "π² − 4 ≈ 5.8696", "value": 5.869604401,
         "explanation": "by parts", "specialist": "calculus", "capability": "integrate", "version": "0.1.0", "confidence": 0.97, "attempts": []},
    ]
    for r in base:
        r.update(over)
    return base


@pytest.mark.parametrize(
    "text, expected",
    [
        ("−3.5 or -3.5", {"n:-3.5"}),
        ("1,234,567.8 and 1\u202f234", {"n:1234567.8", "n:1234"}),
        ("1.5e3 = 1.5 × 10^3 = 1.5·10³ = 1500 = 1500.00", {"n:1500"}),
        ("2024-01-31, January 31, 2024, 31 Jan 2024", {"d:2024-01-31"}),
        ("x-3", {"n:3"}),
        ("v0.1.0", {"v:0.1.0"}),
        ("2π and pi/2", {"pi:2*pi", "pi:1*pi/2"}),
    ],
)
def test_values_are_extracted_canonically(text, expected):
    assert {v for v in extract_values(text) if not v.startswith(("u:", "e:"))} == expected


def test_equal_values_in_other_notations_are_accepted():
    results = [{"subtask_id": "s1", "status": "ok", "text": "How many seconds in 1500 s", "answer": "1,500 s on 2024-02-18", "value": 1500,
                "explanation": ""}]
    assert value_check("That is 1500 s (1.5 × 10³ s) on February 18, 2024.", results)[0]
    assert not value_check("That is 1500 s on February 19, 2024.", results)[0]
    assert not value_check("That is 1,500 s on 2024-02-18, i.e. 1.5e4 s.", results)[0]
    assert not value_check("That is 1,050 s on 2024-02-18.", results)[0]


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_value_check_rejects_every_adversarial_rewrite(name):
    ok, missing, extra = value_check(ADVERSARIAL[name], _results(), TASK)
    assert not ok, (name, missing, extra)


def test_value_check_accepts_a_faithful_rewrite():
    assert value_check(FAITHFUL, _results(), TASK) == (True, [], [])
    assert value_check("26.2 miles are 42.16 kilometres, and the integral is π^2 - 4 ≈ 5.8696 (version 0.1.0).", _results(), TASK)[0]


def _scripted(market, monkeypatch):
    holder: dict = {}

    def use(prose: str):
        holder["m"] = ScriptedChatModel(responses=[PLAN, prose])

    monkeypatch.setattr(type(market.services), "chat_model", lambda self, spec: holder.get("m") if spec else None)
    return use


@pytest.fixture
def prose_model(market, monkeypatch):
    """Make the marketplace's chat model a scripted one: the plan, then the given prose."""
    return _scripted(market, monkeypatch)


@pytest.fixture(scope="module")
def shared_market(tmp_path_factory):
    """One marketplace for the adversarial cases (each subtask has one candidate: earlier runs change nothing)."""
    from micromarket import Marketplace

    mp = Marketplace.open(home=tmp_path_factory.mktemp("adv") / "home", builtins=False, embedding_model="fake", call_timeout_s=10)
    mp.register(inproc_card("miles", f"{__name__}:miles_server", [MILES]))
    mp.register(inproc_card("calculus", f"{__name__}:integral_server", [INTEGRAL]))
    yield mp
    mp.close()


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_no_adversarial_prose_gets_through_the_graph(shared_market, monkeypatch, name):
    market = shared_market
    _scripted(market, monkeypatch)(ADVERSARIAL[name])
    out = market.solve(TASK, chat_model="fake:writer", seed=1)
    assert out["integration"] == "deterministic", name
    assert out["answer"] == deterministic_answer(out["subtasks"])
    assert ADVERSARIAL[name] == "" or ADVERSARIAL[name] not in out["answer"]
    assert any("deterministic integration" in w for w in out["warnings"])
    assert "42.16 km" in out["answer"] and "π² − 4 ≈ 5.8696" in out["answer"]


def test_faithful_prose_is_used_with_sources(market, prose_model):
    prose_model(FAITHFUL)
    out = market.solve(TASK, chat_model="fake:writer", seed=1)
    assert out["integration"] == "model"
    assert out["answer"].startswith(FAITHFUL) and "\n\nSources:\n" in out["answer"]
    assert "[miles.convert_length v" in out["answer"]


def test_structured_output_carries_provenance(market):
    out = market.solve(TASK, seed=1)
    assert out["integration"] == "deterministic"
    for r in out["subtasks"]:
        p = r["provenance"]
        assert p["specialist"] == r["specialist"] and p["version"] and p["confidence"] == r["confidence"]
        assert p["evidence"]["explanation"] == r["explanation"] and p["evidence"]["attempts"] == r["attempts"]
        assert r["depends_on"] == []
    assert "evidence: 1 mi = 1.609344 km" in out["answer"]


def test_disagreement_between_redundant_specialists_is_shown(market):
    market.register(inproc_card("miles-backup", "tests.fakes.servers:miles_backup_server", [MILES]))
    out = market.solve("Convert 26.2 miles to kilometers", redundancy=3, seed=1)
    r = out["subtasks"][0]
    assert r["consensus"]["disagreement"] is True
    assert r["provenance"]["evidence"]["consensus"]["disagreement"] is True and r["provenance"]["evidence"]["alternatives"]
    assert "! specialists disagree" in out["answer"]
    assert "42.16 km" in out["answer"] and "41.9 km" in out["answer"]


def test_provenance_of_a_failed_result_is_empty_but_present():
    failed = attempt({"key": "a.b", "specialist_id": "a"}, "error", 1.0, "boom")
    r = subtask_result("r1", {"id": "s2", "text": "t", "depends_on": ["s1"]}, "failed", attempts=[failed], reason="every candidate failed")
    p = r["provenance"]
    assert p["specialist"] is None and p["evidence"]["attempts"][0]["outcome"] == "error"
    assert r["depends_on"] == ["s1"] and r["reason"] == "every candidate failed"


def test_an_unknown_attempt_outcome_is_recorded_as_an_error():
    assert attempt({"key": "a.b", "specialist_id": "a"}, "exploded", 0.0)["outcome"] == "error"
