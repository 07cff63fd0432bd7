"""mcpServers config parsing (typed-tool arguments: tests/unit/test_tool_arguments.py)."""

from __future__ import annotations

import json

import pytest

from micromarket.errors import InputError
from micromarket.importer import load_config, specialist_id_for, transport_for

# ---------------------------------------------------------------- config


def test_transport_for_stdio_and_http():
    t = transport_for("files", {"command": "npx", "args": ["-y", "server-x", 3], "env": {"TOKEN": "abc"}})
    assert t.kind == "stdio" and t.command == ["npx", "-y", "server-x", "3"] and t.env == {"TOKEN": "abc"}
    h = transport_for("remote", {"url": "http://127.0.0.1:9/mcp"})
    assert h.kind == "http" and h.url.endswith("/mcp")


@pytest.mark.parametrize(
    "spec, msg",
    [
        ({}, "needs 'command'"),
        ("npx", "expected an object"),
        ({"url": "ftp://x"}, "must start with http"),
        ({"url": "http://x/sse", "type": "sse"}, "SSE"),
        ({"command": "x", "args": "nope"}, "args"),
        ({"command": "x", "env": ["A=1"]}, "env"),
    ],
)
def test_transport_for_names_the_problem(spec, msg):
    with pytest.raises(InputError, match=msg):
        transport_for("bad", spec)


def test_load_config(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"mcpServers": {"a": {"command": "x"}}}))
    assert load_config(p) == {"a": {"command": "x"}}
    p.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_config(p)
    p.write_text(json.dumps({"servers": {}}))
    with pytest.raises(InputError, match="mcpServers"):
        load_config(p)
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "missing.json")


def test_specialist_ids_are_valid():
    assert specialist_id_for("My Server (prod)") == "my-server-prod"
    assert specialist_id_for("???") == "server"
