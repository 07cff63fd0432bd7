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
4. **cold solve** -- ``micromarket solve --no-daemon`` as a new process, index already built (process start to
   answer; wall and CPU-seconds of the process tree), on the no-op home and on a built-ins home (README's task,
   first solve on a fresh home too); then the CLI's own daemon: its start, ``solve`` and every other command
   through it (p50 wall, client CPU-seconds) and the daemon's RSS.

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
import threading
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
    """Counts and times the embedding calls of a run: ``CapabilityIndex.embed`` and the retriever's query embedding
    (the tuned query encoder does not go through the index); a call inside another is not counted twice."""

    def __init__(self, index, retriever=None):
        self.index, self.inner = index, index.embed
        self.calls: list[tuple[int, float]] = []
        self._depth = threading.local()
        index.embed = self
        if retriever is not None:
            inner_q = retriever.embed_queries
            retriever.embed_queries = lambda texts: self._timed(inner_q, texts)

    def __call__(self, texts):
        return self._timed(self.inner, texts)

    def _timed(self, fn, texts):
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        t0 = time.perf_counter()
        try:
            return fn(texts)
        finally:
            self._depth.n = depth
            if depth == 0:
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
    spy = _EmbedSpy(noop.services.index, noop.services.retriever)
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


def _subreaper() -> None:
    """Linux: orphans of our commands (specialists whose watchdog was killed with the CLI) become our children,
    so that their CPU time is counted when we reap them."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _reap(settle_s: float = 1.0) -> None:
    """Reap the orphans a command left (they end right after it); a live daemon is left alone."""
    deadline = time.perf_counter() + settle_s
    while time.perf_counter() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def _time_cmd(argv: list[str], env: dict[str, str], n: int) -> tuple[float, list[float], str, float]:
    """Median wall seconds, all runs, the last stdout, and the median CPU-seconds (user+sys) of the whole process
    tree: the command, its children and their orphans (specialist processes), not a detached daemon."""
    import resource

    _subreaper()
    ts, cpus, last = [], [], ""
    for _ in range(n):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        ts.append(time.perf_counter() - t0)
        _reap()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr[-800:]}")
        last = p.stdout
    return _med(ts), ts, last, _med(cpus)


BUILTIN_TASK = "Convert 26.2 miles to kilometers, then integrate x^2*sin(x) from 0 to pi"
BUILTIN_TASK4 = ("Convert 26.2 miles to kilometers. Integrate x^2*sin(x) from 0 to pi. What is 15% of 80? "
                 "Compute the mean of 3, 5 and 10.")  # units, math, quickcalc, stats


def _cold(base: Path, n: int, embedding_model: str | None, daemon: bool) -> dict[str, Any]:
    home = base / "inprocess-noop"
    env = dict(os.environ, MICROMARKET_NO_DAEMON="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if embedding_model:
        env["MICROMARKET_EMBEDDING_MODEL"] = embedding_model
    py = sys.executable
    imp, imp_all, _, _ = _time_cmd([py, "-c", "import micromarket.cli"], env, n)
    base_py, _, _, _ = _time_cmd([py, "-c", "pass"], env, n)
    solve = [py, "-m", "micromarket.cli", "solve", "--json", "--home", str(home), TASK4]
    cold, cold_all, out, cold_cpu = _time_cmd(solve, env, n)
    res: dict[str, Any] = {
        "python_startup_s": base_py, "import_cli_s": imp, "import_cli_runs_s": imp_all,
        "cold_solve_s": cold, "cold_solve_runs_s": cold_all, "cold_solve_cpu_s": cold_cpu,
        "cold_solve_subtasks_ok": sum(r["status"] == "ok" for r in json.loads(out)["subtasks"]),
    }
    # the built-in specialists (stdio subprocesses) and the packaged MiniLM, on an indexed home: README's task
    bhome = base / "builtins"
    t0 = time.perf_counter()
    first = [py, "-m", "micromarket.cli", "solve", "--json", "--home", str(bhome), BUILTIN_TASK]
    _, _, out, first_cpu = _time_cmd(first, env, 1)
    res.update(first_solve_fresh_home_s=time.perf_counter() - t0, first_solve_fresh_home_cpu_s=first_cpu)
    bcold, bcold_all, out, bcold_cpu = _time_cmd(first, env, n)
    res.update(builtin_cold_solve_s=bcold, builtin_cold_solve_runs_s=bcold_all, builtin_cold_solve_cpu_s=bcold_cpu,
               builtin_cold_solve_subtasks_ok=sum(r["status"] == "ok" for r in json.loads(out)["subtasks"]))
    if daemon:
        res.update(_with_daemon(home, env, n, solve))
        res.update(_builtins_daemon(bhome, env, n))
    return res


def _builtins_daemon(home: Path, env: dict[str, str], n: int) -> dict[str, Any]:
    """A 4-subtask task of the built-ins through the daemon the CLI starts, and the RSS of the daemon's whole
    process tree (the daemon, and any specialist processes with their watchdogs) with those built-ins warm."""
    denv = dict(env)
    denv.pop("MICROMARKET_NO_DAEMON", None)
    cli = [sys.executable, "-m", "micromarket.cli"]
    solve = [*cli, "solve", "--json", "--home", str(home), BUILTIN_TASK4]
    try:
        _time_cmd(solve, denv, 1)  # starts the daemon; the plan's built-ins start
        w, runs, out, cpu = _time_cmd(solve, denv, max(n, 5))
        st = json.loads(subprocess.run([*cli, "daemon", "status", "--json", "--home", str(home)], env=denv, capture_output=True,
                                       text=True, timeout=60).stdout)
        return {"builtin_daemon_solve_s": w, "builtin_daemon_solve_runs_s": runs, "builtin_daemon_solve_client_cpu_s": cpu,
                "builtin_daemon_solve_subtasks_ok": sum(r["status"] == "ok" for r in json.loads(out)["subtasks"]),
                "builtin_daemon_rss_mb": (st.get("rss_bytes") or 0) / 2**20,
                "builtin_daemon_tree_rss_mb": (st.get("tree_rss_bytes") or 0) / 2**20}
    except RuntimeError as e:
        return {"builtin_daemon_error": str(e)}
    finally:
        subprocess.run([*cli, "daemon", "stop", "--home", str(home)], env=denv, capture_output=True, timeout=60)


def _replacements(home: Path) -> int:
    """How many times a client replaced the home's daemon (the product logs each, with why, in cli-daemon.log)."""
    try:
        return (home / "cli-daemon.log").read_text(errors="replace").count(" replacing the daemon (pid ")
    except OSError:
        return 0


def _with_daemon(home: Path, env: dict[str, str], n: int, solve: list[str]) -> dict[str, Any]:
    """The CLI's own daemon: its start, then every command through it (p50 wall and client CPU)."""
    denv = dict(env)
    denv.pop("MICROMARKET_NO_DAEMON", None)
    py = sys.executable
    cli = [py, "-m", "micromarket.cli"]
    subprocess.run([*cli, "daemon", "stop", "--home", str(home)], env=denv, capture_output=True, timeout=60)
    try:
        start, _, _, _ = _time_cmd([*cli, "daemon", "start", "--home", str(home)], denv, 1)
        replaced0 = _replacements(home)
        warm, warm_all, out, warm_cpu = _time_cmd(solve, denv, n)
        # a daemon replaced during the solves (its identity changed: e.g. a .py file of the package was edited) is
        # restarted by the client; the old daemon's CPU is reaped here and would read as client CPU
        restarts = _replacements(home) - replaced0
        run_id = json.loads(out)["run_id"]
        card = home.parent / "bench-shout.json"
        card.write_text(json.dumps({"id": "bench-shout", "name": "bench-shout", "description": "shouts",
                                    "transport": {"kind": "http", "url": "http://127.0.0.1:9/mcp"},
                                    "capabilities": [{"name": "shout", "description": "uppercase the text loudly"}]}))
        commands = {
            "feedback": ["feedback", run_id, "--good"],
            "routing": ["routing", run_id, "--json"],
            "trust show": ["trust", "show", "--json"],
            "specialists list": ["specialists", "list", "--json"],
            "index verify": ["index", "verify"],
            "specialists add --replace": ["specialists", "add", str(card), "--replace"],
        }
        per: dict[str, dict[str, float]] = {}
        for name, args in commands.items():
            w, _, _, c = _time_cmd([*cli, *args, "--home", str(home)], denv, n)
            per[name] = {"p50_s": w, "client_cpu_s": c}
        rm_w, _, _, rm_c = _time_cmd([*cli, "specialists", "remove", "bench-shout", "--home", str(home)], denv, 1)
        per["specialists remove"] = {"p50_s": rm_w, "client_cpu_s": rm_c}
        st = json.loads(subprocess.run([*cli, "daemon", "status", "--json", "--home", str(home)], env=denv, capture_output=True,
                                       text=True, timeout=60).stdout)
        return {"daemon_replaced_during_solves": restarts, "daemon_start_s": start, "daemon_solve_s": warm, "daemon_solve_runs_s": warm_all, "daemon_solve_client_cpu_s": warm_cpu,
                "daemon_solve_subtasks_ok": sum(r["status"] == "ok" for r in json.loads(out)["subtasks"]),
                "daemon_commands": per, "daemon_rss_mb": (st.get("rss_bytes") or 0) / 2**20}
    except RuntimeError as e:
        return {"daemon_error": str(e)}
    finally:
        subprocess.run([*cli, "daemon", "stop", "--home", str(home)], env=denv, capture_output=True, timeout=60)


@app.command()
def main(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
    runs: int = typer.Option(30, "--runs", help="Timed 4-subtask tasks per kind"),
    fan_runs: int = typer.Option(5, "--fan-runs", help="Timed 16-subtask fan-outs per kind"),
    kinds: str = typer.Option("inprocess,stdio", "--kinds", help="inprocess, stdio or both"),
    cold: bool = typer.Option(True, "--cold/--no-cold", help="Also time import and cold `micromarket solve` subprocesses"),
    cold_runs: int = typer.Option(3, "--cold-runs"),
    daemon: bool = typer.Option(True, "--daemon/--no-daemon", help="Also time the CLI's daemon: its start and every command through it"),
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
    result: dict[str, Any] = {"targets": {"overhead_ratio": "<= 1.5", "fanout_efficiency": ">= 0.8", "cold_solve_s": "<= 4",
                                          "daemon_start_s": "<= 5", "daemon_solve_s": "<= 0.3",
                                          "builtin_daemon_solve_s": "<= 0.3", "builtin_daemon_tree_rss_mb": "<= 700", "daemon_commands_p50_s": "<= 0.3"},
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
                  f"cold `micromarket solve --no-daemon` (4 no-op subtasks) {c['cold_solve_s']:.2f} s, {c['cold_solve_cpu_s']:.2f} CPU-s "
                  f"(runs {', '.join(f'{x:.2f}' for x in c['cold_solve_runs_s'])})")
        con.print(f"built-ins, README task: first solve on a fresh home {c['first_solve_fresh_home_s']:.2f} s "
                  f"({c['first_solve_fresh_home_cpu_s']:.2f} CPU-s); cold solve --no-daemon {c['builtin_cold_solve_s']:.2f} s, "
                  f"{c['builtin_cold_solve_cpu_s']:.2f} CPU-s ({c['builtin_cold_solve_subtasks_ok']} subtasks ok)")
        if "daemon_solve_s" in c:
            t = Table(title=f"Through the CLI's daemon (started in {c['daemon_start_s']:.2f} s, RSS {c['daemon_rss_mb']:.0f} MB)")
            for col in ("command", "p50 s", "client CPU-s", "cold / daemon"):
                t.add_column(col)
            t.add_row("solve (4 subtasks)", f"{c['daemon_solve_s']:.3f}", f"{c['daemon_solve_client_cpu_s']:.3f}",
                      f"{c['cold_solve_s'] / c['daemon_solve_s']:.1f}x")
            for name, v in c["daemon_commands"].items():
                t.add_row(name, f"{v['p50_s']:.3f}", f"{v['client_cpu_s']:.3f}", "")
            con.print(t)
            if c.get("daemon_replaced_during_solves"):
                con.print(f"[red]the daemon was replaced {c['daemon_replaced_during_solves']} time(s) during the timed solves "
                          f"(see {Path('<home>') / 'cli-daemon.log'}): those runs include a new warm-up[/red]")
        elif "daemon_error" in c:
            con.print(f"daemon: {c['daemon_error']}")
        if "builtin_daemon_solve_s" in c:
            con.print(f"built-ins through the daemon, 4 subtasks: p50 {c['builtin_daemon_solve_s']:.3f} s "
                      f"({c['builtin_daemon_solve_subtasks_ok']} ok); daemon tree RSS {c['builtin_daemon_tree_rss_mb']:.0f} MB "
                      f"(the daemon {c['builtin_daemon_rss_mb']:.0f} MB)")
    con.print(f"load average {r['load_avg_start']:.2f} -> {r['load_avg_end']:.2f} on {r['cpus']} CPUs")


if __name__ == "__main__":
    app()
