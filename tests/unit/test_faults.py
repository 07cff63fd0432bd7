"""Fault scenarios 7, 8, 10, 11 of docs/robustness.md (issue 7). In-process MCP servers, fake embeddings."""

from __future__ import annotations

import asyncio
import time

import pytest

from micromarket.errors import SpecialistCallError
from tests.conftest import INTEGRAL, MILES, inproc_card
from tests.fakes import hostile


# ---------------------------------------------------------------- 7 hung specialist


@pytest.mark.parametrize("target", ["silent_server", "progress_spam_server"])
def test_7_hung_specialist_hard_deadline_cancel_timeout(fake_market, target):
    mp = fake_market
    hostile.STATE["progress_sent"] = 0
    mp.remove("miles")
    mp.register(inproc_card("hung", f"tests.fakes.hostile:{target}", [MILES]))
    t0 = time.monotonic()
    out = mp.solve("convert 5 miles to km", call_timeout_s=1.0, seed=1)
    took = time.monotonic() - t0
    assert took < 8, took  # a hard deadline, not extended by progress notifications
    sub = out["subtasks"][0]
    hung = [a for a in sub["attempts"] if a["specialist_id"] == "hung"]
    assert hung and hung[0]["outcome"] == "timeout" and "deadline" in hung[0]["error"]
    if target == "progress_spam_server":
        assert hostile.STATE["progress_sent"] > 20  # it really did spam
    # cancelled: the session was torn down, so the server task stops sending
    sent = hostile.STATE["progress_sent"]
    time.sleep(0.3)
    assert hostile.STATE["progress_sent"] - sent <= 2
    # recorded as a timeout in the trust ledger
    row = [r for r in mp.trust() if r["specialist_id"] == "hung"][0]
    assert row["timeouts"] == 1
    assert mp.routing(out["run_id"])[0]["attempts"][0]["outcome"] in ("timeout", "declined")


# ---------------------------------------------------------------- 8 one parallel branch raises


def test_8_parallel_specialist_raises_siblings_kept_partial(fake_market, monkeypatch):
    mp = fake_market
    mp.register(inproc_card("broken", "tests.fakes.hostile:raising_server",
                            [{"name": "forecast", "description": "weather forecast for a city tomorrow", "examples": ["what is the weather in Paris tomorrow"]}]))
    out = mp.solve("convert 5 miles to km, integrate x^2 from 0 to 1 and what is the weather in Paris tomorrow", seed=2)
    st = {r["subtask_id"]: r for r in out["subtasks"]}
    assert len(st) == 3
    assert st["s1"]["status"] == "ok" and st["s1"]["value"] == pytest.approx(8.04672)
    assert st["s2"]["status"] == "ok"
    broken = [a for a in st["s3"]["attempts"] if a["specialist_id"] == "broken"]
    assert st["s3"]["status"] == "failed" and broken and broken[0]["outcome"] == "error", st["s3"]
    assert out["partial"] is True
    assert "8.05" in out["answer"] and "failed" in out["answer"]
    # an unexpected exception inside the branch (not a call error) is caught there too
    import micromarket.nodes.run_specialist as rs

    orig = rs.solve_subtask

    async def boom(state, runtime):
        if "weather" in state["subtask"]["text"]:
            raise ZeroDivisionError("bug in a branch")
        return await orig(state, runtime)

    monkeypatch.setattr(rs, "solve_subtask", boom)
    out = mp.solve("convert 5 miles to km, integrate x^2 from 0 to 1 and what is the weather in Paris tomorrow", seed=2)
    st = {r["subtask_id"]: r for r in out["subtasks"]}
    assert st["s1"]["status"] == "ok" and st["s2"]["status"] == "ok"
    assert st["s3"]["status"] == "failed" and "ZeroDivisionError" in st["s3"]["reason"]
    assert out["partial"] is True
    ok = mp.solve("convert 5 miles to km", seed=2)
    assert ok["partial"] is False


# ---------------------------------------------------------------- 10 idempotent side effects


def test_10_idempotent_trust_updates_replays_never_count_twice(fake_market):
    mp = fake_market
    out = mp.solve("convert 5 miles to km and integrate x^2 from 0 to 1", seed=4)
    led = mp.services.ledger
    before = {(r["specialist_id"], r["capability"]): (r["alpha"], r["beta"], r["errors"]) for r in led.trust_table()}
    from micromarket.nodes.update_trust import record

    state = {"run_id": out["run_id"], "task": "t", "answer": out["answer"], "unsupported": [], "candidates": {}}
    for _ in range(3):  # a replay after a crash, a resumed run, a retried node
        record(led, state, out["subtasks"], None)
    after = {(r["specialist_id"], r["capability"]): (r["alpha"], r["beta"], r["errors"]) for r in led.trust_table()}
    assert after == before
    # explicit feedback is keyed by run and subtask too
    first = mp.feedback(out["run_id"], True)
    again = mp.feedback(out["run_id"], True)
    assert all(u["updated"] for u in first) and not any(u["updated"] for u in again)
    assert [u["mean_after"] for u in again] == [u["mean_after"] for u in first]


# ---------------------------------------------------------------- 11 error classes


class _FakeSession:
    def __init__(self, errors):
        self.errors = list(errors)
        self.calls = 0

    async def call_tool(self, *a, **k):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        import mcp.types as types

        return types.CallToolResult(content=[types.TextContent(type="text", text="ok")], structured_content={"answer": "ok"})


def _pool_with(session):
    from micromarket.specialists.pool import SpecialistPool, _Conn

    pool = SpecialistPool(call_timeout=2, retries=3, backoff_s=0.01, max_backoff_s=0.05)
    conns = {"n": 0}

    async def fake_connect(key, t, name, guard=None):
        conns["n"] += 1
        c = _Conn(endpoint="x")
        c.session = session
        return c

    async def fake_drop(key):
        return None

    pool._connect = fake_connect  # type: ignore[method-assign]
    pool._drop = fake_drop  # type: ignore[method-assign]
    return pool, conns


def _card():
    from micromarket.capability_index.cards import parse_card

    return parse_card(inproc_card("x", "tests.fakes.servers:miles_server", [MILES]))


def _mcp_error(code, msg):
    from mcp.shared.exceptions import MCPError

    return MCPError(code, msg)


def _http_error(status):
    import httpx

    req = httpx.Request("POST", "http://specialist.invalid/mcp")
    return httpx.HTTPStatusError(f"{status}", request=req, response=httpx.Response(status, request=req))


@pytest.mark.parametrize("err,kind", [
    (_mcp_error(-32602, "Invalid params: task must be a string"), "schema"),
    (_mcp_error(-32601, "Method not found"), "error"),
    (RuntimeError("Invalid structured content returned by tool solve: 5 is not of type 'string'"), "schema"),
    (_http_error(400), "error"),
    (ValueError("tool bug"), "error"),
])
def test_11_error_classes_deterministic_not_retried(err, kind):
    sess = _FakeSession([err])
    pool, _ = _pool_with(sess)
    try:
        with pytest.raises(SpecialistCallError) as ei:
            asyncio.run(pool.call(_card(), "solve", {"task": "x"}))
        assert ei.value.kind == kind and not ei.value.transient
        assert sess.calls == 1
    finally:
        pool.close()


@pytest.mark.parametrize("err", [
    ConnectionResetError("connection reset by peer"),
    _mcp_error(-32000, "Connection closed"),
    _http_error(503),
    _http_error(502),
    EOFError(),
])
def test_11_error_classes_transient_retried_with_bounded_backoff(err):
    sess = _FakeSession([err, err])
    pool, _ = _pool_with(sess)
    try:
        out = asyncio.run(pool.call(_card(), "solve", {"task": "x"}))
        assert out.structured == {"answer": "ok"} and sess.calls == 3
    finally:
        pool.close()
    sess = _FakeSession([err] * 10)  # never recovers: bounded number of attempts
    pool, _ = _pool_with(sess)
    try:
        with pytest.raises(SpecialistCallError) as ei:
            asyncio.run(pool.call(_card(), "solve", {"task": "x"}))
        assert ei.value.transient and sess.calls == 4  # 1 + retries(3)
    finally:
        pool.close()


def test_11_error_classes_timeout_not_retried():
    class Slow(_FakeSession):
        async def call_tool(self, *a, **k):
            self.calls += 1
            await asyncio.sleep(10)

    sess = Slow([])
    pool, _ = _pool_with(sess)
    try:
        with pytest.raises(SpecialistCallError) as ei:
            asyncio.run(pool.call(_card(), "solve", {"task": "x"}, timeout=0.3))
        assert ei.value.kind == "timeout" and sess.calls == 1
    finally:
        pool.close()


def test_output_schema_violation_is_a_schema_failure_without_a_guard():
    """The mcp client validates structured content against the outputSchema the pool listed at connect."""
    from micromarket.capability_index.cards import parse_card
    from micromarket.specialists.pool import SpecialistPool

    hostile.STATE["calls"] = 0
    card = parse_card(inproc_card("badout", "tests.fakes.hostile:bad_output_server", [{**MILES, "name": "conv"}]))
    pool = SpecialistPool(call_timeout=5, retries=2, backoff_s=0.01)
    try:
        with pytest.raises(SpecialistCallError) as ei:
            asyncio.run(pool.call(card, "solve", {"task": "5 miles"}))
    finally:
        pool.close()
    assert ei.value.kind == "schema" and not ei.value.transient
    assert "violates its outputSchema" in str(ei.value) and "\n" not in str(ei.value)
    assert hostile.STATE["calls"] == 1  # deterministic: not retried
