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
    from mcp import Client

    mcp = server.build_server(fake_market)
    async with Client(mcp) as session:
        res = await session.call_tool("solve", {"task": TASK, "budget": 1.0})
        assert not res.is_error, res.content
        sc = res.structured_content
        assert "8.05 km" in sc["answer"] and sc["subtasks"][0]["specialist"] == "miles" and sc["run_id"]
        found = await session.call_tool("find_specialists", {"query": "integrate a function", "k": 1})
        assert found.structured_content["matches"][0]["specialist_id"] == "calculus"
        fb = await session.call_tool("feedback", {"run_id": sc["run_id"], "verdict": "bad", "note": "test"})
        assert fb.structured_content["verdict"] == "bad" and fb.structured_content["updated"]
        trust = json.loads((await session.read_resource("micromarket://trust")).contents[0].text)
        assert any(t["specialist_id"] == "miles" for t in trust)
        err = await session.call_tool("feedback", {"run_id": "", "verdict": "good"})
        assert err.is_error


async def test_http_server_writes_and_removes_daemon_file(fake_market):
    from mcp import Client
    from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

    from micromarket.daemon import daemon_info, read_token

    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(server.aserve_http("127.0.0.1", 0, market=fake_market, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 60)
    info = daemon_info(fake_market.settings.home)
    assert info and info["url"].startswith("http://127.0.0.1:") and info["url"].endswith("/mcp")
    auth = {"Authorization": f"Bearer {read_token(fake_market.settings.home)}"}
    async with create_mcp_http_client(headers=auth) as hc, Client(streamable_http_client(info["url"], http_client=hc)) as session:
        res = await session.call_tool("solve", {"task": TASK})
        assert "8.05 km" in res.structured_content["answer"]
    stop.set()
    await asyncio.wait_for(task, 30)
    assert daemon_info(fake_market.settings.home) is None
    assert not (fake_market.settings.home / "daemon.json").exists()
