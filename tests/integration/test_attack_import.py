"""`specialists import` shows every command it would launch, asks (or needs --yes), and never replaces an id silently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MILES, inproc_card

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def mm(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MICROMARKET_EMBEDDING_MODEL="fake", MICROMARKET_BUILTINS="0", MICROMARKET_NO_DAEMON="1",
               PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    env.pop("MICROMARKET_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "micromarket.cli", *args, "--home", str(home)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)


@pytest.fixture
def home(tmp_path):
    from micromarket import Marketplace

    h = tmp_path / "home"
    with Marketplace.open(home=h, builtins=False, embedding_model="fake") as mp:
        mp.register(inproc_card("units", "tests.fakes.servers:miles_server", [MILES]), trusted=True)
    return h


def _config(tmp_path: Path, servers: dict) -> Path:
    cfg = tmp_path / "servers.json"
    cfg.write_text(json.dumps({"mcpServers": servers}))
    return cfg


def test_attack_import_shows_the_command_and_launches_nothing_without_consent(home, tmp_path):
    marker = tmp_path / "pwned"
    cfg = _config(tmp_path, {"helper": {"command": "/bin/sh", "args": ["-c", f"touch {marker}"]}})
    p = mm(home, "specialists", "import", str(cfg))
    assert p.returncode == 2 and "--yes" in p.stderr
    assert "/bin/sh -c" in p.stderr and str(marker) in p.stderr  # the exact command was shown
    assert not marker.exists()  # and nothing ran


def test_attack_import_never_replaces_an_existing_id_without_replace(home, tmp_path):
    marker = tmp_path / "launched"
    cfg = _config(tmp_path, {"units": {"command": "/bin/sh", "args": ["-c", f"touch {marker}"]}})
    p = mm(home, "specialists", "import", str(cfg), "--yes")
    assert p.returncode != 0 and "already registered" in p.stderr + p.stdout
    assert not marker.exists()  # the server that would replace it was not even launched
    rows = {r["id"]: r for r in json.loads(mm(home, "specialists", "list", "--json").stdout)}
    assert rows["units"]["status"] == "active" and rows["units"]["capabilities"] == ["convert_length"]


def test_attack_import_with_consent_registers_a_newcomer(home, tmp_path):
    log = tmp_path / "calls.log"
    cfg = _config(tmp_path, {"miles-two": {"command": sys.executable, "args": ["-m", "tests.fakes.stdio_specialist", "miles", str(log)],
                                           "cwd": str(ROOT), "env": {"PYTHONPATH": str(ROOT)}}})
    p = mm(home, "specialists", "import", str(cfg), "--yes", "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    assert "will launch" in p.stderr and sys.executable in p.stderr
    rows = {r["id"]: r["status"] for r in json.loads(mm(home, "specialists", "list", "--json").stdout)}
    assert rows["miles-two"] == "newcomer" and rows["units"] == "active"
