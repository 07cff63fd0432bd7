"""Durable runs keep their record in the checkpointer only: the run's options travel in checkpoint metadata."""

from __future__ import annotations

import pytest

from micromarket.checkpoint import OPTIONS_KEY, _context_from, _durable_graph, aresume, asolve_durable
from micromarket.errors import InputError, UnknownRunError


async def test_finished_thread_resumes_to_its_result_without_rerunning(fake_market):
    out = await asolve_durable(fake_market, "Convert 26.2 miles to kilometers", thread_id="t-done", seed=3)
    assert out["subtasks"][0]["status"] == "ok"
    again = await aresume(fake_market, "t-done")
    assert again["resumed"] is False and again["run_id"] == out["run_id"] and again["answer"] == out["answer"]


async def test_an_unfinished_thread_is_refused_and_resumed_with_its_own_options(fake_market):
    # human review pauses the run before update_trust: the thread has an unfinished run
    await asolve_durable(fake_market, "Convert 26.2 miles to kilometers", thread_id="t-open", seed=11, human_review=True)
    async with _durable_graph(fake_market) as graph:
        snap = await graph.aget_state({"configurable": {"thread_id": "t-open"}})
    assert snap.next == ("update_trust",) and OPTIONS_KEY in snap.metadata
    ctx = _context_from(snap.metadata, fake_market)
    assert ctx.seed == 11 and ctx.human_review is True and ctx.home == str(fake_market.settings.home)
    with pytest.raises(InputError, match="unfinished run"):
        await asolve_durable(fake_market, "Convert 1 mile to kilometers", thread_id="t-open")


async def test_unknown_thread_is_a_clear_error(fake_market):
    with pytest.raises(UnknownRunError, match="no checkpointed run on thread 'nope'"):
        await aresume(fake_market, "nope")
