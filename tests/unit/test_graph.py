"""The marketplace graph's logic with fake embeddings and in-process fake specialists."""

from __future__ import annotations

import time

import pytest

from tests.conftest import MILES, inproc_card
from tests.fakes import servers
from tests.fakes.chat import ScriptedChatModel

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


def test_parallel_fan_out_runs_branches_concurrently(fake_market):
    servers.BEHAVIOUR["sleep"] = 1.0
    t0 = time.perf_counter()
    out = fake_market.solve(SAMPLE)
    wall = time.perf_counter() - t0
    assert all(r["status"] == "ok" for r in out["subtasks"])
    assert wall < 1.8, f"two 1 s specialists took {wall:.2f} s: not parallel"


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
