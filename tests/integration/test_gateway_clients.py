"""The tool-search gateway of the HTTP front door (`micromarket serve --transport http`, bearer token) with two kinds of
client: the mcp SDK 2.x client, and langchain-mcp-adapters' MultiServerMCPClient inside a LangGraph agent driven by a
fake chat model that calls search_tools, then call_tool with what the search returned. The agent runs in its own
venv: langchain-mcp-adapters still requires mcp<2 (it speaks 2025-11-25 to the front door)."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap

import pytest

from tests.integration.server_support import http_server, prepare_home
from tests.integration.venv_support import MCP_2025_11_25, venv_python

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

TASK = "Convert 5 miles to kilometers"

AGENT = textwrap.dedent(
    '''
    import asyncio, json, sys

    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_mcp_adapters.client import MultiServerMCPClient
    from langgraph.prebuilt import create_react_agent

    URL, TOKEN, TASK = sys.argv[1], sys.argv[2], sys.argv[3]


    def payload(msg):
        """The JSON object a tool returned (the adapters give text or content blocks)."""
        content = msg.content if isinstance(msg.content, str) else "".join(
            b.get("text", "") if isinstance(b, dict) else str(b) for b in msg.content)
        return json.loads(content[content.index("{"):content.rindex("}") + 1])


    class ScriptedModel(BaseChatModel):
        """A fake chat model: search_tools for the task, call_tool on the best match, then answer with its result."""

        @property
        def _llm_type(self):
            return "scripted"

        def bind_tools(self, tools, **kw):
            return self

        def _generate(self, messages, stop=None, run_manager=None, **kw):
            results = [m for m in messages if isinstance(m, ToolMessage)]
            if not results:
                msg = AIMessage("", tool_calls=[{"name": "search_tools", "args": {"query": TASK, "k": 3}, "id": "t1"}])
            elif len(results) == 1:
                best = payload(results[0])["tools"][0]
                props = best["input_schema"].get("properties", {})
                args = {"task": TASK} if "task" in props else {next(iter(props)): TASK}
                msg = AIMessage("", tool_calls=[{"name": "call_tool", "args": {"name": best["name"], "arguments": args}, "id": "t2"}])
            else:
                msg = AIMessage(json.dumps({"search": payload(results[0]), "call": payload(results[1])}))
            return ChatResult(generations=[ChatGeneration(message=msg)])


    async def main():
        client = MultiServerMCPClient({"micromarket": {"transport": "streamable_http", "url": URL,
                                                        "headers": {"Authorization": f"Bearer {TOKEN}"}}})
        tools = await client.get_tools()
        agent = create_react_agent(ScriptedModel(), tools)
        out = await agent.ainvoke({"messages": [("user", TASK)]})
        print(json.dumps({"tools": sorted(t.name for t in tools), "final": out["messages"][-1].content}))


    asyncio.run(main())
    '''
)


@pytest.fixture(scope="module")
def front_door(tmp_path_factory):
    home = prepare_home(tmp_path_factory.mktemp("gateway") / "home")
    with http_server(home) as info:
        yield info


async def test_gateway_with_the_mcp_sdk_client(front_door):
    from mcp import Client
    from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

    async with create_mcp_http_client(headers=front_door["headers"]) as hc, \
            Client(streamable_http_client(front_door["url"], http_client=hc)) as c:
        assert c.protocol_version == "2026-07-28"  # the front door speaks the current, stateless revision
        found = (await c.call_tool("search_tools", {"query": TASK, "k": 3})).structured_content["tools"]
        best = found[0]
        assert best["server"] == "units" and best["name"].startswith("units.") and "task" in best["input_schema"]["properties"]
        res = await c.call_tool("call_tool", {"name": best["name"], "arguments": {"task": TASK}})
        assert not res.is_error, res.content
        out = res.structured_content
        assert out["server"] == "units" and out["tool"] == "solve" and re.search(r"8\.0[45]", out["result"]["answer"])


def test_langgraph_agent_reaches_an_imported_tool_through_the_gateway(front_door, tmp_path):
    py = venv_python(MCP_2025_11_25)
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    token = front_door["headers"]["Authorization"].split()[1]
    p = subprocess.run([str(py), str(script), front_door["url"], token, TASK], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert {"search_tools", "call_tool", "solve"} <= set(out["tools"])
    final = json.loads(out["final"])
    assert final["search"]["tools"][0]["server"] == "units"
    call = final["call"]
    assert call["server"] == "units" and call["tool"] == "solve" and re.search(r"8\.0[45]", call["result"]["answer"])
