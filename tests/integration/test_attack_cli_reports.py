"""What the CLI reports: feedback shows the trust it moved, an unknown run is an error, an oversized context file
is refused before it is read."""

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


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MICROMARKET_EMBEDDING_MODEL="fake", MICROMARKET_BUILTINS="0", HF_HUB_OFFLINE="1",
               MICROMARKET_NO_DAEMON="1", PYTHONPATH=str(ROOT))
    env.pop("MICROMARKET_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "micromarket.cli", *args, "--home", str(home)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from micromarket import Marketplace

    h = tmp_path_factory.mktemp("cli") / "home"
    mp = Marketplace.open(home=h, builtins=False, embedding_model="fake")
    mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES]))
    mp.close()
    return h


def test_attack_cli_reports_feedback_bad_prints_the_trust_it_lowered(home):
    solved = _run(home, "solve", "convert 5 miles to km", "--json", "--no-daemon")
    assert solved.returncode == 0, solved.stderr
    run_id = json.loads(solved.stdout.strip().splitlines()[-1])["run_id"]
    fb = _run(home, "feedback", run_id, "--bad")
    assert fb.returncode == 0, fb.stderr
    line = next(x for x in fb.stdout.splitlines() if "miles" in x)
    before, after = (float(v) for v in line.rsplit(":", 1)[1].split("->"))
    assert after < before and "0.000" not in line.split("->")[1]


def test_attack_cli_reports_routing_for_an_unknown_run_is_an_error(home):
    proc = _run(home, "routing", "nosuchrun")
    assert proc.returncode == 2 and "nosuchrun" in proc.stderr + proc.stdout and "Traceback" not in proc.stderr


def test_attack_cli_reports_oversized_context_file_is_refused_by_its_size(home, tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as f:  # a sparse 600 MB file: reading it whole would take the memory
        f.truncate(600 * 1024 * 1024)
    proc = _run(home, "solve", "convert 5 miles to km", "--context", str(big), "--no-daemon")
    assert proc.returncode == 2 and "big.txt" in proc.stderr and "limit" in proc.stderr
