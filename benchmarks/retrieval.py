"""``micromarket bench retrieval``: capability retrieval quality and latency.

Loads a catalogue in the shared format (``{"id", "name", "description"}`` a line,
optionally ``"server"``) into the real :class:`CapabilityIndex` in a temporary
home, one capability per catalogue entry (entries sharing a ``server`` become
capabilities of one specialist), and compares three methods on a query file
(``{"query", "relevant": [ids]}`` a line):

- ``bm25``: the lexical part alone (bm25s over the indexed capability documents),
- ``dense``: the index's dense search alone (Chroma, cosine),
- ``knn``: the naive memory baseline (with feedback only): embed the past queries,
  the 10 nearest vote one each (over the same memory the product reads),
- ``micromarket``: the product :class:`Retriever` (the one the orchestrator uses).

``--feedback FILE`` first records each of that file's queries as a solved
subtask with positive feedback for its relevant ids (``Retriever.learn_many``),
then fits the retriever's mix on a held-out part of that feedback (the same
step as ``micromarket index learn``), then measures on ``--queries``. ``--split-out DIR`` makes a deterministic,
disjoint train/test split of ``--queries`` (``DIR/train.jsonl``,
``DIR/test.jsonl``), uses train as feedback and reports on test. ``--feedback-limit 0`` measures
zero-shot (no feedback). ``--pad-to N`` adds distractor capabilities up to N (latency at scale).
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any, Optional

import typer

from micromarket.benchmarks.metrics import summarize

app = typer.Typer(add_completion=False, help="Capability retrieval: BM25 vs dense vs the micromarket retriever.")

METHODS = ("bm25", "dense", "knn", "micromarket")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def split_queries(rows: list[dict[str, Any]], *, test_fraction: float, seed: int) -> tuple[list, list]:
    """Deterministic disjoint split; identical query texts always land on the same side."""
    texts = sorted({r["query"].strip() for r in rows})
    rng = random.Random(seed)
    rng.shuffle(texts)
    n_test = max(1, int(round(len(texts) * test_fraction)))
    test_texts = set(texts[:n_test])
    train = [r for r in rows if r["query"].strip() not in test_texts]
    test = [r for r in rows if r["query"].strip() in test_texts]
    return train, test


def _slug(s: str, pattern: str, lower: bool) -> str:
    s = s.lower() if lower else s
    s = re.sub(r"[^A-Za-z0-9_-]+", "_", s).strip("_-")
    if not s or not re.match(pattern, s[:64]):
        s = "x" + s
    return s[:64].rstrip("_-") or "x"


def catalogue_cards(entries: list[dict[str, Any]]):
    """SpecialistCards for catalogue entries: one capability per entry, entries of the same
    ``server`` grouped into one specialist. Returns (cards, key -> catalogue id)."""
    from micromarket.capability_index.cards import parse_card

    groups: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for e in entries:
        g = e.get("server") or e["id"]
        if g not in groups:
            groups[g] = []
            order.append(g)
        groups[g].append(e)
    used_ids: set[str] = set()
    cards, key_to_id = [], {}
    for g in order:
        sid = base = _slug(g, r"^[a-z0-9]", True)[:60]
        i = 2
        while sid in used_ids:
            sid = f"{base}-{i}"
            i += 1
        used_ids.add(sid)
        caps, used_caps = [], set()
        for e in groups[g]:
            cname = base_c = _slug(str(e.get("name") or e["id"]), r"^[A-Za-z0-9]", False)[:60]
            j = 2
            while cname in used_caps:
                cname = f"{base_c}-{j}"
                j += 1
            used_caps.add(cname)
            desc = (e.get("description") or e.get("name") or e["id"]).strip()[:4000] or str(e["id"])
            caps.append({"name": cname, "description": desc})
            key_to_id[f"{sid}.{cname}"] = e["id"]
        if len(groups[g]) == 1 and not groups[g][0].get("server"):
            e = groups[g][0]
            name, description = (e.get("name") or e["id"]), caps[0]["description"]
        else:
            name, description = str(g), str(g)
        cards.append(
            parse_card(
                {
                    "id": sid,
                    "name": str(name)[:200],
                    "description": str(description)[:4000],
                    "capabilities": caps,
                    "transport": {"kind": "inprocess", "target": "micromarket.benchmarks.retrieval:none"},
                },
                source=f"catalogue entry {g}",
            )
        )
    return cards, key_to_id


def distractors(entries: list[dict[str, Any]], n: int, *, seed: int) -> list[dict[str, Any]]:
    """``n`` catalogue entries that are relevant to no query, for latency at scale: each has as many
    words as a random catalogue entry, drawn at random from the whole catalogue's descriptions."""
    rng = random.Random(seed + 3)
    vocab = [w for e in entries for w in str(e.get("description") or e["id"]).split()]
    out = []
    for i in range(n):
        e = rng.choice(entries)
        size = max(3, len(str(e.get("description") or "").split()))
        words = rng.choices(vocab, k=size)
        out.append({"id": f"distractor-{i}", "name": "_".join(rng.choices(vocab, k=2) + [str(i)]),
                    "description": " ".join(words)})
    return out


def _lexical_ranker(retriever):
    """BM25 alone over the same documents (the retriever's lexical component)."""
    import numpy as np

    def rank(query: str, k: int) -> list[str]:
        retriever._ensure()
        s = retriever._bm25_scores(query)
        if s.size == 0:
            return []
        kk = min(k, s.size)
        top = np.argpartition(-s, kk - 1)[:kk] if kk < s.size else np.arange(s.size)
        top = top[np.argsort(-s[top], kind="stable")]
        return [retriever._ids[i] for i in top if s[i] > 0]

    return rank


class _EmbedCache:
    """Within a run, the quality passes embed each fixed text once (the latency pass does not
    use it: every timed query is embedded)."""

    def __init__(self, index):
        self.index, self.memo, self.real = index, {}, index.embed

    def embed(self, texts):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, self.real(missing)))
        return np.vstack([self.memo[t] for t in texts]) if texts else self.real(texts)

    def __enter__(self):
        self.index.embed = self.embed

    def __exit__(self, *exc):
        del self.index.embed  # back to the class method


def _knn_ranker(retriever, k_vote: int = 10):
    """Naive kNN over the retriever's memory: embed the query, the ``k_vote`` nearest past
    queries vote one each (ties broken by similarity)."""
    import numpy as np

    from micromarket.capability_index.fusion import knn_scores

    view = retriever.memory_view()
    cols = np.fromiter((retriever._pos.get(x, -1) for x in view.keys), dtype=np.int64, count=len(view))

    def rank(queries: list[str], k: int) -> list[list[str]]:
        S = knn_scores(retriever.embed_queries(queries), view.emb, cols, len(retriever._ids), k_vote)
        out = []
        for s in S:
            top = np.argsort(-s, kind="stable")[:k]
            out.append([retriever._ids[i] for i in top if s[i] > 0])
        return out

    return rank


@app.command()
def retrieval(
    catalogue: Path = typer.Option(..., "--catalogue", exists=True, dir_okay=False, help="specialists*.jsonl"),
    queries: Path = typer.Option(..., "--queries", exists=True, dir_okay=False, help="queries*.jsonl"),
    feedback: Optional[Path] = typer.Option(None, "--feedback", exists=True, dir_okay=False, help="train queries recorded as positive feedback first"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    limit: Optional[int] = typer.Option(None, "--limit", help="evaluate a random sample of N queries (seeded)"),
    seed: int = typer.Option(0, "--seed", help="seed for --limit sampling and --split-out"),
    split_out: Optional[Path] = typer.Option(None, "--split-out", help="write DIR/train.jsonl + DIR/test.jsonl; feedback=train, report on test"),
    test_fraction: float = typer.Option(0.25, "--test-fraction", help="share of queries in the test part of --split-out"),
    feedback_limit: Optional[int] = typer.Option(None, "--feedback-limit", help="use a random sample of N feedback queries"),
    k: int = typer.Option(10, "--k", help="retrieval depth"),
    methods: str = typer.Option(",".join(METHODS), "--methods", help="comma-separated subset of bm25,dense,knn,micromarket (knn needs feedback)"),
    learn: bool = typer.Option(True, "--learn/--no-learn", help="fit the mix on held-out feedback (as `micromarket index learn`)"),
    model: Optional[str] = typer.Option(None, "--model", help="embedding model (default: the configured one)"),
    latency_sample: int = typer.Option(300, "--latency-sample", help="queries timed one by one for p50_ms (quality uses batched calls)"),
    threads: int = typer.Option(1, "--threads", help="torch and BLAS CPU threads (1 is fastest for single queries on a busy 2-core machine)"),
    pad_to: Optional[int] = typer.Option(None, "--pad-to", help="add seeded distractor capabilities (random catalogue words, never relevant) up to N, to measure latency at that scale"),
) -> None:
    """Compare BM25, dense and the micromarket retriever on a catalogue and query set."""
    from rich.console import Console

    from micromarket.capability_index.index import CapabilityIndex
    from micromarket.capability_index.retriever import Retriever
    from micromarket.progress import progress_bar
    from micromarket.settings import Settings

    err = Console(stderr=True, highlight=False)
    if threads > 0:
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(threads)
        threadpool_limits(threads)  # numpy's BLAS too: the memory scan is a mat-vec
    wanted = [m.strip() for m in methods.split(",") if m.strip()]
    bad = [m for m in wanted if m not in METHODS]
    if bad:
        raise typer.BadParameter(f"unknown method(s) {bad}; choose from {list(METHODS)}")

    entries = read_jsonl(catalogue)
    qrows = read_jsonl(queries)
    fb_rows = read_jsonl(feedback) if feedback else []
    if split_out is not None:
        train, test = split_queries(qrows, test_fraction=test_fraction, seed=seed)
        write_jsonl(split_out / "train.jsonl", train)
        write_jsonl(split_out / "test.jsonl", test)
        err.print(f"split {len(qrows)} queries -> {len(train)} train / {len(test)} test in {split_out}")
        qrows = test
        if not feedback:
            fb_rows = train
    if limit is not None and limit < len(qrows):
        qrows = random.Random(seed).sample(qrows, limit)
    if feedback_limit is not None and feedback_limit < len(fb_rows):
        fb_rows = random.Random(seed + 1).sample(fb_rows, feedback_limit)
    if fb_rows:
        test_texts = {r["query"].strip() for r in qrows}
        overlap = sum(1 for r in fb_rows if r["query"].strip() in test_texts)
        if overlap:
            err.print(f"[yellow]warning: {overlap} feedback queries also appear in --queries[/yellow]")

    if pad_to is not None and pad_to > len(entries):
        entries = entries + distractors(entries, pad_to - len(entries), seed=seed)
    cards, key_to_id = catalogue_cards(entries)
    id_to_key = {v: k2 for k2, v in key_to_id.items()}
    known = set(id_to_key)
    evalq = []
    dropped = 0
    for r in qrows:
        rel = {x for x in r.get("relevant", []) if x in known}
        if rel:
            evalq.append((r["query"], rel))
        else:
            dropped += 1

    with tempfile.TemporaryDirectory(prefix="mm-bench-") as home:
        # a private embedded index: never the user's Chroma server or home
        settings = Settings(home=Path(home), embedding_model=model or Settings.from_env().embedding_model, builtins=False,
                            chroma_url=None, database_url=None)
        index = CapabilityIndex(settings)
        t0 = time.perf_counter()
        with progress_bar(not as_json) as bar:
            n_entries = index.upsert(cards, progress=bar)
        t_index = time.perf_counter() - t0
        retriever = Retriever(index, memory_path=Path(home) / "memory.sqlite")
        retriever.refresh()
        if fb_rows:
            t0 = time.perf_counter()
            items = [(r["query"], id_to_key[x], True) for r in fb_rows for x in r.get("relevant", []) if x in id_to_key]
            retriever.learn_many(items, run_id="bench-feedback")
            err.print(f"recorded {len(items)} positive outcomes from {len(fb_rows)} feedback queries in {time.perf_counter() - t0:.1f}s")
            if learn:
                from micromarket.capability_index.learning import learn_fusion

                t0 = time.perf_counter()
                fit = learn_fusion(retriever, seed=seed, progress=None if as_json else err.print)
                err.print(f"fitted the mix in {time.perf_counter() - t0:.1f}s: {fit}")
        else:
            wanted = [m for m in wanted if m != "knn"]
        # warm up (model load, caches) before timing
        index.search(["warm up"], k=1)
        retriever.retrieve(["warm up"], k=1)
        lexical = _lexical_ranker(retriever)
        runners = {
            "bm25": lambda qs: [lexical(q, k) for q in qs],
            "dense": lambda qs: [[h.key for h in hits] for hits in index.search(qs, k=k)],
            "micromarket": lambda qs: [[h.key for h in hits] for hits in retriever.retrieve(qs, k=k)],
        }
        if "knn" in wanted:
            knn = _knn_ranker(retriever)
            runners["knn"] = lambda qs: knn(qs, k)
        texts = [q for q, _ in evalq]
        timed = random.Random(seed + 2).sample(texts, min(latency_sample, len(texts)))
        results: dict[str, dict] = {}
        cached = _EmbedCache(index)
        for m in wanted:
            rankings = []
            with cached:  # quality: batched calls (same code path); each text embedded once per run
                for off in range(0, len(texts), 64):
                    rankings.extend([key_to_id.get(x, x) for x in keys] for keys in runners[m](texts[off : off + 64]))
            lat, cpu = [], []
            for q in timed:  # latency: one query per call, embedding included
                t, c = time.perf_counter(), time.process_time()
                runners[m]([q])
                lat.append((time.perf_counter() - t) * 1000.0)
                cpu.append((time.process_time() - c) * 1000.0)
            results[m] = summarize(rankings, [rel for _, rel in evalq], lat)
            # CPU time of the call (all threads): what the wall time would be on a quiet machine
            # with --threads 1, where a shared machine inflates the wall time
            results[m]["p50_cpu_ms"] = round(float(median(cpu)), 2) if cpu else 0.0
        from dataclasses import asdict

        fusion = asdict(retriever.fusion)
        index.close()
        retriever.close()

    info = {
        "catalogue": str(catalogue),
        "queries": str(queries),
        "n_queries": len(evalq),
        "dropped_queries": dropped,
        "n_capabilities": n_entries,
        "distractors": max(0, (pad_to or 0) - len(read_jsonl(catalogue))),
        "feedback_queries": len(fb_rows),
        "embedding_model": settings.embedding_model,
        "index_seconds": round(t_index, 1),
        "latency_queries": min(latency_sample, len(evalq)),
        "fusion": fusion,
    }
    if as_json:
        print(json.dumps({"methods": results, **info}, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"retrieval: {catalogue.name} / {queries.name} ({len(evalq)} queries, {n_entries} capabilities"
                  + (f", feedback from {len(fb_rows)} queries" if fb_rows else "") + ")")
    table.add_column("method")
    cols = ("top1", "hit@5", "recall@5", "ndcg@10", "complete@5", "p50_ms", "p50_cpu_ms")
    for col in cols:
        table.add_column(col, justify="right")
    for m, r in results.items():
        table.add_row(m, *(f"{r[c]:.2f}" if c.endswith("_ms") else f"{r[c]:.1f}" for c in cols))
    Console(highlight=False).print(table)
    if dropped:
        err.print(f"{dropped} queries had no relevant id in the catalogue and were skipped")


if __name__ == "__main__":
    app()
