"""`micromarket bench retrieval` on a tiny catalogue with the fake embeddings: the product retriever
is measured, zero-shot when no feedback is given, and --pad-to grows the index with distractors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from micromarket.benchmarks.retrieval import app, distractors

CATALOGUE = [
    {"id": "weather", "name": "Weather", "description": "Weather forecast for any city"},
    {"id": "calc", "name": "Calculator", "description": "Evaluate arithmetic formulas"},
    {"id": "hotel", "name": "Hotels", "description": "Find and book hotel rooms"},
]
QUERIES = [
    {"query": "what is the weather forecast in Paris", "relevant": ["weather"]},
    {"query": "evaluate this arithmetic formula", "relevant": ["calc"]},
    {"query": "book a hotel room in Rome", "relevant": ["hotel"]},
]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_distractors_are_never_relevant_and_use_catalogue_words():
    extra = distractors(CATALOGUE, 5, seed=0)
    assert len(extra) == 5 and len({e["id"] for e in extra}) == 5
    assert not {e["id"] for e in extra} & {e["id"] for e in CATALOGUE}
    words = {w for e in CATALOGUE for w in e["description"].split()}
    assert all(set(e["description"].split()) <= words for e in extra)  # no new vocabulary


def test_zero_shot_bench_with_distractors(tmp_path):
    cat, qs = _write(tmp_path / "cat.jsonl", CATALOGUE), _write(tmp_path / "q.jsonl", QUERIES)
    res = CliRunner().invoke(app, ["--catalogue", str(cat), "--queries", str(qs), "--model", "fake", "--json",
                                   "--pad-to", "40", "--latency-sample", "3", "--threads", "0"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{"):])
    assert out["n_capabilities"] == 40 and out["distractors"] == 37
    assert set(out["methods"]) == {"bm25", "dense", "micromarket"}  # no feedback: no kNN baseline
    assert out["methods"]["micromarket"]["hit@5"] == 100.0
    # the methods that embed the query report the CPU time of one query next to its wall time
    for m in ("dense", "micromarket"):
        assert out["methods"][m]["p50_cpu_ms"] > 0.0 and out["methods"][m]["p50_ms"] > 0.0
