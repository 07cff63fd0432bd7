"""Every CLI command through the warm daemon the CLI starts itself: the same output and exit code as in process,
one daemon per home and identity (a version or source change: tests/unit/test_daemon_client.py), several clients
at once, and no daemon outliving its home or its idle time.

Each test stops the daemons it started by their pid (the `daemons` fixture)."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import INTEGRAL, MILES, inproc_card

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path, **extra: str) -> dict:
    env = dict(os.environ, MICROMARKET_HOME=str(home), MICROMARKET_EMBEDDING_MODEL="fake", MICROMARKET_BUILTINS="0",
               PYTHONPATH=str(ROOT), MICROMARKET_CALL_TIMEOUT_S="10")
    env.pop("MICROMARKET_NO_DAEMON", None)
    env.pop("MICROMARKET_DATABASE_URL", None)
    env.update(extra)
    return env


def mm(home: Path, *args: str, daemon: bool = True, cwd: Path | None = None, input: str | None = None, **extra: str):
    env = _env(home, **extra)
    if not daemon:
        env["MICROMARKET_NO_DAEMON"] = "1"
    return subprocess.run([sys.executable, "-m", "micromarket.cli", *args], cwd=cwd or ROOT, env=env, input=input,
                          capture_output=True, text=True, timeout=180)


def _pid(home: Path) -> int | None:
    try:
        return int(json.loads((home / "cli-daemon.json").read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float = 20.0) -> bool:
    t0 = time.time()
    while _alive(pid):
        if time.time() - t0 > timeout:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def daemons():
    """Homes whose daemons are stopped (by pid) after the test."""
    homes: list[Path] = []
    seen: set[int] = set()

    def track(home: Path) -> Path:
        homes.append(home)
        return home

    track.seen = seen  # pids noted by tests that restart daemons
    yield track
    for home in homes:
        pid = _pid(home)
        for p in {pid, *seen} - {None}:
            if _alive(p):
                os.kill(p, signal.SIGTERM)
                if not _wait_gone(p, 10):
                    os.kill(p, signal.SIGKILL)


def _make_home(home: Path) -> Path:
    from micromarket import Marketplace

    mp = Marketplace.open(home=home, builtins=False, embedding_model="fake")
    mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES], cost_per_call=0.001), trusted=True)
    mp.register(inproc_card("calculus", "tests.fakes.servers:integral_server", [INTEGRAL]), trusted=True)
    mp.close()
    return home


def _norm(text: str, home: Path, runs: list[str]) -> str:
    text = text.replace(str(home.resolve()), "<HOME>").replace(str(home), "<HOME>").replace(str(home.parents[1]), "<TMP>")
    for i, r in enumerate(runs):
        text = text.replace(r, f"<RUN{i}>")
    text = re.sub(r'"(latency_ms|ts|created_at|updated_at|started|finished|at)": [^,}]+', r'"\1": 0', text)
    return re.sub(r"\s+\d+\s*│\s*$", " ms │", text, flags=re.M)  # the latency column of `routing`


def test_every_command_prints_the_same_and_exits_the_same_through_the_daemon(tmp_path, daemons):
    """The same command sequence on two identical homes, in process and through the daemon."""
    homes = {"inproc": _make_home(tmp_path / "a" / "home"), "daemon": daemons(_make_home(tmp_path / "b" / "home"))}
    card = {"id": "shouter", "name": "shouter", "description": "shouts", "transport": {"kind": "http", "url": "http://127.0.0.1:9/mcp"},
            "capabilities": [{"name": "shout", "description": "uppercase the text loudly"}]}

    def sequence(mode: str, home: Path) -> list:
        work = tmp_path / mode / "work"  # the client's directory: relative paths are taken from it
        work.mkdir(parents=True)
        (work / "shout.yaml").write_text(yaml.safe_dump(card))
        (work / "ctx.txt").write_text("The trip was 5 miles long.")
        runs: list[str] = []
        got = []

        def run(*template, input=None):
            args = [a.replace("{run}", runs[0]) if runs else a for a in template]
            p = mm(home, *args, daemon=(mode == "daemon"), cwd=work, input=input)
            runs.extend(m for m in re.findall(r"\b[0-9a-f]{12}\b", p.stdout) if m not in runs)
            got.append((" ".join(template), p.returncode, _norm(p.stdout, home, runs), _norm(p.stderr, home, runs)))
            return p

        run("solve", "--json", "convert 5 miles to km", "--seed", "1")  # seeded: the same Thompson draws
        run("solve", "convert 3 miles to km", "--context", "ctx.txt", "--seed", "2")  # a path relative to the client's directory
        run("solve", "-", "--json", "--seed", "3", input="convert 7 miles to km")
        run("solve", "   ")
        run("solve", "convert 9 miles to km", "--thread", "t1", "--seed", "4", "--json")  # checkpointed
        run("resume", "t1")
        run("feedback", "{run}", "--good")
        run("feedback", "{run}", "--good")
        run("feedback", "{run}")
        run("routing", "{run}", "--json")
        run("routing", "nosuchrun")
        run("trust", "show", "--json")
        run("trust", "show")
        run("specialists", "list", "--json")
        run("specialists", "add", "shout.yaml")
        run("specialists", "add", "shout.yaml")
        run("specialists", "list")
        run("specialists", "remove", "shouter")
        run("specialists", "remove", "nosuch")
        run("specialists", "approve", "nosuch")
        run("specialists", "import", "missing.json", "--yes")
        run("index", "verify")
        run("backup", "bk")
        run("solve", "--bogus-option", "x")
        return got

    # the two homes side by side: the in-process side is mostly CPU (a cold CLI each), the daemon side mostly waits
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        futures = {mode: pool.submit(sequence, mode, home) for mode, home in homes.items()}
        outs = {mode: f.result() for mode, f in futures.items()}
    assert len(outs["inproc"]) == len(outs["daemon"])
    for a, b in zip(outs["inproc"], outs["daemon"]):
        assert a == b, f"{a[0]}: in process {a[1:]!r} != through the daemon {b[1:]!r}"
    codes = [c for _, c, _, _ in outs["daemon"]]
    assert codes.count(0) >= 12 and sum(c != 0 for c in codes) >= 6  # the errors are compared too
    assert "8.05" in outs["daemon"][0][2]  # the solve answered
    assert (tmp_path / "daemon" / "work" / "bk").is_dir()  # relative paths are the client's
    pid = _pid(homes["daemon"])
    assert pid and _alive(pid) and _pid(homes["inproc"]) is None  # one daemon, only for the daemon home


def test_one_daemon_serves_many_clients_and_is_reused(tmp_path, daemons):
    home = daemons(_make_home(tmp_path / "home"))
    procs = [subprocess.Popen([sys.executable, "-m", "micromarket.cli", "solve", "--json", f"convert {i} miles to km"],
                              cwd=ROOT, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(1, 5)]  # all at once on a home without a daemon: they wait for the one that starts
    results = [p.communicate(timeout=180) + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0, 0, 0, 0], [r[1][-500:] for r in results]
    assert [f"{i * 1.609344:.2f}" in json.loads(r[0])["answer"] for i, r in zip(range(1, 5), results)] == [True] * 4
    pid = _pid(home)
    log = (home / "cli-daemon.log").read_text()
    assert log.count("listening on") == 1  # one daemon started, none refused by the writer lock
    assert mm(home, "trust", "show", "--json").returncode == 0 and _pid(home) == pid  # reused
    st = json.loads(mm(home, "daemon", "status", "--json").stdout)
    assert st["running"] and st["pid"] == pid and st["requests"] >= 5 and st["rss_bytes"] > 0
    sock = Path(st["socket"])
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600 and stat.S_ISSOCK(sock.stat().st_mode)


def test_other_settings_restart_the_daemon(tmp_path, daemons):
    home = daemons(_make_home(tmp_path / "home"))
    assert mm(home, "specialists", "list", "--json").returncode == 0
    first = _pid(home)
    daemons.seen.add(first)
    p = mm(home, "specialists", "list", "--json", MICROMARKET_CALL_TIMEOUT_S="11")  # other settings: a new daemon
    assert p.returncode == 0, p.stderr
    second = _pid(home)
    daemons.seen.add(second)
    assert second != first and _wait_gone(first)
    st = json.loads(mm(home, "daemon", "status", "--json", MICROMARKET_CALL_TIMEOUT_S="11").stdout)
    assert st["pid"] == second and "MICROMARKET_CALL_TIMEOUT_S" not in json.dumps(st)  # settings: a digest, never their values


def test_stop_status_logs_and_no_daemon(tmp_path, daemons):
    home = daemons(_make_home(tmp_path / "home"))
    p = mm(home, "trust", "show", "--json", "--no-daemon")
    assert p.returncode == 0 and _pid(home) is None  # --no-daemon: nothing started
    assert mm(home, "daemon", "status").stdout.startswith("no daemon for")
    assert mm(home, "trust", "show", "--json").returncode == 0
    pid = _pid(home)
    assert pid and _alive(pid)
    assert "listening on" in mm(home, "daemon", "logs").stdout
    assert mm(home, "backup", str(tmp_path / "bk")).returncode == 0 and _pid(home) == pid  # through the daemon
    p = mm(home, "restore", str(tmp_path / "bk"), "--force")  # replaces the stores: the daemon is stopped first
    assert p.returncode == 0, p.stderr
    assert _wait_gone(pid) and _pid(home) is None
    assert mm(home, "trust", "show", "--json").returncode == 0
    pid = _pid(home)  # a new daemon on the restored stores
    assert f"stopped the daemon (pid {pid})" in mm(home, "daemon", "stop").stdout
    assert _wait_gone(pid) and not (home / "cli-daemon.json").exists() and not (home / "cli-daemon.sock").exists()
    assert mm(home, "solve", "convert 5 miles to km", "--no-daemon").returncode == 0  # the home is free again


def test_the_daemon_ends_when_idle_or_when_its_home_is_gone(tmp_path, daemons):
    idle_home = daemons(_make_home(tmp_path / "idle"))
    assert mm(idle_home, "trust", "show", MICROMARKET_DAEMON_IDLE_TIMEOUT="1").returncode == 0
    pid = _pid(idle_home)
    assert pid and _wait_gone(pid, 30)
    gone_home = daemons(_make_home(tmp_path / "gone"))
    assert mm(gone_home, "trust", "show").returncode == 0
    pid = _pid(gone_home)
    daemons.seen.add(pid)
    import shutil

    shutil.rmtree(gone_home)
    assert _wait_gone(pid, 30)
