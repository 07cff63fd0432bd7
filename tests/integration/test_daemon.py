"""The warm daemon: `micromarket solve` goes through a running `micromarket serve --transport http`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _daemon_allowed(monkeypatch):
    monkeypatch.delenv("MICROMARKET_NO_DAEMON", raising=False)  # tests/conftest.py sets it for CLI subprocesses


@pytest.fixture
def daemon(fake_market):
    """The HTTP front door (micromarket.server.aserve_http) over the fake market, in a thread, on a free port."""
    from micromarket import server

    ready, box = threading.Event(), {}

    def run():
        async def main():
            stop = asyncio.Event()
            box["loop"], box["stop"] = asyncio.get_running_loop(), stop
            rdy = asyncio.Event()
            task = asyncio.create_task(server.aserve_http("127.0.0.1", 0, market=fake_market, ready=rdy, stop=stop))
            await rdy.wait()
            ready.set()
            await task

        asyncio.run(main())

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert ready.wait(60), "daemon did not start"
    yield fake_market
    box["loop"].call_soon_threadsafe(box["stop"].set)
    t.join(15)


def test_solve_via_daemon(daemon):
    from micromarket.daemon import daemon_info, solve_via_daemon

    home = daemon.settings.home
    info = daemon_info(home)
    assert info and info["pid"] == os.getpid()
    out = solve_via_daemon(home, "convert 5 miles to km")
    assert out is not None and out["via_daemon"] == info["url"]
    assert "8.05" in out["answer"]
    assert out["subtasks"][0]["specialist"] == "miles" and out["run_id"]
    assert daemon.routing(out["run_id"])  # the daemon's marketplace recorded the run


def test_cli_solve_uses_the_daemon(daemon, monkeypatch, capsys):
    from micromarket import cli

    def no_in_process(*a, **k):
        raise AssertionError("the CLI opened the marketplace although a daemon is running")

    monkeypatch.setattr(cli.common, "_open", no_in_process)
    import typer.main

    cmd = typer.main.get_command(cli.app)
    cmd.main(args=["solve", "--json", "--home", str(daemon.settings.home), "convert 5 miles to km"], standalone_mode=False)
    out = json.loads(capsys.readouterr().out)
    assert "8.05" in out["answer"] and out["subtasks"][0]["specialist"] == "miles"


def test_daemon_user_errors_are_reported_not_rerun(daemon):
    from micromarket.daemon import DaemonError, solve_via_daemon

    with pytest.raises(DaemonError):
        solve_via_daemon(daemon.settings.home, "   ")  # empty task: the daemon's InputError comes back as an error


def test_no_daemon_means_in_process(fake_market, tmp_path, monkeypatch):
    from micromarket.daemon import daemon_info, solve_via_daemon

    monkeypatch.delenv("MICROMARKET_NO_DAEMON", raising=False)

    home = fake_market.settings.home
    assert solve_via_daemon(home, "convert 5 miles to km") is None  # no daemon.json
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    (home / "daemon.json").write_text(json.dumps({"url": "http://127.0.0.1:9/mcp", "pid": int(dead), "home": str(home)}))
    assert daemon_info(home) is None  # the pid is gone
    (home / "daemon.json").write_text(json.dumps({"url": "http://127.0.0.1:9/mcp", "pid": os.getpid(), "home": str(home)}))
    assert daemon_info(home) is not None
    assert solve_via_daemon(home, "convert 5 miles to km") is None  # alive pid, nothing listening: fall back
    monkeypatch.setenv("MICROMARKET_NO_DAEMON", "1")
    assert solve_via_daemon(home, "convert 5 miles to km") is None


def test_serve_and_solve_as_processes(tmp_path):
    """End to end with real processes: `micromarket serve --transport http` then `micromarket solve` twice."""
    from micromarket import Marketplace
    from tests.conftest import MILES, inproc_card

    env = dict(os.environ, MICROMARKET_EMBEDDING_MODEL="fake")
    env.pop("MICROMARKET_NO_DAEMON", None)
    home = tmp_path / "home"
    mp = Marketplace.open(home=home, builtins=False, embedding_model="fake")
    mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES]))
    mp.close()
    srv = subprocess.Popen([sys.executable, "-m", "micromarket.cli", "serve", "--transport", "http", "--port", "0", "--home", str(home)],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        t0 = time.time()
        while not (home / "daemon.json").exists():
            assert srv.poll() is None, srv.stderr.read().decode()[-2000:]
            assert time.time() - t0 < 120, "daemon did not start"
            time.sleep(0.1)
        info = json.loads((home / "daemon.json").read_text())
        assert info["pid"] == srv.pid
        for _ in range(2):
            p = subprocess.run([sys.executable, "-m", "micromarket.cli", "solve", "--json", "--home", str(home), "convert 5 miles to km"],
                               env=env, capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stderr[-2000:]
            assert "8.05" in json.loads(p.stdout)["answer"]
        # the daemon ran them: its ledger has the runs (the CLI processes opened nothing)
        from micromarket.daemon import solve_via_daemon

        assert solve_via_daemon(home, "convert 1 miles to km")["via_daemon"] == info["url"]
    finally:
        srv.terminate()
        srv.wait(20)
    assert not (home / "daemon.json").exists()
