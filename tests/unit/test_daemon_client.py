"""The CLI daemon's client rules: which command lines go to a daemon, which daemon may serve them, where it listens,
and how a daemon routes a command's output to its own client (no daemon process is started here)."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

from micromarket import daemon as client


def test_commands_that_open_a_home_are_routed(monkeypatch):
    monkeypatch.delenv("MICROMARKET_NO_DAEMON", raising=False)
    for argv in (["solve", "x"], ["feedback", "r", "--good"], ["routing"], ["trust", "show"], ["specialists", "add", "c.yaml"],
                 ["index", "verify"], ["backup", "d"], ["resume", "t"]):
        assert client.routed(argv), argv
    for argv in ([], ["--help"], ["solve", "--help"], ["solve", "x", "--no-daemon"], ["bench", "overhead"], ["serve"],
                 ["daemon", "status"], ["train", "dates"], ["specialist", "serve"], ["restore", "d"]):
        assert not client.routed(argv), argv
    monkeypatch.setenv("MICROMARKET_NO_DAEMON", "1")
    assert not client.routed(["solve", "x"])


def test_home_argument_is_made_absolute_for_the_daemon(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    real = os.path.realpath(tmp_path / "h")
    assert client._home_arg(["trust", "show", "--home", "h"]) == str(tmp_path / "h")
    assert client._absolute_home(["trust", "show", "--home", "h"]) == ["trust", "show", "--home", real]
    assert client._absolute_home(["solve", "--home=h", "x"]) == ["solve", f"--home={real}", "x"]
    assert client._absolute_home(["solve", "--", "--home", "h"]) == ["solve", "--", "--home", "h"]  # text, not an option


def test_a_daemon_serves_only_its_home_version_and_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("MICROMARKET_CALL_TIMEOUT_S", raising=False)
    a = client.identity(tmp_path / "a")
    assert a == client.identity(tmp_path / "a")
    assert a != client.identity(tmp_path / "b")
    monkeypatch.setenv("MICROMARKET_DEBUG", "1")  # not a setting of the marketplace
    monkeypatch.setenv("MICROMARKET_NO_DAEMON", "0")
    assert a == client.identity(tmp_path / "a")
    monkeypatch.setenv("MICROMARKET_CALL_TIMEOUT_S", "11")
    assert a != client.identity(tmp_path / "a")
    import micromarket

    monkeypatch.setattr(micromarket, "__version__", "0.0.0-other")
    assert client.identity(tmp_path / "a")["version"] == "0.0.0-other" != a["version"]


def test_a_daemon_serves_only_callers_with_its_keys_and_proxies(tmp_path, monkeypatch):
    """The daemon keeps the environment of the CLI that started it: a caller with other API keys, endpoints or
    proxies gets its own daemon (the identity differs); a shell's own variables do not restart it."""
    for k in ("OPENAI_API_KEY", "HTTPS_PROXY", "MY_SERVICE_TOKEN", "SSH_AUTH_SOCK", "PWD"):
        monkeypatch.delenv(k, raising=False)
    a = client.identity(tmp_path)
    monkeypatch.setenv("SSH_AUTH_SOCK", "/tmp/agent.1")  # per login, read by no command
    monkeypatch.setenv("PWD", "/elsewhere")
    assert client.identity(tmp_path) == a
    for k, v in (("OPENAI_API_KEY", "sk-one"), ("HTTPS_PROXY", "http://proxy:3128"), ("MY_SERVICE_TOKEN", "t")):
        monkeypatch.setenv(k, v)
        b = client.identity(tmp_path)
        assert b != a, k
        monkeypatch.setenv(k, v + "-other")
        assert client.identity(tmp_path) != b, k
        monkeypatch.delenv(k)
    assert client.identity(tmp_path) == a
    monkeypatch.setenv("OPENAI_API_KEY", "sk-one")
    assert "sk-one" not in repr(client.identity(tmp_path))  # a digest, never the values


def test_the_socket_fits_af_unix(tmp_path):
    assert client.socket_path(tmp_path) == tmp_path.resolve() / client.SOCKET_FILE
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    p = client.socket_path(deep)
    assert len(str(p).encode()) <= 107 and p != client.socket_path(tmp_path / "other")
    assert (p.parent.stat().st_mode & 0o777) == 0o700


def test_no_daemon_answers_for_a_home_without_one(tmp_path):
    assert client.ping(tmp_path) is None and client.info(tmp_path) is None and client.stop(tmp_path) is None


def test_output_of_a_command_thread_goes_to_its_client_only():
    from micromarket.cli import daemon as served

    log = io.StringIO()
    out = served._Routed("out", log)
    got: list[dict] = []

    def command():
        served._local.sink, served._local.tty = got.append, {"stdout": True}
        try:
            out.write("answer\n")
            out.buffer.write("bytes ✓\n".encode())
            assert out.isatty()
        finally:
            del served._local.sink, served._local.tty

    t = threading.Thread(target=command)
    t.start()
    t.join()
    out.write("a log line\n")  # a thread with no client: the daemon's log
    assert got == [{"out": "answer\n"}, {"out": "bytes ✓\n"}]
    assert log.getvalue() == "a log line\n" and not out.isatty()


def test_commands_from_another_directory_wait_for_the_running_ones(tmp_path):
    from micromarket.cli.daemon import _CwdGate

    here = os.getcwd()
    gate = _CwdGate()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    order: list[str] = []
    try:
        gate.enter(str(tmp_path / "a"))
        gate.enter(str(tmp_path / "a"))  # the same directory: at once
        assert Path.cwd() == tmp_path / "a"

        def other():
            gate.enter(str(tmp_path / "b"))
            order.append(f"b in {Path.cwd().name}")
            gate.leave()

        t = threading.Thread(target=other)
        t.start()
        t.join(0.3)
        assert t.is_alive()  # waits while commands run in a
        order.append("a done")
        gate.leave()
        gate.leave()
        t.join(5)
        assert order == ["a done", "b in b"]
    finally:
        os.chdir(here)


def test_a_refused_home_is_left_to_the_in_process_command(monkeypatch):
    monkeypatch.delenv("MICROMARKET_NO_DAEMON", raising=False)
    assert client.run_via_daemon(["trust", "show", "--home", "/etc/micromarket"]) is None  # nothing created, no daemon
    assert not Path("/etc/micromarket").exists()


def test_a_daemon_is_stale_when_a_module_it_loaded_changes_not_another(tmp_path):
    import micromarket
    import micromarket.errors  # noqa: F401 - loaded here, as in every daemon

    watch = client.CodeWatch()
    assert watch.changed() is None
    loaded = Path(micromarket.__file__).parent / "errors.py"
    loaded_files = {getattr(m, "__file__", None) for m in list(__import__("sys").modules.values())}
    never = next(Path(d) / f for d in client._package_dirs() for f in sorted(os.listdir(d))  # e.g. a trainer
                 if f.endswith(".py") and str(Path(d) / f) not in loaded_files)
    for src, want in ((never, None), (loaded, "micromarket.errors")):
        st = src.stat()
        try:
            os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the file was just edited
            assert watch.changed() == want
        finally:
            os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert watch.changed() is None
    assert client.serves({"identity": client.identity(tmp_path), "stale": None}, client.identity(tmp_path))
    assert not client.serves({"identity": client.identity(tmp_path), "stale": "micromarket.errors"}, client.identity(tmp_path))


def test_a_progress_bar_of_a_command_draws_to_its_client_not_the_log(monkeypatch):
    """rich redraws a bar from a thread of its own: in the daemon its frames still reach the command's client."""
    import sys
    import time

    from micromarket.cli import daemon as served
    from micromarket.progress import progress_bar

    log = io.StringIO()
    routed = served._Routed("out", log)
    monkeypatch.setattr(sys, "stdout", routed)
    got: list[dict] = []

    def command():
        served._local.sink, served._local.tty = got.append, {"stdout": True}
        try:
            with progress_bar(label="indexing capabilities") as bar:
                for i in range(3):
                    bar(i + 1, 3)
                    assert sys.stdout is routed  # other commands' output is not captured by this bar
                    time.sleep(0.3)  # the bar's own thread redraws meanwhile
        finally:
            del served._local.sink, served._local.tty

    t = threading.Thread(target=command)
    t.start()
    t.join(10)
    assert log.getvalue() == ""
    shown = "".join(m.get("out", "") for m in got)
    assert "indexing capabilities" in shown and "1/3" in shown and "3/3" in shown  # drawn as it went, to the client


def test_why_a_daemon_is_replaced_names_the_differing_parts_never_values():
    from micromarket.daemon import _why_replaced

    want = {"version": "0.1.0", "python": "/usr/bin/python3", "env": "abc", "home": "/h"}
    old = {"pid": 7, "identity": {**want, "python": "/opt/python3", "env": "secret-digest"}}
    why = _why_replaced(old, want, answered=True)
    assert "Python" in why and "settings or environment" in why and "secret-digest" not in why
    stale = _why_replaced({"pid": 7, "identity": want, "stale": "micromarket.errors"}, want, answered=True)
    assert "micromarket.errors" in stale and "changed" in stale
    assert _why_replaced({"pid": 7}, want, answered=False) == "it did not answer a ping"
