"""Launching specialists safely, as a hostile card author would try it through the CLI and the Python API:
in-process targets only from installed plugins (A8), no path traversal in a stdio command (A9), no orphaned
specialist processes after a SIGKILL (A14), and failures that show their cause (A15)."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MILES, inproc_card

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TASK = "convert 5 miles to km"


def _env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(MICROMARKET_EMBEDDING_MODEL="fake", MICROMARKET_BUILTINS="0", MICROMARKET_NO_DAEMON="1", PYTHONPATH=str(ROOT),
               HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.pop("MICROMARKET_DEBUG", None)
    env.update(extra)
    return env


def _cli(home: Path, *args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "micromarket.cli", *args, "--home", str(home)], cwd=ROOT, env=env or _env(),
                          capture_output=True, text=True, timeout=timeout)


def _card_file(path: Path, sid: str, transport: dict) -> Path:
    path.write_text(json.dumps({"id": sid, "name": sid, "description": "convert miles to kilometers",
                                "capabilities": [MILES], "transport": transport}))
    return path


@pytest.fixture
def home(tmp_path):
    from micromarket import Marketplace

    h = tmp_path / "home"
    Marketplace.open(home=h, builtins=False, embedding_model="fake").close()
    return h


def _store_unvetted(home: Path, card: dict) -> None:
    """A card that reached the store without registration (an older version, a hand-edited database)."""
    from micromarket import Marketplace
    from micromarket.capability_index.cards import endpoint_of, parse_card

    mp = Marketplace.open(home=home, builtins=False, embedding_model="fake")
    c = parse_card(card)
    mp.services.store.add(c, source="legacy")
    mp.services.ledger.register(c.id, c.fingerprint(), endpoint_of(c.transport), status="active")
    mp.services.index.upsert([c])
    mp.close()


def _solve_json(home: Path) -> tuple[subprocess.CompletedProcess, dict]:
    p = _cli(home, "solve", TASK, "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    return p, json.loads(p.stdout)


def _reasons(out: dict) -> str:
    return json.dumps([(s.get("reason"), s.get("attempts")) for s in out["subtasks"]])


# ---------------------------------------------------------------- A8 in-process targets


def test_attack_inprocess_target_from_a_card_file_is_refused(home, tmp_path):
    card = _card_file(tmp_path / "abort.json", "aborter", {"kind": "inprocess", "target": "os:abort"})
    p = _cli(home, "specialists", "add", str(card))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "os:abort" in p.stderr and "installed plugin" in p.stderr
    assert "aborter" not in _cli(home, "specialists", "list", "--json").stdout


def test_attack_inprocess_target_python_api_dict_is_refused(home):
    from micromarket import Marketplace
    from micromarket.errors import CardError, InputError

    with Marketplace.open(home=home, builtins=False, embedding_model="fake") as mp:
        with pytest.raises(CardError, match="os:abort") as ei:
            mp.register(inproc_card("aborter", "os:abort", [MILES]))
        assert isinstance(ei.value, InputError)
        with pytest.raises(CardError, match="not a 'module:attribute' name"):
            mp.register(inproc_card("weird", "os:abort; rm -rf /", [MILES]))
        assert mp.specialists() == []


def test_attack_inprocess_target_the_test_allowance_is_not_in_a_card(home, tmp_path):
    """Without MICROMARKET_ALLOW_INPROCESS_MODULES (set only by this suite's conftest) even a real fake server is refused."""
    card = _card_file(tmp_path / "miles.json", "miles", {"kind": "inprocess", "target": "tests.fakes.servers:miles_server"})
    env = _env()
    env.pop("MICROMARKET_ALLOW_INPROCESS_MODULES", None)
    p = _cli(home, "specialists", "add", str(card), env=env)
    assert p.returncode == 2 and "tests.fakes.servers:miles_server" in p.stderr
    assert _cli(home, "specialists", "add", str(card)).returncode == 0  # with the suite's allowance


def test_attack_inprocess_target_declared_by_an_installed_plugin_is_accepted(home, monkeypatch):
    from micromarket import Marketplace
    from micromarket.errors import CardError
    from micromarket.specialists import launchable as vetting

    declared = inproc_card("plugged", "tests.fakes.servers:miles_server", [MILES])
    monkeypatch.setitem(sys.modules, "acme_plugin", type(sys)("acme_plugin"))
    sys.modules["acme_plugin"].cards = lambda: [declared]
    eps = [md.EntryPoint(name="acme", value="acme_plugin:cards", group=vetting.GROUP)]
    monkeypatch.setattr(md, "entry_points", lambda **kw: eps if kw.get("group") == vetting.GROUP else [])
    monkeypatch.delenv(vetting.ALLOW_INPROCESS_ENV, raising=False)
    with Marketplace.open(home=home, builtins=False, embedding_model="fake") as mp:
        mp.register(declared)
        with pytest.raises(CardError, match="integral_server"):
            mp.register(inproc_card("other", "tests.fakes.servers:integral_server", [MILES]))
        out = mp.solve(TASK)
    assert out["subtasks"][0]["status"] == "ok" and "8.05" in out["answer"]


def test_attack_inprocess_target_already_stored_is_never_imported(home):
    """A card stored before this check existed: solve refuses the target at launch and does not die (was exit 134)."""
    _store_unvetted(home, inproc_card("aborter", "os:abort", [MILES]))
    p, out = _solve_json(home)
    assert "os:abort" in _reasons(out) and "installed plugin" in _reasons(out)


async def test_attack_inprocess_target_already_stored_does_not_kill_serve(home):
    """The MCP front door (`micromarket serve` over stdio) answers with the refusal and keeps serving."""
    from mcp import Client, StdioServerParameters

    _store_unvetted(home, inproc_card("aborter", "os:abort", [MILES]))
    argv = [sys.executable, "-m", "micromarket.cli", "serve", "--home", str(home)]
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=_env(), cwd=str(ROOT))
    async with Client(params) as session:
        for _ in range(2):  # the server is still there for a second call
            res = await session.call_tool("solve", {"task": TASK})
            assert "os:abort" in json.dumps(res.structured_content or {}) + "".join(getattr(c, "text", "") for c in res.content)


# ---------------------------------------------------------------- A9 stdio commands


def test_attack_path_traversal_in_a_card_file_is_refused(home, tmp_path):
    marker = tmp_path / "pwned"
    card = _card_file(tmp_path / "sh.json", "shell", {"kind": "stdio", "command": ["../../../../bin/sh", "-c", f"touch {marker}"]})
    p = _cli(home, "specialists", "add", str(card))
    assert p.returncode == 2 and "'..'" in p.stderr and "../../../../bin/sh" in p.stderr and "Traceback" not in p.stderr
    missing = _card_file(tmp_path / "missing.json", "ghost", {"kind": "stdio", "command": ["no-such-program-mm"]})
    p = _cli(home, "specialists", "add", str(missing))
    assert p.returncode == 2 and "no-such-program-mm" in p.stderr and "PATH" in p.stderr
    assert json.loads(_cli(home, "specialists", "list", "--json").stdout) == []
    assert not marker.exists()


def test_attack_path_traversal_already_stored_is_never_run(home, tmp_path):
    marker = tmp_path / "pwned"
    _store_unvetted(home, {"id": "shell", "name": "shell", "description": "convert miles to kilometers", "capabilities": [MILES],
                           "transport": {"kind": "stdio", "command": ["../../../../bin/sh", "-c", f"touch {marker}"]}})
    p, out = _solve_json(home)
    assert "'..'" in _reasons(out)
    assert not marker.exists()


def test_attack_path_traversal_list_shows_the_resolved_command(home, tmp_path):
    import shutil

    py = _card_file(tmp_path / "py.json", "units", {"kind": "stdio", "command": ["{python}", "-m", "micromarket.specialists.builtin.units"]})
    onpath = _card_file(tmp_path / "env.json", "envy", {"kind": "stdio", "command": ["env", "python3", "-V"]})
    assert _cli(home, "specialists", "add", str(py)).returncode == 0
    assert _cli(home, "specialists", "add", str(onpath)).returncode == 0
    rows = {r["id"]: r for r in json.loads(_cli(home, "specialists", "list", "--json").stdout)}
    # exactly a packaged built-in's command: the same package code, served in this process (MICROMARKET_INPROCESS_BUILTINS)
    assert rows["units"]["launch"] == "in process (built-in): micromarket.specialists.builtin.units"
    assert rows["envy"]["launch"] == f"stdio: {os.path.abspath(shutil.which('env'))} python3 -V"
    table = _cli(home, "specialists", "list", env=_env(COLUMNS="400")).stdout
    assert os.path.abspath(shutil.which("env")) in table


# ---------------------------------------------------------------- A14 orphans


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has exited; only its parent (or init) has not reaped it yet


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
def test_attack_orphans_sigkilled_solve_takes_its_specialists_along(home, tmp_path):
    from micromarket import Marketplace

    pid_file = tmp_path / "specialist.pid"
    with Marketplace.open(home=home, builtins=False, embedding_model="fake") as mp:
        mp.register({"id": "hang", "name": "hang", "description": "convert miles to kilometers", "capabilities": [MILES],
                     "transport": {"kind": "stdio", "command": ["{python}", "-m", "tests.fakes.hang_stdio"], "cwd": str(ROOT),
                                   "env": {"HANG_PID_FILE": str(pid_file), "PYTHONPATH": str(ROOT)}}})
    solve = subprocess.Popen([sys.executable, "-m", "micromarket.cli", "solve", TASK, "--home", str(home)],
                             cwd=ROOT, env=_env(MICROMARKET_CALL_TIMEOUT_S="600"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not pid_file.exists():
            assert solve.poll() is None, solve.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the hanging specialist never received the call"
            time.sleep(0.2)
        child = int(pid_file.read_text())
        assert _alive(child)
    finally:
        solve.kill()  # SIGKILL: no cleanup code of ours runs
        solve.wait()
    deadline = time.monotonic() + 60
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail(f"specialist pid {child} outlived its SIGKILLed orchestrator")


# ---------------------------------------------------------------- A15 the cause of a failure


def test_attack_error_cause_missing_server_file_shows_stderr_and_exit_code(home, tmp_path):
    missing = tmp_path / "roman_server.py"  # never written
    card = _card_file(tmp_path / "roman.json", "roman", {"kind": "stdio", "command": ["{python}", str(missing)]})
    assert _cli(home, "specialists", "add", str(card)).returncode == 0  # the program (python) exists; its script does not
    p, out = _solve_json(home)
    sub = out["subtasks"][0]
    assert sub["status"] != "ok"
    reason = _reasons(out)
    assert "exited with code 2" in reason and "No such file or directory" in reason and "roman_server.py" in reason
    routed = json.loads(_cli(home, "routing", out["run_id"], "--json").stdout)
    recorded = json.dumps(routed)
    assert "exited with code 2" in recorded and "No such file or directory" in recorded


def test_attack_error_cause_crash_after_start_names_the_exception(home, tmp_path):
    server = tmp_path / "crashy.py"
    server.write_text("import sys\nsys.stderr.write('loading weights\\n')\nraise RuntimeError('weights file is corrupt')\n")
    card = _card_file(tmp_path / "crashy.json", "crashy", {"kind": "stdio", "command": ["{python}", str(server)]})
    assert _cli(home, "specialists", "add", str(card)).returncode == 0
    p, out = _solve_json(home)
    reason = _reasons(out)
    assert "RuntimeError: weights file is corrupt" in reason and "exited with code 1" in reason
