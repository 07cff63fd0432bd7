"""Performance behaviour (no timing asserts): batching, one model per process, lazy imports,
sync tools off the pool loop, and the process-start speed-ups keep library behaviour."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading

import pytest

from tests.conftest import inproc_card

TASK4 = "convert 5 miles to km; integrate x^2 from 0 to 1; convert 26.2 miles to km and then integrate sin(x) from 0 to pi"


class EmbedSpy:
    def __init__(self, index):
        self.inner = index.embed
        self.calls: list[list[str]] = []
        index.embed = self

    def __call__(self, texts):
        self.calls.append(list(texts))
        return self.inner(texts)


def test_all_subtasks_of_a_task_are_embedded_in_one_batched_call(fake_market):
    svc = fake_market.services
    fake_market.find("warm up", 1)  # the retriever's snapshot and BM25 index are built outside the task
    spy = EmbedSpy(svc.index)
    out = fake_market.solve(TASK4)
    n = len(out["subtasks"])
    assert n >= 4
    assert len(spy.calls) == 1, f"expected one embedding call per task, got {len(spy.calls)}"
    assert len(spy.calls[0]) >= n  # every subtask (and any clause it was split into) in that one call


def test_retriever_batches_queries_and_clauses_in_one_call(fake_market):
    r = fake_market.services.retriever
    r.retrieve(["warm up"], 1)
    spy = EmbedSpy(fake_market.services.index)
    qs = ["convert 5 miles to km and then integrate x^2 from 0 to 1", "integrate x from 0 to 2", "how far is 3 miles in km"]
    hits = r.retrieve(qs, 3)
    assert len(hits) == 3
    assert len(spy.calls) == 1
    assert len(spy.calls[0]) > len(qs)  # the compound query's clauses ride in the same batch


def test_embedding_model_is_loaded_once_per_process(tmp_path, monkeypatch):
    from micromarket.capability_index import embeddings
    from micromarket import Marketplace

    loads = []
    real = embeddings._load
    monkeypatch.setattr(embeddings, "_load", lambda m: loads.append(m) or real(m))
    monkeypatch.setattr(embeddings, "_cache", {})
    monkeypatch.setattr(embeddings, "_dims", {})
    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    for name in ("a", "b"):
        mp = Marketplace.open(home=tmp_path / name, builtins=False)
        mp.register(inproc_card("miles", "tests.fakes.servers:miles_server",
                                [{"name": "convert_length", "description": "convert miles to kilometers"}]))
        mp.find("miles to km", 1)
        mp.close()
    assert loads == ["fake"]


async def test_a_warm_run_finds_its_services_without_a_thread_hop_and_follows_changes(fake_market, monkeypatch):
    from micromarket.nodes import common
    from micromarket.services import drop_services, found_services, services_of_context

    ctx = fake_market.context()
    await fake_market.asolve("convert 5 miles to km")
    hops = []
    real_to_thread = asyncio.to_thread
    monkeypatch.setattr(common.asyncio, "to_thread", lambda *a, **k: hops.append(a) or real_to_thread(*a, **k))
    out = await fake_market.asolve("convert 5 miles to km")
    assert out["subtasks"][0]["specialist"] == "miles" and found_services(ctx) is fake_market.services
    assert hops and not [f for f, *_ in hops if f.__qualname__.startswith("aservices")]  # found on the loop by every node
    monkeypatch.setenv("MICROMARKET_CALL_TIMEOUT_S", "7")  # another environment: looked up again
    assert found_services(ctx) is None and services_of_context(ctx) is fake_market.services
    drop_services(fake_market.settings.home)  # the home's services replaced: never the stale ones
    assert found_services(ctx) is None
    fresh = services_of_context(ctx)
    assert fresh is not fake_market.services and found_services(ctx) is None  # stores not open yet
    fresh.close()


def test_bench_overhead_counts_each_embedding_once_whichever_encoder(fake_market):
    from micromarket.benchmarks.overhead import _EmbedSpy

    svc = fake_market.services
    spy = _EmbedSpy(svc.index, svc.retriever)
    assert svc.retriever.embed_queries(["convert 5 miles", "integrate x"]).shape[0] == 2  # untuned: via index.embed
    svc.index.embed(["direct"])
    assert [n for n, _ in spy.take()] == [2, 1]
    fake_market.solve("convert 5 miles to km")
    assert len(spy.take()) == 1  # one batched query embedding per task


def test_cli_import_is_lazy():
    code = (
        "import sys, micromarket.cli\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'chromadb', 'langgraph', 'mcp', 'jsonschema', "
        "'rfc3987_syntax.syntax_helpers', 'numpy', 'micromarket.capability_index.index')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_daemon_client_import_is_stdlib_only():
    code = "import sys, micromarket.daemon\nprint([m for m in ('pydantic', 'httpx', 'mcp', 'numpy') if m in sys.modules])\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- speed-ups keep behaviour


def test_jsonschema_validate_is_cached_and_equivalent():
    import jsonschema

    from micromarket import _speedups

    _speedups.apply()  # what every entry point does (importing the package has no side effects)
    assert getattr(jsonschema.validate, "_micromarket_cached", False)
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    from micromarket.specialists.result import SolveResult

    schema = SolveResult.model_json_schema()
    for inst in ({"answer": "x", "confidence": 0.5}, {"answer": 1, "confidence": 2}, {"confidence": 0.5}, {"answer": "y", "confidence": -1}):
        expected = best_match(validator_for(schema)(schema).iter_errors(inst))
        from referencing import Registry

        for kw in ({}, {}, {"registry": Registry()}, {"registry": Registry()}):  # first call builds, then the cache
            if expected is None:
                jsonschema.validate(inst, schema, **kw)
            else:
                with pytest.raises(jsonschema.ValidationError) as ei:
                    jsonschema.validate(inst, schema, **kw)
                assert ei.value.message == expected.message
    for _ in range(2):  # an invalid schema still raises every time
        with pytest.raises(jsonschema.SchemaError):
            jsonschema.validate({}, {"type": 12})


def test_entry_points_apply_the_speedups_and_importing_does_not():
    code = (
        "import sys, micromarket, micromarket.api, micromarket.server\n"
        "print('rfc3987_syntax' in sys.modules)\n"
        "from micromarket import cli\n"
        "sys.argv = ['micromarket', '--help']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "import jsonschema\n"
        "print(getattr(jsonschema.validate, '_micromarket_cached', False))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout.split()
    assert out[0] == "False" and out[-1] == "True"


def test_rfc3987_checks_unchanged_by_the_lazy_stub():
    # one process compiles the RFC 3987 grammar once (~3 CPU-s): the checks through the stub, then jsonschema imported
    # again over the real package (its compiled parser module is reused), the same checks
    code = (
        "from micromarket import _speedups\n_speedups.apply()\nimport jsonschema, sys\n"
        "assert getattr(sys.modules['rfc3987_syntax'], '__micromarket_lazy__', False)\n"
        "def checks():\n"
        "    fc = jsonschema.FormatChecker()\n"
        "    return [fc.conforms(v, f) for v in ('http://example.com/a b', 'http://example.com/\\u00e4', '::::', '#frag') for f in ('iri', 'iri-reference')]\n"
        "lazy = checks()\n"
        "for m in [m for m in sys.modules if m.split('.')[0] == 'jsonschema' or m == 'rfc3987_syntax']:\n"
        "    del sys.modules[m]\n"
        "import jsonschema\n"
        "assert not getattr(sys.modules['rfc3987_syntax'], '__micromarket_lazy__', False)\n"
        "print(lazy == checks(), lazy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("True [") and "True" in out.stdout.split("[", 1)[1] and "False" in out.stdout


def test_no_speedups_setting_leaves_rfc3987_syntax_alone(monkeypatch):
    from micromarket import _speedups

    monkeypatch.setenv("MICROMARKET_NO_SPEEDUPS", "1")
    monkeypatch.delitem(sys.modules, "rfc3987_syntax", raising=False)
    _speedups.apply()
    assert "rfc3987_syntax" not in sys.modules  # no stand-in: jsonschema would import the real package


# ---------------------------------------------------------------- the pool serialises nothing

BARRIER = {"b": None}


def _set_barrier(n: int) -> None:
    """The pool imports the server by its dotted name; pytest may have imported this file under another."""
    import importlib

    importlib.import_module("tests.unit.test_perf").BARRIER["b"] = threading.Barrier(n)


def barrier_sync_server():
    """A *sync* tool that waits for a partner call: it can only finish if calls run concurrently."""
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("barrier", log_level="WARNING")

    @mcp.tool()
    def solve(task: str, context: str = "") -> str:
        BARRIER["b"].wait(timeout=10)  # raises BrokenBarrierError if the partner never arrives
        return "ok " + task

    return mcp


def test_pool_runs_sync_inprocess_tools_concurrently():
    from micromarket.capability_index.cards import parse_card
    from micromarket.specialists.pool import SpecialistPool

    _set_barrier(4)
    card = parse_card({"id": "barrier", "name": "b", "description": "d", "capabilities": [{"name": "c", "description": "d"}],
                       "transport": {"kind": "inprocess", "target": "tests.unit.test_perf:barrier_sync_server"}})
    pool = SpecialistPool(call_timeout=20)

    async def go():
        return await asyncio.gather(*(pool.call(card, "solve", {"task": f"t{i}"}) for i in range(4)))

    try:
        outs = asyncio.run(go())
    finally:
        pool.close()
    assert [o.is_error for o in outs] == [False] * 4
    assert sorted(o.text for o in outs) == [f"ok t{i}" for i in range(4)]


def test_fanout_branches_reach_specialists_concurrently(tmp_path, monkeypatch):
    """16 subtasks: every branch must be inside a specialist at the same time (a barrier of 16)."""
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    _set_barrier(16)
    mp = Marketplace.open(home=tmp_path / "h", builtins=False, call_timeout_s=20)
    try:
        mp.register(inproc_card("barrier", "tests.unit.test_perf:barrier_sync_server",
                                [{"name": "echo_words", "description": "echo the words of a phrase back", "examples": ["echo the words alpha"]}]))
        task = "; ".join(f"echo the words item{i}" for i in range(16))
        out = mp.solve(task, redundancy=1)
    finally:
        mp.close()
    assert len(out["subtasks"]) == 16
    assert [r["status"] for r in out["subtasks"]] == ["ok"] * 16, json.dumps(out["subtasks"][0])[:400]
