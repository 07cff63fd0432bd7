"""Context slicing with the fake (hashing) embedding model: chunks, anchors, budget, cache, routing records."""

from __future__ import annotations

import random

import pytest

import micromarket.nodes.context_slicing as cs
from micromarket.nodes.context_slicing import anchors_of, chunk_context, count_tokens, prepare, slice_context, slice_for
from micromarket.specialists.result import SolveResult
from tests.conftest import inproc_card

FAKE = "fake"
RECEIVED: list[str] = []


def _filler(rng: random.Random, n: int) -> str:
    towns = ["Brill", "Ostmere", "Calder", "Fenwick", "Galloway", "Hythe", "Irvine", "Kelso"]
    things = ["ferry", "library", "market", "bridge", "school", "harbour", "museum"]
    paras = []
    for _ in range(n):
        sents = [f"The {rng.choice(things)} in {rng.choice(towns)} had {rng.randint(10, 900)} visitors on day {rng.randint(1, 28)}."
                 for _ in range(rng.randint(3, 6))]
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


def test_count_tokens_is_never_below_the_whitespace_count():
    for t in ["", "one", "a, b and c.", "x^2*sin(x) from 0 to π", "4,218 kg — 3.5%"]:
        assert count_tokens(t) >= len(t.split())
    assert count_tokens("Hello, world!") == 4


def test_chunks_are_sentence_windows_within_paragraphs():
    text = "First para one. First para two.\n\nSecond para only sentence.\nAlice: a new turn starts here."
    chunks = chunk_context(text)
    assert chunks == ["First para one. First para two.", "Second para only sentence.", "Alice: a new turn starts here."]
    long = " ".join(["word"] * 500)
    assert all(count_tokens(c) <= cs.MAX_CHUNK_TOKENS for c in chunk_context(long))
    assert " ".join(chunk_context(long)).split() == long.split()


def test_anchors_are_values_entities_and_quotes():
    a = anchors_of('Add the population of Varnholt to 4,218 and look up "Blue Lagoon" on 2024-01-01')
    assert {"4218", "2024-01-01"} <= a.values
    assert "varnholt" in a.entities and "add" not in a.entities
    assert "blue lagoon" in a.quoted
    assert "population" in a.keywords


def test_chunks_with_the_subtasks_values_are_always_kept():
    rng = random.Random(1)
    ctx = _filler(rng, 60) + "\n\nArchive note: reference 77231 is filed under cold storage.\n\n" + _filler(rng, 60)
    sl = slice_for(ctx, "multiply 77231 by 2", 400, model=FAKE)
    assert "reference 77231 is filed" in sl.text
    assert sl.anchored >= 1 and sl.tokens <= 400 and sl.tokens < sl.full_tokens / 5


def test_entity_fact_is_found_among_distractors():
    rng = random.Random(2)
    fact = "According to the last census, Varnholt has a population of 48,213."
    ctx = _filler(rng, 80) + "\n\n" + fact + " Varnholt was founded in 1712.\n\n" + _filler(rng, 80)
    sl = slice_for(ctx, "What is the population of Varnholt divided by 12", 2048, model=FAKE)
    assert fact in sl.text and sl.tokens < 0.2 * sl.full_tokens


@pytest.mark.parametrize("budget", [0, 5, 40, 300])
def test_budget_is_never_exceeded(budget):
    ctx = _filler(random.Random(3), 50)
    sl = slice_for(ctx, "How many visitors did the museum in Brill have", budget, model=FAKE)
    assert sl.tokens == count_tokens(sl.text) <= budget
    assert len(sl.text.split()) <= budget  # what the routing record counts


def test_small_context_is_passed_whole():
    assert slice_for("Alice: the code is 12.", "what is the code", 2048, model=FAKE).text == "Alice: the code is 12."


def test_context_is_embedded_once_per_task(monkeypatch):
    calls = []
    real = cs.get_embeddings

    class Counting:
        def __init__(self, inner):
            self.inner = inner

        def embed_documents(self, texts):
            calls.append(len(texts))
            return self.inner.embed_documents(texts)

        def embed_query(self, text):
            return self.inner.embed_query(text)

    monkeypatch.setattr(cs, "get_embeddings", lambda model: Counting(real(model)))
    ctx = _filler(random.Random(4), 40) + " unique marker 918273"
    for sub in ["visitors in Brill", "visitors in Kelso", "the ferry in Hythe"]:
        slice_for(ctx, sub, 500, model=FAKE)
    assert len(calls) == 1 and calls[0] == len(chunk_context(ctx))
    assert prepare(ctx, FAKE) is prepare(ctx, FAKE)


def test_slice_context_prepends_dependency_results_within_the_budget():
    class Card:
        context_tokens = 60

    ctx = _filler(random.Random(5), 30)
    inputs = {"s1": {"status": "ok", "text": "Convert 3 miles to km", "answer": "3 mi = 4.828 km", "value": 4.828032}}
    out = slice_context(ctx, "multiply 4.828032 by 4", Card(), inputs, model=FAKE)
    assert out.startswith("Result of s1 (Convert 3 miles to km): 3 mi = 4.828 km [value=4.828032]")
    assert count_tokens(out) <= 60
    Card.context_tokens = 0
    assert slice_context(ctx, "anything", Card()) == ""


# ------------------------------------------------------------------ through the graph


def echo_server():
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("echo-context", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        RECEIVED.append(context)
        return SolveResult(answer=f"read {len(context.split())} words", confidence=0.9, explanation="echo", value=len(context.split()))

    return mcp


def test_each_specialist_gets_its_slice_and_the_routing_record_says_how_much(tmp_path, monkeypatch):
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", FAKE)
    RECEIVED.clear()
    cap = {"name": "lookup", "description": "look up a population or a distance in the documents", "examples": ["population of Brill"]}
    with Marketplace.open(home=tmp_path / "home", builtins=False, call_timeout_s=10) as mp:
        mp.register(inproc_card("echo", f"{__name__}:echo_server", [cap], context_tokens=300))
        rng = random.Random(6)
        fact = "According to the last census, Varnholt has a population of 48,213."
        ctx = _filler(rng, 120) + "\n\n" + fact + "\n\n" + _filler(rng, 120)
        full = count_tokens(ctx)
        out = mp.solve("Look up the population of Varnholt", context=ctx, seed=1)
        assert out["subtasks"][0]["status"] == "ok", out["answer"]
        assert fact in RECEIVED[-1]
        sent = out["subtasks"][0]["context_tokens"]
        assert 0 < sent <= 300 < full
        rec = mp.routing(out["run_id"])[0]
        assert rec["context_tokens"] == sent


def test_bench_context_meets_targets_with_fake_embeddings():
    from micromarket.benchmarks.context import run

    rep = run(sizes=(5000, 12000), model=FAKE, seed=3)
    assert 5000 <= rep["context_tokens_min"] and rep["context_tokens_max"] <= 13000
    assert rep["token_reduction"] >= 0.8 and rep["recall"] >= 0.98, rep["misses"]
