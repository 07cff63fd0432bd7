"""`micromarket serve`: the whole marketplace as one MCP server, driven over stdio and streamable HTTP
by the mcp SDK's client and by the independent MCP Inspector CLI (npm)."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.server_support import (
    TASK,
    copy_home,
    env_for,
    http_server,
    inspector,
    inspector_json,
    npx,
    prepare_home,
    serve_argv,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

KM = re.compile(r"8\.0[45]\d*\s*km")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return prepare_home(tmp_path_factory.mktemp("serve") / "home")


@pytest.fixture(scope="module")
def http(home, tmp_path_factory):
    h = copy_home(home, tmp_path_factory.mktemp("serve-http") / "home")
    with http_server(h) as info:
        yield info
    assert not (h / "daemon.json").exists(), "daemon.json must be removed when the server exits"
    assert info["proc"].returncode == 0, info["log"].read_text()[-2000:]


@pytest.fixture(scope="module")
def http_no_auth(home, tmp_path_factory):
    """`--no-auth` on loopback: for clients that cannot send a header (the Inspector CLI 0.15, the conformance suite)."""
    h = copy_home(home, tmp_path_factory.mktemp("serve-http-open") / "home")
    with http_server(h, "--no-auth") as info:
        yield info


def _check_solution(sc: dict) -> None:
    assert KM.search(sc["answer"]), sc["answer"]
    assert sc["run_id"]
    (sub,) = sc["subtasks"]
    assert sub["specialist"] == "units" and sub["status"] == "ok" and KM.search(sub["answer"])
    assert sub["attempts"] and sub["attempts"][-1]["outcome"] == "ok" and sub["attempts"][-1]["key"].startswith("units.")
    assert sc["unsupported"] == []


async def _exercise(session) -> None:
    init_tools = await session.list_tools()
    by_name = {t.name: t for t in init_tools.tools}
    assert {"solve", "find_specialists", "feedback"} <= set(by_name)
    assert by_name["solve"].output_schema and "run_id" in by_name["solve"].output_schema["properties"]
    res = await session.call_tool("solve", {"task": TASK})
    assert not res.is_error, res.content
    _check_solution(res.structured_content)
    run_id = res.structured_content["run_id"]

    found = await session.call_tool("find_specialists", {"query": "miles to kilometers", "k": 3})
    assert not found.is_error and found.structured_content["matches"][0]["specialist_id"] == "units"

    fb = await session.call_tool("feedback", {"run_id": run_id, "verdict": "good", "note": "checked by hand"})
    assert not fb.is_error, fb.content
    assert fb.structured_content["updated"] and fb.structured_content["updated"][0]["specialist_id"] == "units"
    bad = await session.call_tool("feedback", {"run_id": run_id, "verdict": "meh"})
    assert bad.is_error

    uris = {str(r.uri) for r in (await session.list_resources()).resources}
    assert {"micromarket://specialists", "micromarket://trust"} <= uris
    specs = json.loads((await session.read_resource("micromarket://specialists")).contents[0].text)
    assert any(s["id"] == "units" for s in specs)
    trust = json.loads((await session.read_resource("micromarket://trust")).contents[0].text)
    assert any(t["specialist_id"] == "units" and t["capability"] for t in trust)
    card = json.loads((await session.read_resource("micromarket://specialists/units")).contents[0].text)
    assert card["id"] == "units"

    empty = await session.call_tool("solve", {"task": "   "})
    assert empty.is_error and "empty" in empty.content[0].text


async def test_sdk_client_over_stdio(home):
    from mcp import Client, StdioServerParameters

    argv = serve_argv(home)
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env_for(home))
    async with Client(params) as session:
        assert session.server_info.name == "micromarket" and "solve" in (session.instructions or "")
        await _exercise(session)


async def test_sdk_client_over_http(http):
    from mcp import Client
    from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

    assert http["url"].endswith("/mcp") and http["pid"] == http["proc"].pid
    assert http["headers"]  # the token from <home>/token
    async with create_mcp_http_client(headers=http["headers"]) as hc, Client(streamable_http_client(http["url"], http_client=hc)) as session:
        await _exercise(session)


needs_npx = pytest.mark.skipif(npx() is None, reason="npx (Node.js) is not installed: the MCP Inspector CLI cannot run")


@needs_npx
def test_inspector_cli_over_stdio(home):
    argv = serve_argv(home)
    listed = inspector_json(inspector(*argv, "--method", "tools/list", env=env_for(home)))
    assert "solve" in {t["name"] for t in listed["tools"]}
    called = inspector_json(inspector(*argv, "--method", "tools/call", "--tool-name", "solve", "--tool-arg", f"task={TASK}",
                                      env=env_for(home)))
    assert not called.get("isError"), called
    _check_solution(called["structuredContent"])
    assert KM.search(called["content"][0]["text"])


@needs_npx
def test_inspector_cli_over_http(http_no_auth):
    url = http_no_auth["url"]
    listed = inspector_json(inspector(url, "--transport", "http", "--method", "tools/list"))
    assert "solve" in {t["name"] for t in listed["tools"]}
    called = inspector_json(inspector(url, "--transport", "http", "--method", "tools/call", "--tool-name", "solve",
                                      "--tool-arg", f"task={TASK}"))
    assert not called.get("isError"), called
    _check_solution(called["structuredContent"])
