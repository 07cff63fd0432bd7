"""The MCP front door in-process and fast: fake embeddings, in-process specialists, memory streams and a
loopback HTTP server on a free port (daemon.json written while serving, removed after)."""

from __future__ import annotations

import asyncio
import json

from micromarket import server
import pytest

pytestmark = pytest.mark.integration

TASK = "convert 5 miles to km"


async def test_tools_and_resources_over_memory_streams(fake_market):
    from mcp.shared.memory import create_connected_server_and_client_session

    mcp = server.build_server(fake_market)
    async with create_connected_server_and_client_session(mcp._mcp_server) as session:
        res = await session.call_tool("solve", {"task": TASK, "budget": 1.0})
        assert not res.isError, res.content
        sc = res.structuredContent
        assert "8.05 km" in sc["answer"] and sc["subtasks"][0]["specialist"] == "miles" and sc["run_id"]
        found = await session.call_tool("find_specialists", {"query": "integrate a function", "k": 1})
        assert found.structuredContent["matches"][0]["specialist_id"] == "calculus"
        fb = await session.call_tool("feedback", {"run_id": sc["run_id"], "verdict": "bad", "note": "test"})
        assert fb.structuredContent["verdict"] == "bad" and fb.structuredContent["updated"]
        trust = json.loads((await session.read_resource("micromarket://trust")).contents[0].text)
        assert any(t["specialist_id"] == "miles" for t in trust)
        err = await session.call_tool("feedback", {"run_id": "", "verdict": "good"})
        assert err.isError


async def test_http_server_writes_and_removes_daemon_file(fake_market):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    from micromarket.daemon import daemon_info, read_token

    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(server.aserve_http("127.0.0.1", 0, market=fake_market, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 60)
    info = daemon_info(fake_market.settings.home)
    assert info and info["url"].startswith("http://127.0.0.1:") and info["url"].endswith("/mcp")
    auth = {"Authorization": f"Bearer {read_token(fake_market.settings.home)}"}
    async with streamablehttp_client(info["url"], headers=auth) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        res = await session.call_tool("solve", {"task": TASK})
        assert "8.05 km" in res.structuredContent["answer"]
    stop.set()
    await asyncio.wait_for(task, 30)
    assert daemon_info(fake_market.settings.home) is None
    assert not (fake_market.settings.home / "daemon.json").exists()
