"""``micromarket bench daemon_warmup``: what the CLI daemon's warm-up costs, step by step (wall and CPU-seconds).

Runs the steps of ``micromarket.cli.daemon._Daemon.warm`` (benchmarks sit below the CLI: through the API) in this process on ``--home`` (an indexed home: run a
solve on it first), so run it as a fresh process. The daemon's start is this plus the interpreter (~0.05 CPU-s).

    micromarket bench daemon_warmup --home H [--json]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, help="The CLI daemon's warm-up, step by step.")


@app.command()
def main(home: Optional[Path] = typer.Option(None, "--home"), as_json: bool = typer.Option(False, "--json")) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    steps: list[dict] = []

    def mark(step: str) -> None:
        steps.append({"step": step, "wall_s": round(time.perf_counter() - t0, 3), "cpu_s": round(time.process_time() - c0, 3)})

    from micromarket.api import Marketplace  # what the CLI's commands open (cli.common._open)

    mark("micromarket.api imported")
    mp = Marketplace.open(home=home, progress=False)
    mark("Marketplace.open (chromadb, stores)")
    mp.graph  # noqa: B018
    mark("graph compiled (langgraph)")
    mp.find("convert 5 miles to km", 1)
    mark("one retrieval (embedding model, Chroma query)")
    from micromarket.specialists.launch import preload_mcp  # deferred: the mcp SDK

    preload_mcp()
    mark("mcp SDK preloaded")
    out = {"steps": steps, "load_avg": os.getloadavg()[0], "cpus": os.cpu_count()}
    if as_json:
        sys.stdout.write(json.dumps(out) + "\n")
        return
    for s in steps:
        print(f"{s['step']:<48} wall {s['wall_s']:6.2f} s   CPU {s['cpu_s']:5.2f} s (cumulative)")
    print(f"load average {out['load_avg']:.2f} on {out['cpus']} CPUs")


if __name__ == "__main__":
    app()
