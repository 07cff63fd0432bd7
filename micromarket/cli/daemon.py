"""`micromarket daemon status|stop|logs|start` and the daemon itself (`daemon run`, started by the CLI).

The daemon keeps one home warm (embedding model, Chroma, the compiled graph, specialist sessions) and runs each
client's command line with the same Typer command the in-process CLI runs, in a thread whose stdout, stderr and
stdin are routed back to that client (micromarket/daemon.py holds the client and the protocol), in the client's
working directory. It stops after an idle time
(MICROMARKET_DAEMON_IDLE_TIMEOUT seconds, default 900), on `daemon stop` or SIGTERM, and when its home or its
socket disappears.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Optional

import typer

from micromarket import daemon as client
from micromarket.cli import common
from micromarket.cli.common import HomeOpt, app

daemon_app = typer.Typer(no_args_is_help=True, help="The warm local daemon the CLI starts itself: status, stop, logs.")
app.add_typer(daemon_app, name="daemon")

_local = common.CLIENT  # per command thread: sink, stdin, tty flags, columns


class _Routed(io.TextIOBase):
    """sys.stdout / sys.stderr of the daemon: a command thread's writes go to its client, others to the log."""

    def __init__(self, name: str, fallback):
        self.name, self._fallback = name, fallback
        self.buffer = _RoutedBytes(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "replace"

    def write(self, s: str | bytes) -> int:
        sink = getattr(_local, "sink", None)
        if isinstance(s, (bytes, bytearray)):  # click writes bytes to a text stream's buffer when it finds none
            s = bytes(s).decode("utf-8", "replace")
        if sink is None:
            return self._fallback.write(s)
        if s:
            sink({self.name: s})
        return len(s)

    def flush(self) -> None:
        if getattr(_local, "sink", None) is None:
            self._fallback.flush()

    def isatty(self) -> bool:
        tty = getattr(_local, "tty", None)
        return bool(tty.get("stdout" if self.name == "out" else "stderr")) if tty is not None else False

    def fileno(self) -> int:
        if getattr(_local, "sink", None) is not None:
            raise io.UnsupportedOperation("a client's stream")
        return self._fallback.fileno()

    def writable(self) -> bool:
        return True

    def bound(self) -> "io.TextIOBase":
        """This stream as the calling thread sees it, for writers that run in threads of their own (rich's progress
        redraws): their writes reach the caller's client, not the daemon's log."""
        sink = getattr(_local, "sink", None)
        if sink is None:
            return self._fallback
        return _Bound(self.name, sink, getattr(_local, "tty", None) or {}, getattr(_local, "columns", None))


class _Bound(io.TextIOBase):
    """One client's stdout or stderr, usable from any thread (see _Routed.bound)."""

    def __init__(self, name: str, sink, tty: dict, columns: int | None):
        self.name, self._sink, self._tty, self.columns = name, sink, tty, columns

    @property
    def encoding(self):
        return "utf-8"

    def write(self, s: str) -> int:
        if s:
            try:
                self._sink({self.name: s})
            except OSError:  # the client went away; its command ends on its own
                pass
        return len(s)

    def isatty(self) -> bool:
        return bool(self._tty.get("stdout" if self.name == "out" else "stderr"))

    def writable(self) -> bool:
        return True


class _RoutedBytes(io.RawIOBase):
    def __init__(self, text: _Routed):
        self._text = text

    def write(self, b) -> int:
        self._text.write(bytes(b).decode("utf-8", "replace"))
        return len(b)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._text.flush()


class _ClientStdin(io.TextIOBase):
    """A command's stdin: the bytes the client sent, or lines asked of the client's terminal (prompts)."""

    def __init__(self, data: bytes | None, ask, tty: bool):
        self.buffer = io.BytesIO(data or b"")
        self._ask, self._tty = ask, tty

    def readline(self, size: int = -1) -> str:
        if self._tty:
            return self._ask()
        return self.buffer.readline().decode("utf-8", "replace")

    def read(self, size: int = -1) -> str:
        return self.buffer.read().decode("utf-8", "replace")

    def isatty(self) -> bool:
        return self._tty

    def readable(self) -> bool:
        return True


class _RoutedStdin(io.TextIOBase):
    def __init__(self, fallback):
        self._fallback = fallback

    def _cur(self):
        return getattr(_local, "stdin", None) or self._fallback

    @property
    def buffer(self):
        return self._cur().buffer

    def readline(self, size: int = -1) -> str:
        return self._cur().readline()

    def read(self, size: int = -1) -> str:
        return self._cur().read()

    def isatty(self) -> bool:
        return self._cur().isatty()

    def fileno(self) -> int:
        return self._cur().fileno()

    def readable(self) -> bool:
        return True


def _trim() -> None:
    """Give freed heap back to the system (glibc keeps it: an index build would leave the daemon at its peak RSS)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _tree_rss(own: int | None) -> int | None:
    """RSS of this process and its descendants (launched specialists and their watchdogs)."""
    try:
        import psutil  # deferred: only for a status

        return (own or 0) + sum(p.memory_info().rss for p in psutil.Process().children(recursive=True))
    except Exception:  # noqa: BLE001 - a child that just ended, or no psutil support
        return None


class _CwdGate:
    """Commands run in their client's working directory (relative paths mean what they mean in process). The
    process has one: commands from the same directory run together; one from another directory waits for them."""

    def __init__(self):
        self._cond = threading.Condition()
        self._cwd: str | None = None
        self._n = 0

    def enter(self, cwd: str) -> None:
        with self._cond:
            while self._n and cwd != self._cwd:
                self._cond.wait()
            if cwd != self._cwd:
                os.chdir(cwd)  # OSError: the client's directory is gone; reported to that client
                self._cwd = cwd
            self._n += 1

    def leave(self) -> None:
        with self._cond:
            self._n -= 1
            self._cond.notify_all()


class _Daemon:
    def __init__(self, home: Path):
        self.home = home
        self.identity = client.identity(home)
        self.code = client.CodeWatch()
        self.sock_path = client.socket_path(home)
        self.ready = threading.Event()
        self.warm_error: str | None = None
        self.started = time.time()
        self.last = time.monotonic()
        self.active = 0
        self.requests = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = None
        self.cmd = None
        self.cwd = _CwdGate()

    # ---- warm-up ------------------------------------------------------------
    def warm(self) -> None:
        t0 = time.monotonic()
        try:
            import typer.main

            self.cmd = typer.main.get_command(app)
            mp = common._open(None, progress=False)  # the home, the index built on a new home, the stores checked
            mp.graph  # noqa: B018 - imports and compiles the LangGraph graph
            mp.find("convert 5 miles to km", 1)  # the embedding model and the Chroma collection, loaded
            from micromarket.specialists.launch import preload_mcp  # deferred: the mcp SDK

            preload_mcp()
        except Exception as e:  # noqa: BLE001 - commands then report the same error themselves
            self.warm_error = f"{type(e).__name__}: {e}"
            print(f"warm-up failed: {self.warm_error}", file=sys.__stderr__, flush=True)
        _trim()
        self.last = time.monotonic()  # idle from now
        print(f"ready in {time.monotonic() - t0:.2f} s (pid {os.getpid()}, home {self.home})", file=sys.__stderr__, flush=True)
        self.ready.set()

    # ---- requests -----------------------------------------------------------
    def status(self, tree: bool = False) -> dict:
        rss = None
        try:
            with open("/proc/self/statm") as f:
                rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            pass
        return {"pid": os.getpid(), "tree_rss_bytes": _tree_rss(rss) if tree else None, "identity": self.identity, "stale": self.code.changed(), "ready": self.ready.is_set(), "warm_error": self.warm_error,
                "socket": str(self.sock_path), "started": self.started, "uptime_s": round(time.time() - self.started, 1),
                "requests": self.requests, "active": self.active, "idle_timeout_s": client.idle_timeout(), "rss_bytes": rss,
                "log": str(self.home / client.LOG_FILE)}

    def handle(self, conn) -> None:
        rfile = conn.makefile("rb")
        send_lock = threading.Lock()

        def send(msg: dict) -> None:
            with send_lock:
                conn.sendall(json.dumps(msg).encode() + b"\n")

        try:
            line = rfile.readline()
            if not line:
                return
            req = json.loads(line)
            op = req.get("op")
            if op == "ping":
                send(self.status(tree=bool(req.get("tree"))))
            elif op == "stop":
                send({"stopping": True, "pid": os.getpid()})
                threading.Thread(target=self.shutdown, daemon=True).start()
            elif op == "run":
                self.run(req, send, rfile)
            else:
                send({"error": f"unknown op {op!r}"})
        except (OSError, ValueError) as e:  # a client that went away
            print(f"request ended: {type(e).__name__}: {e}", file=sys.__stderr__, flush=True)
        finally:
            rfile.close()
            conn.close()

    def run(self, req: dict, send, rfile) -> None:
        with self.lock:
            self.active += 1
            self.requests += 1
        try:
            self.ready.wait()
            tty = req.get("tty") or {}

            def ask() -> str:
                send({"read": 1})
                reply = rfile.readline()
                return (json.loads(reply).get("line") or "") if reply else ""

            data = base64.b64decode(req["stdin"]) if req.get("stdin") else None
            _local.sink, _local.tty = send, tty
            _local.columns = req.get("columns")
            _local.stdin = _ClientStdin(data, ask, bool(tty.get("stdin")))
            try:
                self.cwd.enter(req.get("cwd") or str(self.home))
            except OSError as e:
                send({"err": f"error: cannot work in {req.get('cwd')}: {e.strerror}\n"})
                send({"exit": 1})
                return
            try:
                code = common.run_argv(list(req.get("argv") or []), self.cmd)
            finally:
                self.cwd.leave()
                for name in ("sink", "tty", "columns", "stdin"):
                    _local.__dict__.pop(name, None)
            send({"exit": int(code)})
        finally:
            with self.lock:
                self.active -= 1
                self.last = time.monotonic()
                idle = self.active == 0
            if idle:
                _trim()

    # ---- lifecycle ----------------------------------------------------------
    def watch(self) -> None:
        """Stop when idle too long, or when the home or our socket is gone (a deleted test home, a newer daemon)."""
        while not self.stopping.wait(1.0):
            idle = self.ready.is_set() and self.active == 0 and time.monotonic() - self.last > client.idle_timeout()
            gone = not self.home.is_dir() or not self.sock_path.exists()
            if idle or gone:
                print("idle: stopping" if idle else "home or socket gone: stopping", file=sys.__stderr__, flush=True)
                self.shutdown()
                return

    def shutdown(self) -> None:
        if self.stopping.is_set() and self.server is None:
            return
        self.stopping.set()
        srv, self.server = self.server, None
        if srv is not None:
            srv.shutdown()

    def serve(self) -> None:
        import socketserver

        d = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                d.handle(self.request)

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        try:
            self.sock_path.unlink()
        except FileNotFoundError:
            pass
        old = os.umask(0o177)
        try:
            srv = Server(str(self.sock_path), Handler)
        finally:
            os.umask(old)
        os.chmod(self.sock_path, 0o600)
        self.server = srv
        (self.home / client.INFO_FILE).write_text(json.dumps({"pid": os.getpid(), "socket": str(self.sock_path),
                                                              "started": self.started, "identity": self.identity}))
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=self.shutdown, daemon=True).start())
        threading.Thread(target=self.warm, name="micromarket-warm", daemon=True).start()
        threading.Thread(target=self.watch, name="micromarket-idle", daemon=True).start()
        print(f"listening on {self.sock_path} (pid {os.getpid()})", file=sys.__stderr__, flush=True)
        try:
            srv.serve_forever(poll_interval=0.2)
        finally:
            srv.server_close()  # no new commands; the running ones finish (the stopping client waits ~15 s)
            self.drain(12.0)
            self.cleanup()

    def drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.active and time.monotonic() < deadline:
            time.sleep(0.05)

    def cleanup(self) -> None:
        try:
            info = json.loads((self.home / client.INFO_FILE).read_text())
            if info.get("pid") == os.getpid():
                (self.home / client.INFO_FILE).unlink()
                self.sock_path.unlink(missing_ok=True)
        except (OSError, ValueError):
            pass
        try:
            from micromarket.services import drop_services

            drop_services(self.home)  # closes the specialist sessions (their processes end)
        except Exception as e:  # noqa: BLE001
            print(f"closing: {e}", file=sys.__stderr__, flush=True)
        print("stopped", file=sys.__stderr__, flush=True)


@daemon_app.command("run", hidden=True)
def daemon_run(home: Optional[Path] = HomeOpt) -> None:
    """Serve this home in the foreground (the CLI starts this detached)."""
    home_path = client.home_dir(home).resolve()
    home_path.mkdir(parents=True, exist_ok=True)
    os.environ["MICROMARKET_HOME"] = str(home_path)
    d = _Daemon(home_path)
    os.environ["MICROMARKET_NO_DAEMON"] = "1"  # commands run here, never forwarded again
    sys.stdout, sys.stderr, sys.stdin = _Routed("out", sys.__stdout__), _Routed("err", sys.__stderr__), _RoutedStdin(sys.__stdin__)
    import logging

    # what an in-process CLI shows: warnings on stderr (logging's last resort) -- a command's to its client, the rest
    # to the log; a handler now also keeps libraries' basicConfig (rich, INFO) from adding another
    logging.root.addHandler(logging.lastResort)
    d.serve()


@daemon_app.command("start")
def daemon_start(home: Optional[Path] = HomeOpt) -> None:
    """Start the daemon for the home now (the CLI also starts it on first use)."""
    st = client.start(home)
    common._console().print(f"daemon running for {client.home_dir(home)} (pid {st['pid']}, socket {st['socket']})")


@daemon_app.command("status")
def daemon_status(home: Optional[Path] = HomeOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Whether a daemon serves the home: pid, uptime, requests, memory, idle timeout."""
    st = client.ping(home, tree=True)
    if as_json:
        sys.stdout.write(json.dumps({"running": st is not None, **(st or {})}) + "\n")
        return
    con = common._console()
    if st is None:
        con.print(f"no daemon for {client.home_dir(home)}")
        return
    current = client.serves(st, client.identity(home))
    rss = f"{st['rss_bytes'] / 2**20:.0f} MB" if st.get("rss_bytes") else "?"
    if st.get("tree_rss_bytes") and st.get("rss_bytes") and st["tree_rss_bytes"] > st["rss_bytes"]:
        rss += f" ({st['tree_rss_bytes'] / 2**20:.0f} MB with its specialist processes)"
    con.print(f"daemon pid {st['pid']} for {st['identity']['home']}: {'ready' if st.get('ready') else 'starting'}, "
              f"up {st['uptime_s']:.0f} s, {st['requests']} requests, RSS {rss}, idle timeout {st['idle_timeout_s']:.0f} s"
              + ("" if current else " (another version or settings: the next command restarts it)"), soft_wrap=True)
    if st.get("warm_error"):
        con.print(f"warm-up failed: {st['warm_error']}", markup=False, soft_wrap=True)


@daemon_app.command("stop")
def daemon_stop(home: Optional[Path] = HomeOpt) -> None:
    """Stop the home's daemon (the next command starts a new one)."""
    pid = client.stop(home)
    common._console().print(f"stopped the daemon (pid {pid})" if pid else f"no daemon for {client.home_dir(home)}")


@daemon_app.command("logs")
def daemon_logs(home: Optional[Path] = HomeOpt, lines: int = typer.Option(50, "-n", "--lines", min=1)) -> None:
    """The last lines of the daemon's log (<home>/cli-daemon.log)."""
    path = client.home_dir(home) / client.LOG_FILE
    if not path.exists():
        common._console().print(f"no daemon log at {path}")
        return
    with open(path, "rb") as f:
        tail = f.read()[-200_000:].decode("utf-8", "replace").splitlines()[-lines:]
    sys.stdout.write("\n".join(tail) + ("\n" if tail else ""))
