"""In-process MCPServer specialists for unit tests (real MCP protocol over memory streams)."""

from __future__ import annotations

import asyncio
import re

from mcp.server.mcpserver import MCPServer

from micromarket.specialists.result import SolveResult

BEHAVIOUR = {"sleep": 0.0, "fail": False}


def _num(task: str) -> float | None:
    m = re.search(r"-?\d+(?:\.\d+)?", task)
    return float(m.group()) if m else None


def miles_server() -> MCPServer:
    mcp = MCPServer("fake-miles", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        if BEHAVIOUR["fail"]:
            raise RuntimeError("miles specialist is broken")
        n = _num(task)
        if n is None or "mile" not in task.lower():
            return SolveResult(answer="", confidence=0.0, explanation="no miles in the request")
        await asyncio.sleep(BEHAVIOUR["sleep"])
        return SolveResult(answer=f"{n} mi = {n * 1.609344:.2f} km", confidence=0.95, explanation="1 mi = 1.609344 km", value=n * 1.609344)

    return mcp


def miles_backup_server() -> MCPServer:
    mcp = MCPServer("fake-miles-backup", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        n = _num(task)
        if n is None:
            return SolveResult(answer="", confidence=0.0, explanation="no number")
        return SolveResult(answer=f"{n} mi = {n * 1.6:.1f} km", confidence=0.6, explanation="rough", value=n * 1.6)

    return mcp


def integral_server() -> MCPServer:
    mcp = MCPServer("fake-integral", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        if "integrate" not in task.lower():
            return SolveResult(answer="", confidence=0.0, explanation="not an integral")
        await asyncio.sleep(BEHAVIOUR["sleep"])
        return SolveResult(answer="π² − 4 ≈ 5.87", confidence=0.97, explanation="by parts", value=5.869604401)

    return mcp


def hanging_server() -> MCPServer:
    mcp = MCPServer("fake-hang", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        await asyncio.sleep(3600)
        return SolveResult(answer="never", confidence=1.0)

    return mcp
