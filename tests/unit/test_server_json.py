"""MCP Registry server.json import: a package runs by its runtime at its pinned version, a remote by its URL, and
the result goes through the same plan (what would be launched) and launch rules as an mcpServers config."""

from __future__ import annotations

import json

import pytest

from micromarket.errors import InputError
from micromarket.importer import load_config, plan_import

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"

TIME = {  # the registry entry format of the reference time server (PyPI)
    "$schema": SCHEMA,
    "name": "io.github.modelcontextprotocol/time",
    "description": "Time and timezone conversion",
    "version": "2026.10.19",
    "repository": {"url": "https://github.com/modelcontextprotocol/servers", "source": "github", "subfolder": "src/time"},
    "packages": [{
        "registryType": "pypi", "identifier": "mcp-server-time", "version": "2026.10.19", "runtimeHint": "uvx",
        "transport": {"type": "stdio"},
        "packageArguments": [{"type": "named", "name": "--local-timezone", "value": "UTC"}],
    }],
}

EVERYTHING = {  # an npm package with a required secret that has a default, and a remote as a second way in
    "$schema": SCHEMA,
    "name": "io.github.modelcontextprotocol/everything",
    "description": "Exercises every MCP feature",
    "version": "2026.8.31",
    "packages": [{
        "registryType": "npm", "identifier": "@modelcontextprotocol/server-everything", "version": "2026.8.31",
        "transport": {"type": "stdio"},
        "packageArguments": [{"type": "positional", "valueHint": "transport", "value": "stdio"}],
        "environmentVariables": [{"name": "LOG_LEVEL", "default": "warn"}, {"name": "OPTIONAL_TOKEN", "isSecret": True}],
    }],
    "remotes": [{"type": "streamable-http", "url": "https://everything.example/mcp"}],
}


def test_pypi_and_npm_packages_become_pinned_launches():
    time = load_config(TIME)["time"]
    assert time == {"command": "uvx", "args": ["mcp-server-time==2026.10.19", "--local-timezone", "UTC"], "env": {}}
    every = load_config(EVERYTHING)["everything"]
    assert every["command"] == "npx" and every["args"] == ["-y", "@modelcontextprotocol/server-everything@2026.8.31", "stdio"]
    assert every["env"] == {"LOG_LEVEL": "warn"}  # an optional secret without a value is left out, never borrowed


def test_remote_only_and_registry_api_lists():
    remote = {"name": "io.example/weather", "remotes": [{"type": "streamable-http", "url": "https://weather.example/mcp"}]}
    assert load_config(remote) == {"weather": {"url": "https://weather.example/mcp"}}
    listing = {"servers": [{"server": TIME, "_meta": {"io.modelcontextprotocol.registry/official": {"status": "active"}}},
                           {"server": remote}]}
    assert set(load_config(listing)) == {"time", "weather"}


@pytest.mark.parametrize("doc, message", [
    ({"name": "io.example/x", "packages": [{"registryType": "pypi", "identifier": "x", "transport": {"type": "stdio"},
                                            "environmentVariables": [{"name": "API_KEY", "isRequired": True, "isSecret": True}]}]},
     r"environmentVariables\[0\] \(API_KEY\): required and has no value"),
    ({"name": "io.example/x", "packages": [{"registryType": "mcpb", "identifier": "https://x", "transport": {"type": "stdio"}}]},
     "registryType: 'mcpb' is not runnable"),
    ({"name": "io.example/x", "remotes": [{"type": "sse", "url": "https://x.example/sse"}]},
     "no stdio package and no streamable-http remote"),
    ({"name": "no-namespace", "packages": []}, "expected a registry name"),
    *[({"name": "io.example/x", "packages": [{"registryType": "npm", "identifier": "x", "transport": {"type": "stdio"},
                                              "environmentVariables": [{"name": var, "value": "--require /tmp/evil.js"}]}]},
       rf"\({var}\): a server.json may not set a variable that changes what is launched")
      for var in ("NODE_OPTIONS", "LD_PRELOAD", "PATH", "npm_config_registry", "UV_INDEX_URL", "PYTHONPATH")],
])
def test_bad_server_json_names_the_field(doc, message):
    with pytest.raises(InputError, match=message):
        load_config(doc)


def test_plan_shows_the_exact_launch_before_anything_runs(fake_market, tmp_path):
    path = tmp_path / "server.json"
    path.write_text(json.dumps(TIME))
    [plan] = plan_import(fake_market, path)
    assert plan.name == "time" and plan.specialist_id == "time" and plan.error is None
    assert "mcp-server-time==2026.10.19 --local-timezone UTC" in plan.launches
    assert plan.transport.kind == "stdio" and plan.transport.command[0] == "uvx"


def test_plan_names_the_variables_a_launch_gets(fake_market, tmp_path):
    path = tmp_path / "server.json"
    path.write_text(json.dumps(EVERYTHING))
    [plan] = plan_import(fake_market, path)
    assert plan.launches.endswith("[env: LOG_LEVEL]")  # names shown before anything runs; values may be secrets


def test_runtime_arguments_follow_the_runtime_and_images_are_pinned():
    doc = {"name": "io.example/files", "packages": [{
        "registryType": "oci", "identifier": "docker.io/example/files", "version": "1.2.0", "transport": {"type": "stdio"},
        "runtimeArguments": [{"type": "named", "name": "--mount", "value": "type=bind,src={dir},dst=/data",
                              "variables": {"dir": {"default": "/srv/files"}}}],
        "packageArguments": [{"type": "named", "name": "--port"}, {"type": "named", "name": "--root", "value": "/data"}],
    }]}
    entry = load_config(doc)["files"]
    assert entry["command"] == "docker"
    assert entry["args"] == ["run", "-i", "--rm", "--mount", "type=bind,src=/srv/files,dst=/data",
                             "docker.io/example/files:1.2.0", "--root", "/data"]  # the unset optional --port is left out
    doc["packages"][0]["environmentVariables"] = [{"name": "FILES_MODE", "value": "ro"}]
    entry = load_config(doc)["files"]
    assert entry["args"][:5] == ["run", "-i", "--rm", "-e", "FILES_MODE"] and entry["env"] == {"FILES_MODE": "ro"}
    doc["packages"][0]["runtimeArguments"][0]["variables"] = {"dir": {"description": "where"}}
    with pytest.raises(InputError, match=r"variable \{dir\} has no value"):
        load_config(doc)
