"""CapabilityIndex with the fake embeddings: no model, no network."""

from __future__ import annotations

import pytest

from micromarket.capability_index.cards import parse_card
from micromarket.capability_index.embeddings import embedding_dim, get_embeddings
from micromarket.capability_index.index import CapabilityIndex, build_where, capability_text, split_identifier
from micromarket.capability_index.lock import WriterLock
from micromarket.errors import IndexLockedError, IndexMismatchError, InputError
from micromarket.settings import Settings


def make_card(sid: str, caps: list[tuple[str, str]], *, domains=("general",), cost=0.0, examples=None):
    return parse_card(
        {
            "id": sid,
            "name": sid.title(),
            "description": f"{sid} specialist",
            "domains": list(domains),
            "cost_per_call": cost,
            "transport": {"kind": "inprocess", "target": "x:y"},
            "capabilities": [
                {"name": n, "description": d, "examples": list(examples or [])} for n, d in caps
            ],
        }
    )


CARDS = [
    make_card("weather", [("get_forecast", "weather forecast for a city"), ("air_quality", "air quality index for a zip code")], domains=["weather"]),
    make_card("math", [("solve_equation", "solve algebraic equations"), ("unit_convert", "convert units of measurement")], domains=["math"], cost=2.0),
]


@pytest.fixture
def settings(tmp_path):
    return Settings(home=tmp_path / "home", embedding_model="fake", builtins=False)


def test_fake_embeddings_are_deterministic_and_similar():
    emb = get_embeddings("fake")
    assert emb is get_embeddings("fake")
    a, b, c = emb.embed_documents(["convert units of length", "convert units of weight", "weather forecast"])
    assert a == emb.embed_query("convert units of length")
    dot = lambda x, y: sum(p * q for p, q in zip(x, y))  # noqa: E731
    assert dot(a, b) > dot(a, c)
    assert embedding_dim("fake") == len(a)


def test_split_identifier_and_capability_text():
    assert split_identifier("get_weatherForecast") == "get weather Forecast"
    assert split_identifier("HTMLParser") == "HTML Parser"
    card = parse_card(
        {
            "id": "geo",
            "name": "Geo",
            "description": "Maps and places",
            "transport": {"kind": "inprocess", "target": "x:y"},
            "capabilities": [
                {
                    "name": "findNearby",
                    "description": "Find places near a location",
                    "examples": ["coffee near the station"],
                    "input_schema": {"type": "object", "properties": {"radius_km": {"type": "number", "description": "search radius"}}},
                }
            ],
        }
    )
    text = capability_text(card, card.capabilities[0])
    for part in ("find Nearby", "Find places near a location", "Geo", "Maps and places", "radius km", "search radius", "coffee near the station"):
        assert part in text


def test_upsert_search_count_keys(settings):
    idx = CapabilityIndex(settings)
    assert idx.count() == 0 and set(idx.snapshot()["ids"]) == set()
    assert idx.upsert(CARDS) == 4
    assert idx.upsert(CARDS) == 0  # unchanged entries are skipped
    assert idx.count() == 4
    assert set(idx.snapshot()["ids"]) == {"weather.get_forecast", "weather.air_quality", "math.solve_equation", "math.unit_convert"}
    res = idx.search(["weather forecast for Paris", "convert units"], k=2)
    assert len(res) == 2
    assert res[0][0].key == "weather.get_forecast"
    assert res[1][0].key == "math.unit_convert"
    h = res[0][0]
    assert h.specialist_id == "weather" and h.capability == "get_forecast"
    assert 0.0 <= h.similarity <= 1.0
    assert h.metadata["domains"] == "weather" and "status" not in h.metadata  # status lives in the ledger
    assert isinstance(h.metadata["cost"], float) and h.metadata["version"] == "0.1.0"


def test_filters(settings):
    idx = CapabilityIndex(settings)
    idx.upsert(CARDS)
    keys = lambda hits: {h.key for h in hits}  # noqa: E731
    assert keys(idx.search(["convert"], k=8, where={"domain": "math"})[0]) == {"math.solve_equation", "math.unit_convert"}
    assert all(h.metadata["cost"] <= 1.0 for h in idx.search(["convert"], k=8, where={"max_cost": 1.0})[0])
    assert idx.search(["x"], where={"domain": "math", "max_cost": 1.0})[0] == []
    with pytest.raises(InputError, match="unknown index filter 'status'"):  # status is not the index's business
        idx.search(["x"], where={"status": "active"})
    assert build_where({"domain": "a", "max_cost": 1}) == {"$and": [{"domain:a": True}, {"cost": {"$lte": 1.0}}]}


def test_remove_and_card_change(settings):
    idx = CapabilityIndex(settings)
    idx.upsert(CARDS)
    # a new card version without one capability removes it
    smaller = make_card("math", [("unit_convert", "convert units of measurement")], domains=["math"], cost=2.0)
    idx.upsert([smaller])
    assert "math.solve_equation" not in set(idx.snapshot()["ids"])
    assert idx.remove("math") == 1
    assert set(idx.snapshot()["ids"]) == {"weather.get_forecast", "weather.air_quality"}


def test_verify_and_rebuild(settings):
    idx = CapabilityIndex(settings)
    idx.upsert(CARDS)
    assert idx.verify(CARDS)["ok"]
    idx.collection.delete(ids=["math.unit_convert"])  # damage
    changed = make_card("weather", [("get_forecast", "CHANGED"), ("air_quality", "air quality index for a zip code")], domains=["weather"])
    v = idx.verify([changed, CARDS[1], make_card("extra", [("x", "y")])])
    assert not v["ok"]
    assert v["missing"] == ["extra.x", "math.unit_convert"]
    assert v["stale"] == ["weather.get_forecast"]
    assert v["count"] == 3
    assert idx.rebuild(CARDS) == 4
    assert idx.verify(CARDS) == {"ok": True, "missing": [], "extra": [], "stale": [], "count": 4}


def test_indexing_reports_progress_to_the_caller(settings, monkeypatch):
    import micromarket.capability_index.index as index_mod

    monkeypatch.setattr(index_mod, "EMBED_BATCH", 3)  # several batches, written while the next is embedded
    many = [make_card(f"s{i}", [(f"c{j}", f"capability {i} {j}") for j in range(2)]) for i in range(5)]
    seen: list[tuple[int, int]] = []
    idx = CapabilityIndex(settings)
    assert idx.rebuild(many, progress=lambda done, total: seen.append((done, total))) == 10
    assert seen[0] == (0, 10) and seen[-1] == (10, 10)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    seen.clear()
    assert idx.upsert(many, progress=lambda done, total: seen.append((done, total))) == 0
    assert seen == []  # nothing to embed: nothing reported


def test_model_mismatch(settings, tmp_path):
    idx = CapabilityIndex(settings)
    idx.upsert(CARDS)
    other = Settings(home=settings.home, embedding_model="some/other-model", builtins=False)
    with pytest.raises(IndexMismatchError, match="micromarket index rebuild"):
        CapabilityIndex(other)
    # check=False opens it for a rebuild (not exercised with a real second model here)
    assert CapabilityIndex(other, check=False).count() == 4


def test_writer_lock_reentrant_and_message(tmp_path):
    d = tmp_path / "chroma"
    with WriterLock(d):
        with WriterLock(d):  # re-entrant within a process
            pass
        assert str(__import__("os").getpid()) in (d / ".writer.pid").read_text()  # names the holder
    assert not (d / ".writer.pid").exists()
    # after release, the lock can be taken again
    with WriterLock(d):
        pass


def test_second_writer_gets_locked_error(settings):
    import subprocess
    import sys
    import textwrap

    idx = CapabilityIndex(settings)
    idx.upsert(CARDS)
    code = textwrap.dedent(
        f"""
        import sys, time
        from micromarket.capability_index.lock import WriterLock
        with WriterLock({str(settings.chroma_dir)!r}):
            print("locked", flush=True)
            sys.stdin.readline()
        """
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "locked"
        with pytest.raises(IndexLockedError) as ei:
            idx.upsert([make_card("new", [("a", "b")])])
        msg = str(ei.value)
        assert str(settings.chroma_dir) in msg and f"pid {p.pid}" in msg
        assert "chroma run --path" in msg and "MICROMARKET_CHROMA_URL" in msg
    finally:
        p.stdin.write("\n")
        p.stdin.flush()
        p.wait(timeout=10)
    assert idx.upsert([make_card("new", [("a", "b")])]) == 1
