"""Retriever with the fake embeddings: hybrid fusion, clause splitting, outcome memory."""

from __future__ import annotations

import pytest

from micromarket.capability_index.index import CapabilityIndex
from micromarket.capability_index.fusion import Fusion
from micromarket.capability_index.retriever import Retriever, split_clauses
from micromarket.settings import Settings
from tests.unit.test_index import CARDS, make_card


@pytest.fixture
def index(tmp_path):
    idx = CapabilityIndex(Settings(home=tmp_path / "home", embedding_model="fake", builtins=False))
    idx.upsert(CARDS)
    return idx


def test_retrieve_shapes_and_order(index, tmp_path):
    r = Retriever(index, memory_path=tmp_path / "mem.sqlite")
    res = r.retrieve(["weather forecast for a city", "solve equations"], k=3)
    assert len(res) == 2 and all(len(h) == 3 for h in res)
    assert res[0][0].key == "weather.get_forecast"
    assert res[1][0].key == "math.solve_equation"
    for hits in res:
        sims = [h.similarity for h in hits]
        assert all(0.0 <= s <= 1.0 for s in sims)
        assert sims == sorted(sims, reverse=True)
    assert r.retrieve([]) == []
    assert [h.key for h in r.retrieve(["convert"], k=8, where={"domain": "weather"})[0]] and all(
        h.specialist_id == "weather" for h in r.retrieve(["convert"], k=8, where={"domain": "weather"})[0]
    )


def test_split_clauses():
    assert split_clauses("weather forecast for Paris") == []
    parts = split_clauses("Get the weather forecast for Paris and then convert 10 miles to kilometers")
    assert parts == ["Get the weather forecast for Paris", "convert 10 miles to kilometers"]
    assert len(split_clauses("Find me a hotel in Rome. Also translate this menu into English please.")) == 2


def test_compound_query_gets_both(index, tmp_path):
    r = Retriever(index)
    hits = r.retrieve(["tell me the air quality index for my zip code and then solve algebraic equations"], k=2)[0]
    assert {h.key for h in hits} == {"weather.air_quality", "math.solve_equation"}


def test_learn_positive_and_negative(index, tmp_path):
    path = tmp_path / "mem.sqlite"
    r = Retriever(index, memory_path=path)
    q = "how many feet in a meter"
    before = [h.key for h in r.retrieve([q], k=4)[0]]
    r.learn(q, "math.unit_convert", True, run_id="r1")
    r.learn(q, "math.unit_convert", True, run_id="r1")  # idempotent
    assert r.memory.count() == 1
    after = r.retrieve([q], k=4)[0]
    assert after[0].key == "math.unit_convert", (before, after)
    # persisted: a new retriever on the same memory sees it
    r2 = Retriever(index, memory_path=path)
    assert r2.retrieve([q], k=1)[0][0].key == "math.unit_convert"
    # a negative outcome overrides the same (run, query, key) and pushes it down
    r2.learn(q, "math.unit_convert", False, run_id="r1")
    r2.learn(q, "math.unit_convert", False, run_id="r2")
    assert r2.retrieve([q], k=4)[0][0].key != "math.unit_convert"


def test_refresh_after_cards_change(index):
    r = Retriever(index)
    assert all(h.specialist_id != "translate" for h in r.retrieve(["translate french text"], k=8)[0])
    index.upsert([make_card("translate", [("translate_text", "translate french text to english")])])
    assert r.retrieve(["translate french text"], k=1)[0][0].key == "translate.translate_text"


# ---------------------------------------------------------------- memory that counts by its evidence

SKY = "what will the sky be like in my city"
SKY_VARIANTS = [SKY + s for s in (" today", " tomorrow", " tonight", " this week", " now", " later", " soon", " at noon")]


def top_key(r, q, **kw):
    return r.retrieve([q], k=4, **kw)[0][0].key


def test_strong_agreeing_memory_overrides_zero_shot(index):
    r = Retriever(index)
    assert top_key(r, SKY) == "weather.get_forecast"  # zero-shot
    r.learn_many([(v, "weather.air_quality", True) for v in SKY_VARIANTS])
    hits = r.retrieve([SKY], k=4)[0]
    assert hits[0].key == "weather.air_quality"
    assert hits[0].metadata["memory_vote"] > 0.5  # most of the neighbourhood agrees


def test_thin_memory_does_not_override_zero_shot(index):
    r = Retriever(index)
    # one past query that only shares a few words with the new one
    r.learn("what will the total be in my basket", "math.solve_equation", True)
    assert top_key(r, SKY) == "weather.get_forecast"


def test_split_memory_leaves_the_choice_to_zero_shot(index):
    r = Retriever(index)
    half = len(SKY_VARIANTS) // 2
    r.learn_many([(v, "math.unit_convert", True) for v in SKY_VARIANTS[:half]]
                 + [(v, "weather.get_forecast", True) for v in SKY_VARIANTS[half:]])
    hits = r.retrieve([SKY], k=4)[0]
    assert hits[0].key == "weather.get_forecast"  # the memory is split; zero-shot prefers the forecast
    assert {h.key for h in hits[:2]} == {"weather.get_forecast", "math.unit_convert"}


def test_negative_feedback_demotes(index):
    r = Retriever(index)
    r.learn_many([(v, "weather.get_forecast", False) for v in SKY_VARIANTS])
    hits = r.retrieve([SKY], k=4)[0]
    assert hits[0].key != "weather.get_forecast"
    assert next(h for h in hits if h.key == "weather.get_forecast").metadata["memory_vote"] < 0


def test_ineligible_specialists_get_no_votes(index):
    r = Retriever(index)
    r.learn_many([(v, "math.unit_convert", True) for v in SKY_VARIANTS])
    assert top_key(r, SKY) == "math.unit_convert"
    # quarantined: the caller passes only the eligible specialists
    hits = r.retrieve([SKY], k=4, eligible={"weather"})[0]
    assert [h.specialist_id for h in hits] == ["weather", "weather"]
    assert hits[0].key == "weather.get_forecast"
    # the neighbours that voted for math are skipped, not counted as dilution or as votes
    assert all(h.metadata["memory_vote"] == 0 for h in hits)
    # removed: the memory's votes for it disappear with it
    index.remove("math")
    hits = r.retrieve([SKY], k=4)[0]
    assert hits[0].key == "weather.get_forecast" and all(h.specialist_id == "weather" for h in hits)


def test_ineligible_neighbours_do_not_crowd_out_eligible_ones(index):
    r = Retriever(index)
    r.fusion.k = 4
    r.learn_many([(v, "math.unit_convert", True) for v in SKY_VARIANTS[:4]])
    r.learn_many([(v, "weather.air_quality", True) for v in SKY_VARIANTS[4:]])
    hits = r.retrieve([SKY], k=2, eligible={"weather"})[0]
    assert hits[0].key == "weather.air_quality" and hits[0].metadata["memory_vote"] > 0.5


def test_learn_fusion_fits_on_held_out_feedback_and_is_saved(index, tmp_path):
    from micromarket.capability_index.learning import learn_fusion
    from micromarket.errors import InputError

    path = tmp_path / "mem.sqlite"
    r = Retriever(index, memory_path=path)
    with pytest.raises(InputError, match="not enough feedback"):
        learn_fusion(r)
    # a small population: the default mix is kept (too little held-out feedback to fit honestly)
    places = ["city", "town", "village", "street", "park", "garden", "beach", "harbour", "valley", "hill",
              "farm", "island", "port", "square", "suburb", "market", "coast", "forest", "lake", "bay"]
    times = ["today", "tomorrow", "tonight", "this week", "at noon", "later", "soon", "now", "at dawn", "at dusk"]
    sky = [(f"what will the sky be like in my {p} {t}", "weather.air_quality", True) for p in places for t in times]
    r.learn_many(sky[:40])
    small = learn_fusion(r, holdout=0.3, seed=1)
    assert small.knn == Fusion().knn and small.fitted["held_out_queries"] < 100
    # a population whose zero-shot ranking is wrong: sky questions are solved by air quality
    r.learn_many(sky + [(f"solve for the {p} numbers {t}", "math.solve_equation", True) for p in places for t in times])
    fit = learn_fusion(r, holdout=0.3, seed=1)
    assert fit.fitted["held_out_queries"] >= 100
    assert fit.fitted["fitted_mix_hit@5"] >= fit.fitted["zero_shot_hit@5"]
    assert (tmp_path / "mem.fusion.json").exists() and (tmp_path / "mem.fusion.head.npz").exists()
    again = Retriever(index, memory_path=path)  # a new process reads the fit and the head
    assert again.fusion.knn == pytest.approx(fit.knn) and again.fusion.k == fit.k and again.head is not None
    assert top_key(again, "what will the sky be like in my meadow this evening") == "weather.air_quality"


def test_discover_gives_a_quarantined_specialist_no_memory_votes(fake_market):
    import asyncio

    from langgraph.runtime import Runtime

    from micromarket.graphs.context import Context
    from micromarket.nodes.discover import discover

    svc = fake_market.services
    q = "how far is 3 miles in km"
    svc.retriever.learn_many([(q + s, "calculus.integrate", True) for s in ("", " please", " now", " today", " exactly")])
    assert fake_market.find(q, 1)[0]["key"] == "calculus.integrate"  # the memory outvotes zero-shot
    svc.ledger.set_status("calculus", "quarantined", "test")  # status lives with the identity, in the ledger
    runtime = Runtime(context=Context(home=str(svc.settings.home), top_k=2))
    out = asyncio.run(discover({"plan": [{"id": "s1", "text": q}]}, runtime))
    rows = out["candidates"]["s1"]
    assert [r["specialist_id"] for r in rows] == ["miles"]


def test_index_learn_command_fits_and_saves(fake_market, monkeypatch):
    from typer.testing import CliRunner

    from micromarket.cli import app

    svc = fake_market.services
    items = [(f"how far is {n} miles in km {w}", "miles.convert_length", True) for n in range(3, 9) for w in ("now", "today", "exactly", "please")]
    svc.retriever.learn_many(items)
    res = CliRunner().invoke(app, ["index", "learn", "--home", str(svc.settings.home)])
    assert res.exit_code == 0, res.output
    assert "fitted mix" in res.output and "knn10" in res.output
    assert (svc.settings.home / "experience.fusion.json").exists()


def test_zero_shot_best_match_keeps_its_scale_and_ineligible_get_nothing(index):
    """The best zero-shot match reads the same (2/3) however large the catalogue, and a
    specialist that is not eligible is neither returned nor scored."""
    r = Retriever(index)
    best = r.retrieve(["weather forecast for a city"], k=8)[0]
    assert best[0].key == "weather.get_forecast"
    assert best[0].similarity == pytest.approx(2 / 3, abs=1e-3)
    assert all(h.similarity < best[0].similarity for h in best[1:])
    others = r.retrieve(["weather forecast for a city"], k=8, eligible={"math"})[0]
    assert others and all(h.specialist_id == "math" for h in others)
    assert others[0].similarity == pytest.approx(2 / 3, abs=1e-3)  # the best eligible one leads


def test_shared_rare_words_rank_first(tmp_path):
    """Two near-identical capabilities: the one whose text shares the request's rare word ranks first."""
    idx = CapabilityIndex(Settings(home=tmp_path / "home", embedding_model="fake", builtins=False))
    idx.upsert([make_card("a", [("lookup", "look up records in the ledger")]),
                make_card("b", [("lookup", "look up records in the zircon ledger")])])
    r = Retriever(idx)
    assert r.retrieve(["look up zircon records"], k=2)[0][0].specialist_id == "b"


def test_clause_weight_never_lifts_a_below_average_match(index, monkeypatch):
    """A clause counts at most `clause_weight` times its own strength, whatever the sign of its
    standardised score: a clause that matches a capability below average does not raise it above
    one the whole query prefers (a factor on a signed z-score would: 0.9 * -1.0 > -0.95)."""
    import numpy as np

    r = Retriever(index)
    z = {"whole": np.array([3.0, -0.95, -1.0]), "clause": np.array([0.0, -10.0, -1.0])}
    monkeypatch.setattr(r, "_text_scores", lambda text, mask, dense: z[text])
    cols = np.zeros((3, 2), np.float32)
    s = r.zero_shot(["whole", "clause"], cols, None)
    assert s[1] > s[2]  # the query prefers 1; the clause's -1.0 for 2 is no reason to lift it
    # a clause identical to the whole query changes nothing, for positive and negative scores alike
    z["clause"] = z["whole"]
    assert np.allclose(r.zero_shot(["whole", "clause"], cols, None), r.zero_shot(["whole"], cols[:, :1], None))
    # a clause that matches a capability far better than the whole query does lifts it
    z["clause"] = np.array([0.0, -1.0, 6.0])
    assert np.argmax(r.zero_shot(["whole", "clause"], cols, None)) == 2
