"""``micromarket bench scale``: the capability index at 1k, 10k and 100k capabilities.

Synthetic but varied capabilities (cards of 1-4 capabilities, composed from ~40
domains x actions x objects x qualifiers, with parameter schemas and examples)
are ingested through the product path, ``CapabilityIndex.upsert`` (rich progress
bar on), growing the same index 1k -> 10k -> 100k. Per size:

- ingest throughput (capabilities/s) vs the raw batched embedding throughput of
  the same model measured in the same run on the same kind of text
  (``ingest_vs_raw``, target >= 0.9);
- query latency p50/p99 of the product ``Retriever.retrieve([q], k=5)`` with the
  query embedding included (target p50 <= 15 ms at 100k), plus the raw
  embed + Chroma HNSW query for reference;
- ``recall_at_5_vs_exact``: the retriever's top 5 against its own full float32 scan
  of the same queries (target 1.0), and that scan's p50 (``full_scan_p50_ms``);
- resident memory (RSS) of the process.

``--real-upto N``: capabilities beyond the first N get *approximate* vectors
(each text's vector = the normalised sum of real MiniLM vectors of the domain
phrases it contains, plus noise) instead of a model forward pass, so that the
100k query-latency and memory figures can be produced in minutes on a busy
2-core machine. Those steps report no ingest ratio and are marked ``approx``.
Queries are always embedded with the real model.

Prints a table and writes a plot (``--plot``, default benchmarks/out/scale.png).

    micromarket bench scale [--json] [--sizes 1000,10000,100000] [--queries 200]
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import typer

app = typer.Typer(add_completion=False, help="Capability index growth: ingest throughput, query latency, memory.")

OUT = Path(__file__).resolve().parent / "out"

DOMAINS = {
    "finance": (["stock prices", "exchange rates", "loan payments", "invoices", "tax returns", "portfolio risk", "bond yields", "budgets"],
                ["calculate", "forecast", "summarise", "convert", "audit", "compare"]),
    "weather": (["temperature forecasts", "rainfall totals", "storm warnings", "UV index", "wind speed", "air quality"],
                ["forecast", "report", "look up", "alert on", "chart"]),
    "chemistry": (["molar masses", "reaction balances", "pH values", "solution concentrations", "molecular formulas", "half-lives"],
                  ["compute", "balance", "estimate", "convert", "explain"]),
    "units": (["lengths", "weights", "volumes", "temperatures", "pressures", "energies", "speeds", "areas"],
              ["convert", "normalise", "compare", "round"]),
    "travel": (["flight schedules", "hotel prices", "train connections", "visa rules", "car rentals", "itineraries"],
               ["search", "book", "compare", "plan", "cancel"]),
    "health": (["drug interactions", "BMI", "calorie intake", "symptom checks", "vaccination schedules", "heart rate zones"],
               ["check", "calculate", "track", "explain"]),
    "legal": (["contract clauses", "GDPR requests", "court deadlines", "trademark searches", "NDAs"],
              ["review", "draft", "summarise", "find", "flag"]),
    "code": (["Python functions", "SQL queries", "regular expressions", "stack traces", "unit tests", "Dockerfiles", "JSON schemas"],
             ["generate", "explain", "refactor", "validate", "format", "lint"]),
    "math": (["integrals", "derivatives", "linear systems", "matrix inverses", "prime factorisations", "limits", "series sums"],
             ["solve", "compute", "simplify", "evaluate", "plot"]),
    "text": (["paragraphs", "emails", "headlines", "product reviews", "tweets", "meeting notes", "essays"],
             ["translate", "summarise", "classify sentiment of", "proofread", "rewrite", "extract keywords from"]),
    "images": (["photos", "screenshots", "scanned receipts", "diagrams", "logos", "X-ray images"],
               ["caption", "classify", "extract text from", "resize", "detect objects in"]),
    "audio": (["podcasts", "voice memos", "phone calls", "songs", "lectures"],
              ["transcribe", "summarise", "detect language of", "identify speakers in"]),
    "sports": (["football scores", "player statistics", "league tables", "marathon splits", "betting odds"],
               ["look up", "predict", "compare", "rank"]),
    "shipping": (["parcel tracking numbers", "customs duties", "freight rates", "delivery windows", "warehouse stock"],
                 ["track", "estimate", "quote", "schedule"]),
    "calendar": (["meetings", "time zones", "public holidays", "working days", "recurring events"],
                 ["schedule", "convert", "count", "find free slots for"]),
    "geography": (["coordinates", "postal codes", "country capitals", "elevations", "driving distances"],
                  ["geocode", "look up", "measure", "reverse geocode"]),
    "retail": (["product prices", "coupon codes", "inventory levels", "return policies", "shopping carts"],
               ["compare", "apply", "check", "recommend"]),
    "education": (["quiz questions", "flashcards", "essay grades", "reading levels", "lesson plans"],
                  ["generate", "grade", "assess", "plan"]),
    "security": (["passwords", "TLS certificates", "phishing emails", "CVE reports", "firewall rules"],
                 ["audit", "check", "classify", "explain"]),
    "astronomy": (["planet positions", "sunrise times", "moon phases", "eclipse dates", "star magnitudes"],
                  ["compute", "predict", "look up"]),
}
QUALIFIERS = ["for a given date", "in bulk", "with confidence intervals", "from a CSV file", "in real time", "for small businesses",
              "with step-by-step explanations", "in plain English", "for European markets", "offline", "using historical data",
              "to two decimal places", "across multiple sources", "for beginners", "with citations", "at high precision", ""]
PARAMS = [("value", "number", "the quantity to work on"), ("unit", "string", "unit of measure"), ("date", "string", "ISO date"),
          ("text", "string", "the input text"), ("language", "string", "ISO language code"), ("currency", "string", "ISO 4217 code"),
          ("location", "string", "city or coordinates"), ("limit", "integer", "maximum number of results"), ("file_url", "string", "URL of the input file"),
          ("precision", "integer", "significant digits")]
PROVIDERS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Tyrell", "Cyberdyne", "Soylent", "Wonka"]

QUERY_TEMPLATES = ["{a} {o} {q}", "please {a} these {o}", "I need to {a} {o}", "can you {a} {o} {q}", "{a} the {o} and then {a2} {o2}"]


def synthetic_cards(n_caps: int, seed: int = 7, start: int = 0) -> list[dict]:
    """Cards with 1-4 capabilities each, ``n_caps`` capabilities in all (ids from ``start``)."""
    rng = random.Random(seed + start)
    doms = list(DOMAINS)
    cards, made, i = [], 0, start
    while made < n_caps:
        dom = rng.choice(doms)
        objs, acts = DOMAINS[dom]
        k = min(rng.randint(1, 4), n_caps - made)
        prov = rng.choice(PROVIDERS)
        caps = []
        for j in range(k):
            act, obj, q = rng.choice(acts), rng.choice(objs), rng.choice(QUALIFIERS)
            params = rng.sample(PARAMS, rng.randint(1, 3))
            caps.append({
                "name": f"{act.split()[0]}_{obj.split()[0].lower()}_{j}",
                "description": f"{act.capitalize()} {obj} {q}".strip() + f". {rng.choice(['Fast', 'Accurate', 'Cheap', 'Reliable', 'Certified'])} "
                               f"{dom} tool #{i}-{j}.",
                "examples": [f"{act} {obj} {rng.choice(QUALIFIERS)}".strip(), f"{act} the {obj} for {rng.choice(PROVIDERS)}"],
                "input_schema": {"type": "object", "properties": {p: {"type": t, "description": d} for p, t, d in params},
                                 "required": [params[0][0]]},
            })
        cards.append({
            "id": f"syn{i:06d}", "name": f"{prov} {dom} service {i}", "description": f"{prov}'s {dom} specialist ({', '.join(sorted({c['name'].split('_')[0] for c in caps}))})",
            "domains": [dom], "capabilities": caps, "cost_per_call": round(rng.uniform(0, 0.05), 4), "latency_ms": rng.choice([50, 100, 300, 1000]),
            "transport": {"kind": "http", "url": f"https://{prov.lower()}.example/{i}/mcp"},
        })
        made += k
        i += 1
    return cards


def synthetic_queries(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        dom, dom2 = rng.choice(list(DOMAINS)), rng.choice(list(DOMAINS))
        (objs, acts), (objs2, acts2) = DOMAINS[dom], DOMAINS[dom2]
        t = rng.choice(QUERY_TEMPLATES)
        out.append(" ".join(t.format(a=rng.choice(acts), o=rng.choice(objs), q=rng.choice(QUALIFIERS), a2=rng.choice(acts2), o2=rng.choice(objs2)).split()))
    return out


def _rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except Exception:  # noqa: BLE001
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))] if s else float("nan")


class ApproxEmbedder:
    """Cheap stand-in vectors for bulk synthetic capabilities (see ``--real-upto``)."""

    def __init__(self, index):
        import numpy as np

        phrases = sorted({p for objs, acts in DOMAINS.values() for p in objs + acts} | set(DOMAINS) | {q for q in QUALIFIERS if q})
        self.phrases = phrases
        self.vecs = index.embed(phrases)
        self.rng = np.random.default_rng(3)

    def __call__(self, texts):
        import numpy as np

        out = np.empty((len(texts), self.vecs.shape[1]), np.float32)
        for i, t in enumerate(texts):
            head = t.split("\n", 1)[0].lower()
            idx = [j for j, p in enumerate(self.phrases) if p.lower() in head]
            v = self.vecs[idx].sum(0) if idx else np.zeros(self.vecs.shape[1], np.float32)
            out[i] = v + 0.15 * self.rng.standard_normal(self.vecs.shape[1]).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def run(sizes: list[int], queries: int, home: Path, progress: bool, raw_sample: int, log=print,
        real_upto: int | None = None) -> dict[str, Any]:
    import numpy as np  # deferred: numpy

    from micromarket.capability_index.cards import parse_card
    from micromarket.capability_index.index import CapabilityIndex, capability_text
    from micromarket.capability_index.retriever import Retriever
    from micromarket.progress import progress_bar
    from micromarket.settings import Settings

    settings = Settings.from_env(home=home)
    index = CapabilityIndex(settings)
    retriever = Retriever(index, memory_path=None)
    qs = synthetic_queries(queries)
    index.embed(["warm up the model"])
    have, start_id, rows = index.count(), 0, []  # a --workdir index grown by an earlier run is reused
    for size in sorted(sizes):
        reused = have >= size
        if reused:  # no ingest: time the queries over what is there
            approx, written, ingest_s, ingest_tp, raw_tp, ingest_cpu_s = real_upto is not None, 0, 0.0, None, None, None
            cards, texts = [], []
        n_new = size - have
        if not reused:
            cards = [parse_card(c) for c in synthetic_cards(n_new, start=start_id)]
            start_id += len(cards) + 1
            texts = [capability_text(c, cap) for c in cards for cap in c.capabilities]
            approx = real_upto is not None and size > real_upto
        cpu0 = time.process_time()  # this process, all threads (the embedding and Chroma's writer)
        if approx and not reused:
            real_embed = index.embed
            index.embed = ApproxEmbedder(index)
            t0 = time.perf_counter()
            with progress_bar(progress) as bar:
                written = index.upsert(cards, progress=bar)
            ingest_s = time.perf_counter() - t0
            del index.embed  # back to the class method (the real model)
            assert index.embed.__func__ is real_embed.__func__
            raw_tp, ingest_tp = float("nan"), written / ingest_s
        # raw batched embedding throughput on a sample of the same texts, same batch size, same process
        sample = texts[: min(raw_sample, len(texts))]
        from micromarket.capability_index.index import EMBED_BATCH

        if not approx and not reused:
            t0 = time.perf_counter()
            for off in range(0, len(sample), EMBED_BATCH):
                index.embed(sample[off : off + EMBED_BATCH])
            raw_tp = len(sample) / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            with progress_bar(progress) as bar:
                written = index.upsert(cards, progress=bar)
            ingest_s = time.perf_counter() - t0
            ingest_tp = written / ingest_s
        if not reused:
            ingest_cpu_s = time.process_time() - cpu0  # raw sample included for model rows
        have = index.count()
        t0 = time.perf_counter()
        retriever.refresh()
        refresh_s = time.perf_counter() - t0
        for q in qs[:5]:
            retriever.retrieve([q], 5)
        lat, raw_lat, emb_lat, hits_ok = [], [], [], []
        col = index.collection
        real = index.embed

        def timed_embed(texts):
            t1 = time.perf_counter()
            try:
                return real(texts)
            finally:
                emb_lat[-1] += (time.perf_counter() - t1) * 1000

        qcpu0 = time.process_time()
        for q in qs:
            emb_lat.append(0.0)
            index.embed = timed_embed
            t0 = time.perf_counter()
            retriever.retrieve([q], 5)
            lat.append((time.perf_counter() - t0) * 1000)
            del index.embed
            t0 = time.perf_counter()
            qv = index.embed([q])
            got = col.query(query_embeddings=qv, n_results=5, include=["metadatas", "distances"])
            raw_lat.append((time.perf_counter() - t0) * 1000)
            # recall@5 of Chroma's HNSW against the exact dense top 5 (the retriever scores all n exactly)
            exact = np.argpartition(-(retriever._emb @ np.asarray(qv[0], np.float32)), 4)[:5]
            hits_ok.append(len({retriever._ids[i] for i in exact} & set(got["ids"][0])) / 5)
        query_cpu_ms = (time.process_time() - qcpu0) * 1000 / len(qs)  # retriever + HNSW reference, per query
        # the product retriever's top 5 against its own full float32 scan (exact search) of the same queries
        same, full_lat = [], []
        for q in qs:
            got = [h.key for h in retriever.retrieve([q], 5)[0]]
            bounded_from, retriever.bounded_from = retriever.bounded_from, 10**12
            try:
                t0 = time.perf_counter()
                exact_top = [h.key for h in retriever.retrieve([q], 5)[0]]
                full_lat.append((time.perf_counter() - t0) * 1000)
            finally:
                retriever.bounded_from = bounded_from
            same.append(len(set(got) & set(exact_top)) / max(1, len(exact_top)))
        row = {
            "size": have, "written": written, "reused": reused, "vectors": "approx" if approx else "model", "ingest_s": ingest_s, "ingest_per_s": ingest_tp, "raw_embed_per_s": None if approx else raw_tp,
            "ingest_vs_raw": None if approx or reused else ingest_tp / raw_tp, "refresh_s": refresh_s,
            "query_p50_ms": statistics.median(lat), "query_p99_ms": _pct(lat, 0.99),
            "query_embed_p50_ms": statistics.median(emb_lat),
            "query_excl_embed_p50_ms": statistics.median([a - b for a, b in zip(lat, emb_lat)]),
            "raw_query_p50_ms": statistics.median(raw_lat), "raw_query_p99_ms": _pct(raw_lat, 0.99),
            "hnsw_recall_at_5": sum(hits_ok) / len(hits_ok), "recall_at_5_vs_exact": sum(same) / len(same),
            "full_scan_p50_ms": statistics.median(full_lat),
            "ingest_cpu_s": ingest_cpu_s,
            "query_cpu_ms_per_query": query_cpu_ms, "rss_mb": _rss_mb(), "load_avg": os.getloadavg()[0],
        }
        rows.append(row)
        head = (f"{have:>7} caps (reused index): " if reused else
                f"{have:>7} caps (approx vectors): ingest {ingest_tp:,.0f}/s; " if approx else
                f"{have:>7} caps: ingest {ingest_tp:,.0f}/s vs raw {raw_tp:,.0f}/s ({ingest_tp / raw_tp:.2f}); ")
        log(head + f"query p50 {row['query_p50_ms']:.1f} ms (embedding {row['query_embed_p50_ms']:.1f}, rest "
            f"{row['query_excl_embed_p50_ms']:.1f}) p99 {row['query_p99_ms']:.1f} ms; raw {row['raw_query_p50_ms']:.1f} ms; "
            f"recall@5 vs exact {row['recall_at_5_vs_exact']:.3f} (full scan p50 {row['full_scan_p50_ms']:.1f} ms); HNSW recall@5 {row['hnsw_recall_at_5']:.3f}; RSS {row['rss_mb']:.0f} MB; refresh {refresh_s:.1f} s; "
            f"load {row['load_avg']:.1f}")
    retriever.close()
    return {"model": settings.embedding_model, "backend": type(index.embeddings).__name__,
            "queries": queries, "rows": rows, "real_upto": real_upto,
            "targets": {"ingest_vs_raw": ">= 0.9", "query_p50_ms_at_100k": "<= 15"}}


def _bounded_from() -> int:
    from micromarket.capability_index.retriever import Retriever

    return Retriever.bounded_from


def _f(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def plot(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    x = [r["size"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    ax.plot(x, [r["query_p50_ms"] for r in rows], "o-", label="retriever p50")
    ax.plot(x, [r["query_p99_ms"] for r in rows], "o--", label="retriever p99")
    ax.plot(x, [r["raw_query_p50_ms"] for r in rows], "s:", label="embed + HNSW p50")
    ax.axhline(15, color="grey", lw=0.8, ls="--", label="target p50 15 ms")
    ax.set(xscale="log", xlabel="capabilities", ylabel="ms", title="query latency (embedding included)")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(x, [r["ingest_per_s"] if r["ingest_per_s"] is not None else float("nan") for r in rows], "o-", label="ingest (upsert)")
    ax.plot(x, [r["raw_embed_per_s"] if r["raw_embed_per_s"] is not None else float("nan") for r in rows], "s:", label="raw batched embedding")
    ax.set(xscale="log", xlabel="capabilities", ylabel="capabilities / s", title="ingest throughput")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(x, [r["rss_mb"] for r in rows], "o-")
    ax.set(xscale="log", xlabel="capabilities", ylabel="MB", title="process RSS")
    fig.suptitle(f"micromarket capability index scale ({result['model']}, {os.cpu_count()} cores)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@app.command()
def main(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
    sizes: str = typer.Option("1000,10000,100000", "--sizes", help="Comma-separated index sizes (grown in one index)"),
    queries: int = typer.Option(200, "--queries", help="Timed queries per size"),
    raw_sample: int = typer.Option(2048, "--raw-sample", help="Texts embedded directly to measure raw throughput"),
    plot_path: Optional[Path] = typer.Option(None, "--plot", help="PNG path (default benchmarks/out/scale.png); '-' for none"),
    workdir: Optional[Path] = typer.Option(None, "--workdir", help="Keep the index here (default: a temp dir); an index "
                                           "already this size is reused: queries only"),
    real_upto: Optional[int] = typer.Option(None, "--real-upto", help="Embed only the first N capabilities with the model; approximate vectors beyond"),
) -> None:
    """Index 1k/10k/100k synthetic capabilities: ingest vs raw embedding throughput, query p50/p99, memory."""
    import logging

    logging.getLogger("micromarket").setLevel(logging.ERROR)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG
    size_list = sorted({int(s.replace("_", "").replace("k", "000")) for s in sizes.split(",") if s.strip()})
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="mm-bench-scale-")
        workdir = Path(tmp.name)
    try:
        log = (lambda *a: print(*a, file=sys.stderr)) if as_json else print
        result = run(size_list, queries, workdir, progress=not as_json, raw_sample=raw_sample, log=log, real_upto=real_upto)
    finally:
        if tmp is not None:
            tmp.cleanup()
    if str(plot_path) != "-":
        result["plot"] = str(plot(result, plot_path or OUT / "scale.png"))
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Capability index scale ({result['model']}, backend {result['backend']})")
    for c in ("capabilities", "vectors", "ingest /s", "raw embed /s", "ingest/raw", "query p50 ms", "of which embedding",
              "query p99 ms", "CPU ms/query", "recall@5 vs exact", "embed+HNSW p50 ms", "HNSW recall@5", "RSS MB", "load"):
        t.add_column(c)
    for r in result["rows"]:
        t.add_row(f"{r['size']:,}", r["vectors"], _f(r["ingest_per_s"], ",.0f"), _f(r["raw_embed_per_s"], ",.0f"), _f(r["ingest_vs_raw"], ".2f"),
                  f"{r['query_p50_ms']:.1f}", f"{r['query_embed_p50_ms']:.1f}", f"{r['query_p99_ms']:.1f}",
                  f"{r['query_cpu_ms_per_query']:.1f}", f"{r['recall_at_5_vs_exact']:.3f}", f"{r['raw_query_p50_ms']:.1f}", f"{r['hnsw_recall_at_5']:.3f}",
                  f"{r['rss_mb']:,.0f}", f"{r['load_avg']:.1f}")
    Console(width=160).print(t)
    print("recall@5 vs exact: the retriever's top 5 against its own full float32 scan of the same queries (from "
          f"{_bounded_from():,} capabilities it scores exactly only the candidates int8 bounds cannot rule out). "
          "HNSW recall@5 is Chroma's approximate top 5 against the exact dense top 5.")
    if result.get("plot"):
        print(f"plot: {result['plot']}")


if __name__ == "__main__":
    app()
