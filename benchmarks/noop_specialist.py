"""No-op (and sleeping) specialists for the performance benchmarks.

In-process (transport kind "inprocess", a zero-argument factory returning an MCPServer):
    benchmarks.noop_specialist:noop_server        returns at once
    benchmarks.noop_specialist:sleepy_server      awaits asyncio.sleep(SLEEP_S)
    benchmarks.noop_specialist:sleepy_sync_server time.sleep(SLEEP_S) in a *sync* tool (blocks a loop unless offloaded)

stdio:  python -m benchmarks.noop_specialist [--sleep 0.25] [--sync]

Every answer carries ``value`` = seconds spent inside the tool, so a benchmark can
subtract specialist time from wall time exactly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import micromarket  # noqa: F401  (process-start speed-ups before the mcp import)
from micromarket.specialists.result import SolveResult

SLEEP_S = float(os.environ.get("MICROMARKET_BENCH_SLEEP", "0.25"))


def _result(task: str, t0: float) -> dict:
    spent = time.perf_counter() - t0
    return {"answer": f"done: {task[:60]}", "confidence": 0.9, "explanation": "no-op", "value": spent}


def make_server(name: str = "noop", *, sleep: float = 0.0, sync: bool = False):
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer(name, log_level="WARNING")
    if sync:

        @mcp.tool(name="solve", structured_output=True)
        def solve_sync(task: str, context: str = "") -> SolveResult:
            t0 = time.perf_counter()
            if sleep:
                time.sleep(sleep)
            return SolveResult(**_result(task, t0))

    else:

        @mcp.tool(name="solve", structured_output=True)
        async def solve(task: str, context: str = "") -> SolveResult:
            t0 = time.perf_counter()
            if sleep:
                await asyncio.sleep(sleep)
            return SolveResult(**_result(task, t0))

    return mcp


def noop_server():
    return make_server("noop")


def sleepy_server():
    return make_server("sleepy", sleep=SLEEP_S)


def sleepy_sync_server():
    return make_server("sleepy-sync", sleep=SLEEP_S, sync=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--name", default="noop")
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--sync", action="store_true")
    a = ap.parse_args()
    make_server(a.name, sleep=a.sleep, sync=a.sync).run("stdio")


if __name__ == "__main__":
    main()
