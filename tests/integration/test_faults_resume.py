"""Scenario 9, crash and resume: SIGKILL `micromarket solve --thread` mid-run, `micromarket resume` finishes it
without calling again the specialists that had finished (marker files count the calls)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import INTEGRAL, MILES, inproc_card

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra) -> dict:
    env = dict(os.environ)
    env.update(MICROMARKET_EMBEDDING_MODEL="fake", MICROMARKET_BUILTINS="0", MM_MARKER_DIR=str(tmp_path / "markers"),
               PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.update(extra)
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "micromarket.cli", *args]


def _count(tmp_path: Path, name: str) -> int:
    p = tmp_path / "markers" / f"{name}.calls"
    return len(p.read_text().splitlines()) if p.exists() else 0


def _saved_results(home: Path) -> int:
    """Send-branch results stored as pending writes of the thread's latest checkpoint (read-only, beside the writer)."""
    db = home / "checkpoints.sqlite"
    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(
            "SELECT COUNT(*) FROM writes WHERE channel = 'results' AND checkpoint_id = "
            "(SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = 't1' AND checkpoint_ns = '')"
        ).fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        con.close()


def _setup(tmp_path, monkeypatch) -> Path:
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    home = tmp_path / "home"
    (tmp_path / "markers").mkdir()
    mp = Marketplace.open(home=home, builtins=False)
    mp.register(inproc_card("miles", "tests.fakes.hostile:marked_miles_server", [MILES]))
    mp.register(inproc_card("calculus", "tests.fakes.hostile:slow_integral_server", [INTEGRAL]))
    mp.close()
    return home


def test_9_crash_and_resume_sigkill_mid_run(tmp_path, monkeypatch):
    home = _setup(tmp_path, monkeypatch)
    task = "convert 5 miles to km and integrate x^2 from 0 to 1"
    proc = subprocess.Popen(_cli("solve", "--thread", "t1", "--json", "--seed", "1", "--home", str(home), task),
                            cwd=ROOT, env=_env(tmp_path, MM_SLOW_S="60"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (_count(tmp_path, "miles") and _count(tmp_path, "integral")):
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.1)
        assert _count(tmp_path, "miles") == 1 and _count(tmp_path, "integral") == 1
        while time.monotonic() < deadline and not _saved_results(home):  # the finished miles branch's writes are stored
            time.sleep(0.1)
        assert _saved_results(home) == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    res = subprocess.run(_cli("resume", "t1", "--json", "--home", str(home)), cwd=ROOT, env=_env(tmp_path, MM_SLOW_S="0"),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    st = {r["subtask_id"]: r for r in out["subtasks"]}
    assert st["s1"]["status"] == "ok" and "8.05" in st["s1"]["answer"]
    assert st["s2"]["status"] == "ok" and st["s2"]["answer"] == "1/3"
    assert _count(tmp_path, "miles") == 1  # finished before the crash: not called again
    assert _count(tmp_path, "integral") == 2  # was running at the crash: run again
    # resuming a finished thread re-runs nothing
    res2 = subprocess.run(_cli("resume", "t1", "--json", "--home", str(home)), cwd=ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert res2.returncode == 0, res2.stderr
    assert _count(tmp_path, "miles") == 1 and _count(tmp_path, "integral") == 2
    # trust counted once per (run, subtask): one outcome each
    from micromarket.capability_index.ledger import TrustLedger

    led = TrustLedger(home / "ledger.sqlite")
    ev = led.db.read(lambda c: c.execute("SELECT specialist_id, kind, COUNT(*) FROM evidence GROUP BY 1, 2").fetchall())
    led.close()
    assert all(n == 1 for _, _, n in ev), ev
