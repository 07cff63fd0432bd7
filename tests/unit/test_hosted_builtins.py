"""Trusted built-ins served in the pool's own process (in-memory MCP); every other card keeps its own process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import psutil
import pytest

from micromarket.capability_index.cards import Transport
from micromarket.specialists import builtin
from micromarket.specialists.launch import hosted_builtin


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _units_card():
    return next(c for c in builtin.cards() if c.id == "units")


def test_every_packaged_builtin_is_hosted():
    for card in builtin.cards():
        assert hosted_builtin(card.transport) == card.transport.command[2], card.id


@pytest.mark.parametrize("transport", [
    # a look-alike card that adds an environment or a working directory: it may change what the process imports
    {"kind": "stdio", "command": ["{python}", "-m", "micromarket.specialists.builtin.units"], "env": {"PYTHONPATH": "/tmp/x"}},
    {"kind": "stdio", "command": ["{python}", "-m", "micromarket.specialists.builtin.units"], "cwd": "/tmp"},
    {"kind": "stdio", "command": ["{python}", "-m", "micromarket.specialists.builtin.units", "--extra"]},
    {"kind": "stdio", "command": ["/usr/bin/python3", "-m", "micromarket.specialists.builtin.units"]},
    {"kind": "stdio", "command": ["{python}", "-m", "micromarket.specialists.builtin._common"]},  # not a card's module
    {"kind": "stdio", "command": ["{python}", "-m", "tests.fakes.hang_stdio"]},
    {"kind": "inprocess", "target": "micromarket.specialists.builtin.units:mcp"},  # its own rules (launchable.py)
    {"kind": "http", "url": "http://127.0.0.1:9/mcp"},
])
def test_anything_but_a_packaged_builtin_transport_is_not_hosted(transport):
    assert hosted_builtin(Transport(**transport)) is None


def test_a_hosted_builtin_answers_without_a_process():
    from micromarket.specialists.pool import SpecialistPool

    card = _units_card()
    before = _children()
    pool = SpecialistPool(call_timeout=60, connect_timeout=60, host_builtins=True)
    try:
        out = asyncio.run(pool.call(card, "convert", {"value": 26.2, "from_unit": "mi", "to_unit": "km"}))
        tools, info = asyncio.run(pool.list_tools(card))
        card_yaml = asyncio.run(pool.read_resource(card, "card://units"))
    finally:
        pool.close()
    assert not out.is_error and out.structured["answer"] == "26.2 mi = 42.16 km"
    assert {t.name for t in tools} == {"solve", "convert"} and info.name == "units"
    assert card_yaml.startswith("id: units")  # its card resource, as over stdio
    assert _children() - before == set()  # no specialist process was launched


def test_a_hosted_builtin_that_overruns_its_deadline_is_cancelled_and_not_hosted_again(monkeypatch):
    from micromarket.specialists import pool as pool_mod
    from micromarket.specialists.builtin import units

    def slow(value, from_unit, to_unit):
        time.sleep(1.5)
        raise AssertionError("not reached within the deadline")

    monkeypatch.setattr(units, "convert", slow)
    launched = []

    def no_launch(t):  # the next connect would launch a process: record it instead of paying for one
        launched.append(t.command)
        raise RuntimeError("launch recorded")

    monkeypatch.setattr(pool_mod, "launch_command", no_launch)
    card = _units_card()
    pool = pool_mod.SpecialistPool(call_timeout=0.5, connect_timeout=60, retries=0, host_builtins=True)
    try:
        with pytest.raises(pool_mod.SpecialistCallError) as ei:
            asyncio.run(pool.call(card, "convert", {"value": 1, "from_unit": "mi", "to_unit": "km"}))
        assert ei.value.kind == "timeout"
        with pytest.raises(pool_mod.SpecialistCallError):
            asyncio.run(pool.call(card, "convert", {"value": 1, "from_unit": "mi", "to_unit": "km"}))
    finally:
        pool.close()
    assert launched == [card.transport.command]  # from then on it runs as its own (killable) process


def test_a_pool_without_hosting_launches_builtins(monkeypatch):
    from micromarket.specialists import pool as pool_mod

    launched = []

    def no_launch(t):
        launched.append(t.command)
        raise RuntimeError("launch recorded")

    monkeypatch.setattr(pool_mod, "launch_command", no_launch)
    pool = pool_mod.SpecialistPool(call_timeout=5, retries=0)
    try:
        with pytest.raises(pool_mod.SpecialistCallError):
            asyncio.run(pool.call(_units_card(), "convert", {"value": 1, "from_unit": "mi", "to_unit": "km"}))
    finally:
        pool.close()
    assert launched == [_units_card().transport.command]


def test_the_setting_turns_hosting_off(tmp_path, monkeypatch):
    from micromarket.services import Services
    from micromarket.settings import Settings

    assert Services(Settings(home=tmp_path / "a")).pool.host_builtins is True
    monkeypatch.setenv("MICROMARKET_INPROCESS_BUILTINS", "0")
    assert Services(Settings(home=tmp_path / "b")).pool.host_builtins is False


def test_reading_with_a_builtin_does_not_load_the_mcp_server_stack():
    code = ("import sys, micromarket.specialists.builtin.units as u\n"
            "print(sorted(k for k in sys.modules if k == 'mcp' or k.startswith('mcp.')))\n"
            "print(type(u.mcp.build_server()).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded, made = out.stdout.splitlines()
    assert loaded == "[]" and made == "MCPServer"


def test_the_list_says_where_a_builtin_runs(tmp_path, monkeypatch):
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    with Marketplace.open(home=tmp_path / "home") as mp:
        hosted = {r["id"]: r for r in mp.specialists()}
        mp.settings = mp.settings.model_copy(update={"inprocess_builtins": False})  # MICROMARKET_INPROCESS_BUILTINS=0
        launched = {r["id"]: r for r in mp.specialists()}
    assert hosted["units"]["launch"] == "in process (built-in): micromarket.specialists.builtin.units"
    assert launched["units"]["launch"] == f"stdio: {sys.executable} -m micromarket.specialists.builtin.units"
