"""Plugins: third-party packages register specialists through the `micromarket.specialists` entry-point group;
the built-ins load through the same path. Nothing is installed: the entry points are simulated."""

from __future__ import annotations

import importlib.metadata as md

import pytest

from micromarket import plugins

ACME_CARD = {
    "id": "acme-weather",
    "name": "ACME weather",
    "description": "Weather forecasts for a city (third-party plugin)",
    "capabilities": [{"name": "forecast", "description": "weather forecast for a city and a day", "examples": ["weather in Paris tomorrow"]}],
    "transport": {"kind": "stdio", "command": ["acme-weather-mcp"]},
    "provider": "ACME",
}


def acme_cards():
    return [ACME_CARD]


def broken_cards():
    raise RuntimeError("this plugin is broken")


def _eps(*extra):
    base = [md.EntryPoint(name="builtins", value="micromarket.specialists.builtin:cards", group=plugins.GROUP)]
    return base + [md.EntryPoint(name=n, value=v, group=plugins.GROUP) for n, v in extra]


@pytest.fixture
def simulated_entry_points(monkeypatch):
    eps = _eps(("acme", "tests.unit.test_plugins:acme_cards"), ("broken", "tests.unit.test_plugins:broken_cards"))

    def entry_points(**kw):
        assert kw.get("group") == plugins.GROUP
        return eps

    monkeypatch.setattr(md, "entry_points", entry_points)
    monkeypatch.setattr(plugins, "entry_points", entry_points)
    return eps


def test_plugin_cards_come_through_the_entry_point_group(simulated_entry_points, caplog):
    found = {c.id: src for c, src in plugins.plugin_cards()}
    assert found["acme-weather"] == "plugin:acme"
    builtin_ids = {c.id for c in __import__("micromarket.specialists.builtin", fromlist=["cards"]).cards()}
    assert builtin_ids and all(found[i] == "plugin:builtins" for i in builtin_ids)  # built-ins: the same path
    assert "broken" in caplog.text  # a broken plugin is reported, not fatal


def test_third_party_card_is_registered_on_first_open(simulated_entry_points, tmp_path, monkeypatch):
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    mp = Marketplace.open(home=tmp_path / "home")
    try:
        rows = {r["id"]: r for r in mp.specialists()}
        assert rows["acme-weather"]["source"] == "plugin:acme" and rows["acme-weather"]["capabilities"] == ["forecast"]
        assert "units" in rows and rows["units"]["source"] == "plugin:builtins"
        assert any(h["specialist_id"] == "acme-weather" for h in mp.find("weather forecast for Paris tomorrow", 10))
    finally:
        mp.close()


def test_a_plugin_installed_while_a_process_runs_is_seen_by_its_next_command(tmp_path, monkeypatch):
    """The entry points are cached between commands (a warm daemon) until a directory on sys.path changes."""
    import os
    import sys

    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    installed = _eps()
    reads = []

    def entry_points(**kw):
        reads.append(1)
        return list(installed)

    monkeypatch.setattr(plugins, "entry_points", entry_points)
    before = {c.id for c, _ in plugins.plugin_cards()}
    assert {c.id for c, _ in plugins.plugin_cards()} == before and len(reads) == 1  # not read again
    installed += _eps(("acme", "tests.unit.test_plugins:acme_cards"))[1:]
    (site / "acme-1.0.dist-info").mkdir()  # what installing a distribution does to its directory
    st = site.stat()
    os.utime(site, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a coarse clock: the change is seen
    assert {c.id for c, _ in plugins.plugin_cards()} == before | {"acme-weather"}
