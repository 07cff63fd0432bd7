"""Large-index retrieval: int8 bounds and closed-form statistics give the full scan's hits and scores."""

from __future__ import annotations

import numpy as np
import pytest

from micromarket.benchmarks.scale import synthetic_cards, synthetic_queries
from micromarket.capability_index.cards import parse_card
from micromarket.capability_index.dense import Int8Bounds, Moments
from micromarket.capability_index.fusion import Fusion
from micromarket.capability_index.index import capability_text
from micromarket.capability_index.retriever import Retriever


def _unit(rng, n, d=384):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_int8_bounds_contain_the_float32_scores():
    rng = np.random.default_rng(1)
    E, Q = _unit(rng, 3000), _unit(rng, 5)
    Q[1] = E[7]  # an exact match
    lo, hi = Int8Bounds(E).bounds(Q)
    exact = Q @ E.T
    assert (lo <= exact).all() and (exact <= hi).all()
    assert float((hi - lo).max()) < 0.1  # tight enough to prune


def test_moments_give_mean_and_std_over_a_mask():
    rng = np.random.default_rng(2)
    E, Q = _unit(rng, 2000), _unit(rng, 3)
    mask = rng.random(2000) < 0.8
    for m, rows in ((Moments(E), slice(None)), (Moments(E).minus(Moments(E, ~mask)), mask), (Moments(E, mask), mask)):
        mean, std = m.stats(Q)
        s = (E[rows] @ Q.T)
        np.testing.assert_allclose(mean, s.mean(axis=0), atol=1e-6)
        np.testing.assert_allclose(std, s.std(axis=0), atol=1e-6)


class _Index:
    """Synthetic capabilities with vectors built from their phrases (no model)."""

    model, dim, generation = "fake", 64, 1

    def __init__(self, n: int):
        cards = [parse_card(c) for c in synthetic_cards(n)]
        self.ids, self.docs, self.metas = [], [], []
        for c in cards:
            for cap in c.capabilities:
                self.ids.append(c.key(cap.name))
                self.docs.append(capability_text(c, cap))
                self.metas.append({"specialist_id": c.id, "capability": cap.name})
        self.rng = np.random.default_rng(0)
        self.vocab: dict[str, np.ndarray] = {}
        self.emb = self.embed(self.docs)

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in t.split("\n", 1)[0].lower().split()[:12]:
                if w not in self.vocab:
                    self.vocab[w] = np.random.default_rng(abs(hash(w)) % 2**32).standard_normal(self.dim)
                out[i] += self.vocab[w]
            out[i] += 0.3 * np.random.default_rng(i + len(t)).standard_normal(self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def snapshot(self):
        return {"ids": self.ids, "documents": self.docs, "metadatas": self.metas, "embeddings": self.emb}


@pytest.mark.parametrize("dense_weight", [0.0, 1.5])
def test_bounded_retrieval_equals_the_full_scan(dense_weight):
    index = _Index(4000)
    r = Retriever(index)
    r.fusion = Fusion(dense=dense_weight)
    r.refresh()
    queries = synthetic_queries(40)
    # outcome memory: some solved and some failed neighbours of the queries
    for q in queries[:10]:
        key = r.retrieve([q], k=3)[0][2].key
        r.learn(q, key, True)
    r.learn(queries[11], r.retrieve([queries[11]], k=1)[0][0].key, False)
    eligible = {sid for sid in set(r._sids) if hash(sid) % 5}
    taken = []
    real = r._retrieve_bounded
    r._retrieve_bounded = lambda *a, **kw: taken.append(real(*a, **kw)) or taken[-1]
    for elig in (None, eligible):
        for q in queries:
            r.bounded_from = 10**9
            full = r.retrieve([q], k=5, eligible=elig)[0]
            r.bounded_from = 1000
            got = r.retrieve([q], k=5, eligible=elig)[0]
            assert [h.key for h in got] == [h.key for h in full], q
            for a, b in zip(got, full):
                assert a.similarity == pytest.approx(b.similarity, abs=1e-5)
                assert a.metadata == pytest.approx(b.metadata, abs=1e-5)
    assert sum(t is not None for t in taken) >= 0.9 * len(taken)  # the bounded path answered, not the fallback


def test_bench_scale_reuses_a_grown_index_and_reports_recall_against_the_full_scan(tmp_path, monkeypatch):
    from micromarket.benchmarks import scale
    from micromarket.capability_index.retriever import Retriever

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    monkeypatch.setattr(Retriever, "bounded_from", 100)  # the bounded path at this small size
    first = scale.run([300], 8, tmp_path, progress=False, raw_sample=16, log=lambda *a: None)["rows"][0]
    again = scale.run([300], 8, tmp_path, progress=False, raw_sample=16, log=lambda *a: None)["rows"][0]
    assert not first["reused"] and first["written"] == 300 and first["ingest_per_s"] > 0
    assert again["reused"] and again["written"] == 0 and again["ingest_per_s"] is None and again["size"] == 300
    assert first["recall_at_5_vs_exact"] == again["recall_at_5_vs_exact"] == 1.0
