"""``micromarket bench overhead``: what the marketplace adds around its specialists.

Four measurements, each as a ratio taken within one run (the machine is shared and noisy):

1. **overhead_ratio** -- a 4-subtask task against no-op specialists (in-process MCPServer
   servers and stdio MCP subprocesses). Per task: orchestration = wall - specialist
   time on the critical path (each no-op answer reports the seconds it spent in its
   tool). The physical floor, measured interleaved in the same process on the same
   subtasks: ONE batched MiniLM embedding of the subtask texts + ONE Chroma HNSW
   query. ``overhead_ratio = median(orchestration) / median(floor)`` (target <= 1.5).
   Also reported: embedding calls per task (must be 1) and the in-run embedding time.
2. **fanout_efficiency** -- 16 subtasks on specialists that sleep 250 ms, through the
   session pool. ideal wall = orchestration of the same 16-subtask task on no-op
   specialists + one sleep (perfect parallelism); efficiency = ideal / measured,
   the median over paired runs (target >= 0.8). ``strict`` = 0.25 s / measured wall.
3. **import** -- ``python -c "import micromarket.cli"`` (median of runs).
4. **cold solve** -- ``micromarket solve`` as a new process, index already built
   (process start to answer), without a daemon and with ``micromarket serve`` running.

    micromarket bench overhead [--json] [--runs 30] [--kinds inprocess,stdio] [--no-cold]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import typer

app = typer.Typer(add_completion=False, help="Orchestration overhead, fan-out efficiency, import and cold-start times.")

REPO = Path(__file__).resolve().parents[1]
SLEEP_S = 0.25

CAPS = {
    "temperature": ("convert temperatures between celsius and fahrenheit degrees", ["convert 20 celsius to fahrenheit"]),
    "wordcount": ("count the words in a piece of text", ["count the words in hello big world"]),
    "reverse": ("reverse the characters of a string", ["reverse the string abc"]),
    "uppercase": ("convert text to upper case capital letters", ["uppercase the text hello"]),
}
TASK4 = "convert 20 celsius to fahrenheit; count the words in the quick brown fox; reverse the string hello; uppercase the text good morning"
TASK16 = "; ".join(
    f"convert {20 + i} celsius to fahrenheit; count the words in the quick brown fox number {i}; "
    f"reverse the string hello{i}; uppercase the text good morning {i}"
    for i in range(4)
)


def _cards(kind: str, sleep: float) -> list[dict]:
    cards = []
    for name, (desc, examples) in CAPS.items():
        sid = f"{'sleepy' if sleep else 'noop'}-{name}"
        if kind == "inprocess":
            target = "micromarket.benchmarks.noop_specialist:" + ("sleepy_server" if sleep else "noop_server")
            transport = {"kind": "inprocess", "target": target}
        else:
            cmd = ["{python}", "-m", "micromarket.benchmarks.noop_specialist", "--name", sid, "--sleep", str(sleep)]
            transport = {"kind": "stdio", "command": cmd, "cwd": str(REPO)}
        cards.append({
            "id": sid, "name": f"{name} specialist", "description": desc,
            "capabilities": [{"name": name, "description": desc, "examples": examples}],
            "transport": transport, "latency_ms": sleep * 1000,
        })
    return cards


def _open(home: Path, kind: str, sleep: float, embedding_model: str | None):
    from micromarket.api import Marketplace
    from micromarket.specialists.launchable import allow_inprocess_modules

    allow_inprocess_modules("micromarket.benchmarks")  # the noop servers run in process (also in `solve` subprocesses)
    mp = Marketplace.open(home=home, builtins=False, embedding_model=embedding_model, call_timeout_s=30)
    if not mp.specialists():
        for c in _cards(kind, sleep):
            mp.register(c)
    return mp


class _EmbedSpy:
    """Counts and times CapabilityIndex.embed calls (instance attribute: the retriever's calls go through it)."""

    def __init__(self, index):
        self.index, self.inner = index, index.embed
        self.calls: list[tuple[int, float]] = []
        index.embed = self

    def __call__(self, texts):
        t0 = time.perf_counter()
        try:
            return self.inner(texts)
        finally:
            self.calls.append((len(texts), (time.perf_counter() - t0) * 1000))

    def take(self) -> list[tuple[int, float]]:
        out, self.calls = self.calls, []
        return out


def _floor_ms(mp, texts: list[str], k: int) -> float:
    """The physical limit: one batched embedding of the subtasks and one HNSW query."""
    idx = mp.services.index
    embed = getattr(idx.embed, "inner", idx.embed)
    t0 = time.perf_counter()
    q = embed(texts)
    idx.collection.query(query_embeddings=q, n_results=k, include=["metadatas", "distances"])
    return (time.perf_counter() - t0) * 1000


def _crit_ms(out: dict) -> float:
    """Specialist time on the critical path: the longest tool time of the (single) wave."""
    vals = [float(r.get("value") or 0.0) for r in out["subtasks"] if r.get("status") == "ok"]
    return max(vals, default=0.0) * 1000


def _med(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def _p(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return float(s[min(len(s) - 1, int(round(q * (len(s) - 1))))])


async def _measure_kind(kind: str, base: Path, runs: int, fan_runs: int, embedding_model: str | None) -> dict[str, Any]:
    noop = await asyncio.to_thread(_open, base / f"{kind}-noop", kind, 0.0, embedding_model)
    sleepy = await asyncio.to_thread(_open, base / f"{kind}-sleepy", kind, SLEEP_S, embedding_model)
    spy = _EmbedSpy(noop.services.index)
    plan4 = [s.strip() for s in TASK4.split(";")]
    k = 5
    # warm up: model, Chroma, BM25, MCP sessions (stdio processes start here)
    for _ in range(3):
        await noop.asolve(TASK4)
        await noop.asolve(TASK16)
        await sleepy.asolve(TASK16)
        _floor_ms(noop, plan4, k)
    spy.take()
    walls, orch, floors, emb_calls, emb_ms, ok = [], [], [], [], [], []
    for _ in range(runs):
        floors.append(await asyncio.to_thread(_floor_ms, noop, plan4, k))
        t0 = time.perf_counter()
        out = await noop.asolve(TASK4)
        wall = (time.perf_counter() - t0) * 1000
        calls = spy.take()
        walls.append(wall)
        orch.append(wall - _crit_ms(out))
        emb_calls.append(len(calls))
        emb_ms.append(sum(ms for _, ms in calls))
        ok.append(sum(r["status"] == "ok" for r in out["subtasks"]))
    orch16, fan_walls, fan_ok, pair_eff = [], [], [], []
    for _ in range(fan_runs):  # paired: each fan-out is compared with the no-op run just before it
        t0 = time.perf_counter()
        out = await noop.asolve(TASK16)
        orch16.append((time.perf_counter() - t0) * 1000 - _crit_ms(out))
        t0 = time.perf_counter()
        out = await sleepy.asolve(TASK16)
        fan_walls.append((time.perf_counter() - t0) * 1000)
        fan_ok.append(sum(r["status"] == "ok" for r in out["subtasks"]))
        pair_eff.append((orch16[-1] + SLEEP_S * 1000) / fan_walls[-1])
    ideal = _med(orch16) + SLEEP_S * 1000
    res = {
        "kind": kind,
        "runs": runs,
        "subtasks_ok": min(ok),
        "wall_ms_p50": _med(walls),
        "orchestration_ms_p50": _med(orch),
        "orchestration_ms_p90": _p(orch, 0.9),
        "floor_ms_p50": _med(floors),
        "embed_in_run_ms_p50": _med(emb_ms),
        "embedding_calls_per_task": max(emb_calls),
        "overhead_ratio": _med(orch) / _med(floors),
        "fanout": {
            "subtasks": 16, "sleep_ms": SLEEP_S * 1000, "runs": fan_runs, "subtasks_ok": min(fan_ok),
            "orchestration16_ms_p50": _med(orch16), "ideal_wall_ms": ideal, "wall_ms_p50": _med(fan_walls),
            "serial_wall_ms": 16 * SLEEP_S * 1000,
            "fanout_efficiency": _med(pair_eff), "fanout_efficiency_of_medians": ideal / _med(fan_walls),
            "strict_efficiency": SLEEP_S * 1000 / _med(fan_walls),
        },
    }
    noop.close()
    sleepy.close()
    return res


def _time_cmd(argv: list[str], env: dict[str, str], n: int) -> tuple[float, list[float], str]:
    ts, last = [], ""
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        ts.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr[-800:]}")
        last = p.stdout
    return _med(ts), ts, last


def _cold(base: Path, n: int, embedding_model: str | None, daemon: bool) -> dict[str, Any]:
    home = base / "inprocess-noop"
    env = dict(os.environ, MICROMARKET_NO_DAEMON="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if embedding_model:
        env["MICROMARKET_EMBEDDING_MODEL"] = embedding_model
    py = sys.executable
    imp, imp_all, _ = _time_cmd([py, "-c", "import micromarket.cli"], env, n)
    base_py, _, _ = _time_cmd([py, "-c", "pass"], env, n)
    solve = [py, "-m", "micromarket.cli", "solve", "--json", "--home", str(home), TASK4]
    cold, cold_all, out = _time_cmd(solve, env, n)
    res: dict[str, Any] = {
        "python_startup_s": base_py, "import_cli_s": imp, "import_cli_runs_s": imp_all,
        "cold_solve_s": cold, "cold_solve_runs_s": cold_all,
        "cold_solve_subtasks_ok": sum(r["status"] == "ok" for r in json.loads(out)["subtasks"]),
    }
    if daemon:
        res.update(_with_daemon(home, env, n, solve))
    return res


def _with_daemon(home: Path, env: dict[str, str], n: int, solve: list[str]) -> dict[str, Any]:
    denv = dict(env)
    denv.pop("MICROMARKET_NO_DAEMON", None)
    info = home / "daemon.json"
    info.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "micromarket.cli", "serve", "--transport", "http", "--port", "0", "--home", str(home)],
                            env=denv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not info.exists():
            if proc.poll() is not None or time.perf_counter() - t0 > 120:
                return {"daemon_error": "micromarket serve did not start"}
            time.sleep(0.1)
        ready = time.perf_counter() - t0
        warm, warm_all, out = _time_cmd(solve, denv, n)
        return {"daemon_start_s": ready, "daemon_solve_s": warm, "daemon_solve_runs_s": warm_all,
                "daemon_solve_subtasks_ok": sum(r["status"] == "ok" for r in json.loads(out)["subtasks"])}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@app.command()
def main(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
    runs: int = typer.Option(30, "--runs", help="Timed 4-subtask tasks per kind"),
    fan_runs: int = typer.Option(5, "--fan-runs", help="Timed 16-subtask fan-outs per kind"),
    kinds: str = typer.Option("inprocess,stdio", "--kinds", help="inprocess, stdio or both"),
    cold: bool = typer.Option(True, "--cold/--no-cold", help="Also time import and cold `micromarket solve` subprocesses"),
    cold_runs: int = typer.Option(3, "--cold-runs"),
    daemon: bool = typer.Option(True, "--daemon/--no-daemon", help="Also time `micromarket solve` against a running `micromarket serve`"),
    embedding_model: Optional[str] = typer.Option(None, "--embedding-model", help="Default: the configured model (MiniLM)"),
    workdir: Optional[Path] = typer.Option(None, "--workdir", help="Keep the benchmark homes here (default: a temp dir)"),
) -> None:
    """Orchestration overhead vs the embedding+index floor, fan-out efficiency, import and cold start."""
    import logging

    logging.getLogger("micromarket").setLevel(logging.ERROR)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="mm-bench-overhead-")
        workdir = Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"targets": {"overhead_ratio": "<= 1.5", "fanout_efficiency": ">= 0.8", "cold_solve_s": "<= 4"},
                              "cpus": os.cpu_count(), "load_avg_start": os.getloadavg()[0]}
    try:
        result["kinds"] = {}
        for kind in [k.strip() for k in kinds.split(",") if k.strip()]:
            result["kinds"][kind] = asyncio.run(_measure_kind(kind, workdir, runs, fan_runs, embedding_model))
        if cold:
            result["cold"] = _cold(workdir, cold_runs, embedding_model, daemon)
    finally:
        result["load_avg_end"] = os.getloadavg()[0]
        if tmp is not None:
            tmp.cleanup()
    if as_json:
        sys.stdout.write(json.dumps(result, default=float) + "\n")
        return
    _print(result)


def _print(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    t = Table(title=f"Orchestration overhead (4 subtasks, no-op specialists; load avg {r['load_avg_start']:.1f})")
    for c in ("kind", "wall p50 ms", "orchestration p50 ms", "floor p50 ms", "in-run embed ms", "embed calls/task", "overhead_ratio"):
        t.add_column(c)
    f = Table(title=f"Fan-out (16 subtasks x {SLEEP_S * 1000:.0f} ms sleep)")
    for c in ("kind", "ideal ms", "wall p50 ms", "serial ms", "fanout_efficiency", "strict"):
        f.add_column(c)
    for k, v in r.get("kinds", {}).items():
        t.add_row(k, f"{v['wall_ms_p50']:.1f}", f"{v['orchestration_ms_p50']:.1f}", f"{v['floor_ms_p50']:.1f}", f"{v['embed_in_run_ms_p50']:.1f}",
                  str(v["embedding_calls_per_task"]), f"{v['overhead_ratio']:.2f}")
        fo = v["fanout"]
        f.add_row(k, f"{fo['ideal_wall_ms']:.0f}", f"{fo['wall_ms_p50']:.0f}", f"{fo['serial_wall_ms']:.0f}", f"{fo['fanout_efficiency']:.2f}",
                  f"{fo['strict_efficiency']:.2f}")
    con.print(t)
    con.print(f)
    c = r.get("cold")
    if c:
        con.print(f"python startup {c['python_startup_s']:.2f} s; import micromarket.cli {c['import_cli_s']:.2f} s; "
                  f"cold `micromarket solve` {c['cold_solve_s']:.2f} s (runs {', '.join(f'{x:.2f}' for x in c['cold_solve_runs_s'])})")
        if "daemon_solve_s" in c:
            con.print(f"with `micromarket serve` running: solve {c['daemon_solve_s']:.2f} s (daemon ready after {c['daemon_start_s']:.1f} s)")
        elif "daemon_error" in c:
            con.print(f"daemon: {c['daemon_error']}")


if __name__ == "__main__":
    app()
