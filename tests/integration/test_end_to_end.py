"""The whole loop as a new user meets it: the CLI, the real MiniLM, real MCP subprocesses, a real Chroma directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

SAMPLE = "Convert 26.2 miles to kilometers, then integrate x^2*sin(x) from 0 to pi"


def cli(home, *args, input: bytes | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "MICROMARKET_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("MICROMARKET_EMBEDDING_MODEL", None)
    return subprocess.run([sys.executable, "-m", "micromarket.cli", *args], env=env, capture_output=True, input=input, timeout=timeout)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-home")


def test_sample_task_answers_both_parts_with_attribution(home):
    p = cli(home, "solve", SAMPLE, "--json")
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout.decode().strip().splitlines()[-1])
    subs = {s["text"]: s for s in out["subtasks"]}
    miles = subs["Convert 26.2 miles to kilometers"]
    integral = subs["integrate x^2*sin(x) from 0 to pi"]
    assert miles["specialist"] == "units" and "42.16 km" in miles["answer"]
    assert integral["specialist"] == "math" and "5.87" in integral["answer"] and "π" in integral["answer"]
    assert "[units." in out["answer"] and "[math." in out["answer"]
    assert out["unsupported"] == [] and out["run_id"]


def test_human_output_shows_subtasks_and_run_id(home):
    p = cli(home, "solve", SAMPLE)
    text = p.stdout.decode()
    assert p.returncode == 0, p.stderr.decode()
    assert "42.16 km" in text and "run id:" in text and "units" in text and "math" in text


def test_weather_is_unsupported_not_invented(home):
    p = cli(home, "solve", "What will the weather be in Paris tomorrow?", "--json")
    out = json.loads(p.stdout.decode().strip().splitlines()[-1])
    assert [u["text"] for u in out["unsupported"]] == ["What will the weather be in Paris tomorrow?"]
    assert all(s["status"] == "unsupported" and not s["answer"] for s in out["subtasks"])


def test_feedback_bad_lowers_trust_in_trust_show(home):
    out = json.loads(cli(home, "solve", "Convert 10 miles to kilometers", "--json").stdout.decode().strip().splitlines()[-1])
    before = {(r["specialist_id"], r["capability"]): r["mean"] for r in json.loads(cli(home, "trust", "show", "--json").stdout)}
    sub = out["subtasks"][0]
    p = cli(home, "feedback", out["run_id"], "--bad")
    assert p.returncode == 0, p.stderr.decode()
    after = {(r["specialist_id"], r["capability"]): r["mean"] for r in json.loads(cli(home, "trust", "show", "--json").stdout)}
    key = (sub["specialist"], sub["capability"])
    assert after[key] < before[key]


@pytest.mark.parametrize(
    "args,stdin,needle",
    [
        (["solve", ""], None, "empty"),
        (["solve", "-"], b"x" * 1_000_000, "limit"),
        (["solve", "-"], b"convert \xff\xfe miles", "UTF-8"),
        (["feedback", "no-such-run", "--good"], None, "no-such-run"),
        (["specialists", "add", "/nonexistent/card.yaml"], None, "not found"),
    ],
)
def test_bad_input_gets_a_message_and_nonzero_exit_not_a_traceback(home, args, stdin, needle):
    p = cli(home, *args, input=stdin)
    err = p.stderr.decode()
    assert p.returncode != 0
    assert needle in err
    assert "Traceback" not in err


def test_malformed_and_duplicate_cards_leave_the_store_intact(home, tmp_path):
    before = json.loads(cli(home, "specialists", "list", "--json").stdout)
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: units\nname: x\ndescription: y\ncapabilities: []\ntransport: {kind: stdio, command: [x]}\n")
    p = cli(home, "specialists", "add", str(bad))
    assert p.returncode != 0 and "capabilities" in p.stderr.decode() and "Traceback" not in p.stderr.decode()
    dup = tmp_path / "dup.yaml"
    dup.write_text(
        "id: units\nname: x\ndescription: y\ncapabilities: [{name: c, description: d}]\ntransport: {kind: stdio, command: ['{python}']}\n"
    )
    p = cli(home, "specialists", "add", str(dup))
    assert p.returncode != 0 and "already registered" in p.stderr.decode()
    after = json.loads(cli(home, "specialists", "list", "--json").stdout)
    assert [r["id"] for r in after] == [r["id"] for r in before]
    assert cli(home, "index", "verify").returncode == 0
