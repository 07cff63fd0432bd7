"""Retriever with the fake embeddings: hybrid fusion, clause splitting, outcome memory."""

from __future__ import annotations

import pytest

from micromarket.capability_index.index import CapabilityIndex
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
