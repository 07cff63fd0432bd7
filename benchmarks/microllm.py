"""`micromarket bench microllm`: trained micro-LLM specialists — full training, MCP latency, competition through trust.

    micromarket bench microllm [--task dates --task roman] [--steps N] [--out DIR]     # train + evaluate, one JSON line per task
    micromarket bench microllm --latency --model DIR [--queries 100]                      # per-query latency through the MCP stdio server
    micromarket bench microllm --compete --model DIR [--rounds 40] [--home DIR]          # micro-LLM vs rule-based `dates`, trust decides
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help=__doc__.splitlines()[0], add_completion=False)


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


async def _latency(card_path: Path, tasks: list[str], warmup: int = 3) -> list[float]:
    from mcp import Client, StdioServerParameters

    from micromarket.capability_index.cards import load_card

    card = load_card(card_path)
    cmd = [sys.executable if a == "{python}" else a for a in card.transport.command]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=env, cwd=card.transport.cwd or None)
    out = []
    async with Client(params) as s:
        for t in tasks[:warmup]:
            await s.call_tool("solve", {"task": t})
        for t in tasks:
            t0 = time.perf_counter()
            res = await s.call_tool("solve", {"task": t})
            out.append((time.perf_counter() - t0) * 1000)
            assert not res.is_error, res.content
    return out


def run_latency(model: Path, queries: int) -> dict:
    import asyncio

    from micromarket.specialists.microllm.compete import date_tasks

    card = model / "card.yaml"
    if not card.is_file():
        raise typer.BadParameter(f"{card} not found (train with `micromarket train dates --out {model}`)", param_hint="--model")
    tasks = [t for t, _, _ in date_tasks(queries, seed=7)]
    ms = sorted(asyncio.run(_latency(card, tasks)))
    res = {"queries": len(ms), "median_ms": round(statistics.median(ms), 2), "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 2),
           "max_ms": round(ms[-1], 2), "load_avg": _load()}
    typer.echo(f"MCP stdio latency over {len(ms)} queries (client call -> structured result): median {res['median_ms']} ms, "
               f"p90 {res['p90_ms']} ms, max {res['max_ms']} ms (load {res['load_avg']})", err=True)
    return res


def run_compete(model: Path, rounds: int, home: Path | None, seed: int) -> dict:
    from rich.console import Console
    from rich.table import Table

    from micromarket import Marketplace
    from micromarket.specialists.microllm.compete import accuracy_by_specialist, compete, date_tasks, direct_accuracy, trust_rows

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    card = model / "card.yaml"
    if not card.is_file():
        raise typer.BadParameter(f"{card} not found (train with `micromarket train dates --out {model}`)", param_hint="--model")
    console = Console(stderr=True, width=200)
    tasks = date_tasks(rounds, seed=seed)
    home = home or Path(tempfile.mkdtemp(prefix="mm-compete-"))
    rec_table = Table(title=f"routing records (home {home})")
    for c in ("#", "task", "split", "candidates: trust / sampled", "chosen", "answer", "truth", "ok"):
        rec_table.add_column(c, overflow="fold")
    with Marketplace.open(home=home) as market:
        from micromarket.capability_index.cards import load_card

        market.register(load_card(card), replace=True)

        def show(r):
            cands = ", ".join(f"{c['specialist_id']} {c.get('trust', 0):.2f}/{c.get('sampled_trust', 0):.2f}"
                              for c in r.candidates if c.get("capability") == "normalize_date")
            rec_table.add_row(str(len(rec_table.rows) + 1), r.task, r.split, cands, r.chosen or "-", str(r.value), r.truth, "yes" if r.correct else "NO")

        rs = compete(market, tasks, seed=seed, on_round=show)
        trust = trust_rows(market)
    console.print(rec_table)
    t = Table(title="trust (normalize_date)")
    for c in ("specialist", "mean", "alpha", "beta", "verified ok", "verified failed"):
        t.add_column(c)
    for row in trust:
        t.add_row(row["specialist_id"], f"{row['mean']:.3f}", f"{row['alpha']:.1f}", f"{row['beta']:.1f}", str(row["verified_ok"]), str(row["verified_failed"]))
    console.print(t)
    direct = direct_accuracy(tasks, str(model))
    chosen = {k: {"correct": ok, "chosen": n} for k, (ok, n) in accuracy_by_specialist(rs).items()}
    console.print(f"asked directly on all {len(tasks)} tasks: " + ", ".join(f"{k} {v:.1%}" for k, v in direct.items()))
    return {"rounds": len(rs), "chosen": chosen, "market_accuracy": round(sum(r.correct for r in rs) / len(rs), 4),
            "direct_accuracy": {k: round(v, 4) for k, v in direct.items()},
            "trust": {r["specialist_id"]: r["mean"] for r in trust}, "load_avg": _load()}


@app.command()
def main(
    task: Annotated[list[str] | None, typer.Option("--task", help="dates and/or roman (default both)")] = None,
    steps: Annotated[int | None, typer.Option(help="training budget per task in optimizer steps (default: the trainer's)")] = None,
    out: Annotated[Path, typer.Option(help="directory for the trained models")] = Path("bench-out/microllm"),
    seed: Annotated[int, typer.Option()] = 0,
    latency: Annotated[bool, typer.Option("--latency", help="measure per-query latency of --model through its MCP stdio server")] = False,
    compete: Annotated[bool, typer.Option("--compete", help="--model (a trained dates model) vs the rule-based dates specialist")] = False,
    model: Annotated[Path | None, typer.Option("--model", help="trained model directory (with card.yaml)")] = None,
    queries: Annotated[int, typer.Option(help="queries for --latency")] = 100,
    rounds: Annotated[int, typer.Option(help="tasks for --compete")] = 40,
    home: Annotated[Path | None, typer.Option(help="marketplace home for --compete (default: a fresh temp dir)")] = None,
) -> None:
    if latency or compete:
        if model is None:
            raise typer.BadParameter("--latency/--compete need --model DIR", param_hint="--model")
        if latency:
            sys.stdout.write(json.dumps({"latency": run_latency(model, queries)}) + "\n")
        if compete:
            sys.stdout.write(json.dumps({"compete": run_compete(model, rounds, home, seed)}) + "\n")
        return
    from micromarket.specialists.microllm import train_dates, train_numwords, train_roman
    from micromarket.specialists.microllm.trainer import TrainConfig, run

    tasks = {"dates": train_dates.DatesTask, "roman": train_roman.RomanTask, "numwords": train_numwords.NumberWordsTask}
    for name in task or list(tasks):
        if name not in tasks:
            raise typer.BadParameter(f"unknown task {name!r}; choose from {', '.join(tasks)}", param_hint="--task")
        t = tasks[name]()
        summary = run(t, TrainConfig(seed=seed, **({"steps": steps} if steps else {})), out / t.specialist_id, json_out=False)
        sys.stdout.write(json.dumps({"task": name, **summary}) + "\n")


if __name__ == "__main__":
    app()
