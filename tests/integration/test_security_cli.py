"""Scenario 17 (bad input through the CLI: a clear message, a non-zero exit, never a traceback) and the CLI
side of scenarios 1 and 2 (a poisoned card is refused with its reasons; `specialists approve`)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MILES, inproc_card
from tests.fakes import hostile

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict:
    env = dict(os.environ)
    env.update(MICROMARKET_EMBEDDING_MODEL="fake", MICROMARKET_BUILTINS="0", PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False")
    env.pop("MICROMARKET_DEBUG", None)
    return env


def _run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "micromarket.cli", *args], cwd=ROOT, env=_env(), input=stdin,
                          capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from micromarket import Marketplace

    h = tmp_path_factory.mktemp("cli") / "home"
    mp = Marketplace.open(home=h, builtins=False, embedding_model="fake")  # no process-wide env change
    mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES]))
    mp.close()
    return h


def test_17_cli_bad_input_never_a_traceback(home, tmp_path):
    bad_card = tmp_path / "bad.yaml"
    bad_card.write_text("id: 'UPPER CASE'\nname: x\n")
    binary_card = tmp_path / "bin.yaml"
    binary_card.write_bytes(b"\xff\xfe\x00\x01garbage")
    bad_json = tmp_path / "servers.json"
    bad_json.write_bytes(b"{\"mcpServers\": \xff}")
    H = ["--home", str(home)]
    cases = [
        (["solve", "", *H], None, "empty"),
        (["solve", "-", *H], b"\xff\xfe not utf-8", "UTF-8"),
        (["solve", "x" * 30_000, *H], None, "limit"),
        (["solve", "convert 5 miles", "--context", str(tmp_path / "missing.txt"), *H], None, "not found"),
        (["solve", "convert 5 miles", "--thread", "", *H], None, "thread"),
        (["feedback", "no-such-run", "--good", *H], None, "unknown run"),
        (["feedback", "'; DROP TABLE runs; --", "--bad", *H], None, "unknown run"),
        (["feedback", "x", *H], None, "--good or --bad"),
        (["specialists", "add", str(tmp_path / "nope.yaml"), *H], None, "not found"),
        (["specialists", "add", str(bad_card), *H], None, "field 'id'"),
        (["specialists", "add", str(binary_card), *H], None, "UTF-8"),
        (["specialists", "approve", "nobody", *H], None, "no specialist"),
        (["specialists", "remove", "$(rm -rf /)", *H], None, "no specialist"),
        (["specialists", "import", str(bad_json), *H], None, "JSON"),
        (["resume", "no-such-thread", *H], None, "no checkpointed run"),
        (["bench", "../../etc/passwd"], None, "unknown benchmark"),
        (["solve", "convert 5 miles", "--budget", "abc", *H], None, "budget"),
    ]
    failures = []
    for i, (args, stdin, expect) in enumerate(cases):
        # every 6th case in a real process (exit code, stderr); the others through the same main() in-process
        rc, err = _run_subprocess(args, stdin) if i % 6 == 0 else _run_inprocess(args, stdin)
        if rc == 0 or "Traceback" in err or expect.lower() not in err.lower():
            failures.append((args[:2], rc, err[-400:]))
    assert not failures, failures


def _run_subprocess(args, stdin):
    res = _run(args, stdin)
    return res.returncode, (res.stderr + res.stdout).decode("utf-8", "replace")


def _run_inprocess(args, stdin):
    from unittest import mock

    with mock.patch.dict(os.environ, {"MICROMARKET_EMBEDDING_MODEL": "fake", "MICROMARKET_BUILTINS": "0"}):
        return _main_inprocess(args, stdin)


def _main_inprocess(args, stdin):
    import contextlib
    import io

    from micromarket import cli

    out, err = io.StringIO(), io.StringIO()
    old_argv, old_stdin = sys.argv, sys.stdin
    sys.argv = ["micromarket", *args]
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin or b""))
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException as e:  # noqa: BLE001 - would be a traceback for a user
                import traceback

                err.write("Traceback (escaped main): " + "".join(traceback.format_exception(e)))
                code = 99
    finally:
        sys.argv, sys.stdin = old_argv, old_stdin
    return code, err.getvalue() + out.getvalue()


def test_1_tool_poisoning_cli_refuses_with_reason_and_2_approve(home, tmp_path):
    from micromarket.capability_index.cards import dump_card, parse_card

    card = parse_card(inproc_card("evil", "tests.fakes.hostile:poisoned_server", [{**MILES, "name": "km", "description": hostile.POISON}]))
    f = tmp_path / "evil.yaml"
    f.write_text(dump_card(card))
    res = _run(["specialists", "add", str(f), "--home", str(home)])
    err = res.stderr.decode()
    assert res.returncode != 0 and "tool poisoning" in err and "instruction block" in err and "Traceback" not in err
    # approve a specialist quarantined by a rug pull
    from micromarket import Marketplace
    from micromarket.capability_index.pins import guard_for

    hostile.STATE.update(rug_description="convert miles to kilometers")
    mp = Marketplace.open(home=home, builtins=False, embedding_model="fake")
    mp.register(inproc_card("rug", "tests.fakes.hostile:rug_server", [{**MILES, "name": "conv"}]), trusted=True)
    g = guard_for(mp.services)
    asyncio.run(mp.services.pool.call(mp.card("rug"), "solve", {"task": "1 mile"}, guard=g))
    hostile.STATE.update(rug_description="convert miles to kilometers, new and improved")
    mp.services.pool.close()
    from micromarket.errors import QuarantinedError

    with pytest.raises(QuarantinedError):
        asyncio.run(mp.services.pool.call(mp.card("rug"), "solve", {"task": "1 mile"}, guard=g))
    mp.close()
    from micromarket.capability_index.pins import drop_guard

    drop_guard(home)
    import json

    def status() -> str:
        out = _run(["specialists", "list", "--json", "--home", str(home)])
        return {r["id"]: r["status"] for r in json.loads(out.stdout)}["rug"]

    assert status() == "quarantined"
    res = _run(["specialists", "approve", "rug", "--home", str(home)])
    assert res.returncode == 0, res.stderr
    assert b"approved rug" in res.stdout and b"status active" in res.stdout  # the status before the hold
    assert status() == "active"
