"""Two published MCP servers nobody here wrote, imported from their MCP Registry server.json through the CLI and
routed to: the reference time server (PyPI `mcp-server-time`, run by uvx; SDK 2.x, 2026-07-28) and
`@modelcontextprotocol/server-everything` (npm, run by npx; the TypeScript SDK). Each gives a real result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.server_support import env_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
TIME = {"$schema": SCHEMA, "name": "io.github.modelcontextprotocol/time", "description": "Time and timezone conversion",
        "version": "2026.10.19",
        "packages": [{"registryType": "pypi", "identifier": "mcp-server-time", "version": "2026.10.19", "runtimeHint": "uvx",
                      "transport": {"type": "stdio"},
                      "packageArguments": [{"type": "named", "name": "--local-timezone", "value": "UTC"}]}]}
EVERYTHING = {"$schema": SCHEMA, "name": "io.github.modelcontextprotocol/everything", "description": "Every MCP feature",
              "version": "2026.8.31",
              "packages": [{"registryType": "npm", "identifier": "@modelcontextprotocol/server-everything", "version": "2026.8.31",
                            "transport": {"type": "stdio"},
                            "packageArguments": [{"type": "positional", "valueHint": "transport", "value": "stdio"}]}]}

BIN = str(Path(sys.executable).parent)  # uvx comes with the dev extras (uv)


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    if not shutil.which("npx") or not shutil.which("uvx", path=BIN + os.pathsep + os.environ.get("PATH", "")):
        pytest.skip("needs npx (Node) and uvx (uv, in the dev extras)")
    d = tmp_path_factory.mktemp("third-party")
    home = d / "home"
    env = env_for(home, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    os.environ["PATH"] = env["PATH"]  # the API's pool launches uvx the same way
    for name, doc in (("time", TIME), ("everything", EVERYTHING)):
        path = d / f"{name}.json"
        path.write_text(json.dumps(doc))
        p = subprocess.run([sys.executable, "-m", "micromarket.cli", "specialists", "import", str(path), "--yes", "--json",
                            "--timeout", "600"], env=env, capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
        [res] = json.loads(p.stdout[p.stdout.index("["):])
        assert res["status"] == "registered", res
    cli = [sys.executable, "-m", "micromarket.cli", "tools"]
    p = subprocess.run([*cli, "search", "echo a message back", "-k", "3", "--json"], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and json.loads(p.stdout)[0]["name"] == "everything.echo", p.stdout[-1000:] + p.stderr[-2000:]
    p = subprocess.run([*cli, "call", "everything.echo", '{"message": "from the command line"}'], env=env, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout)
    assert out["server"] == "everything" and out["tool"] == "echo" and out["text"] == "Echo: from the command line"
    from micromarket import Marketplace

    mp = Marketplace.open(home=home, call_timeout_s=120)
    yield mp
    mp.close()


def test_time_server_converts_a_time(market):
    assert market.status("time") == "newcomer"
    assert {c.tool_name for c in market.card("time").capabilities} >= {"get_current_time", "convert_time"}
    assert any(t["server"] == "time" for t in market.search_tools("convert a time from one timezone to another", k=5))
    out = market.call_tool("time.convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"})
    assert out["tool"] == "convert_time" and out["server"] == "time"
    assert out["structured"]["target"]["datetime"].endswith("T21:00:00+09:00") and out["structured"]["time_difference"] == "+9.0h"


def test_everything_server_answers_through_the_gateway_and_solve(market):
    out = market.call_tool("everything.get-sum", {"a": 2, "b": 40})
    assert out["server"] == "everything" and "42" in out["text"]
    assert market.search_tools("echo a message back", k=3)[0]["name"] == "everything.echo"
    run = market.solve("Echo back the message hello marketplace")  # routed by the graph: one string argument
    [sub] = run["subtasks"]
    assert sub["status"] == "ok" and sub["specialist"] == "everything" and sub["capability"] == "echo"
    assert "hello marketplace" in sub["answer"]
