"""``micromarket bench services_lookup``: the warm 4-subtask solve of ``bench overhead`` with the nodes' services
lookup as it was (settings parsed and a thread hop at every node) and as it is (remembered per context), the two
interleaved in one process so that both see the same load. Prints the orchestration p25/p50/p75 of each.

    micromarket bench services_lookup [--runs 60] [--json]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import typer

app = typer.Typer(add_completion=False, help="A/B of the nodes' services lookup on the warm 4-subtask solve.")


async def _run(runs: int) -> dict:
    from micromarket.benchmarks import overhead as ov
    from micromarket.nodes import common
    from micromarket.services import services_for, settings_from_context

    now = (common.found_services, common.services_of_context)
    before = (lambda ctx: None, lambda ctx: services_for(settings_from_context(ctx)))
    mp = await asyncio.to_thread(ov._open, Path(tempfile.mkdtemp(prefix="mm-lookup-")) / "noop", "inprocess", 0.0, None)
    try:
        for _ in range(5):
            await mp.asolve(ov.TASK4)
        orch: dict[str, list[float]] = {"before": [], "now": []}
        for i in range(runs):
            for mode in (("before", "now") if i % 2 else ("now", "before")):
                common.found_services, common.services_of_context = now if mode == "now" else before
                t0 = time.perf_counter()
                out = await mp.asolve(ov.TASK4)
                orch[mode].append((time.perf_counter() - t0) * 1000 - ov._crit_ms(out))
                if not all(r["status"] == "ok" for r in out["subtasks"]):
                    raise RuntimeError(f"a subtask failed: {out['subtasks']}")
    finally:
        common.found_services, common.services_of_context = now
        mp.close()
    res = {m: dict(zip(("p25_ms", "p50_ms", "p75_ms"), statistics.quantiles(v, n=4))) for m, v in orch.items()}
    return {"runs": runs, "load_avg": os.getloadavg()[0], "orchestration": res}


@app.command()
def main(runs: int = typer.Option(60, help="timed solves per variant"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Interleaved A/B of the services lookup; orchestration = wall - specialist time, as in bench overhead."""
    from micromarket import _speedups

    _speedups.apply()
    load0 = os.getloadavg()[0]
    res = asyncio.run(_run(runs))
    res["load_avg_start"] = load0
    if as_json:
        typer.echo(json.dumps(res))
        return
    for m, v in res["orchestration"].items():
        typer.echo(f"{m:7s} orchestration p50 {v['p50_ms']:.1f} ms (p25 {v['p25_ms']:.1f}, p75 {v['p75_ms']:.1f})")
    typer.echo(f"load {load0:.2f} -> {res['load_avg']:.2f}")


if __name__ == "__main__":
    app()
