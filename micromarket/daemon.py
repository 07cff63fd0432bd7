"""Client side of the warm daemon: `micromarket solve` asks a running `micromarket serve --transport http`.

`micromarket serve --transport http` (micromarket/server/http.py) keeps the embedding
model, the index and the specialist sessions warm and writes
``<home>/daemon.json`` ({"url", "pid", ...}) while it serves. When that file
names a live process, the CLI sends the task to the daemon's MCP ``solve`` tool
instead of opening the marketplace itself, so a solve costs the interpreter start,
a few stdlib imports and the solve -- no model load, no Chroma, no LangGraph import.

This speaks MCP's streamable-HTTP transport directly with the standard library
(JSON-RPC over POST; replies as JSON or as a server-sent-event stream): importing
the mcp SDK, httpx and pydantic would cost more than the rest of the CLI together.

Authentication: the daemon requires ``Authorization: Bearer <token>``; the token is read from
``<home>/token`` (0600; a file readable by others is refused). A daemon that refuses the token
(401) is reported, not bypassed.

Fallback rules: no file, a dead pid, or a daemon that does not answer the
handshake -> :func:`solve_via_daemon` returns None and the CLI solves in process.
Once the task has been sent, a failure is reported (never silently re-run, which
could call the specialists twice). ``MICROMARKET_NO_DAEMON=1`` or
``micromarket solve --no-daemon`` always solve in process.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from micromarket.errors import MicromarketError
from micromarket.home import TOKEN_FILE, TokenFileError
from micromarket.home import read_token as read_token_file

DAEMON_FILE = "daemon.json"  # micromarket.server.http writes it
PROTOCOL_VERSION = "2025-06-18"
CONNECT_TIMEOUT_S = 3.0
CLIENT_INFO = {"name": "micromarket-cli", "version": "0.1.0"}


class DaemonError(MicromarketError):
    """The daemon accepted the task but the call failed."""


class _Unavailable(Exception):
    """The daemon is not there (or not answering): solve in process."""


def home_dir(home: str | Path | None = None) -> Path:
    """The data directory, by the same rule as ``Settings.home`` (stdlib only: pydantic-settings costs ~0.15 s to import)."""
    return Path(home or os.environ.get("MICROMARKET_HOME") or Path.home() / ".micromarket").expanduser()


def daemon_info(home: str | Path | None = None) -> dict[str, Any] | None:
    """``<home>/daemon.json`` if it names a live process, else None."""
    home_path = home_dir(home)
    try:
        info = json.loads((home_path / DAEMON_FILE).read_text())
        pid = int(info["pid"])
        url = str(info["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not url.startswith(("http://", "https://")):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by someone else
    except OSError:
        return None
    served = info.get("home")
    if served:
        try:
            if Path(served).resolve() != home_path.resolve():
                return None
        except OSError:
            return None
    return info


def read_token(home: str | Path | None = None) -> str | None:
    """The front door's bearer token from ``<home>/token``; None if there is none. Refuses a file others can read."""
    path = home_dir(home) / TOKEN_FILE
    if not path.exists():
        return None
    try:
        return read_token_file(path)
    except TokenFileError as e:
        raise DaemonError(str(e)) from None


def disabled() -> bool:
    return os.environ.get("MICROMARKET_NO_DAEMON", "").lower() not in ("", "0", "false", "no")


class _Session:
    """A minimal MCP streamable-HTTP client session (initialize, tools/call, close)."""

    def __init__(self, url: str, token: str | None = None):
        self.url = url
        self.token = token
        self.session_id: str | None = None
        self.protocol = PROTOCOL_VERSION
        self._next = 0

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if self.session_id:
            h["Mcp-Session-Id"] = self.session_id
            h["MCP-Protocol-Version"] = self.protocol
        return h

    def _post(self, payload: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        import urllib.request

        req = urllib.request.Request(self.url, data=json.dumps(payload).encode("utf-8"), headers=self._headers(), method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - a URL from our own daemon.json
            sid = resp.headers.get("Mcp-Session-Id")
            if sid:
                self.session_id = sid
            if "id" not in payload:  # a notification: 202, no body
                return None
            ctype = (resp.headers.get("Content-Type") or "").lower()
            if ctype.startswith("text/event-stream"):
                return _read_sse(resp, payload["id"])
            body = resp.read()
            msg = json.loads(body) if body else None
            if isinstance(msg, list):  # a batch: ours is the one with our id
                msg = next((m for m in msg if isinstance(m, dict) and m.get("id") == payload["id"]), None)
            return msg

    def request(self, method: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        self._next += 1
        msg = self._post({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params}, timeout)
        if not isinstance(msg, dict):
            raise DaemonError(f"the daemon sent no reply to {method}")
        if "error" in msg:
            err = msg["error"] or {}
            raise DaemonError(f"the daemon refused {method}: {err.get('message', err)}")
        return msg.get("result") or {}

    def notify(self, method: str, timeout: float) -> None:
        self._post({"jsonrpc": "2.0", "method": method}, timeout)

    def initialize(self) -> None:
        res = self.request(
            "initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}, CONNECT_TIMEOUT_S
        )
        self.protocol = str(res.get("protocolVersion") or PROTOCOL_VERSION)
        self.notify("notifications/initialized", CONNECT_TIMEOUT_S)

    def close(self) -> None:
        if not self.session_id:
            return
        import urllib.request

        try:
            req = urllib.request.Request(self.url, headers=self._headers(), method="DELETE")
            urllib.request.urlopen(req, timeout=CONNECT_TIMEOUT_S).close()  # noqa: S310
        except Exception:  # noqa: BLE001 - the server ends idle sessions itself
            pass


def _read_sse(resp, want_id: int) -> dict[str, Any] | None:
    """Read server-sent events until the JSON-RPC response with ``want_id`` (notifications are skipped)."""
    data: list[str] = []
    for raw in resp:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
            continue
        if line == "" and data:
            try:
                msg = json.loads("\n".join(data))
            except ValueError:
                msg = None
            data = []
            if isinstance(msg, dict) and msg.get("id") == want_id and ("result" in msg or "error" in msg):
                return msg
    return None


def _text(value: str | bytes | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return bytes(value).decode("utf-8")  # UnicodeDecodeError -> caller solves in process (which explains it)


def solve_via_daemon(
    home: str | Path | None,
    task: str | bytes,
    *,
    context: str | bytes | None = None,
    budget: float | None = None,
    timeout: float = 600.0,
) -> dict[str, Any] | None:
    """Solve with the running daemon of ``home``; None if there is none (solve in process then).

    Returns the daemon's SolveOutput: answer, run_id, subtasks (with provenance), unsupported, warnings."""
    if disabled():
        return None
    info = daemon_info(home)
    if info is None:
        return None
    try:
        task_s, ctx_s = _text(task), _text(context)
    except UnicodeDecodeError:
        return None
    import urllib.error

    sess = _Session(info["url"], read_token(home))
    try:
        try:
            sess.initialize()
        except urllib.error.HTTPError as e:
            if e.code in (401, 403):
                raise DaemonError(f"the daemon at {info['url']} refused this client ({e.code}): the token in "
                                  f"{home_dir(home) / TOKEN_FILE} is missing or not the daemon's; restart the daemon "
                                  "or run with --no-daemon") from None
            raise _Unavailable(str(e)) from e
        except (OSError, ValueError, DaemonError) as e:  # refused, timed out, not MCP: a stale daemon.json
            raise _Unavailable(str(e)) from e
        args: dict[str, Any] = {"task": task_s}
        if ctx_s:
            args["context"] = ctx_s
        if budget is not None:
            args["budget"] = budget
        try:
            res = sess.request("tools/call", {"name": "solve", "arguments": args}, timeout)
        except OSError as e:
            raise DaemonError(f"the daemon at {info['url']} failed during the solve ({e}); run with --no-daemon to solve in process") from None
    except _Unavailable:
        return None
    finally:
        sess.close()
    if res.get("isError"):
        msg = " ".join(c.get("text", "") for c in res.get("content") or [] if isinstance(c, dict)).strip()
        raise DaemonError(msg or "the daemon's solve failed")
    out = res.get("structuredContent")
    if isinstance(out, dict) and set(out) == {"result"} and isinstance(out["result"], dict):
        out = out["result"]
    if not isinstance(out, dict) or "answer" not in out:
        raise DaemonError("the daemon's solve returned no structured result")
    out.setdefault("subtasks", [])
    out.setdefault("unsupported", [])
    out["via_daemon"] = info["url"]
    return out


# ---------------------------------------------------------------------------------------------------------------
# The CLI daemon: every CLI command of a home runs in one warm process that the CLI starts itself.
#
# `micromarket <command>` sends its argv, working directory and (when an argument is '-') its stdin over a Unix
# socket (mode 0600, in the home or, when that path is too long for AF_UNIX, in a 0700 directory of the temp dir);
# the daemon (micromarket/cli/daemon.py) runs the very same Typer command in a thread with that thread's
# stdout/stderr/stdin routed back over the socket, and returns the exit code. Output and exit codes are therefore
# those of the in-process CLI. One JSON object a line: the client sends {"op": "run" | "ping" | "stop", ...}; the
# daemon answers "run" with {"out": s} / {"err": s} / {"read": 1} (the command asks for a line: the client answers
# {"line": s}) and ends with {"exit": code}.
#
# A daemon is used only when its identity -- package version and location, Python, home, the
# MICROMARKET_* settings and the other variables a command may read (API keys, proxies, PATH; `_daemon_reads`) --
# equals the client's, and no package module it has loaded changed on disk since (`CodeWatch`: an edit of a module
# it never imported, e.g. a trainer, keeps it); otherwise it is stopped and a new one is started. Starting
# is serialised by a lock file in the home: a second CLI waits for the daemon the first one is starting.
# ---------------------------------------------------------------------------------------------------------------

SOCKET_FILE = "cli-daemon.sock"
INFO_FILE = "cli-daemon.json"
LOG_FILE = "cli-daemon.log"
START_LOCK_FILE = "cli-daemon.lock"
IDLE_TIMEOUT_S = 900.0  # MICROMARKET_DAEMON_IDLE_TIMEOUT overrides
START_TIMEOUT_S = 120.0  # the first start on a new home builds the index
ROUTED = frozenset({"solve", "resume", "feedback", "routing", "trust", "specialists", "index", "backup", "tools"})
STOPS_DAEMON = frozenset({"restore"})  # replaces the stores under an open marketplace: the daemon is stopped, it runs here
_NOT_IDENTITY = {"MICROMARKET_NO_DAEMON", "MICROMARKET_DEBUG", "MICROMARKET_HOME", "MICROMARKET_DAEMON_IDLE_TIMEOUT"}


def socket_path(home: str | Path | None = None) -> Path:
    """Where the daemon of ``home`` listens (AF_UNIX paths are limited to ~107 bytes)."""
    home_path = home_dir(home).resolve()
    p = home_path / SOCKET_FILE
    if len(str(p).encode()) <= 100:
        return p
    import hashlib
    import tempfile

    d = Path(tempfile.gettempdir()) / f"micromarket-{os.getuid()}"
    d.mkdir(mode=0o700, exist_ok=True)
    st = os.lstat(d)  # a directory another user made first could swap the socket
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise DaemonError(f"{d} is not a private directory of this user (owner, mode); remove it or use --no-daemon")
    return d / f"{hashlib.sha256(str(home_path).encode()).hexdigest()[:20]}.sock"


def _package_dirs() -> list[str]:
    import importlib.util

    import micromarket

    dirs = [os.path.dirname(micromarket.__file__)]
    for sub in ("capability_index", "specialists", "nodes", "graphs", "benchmarks"):  # mapped by package-dir (pyproject.toml)
        spec = importlib.util.find_spec(f"micromarket.{sub}")
        dirs += list(spec.submodule_search_locations or []) if spec else []
    return dirs


def _signature(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class CodeWatch:
    """Whether a package module this process has loaded changed on disk since the process started (an editable
    install changes code without changing its version). Made at the daemon's start: every source file's mtime and
    size then; a module imported later whose file was not there yet is remembered as it is when first seen."""

    def __init__(self):
        self._seen: dict[str, tuple[int, int] | None] = {}
        for d in _package_dirs():
            for root, subdirs, files in os.walk(d):
                subdirs[:] = [x for x in subdirs if x != "__pycache__"]
                for f in files:
                    if f.endswith(".py"):
                        path = os.path.join(root, f)
                        self._seen[path] = _signature(path)

    def changed(self) -> str | None:
        """The name of a loaded package module whose file changed (or went away), else None (~1 ms)."""
        import sys

        for name, mod in list(sys.modules.items()):
            if name != "micromarket" and not name.startswith("micromarket."):
                continue
            path = getattr(mod, "__file__", None)
            if not path or not path.endswith(".py"):
                continue
            now = _signature(path)
            if self._seen.setdefault(path, now) != now or now is None:
                return name
        return None


def identity(home: str | Path | None = None) -> dict[str, Any]:
    """What a daemon must share with a client to serve it."""
    import sys

    import micromarket

    import hashlib

    env = sorted((k, v) for k, v in os.environ.items() if _daemon_reads(k))
    env_digest = hashlib.sha256(json.dumps(env).encode()).hexdigest()[:16]  # values may hold passwords: never written
    return {"version": micromarket.__version__, "package": str(Path(micromarket.__file__).resolve().parent),
            "python": os.path.realpath(sys.executable), "home": str(home_dir(home).resolve()),
            "env": env_digest}


# Besides MICROMARKET_*: what a command in the daemon may read from its environment -- chat-model providers' keys and
# endpoints (langchain's init_chat_model reads OPENAI_API_KEY, ...), the Hugging Face and proxy settings, and the
# variables a specialist process inherits (specialists/launch.py SAFE_ENV). The daemon keeps the environment of the
# CLI that started it; a client whose values differ gets a new daemon, so one caller's keys never serve another's.
_ENV_NAMES = frozenset({"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "SSL_CERT_FILE", "SSL_CERT_DIR",
                        "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
                        "http_proxy", "https_proxy", "no_proxy", "all_proxy", "XDG_CACHE_HOME"})
_ENV_PREFIXES = ("HF_", "HUGGINGFACE", "TRANSFORMERS_", "OPENAI_", "AZURE_", "ANTHROPIC_", "GOOGLE_", "MISTRAL",
                 "GROQ_", "TOGETHER", "FIREWORKS", "OLLAMA_", "COHERE_", "LANGCHAIN_", "LANGSMITH_", "AWS_", "GEMINI_")
_ENV_SECRET = ("KEY", "TOKEN", "SECRET", "PASSW", "CREDENTIAL")


def _daemon_reads(name: str) -> bool:
    if name.startswith("MICROMARKET_"):
        return name not in _NOT_IDENTITY
    up = name.upper()
    return name in _ENV_NAMES or up.startswith(_ENV_PREFIXES) or any(w in up for w in _ENV_SECRET)


def idle_timeout() -> float:
    try:
        return float(os.environ.get("MICROMARKET_DAEMON_IDLE_TIMEOUT") or IDLE_TIMEOUT_S)
    except ValueError:
        return IDLE_TIMEOUT_S


class _Conn:
    """One connection to the daemon: JSON lines both ways."""

    def __init__(self, path: Path, timeout: float | None):
        import socket

        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(str(path))
        except OSError:
            self.sock.close()
            raise
        self.rfile = self.sock.makefile("rb")

    def send(self, msg: dict[str, Any]) -> None:
        self.sock.sendall(json.dumps(msg).encode() + b"\n")

    def recv(self) -> dict[str, Any] | None:
        line = self.rfile.readline()
        return json.loads(line) if line else None

    def close(self) -> None:
        try:
            self.rfile.close()
        finally:
            self.sock.close()


def ping(home: str | Path | None = None, timeout: float = 2.0, *, tree: bool = False) -> dict[str, Any] | None:
    """The running daemon's status ({pid, identity, ready, ...}), or None if none answers. ``tree``: also the RSS
    of its process tree (a scan of its descendants: only for `daemon status`, not on each command)."""
    try:
        conn = _Conn(socket_path(home), timeout)
    except OSError:
        return None
    try:
        conn.send({"op": "ping", "tree": True} if tree else {"op": "ping"})
        return conn.recv()
    except (OSError, ValueError):
        return None
    finally:
        conn.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    try:  # a zombie child (our own test harness) is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def info(home: str | Path | None = None) -> dict[str, Any] | None:
    """``<home>/cli-daemon.json`` as the daemon wrote it (pid, socket, started), if its process lives."""
    try:
        data = json.loads((home_dir(home) / INFO_FILE).read_text())
        pid = int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data if _pid_alive(pid) else None


def stop(home: str | Path | None = None, timeout: float = 15.0) -> int | None:
    """Stop the daemon of ``home`` (asked first, then SIGTERM, then SIGKILL); its pid, or None if none ran."""
    import signal
    import time

    st = ping(home) or {}
    pid = st.get("pid") or (info(home) or {}).get("pid")
    if not pid:
        return None
    pid = int(pid)
    if not st and not _is_daemon(pid):  # a stale info file whose pid was reused: never signal that process
        (home_dir(home) / INFO_FILE).unlink(missing_ok=True)
        return None
    try:
        conn = _Conn(socket_path(home), 5.0)
        try:
            conn.send({"op": "stop"})
            conn.recv()
        finally:
            conn.close()
    except (OSError, ValueError):
        pass
    deadline = time.monotonic() + timeout
    sent_term = False
    try:
        while _pid_alive(pid):
            if time.monotonic() > deadline:
                if sent_term:
                    os.kill(pid, signal.SIGKILL)
                    break
                os.kill(pid, signal.SIGTERM)
                sent_term, deadline = True, time.monotonic() + 5.0
            time.sleep(0.05)
    except (ProcessLookupError, PermissionError):
        pass  # it ended meanwhile, or is not ours
    return pid


def _is_daemon(pid: int) -> bool:
    """Whether ``pid`` runs ``micromarket.cli daemon run`` (its command line)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().split(b"\0")
    except OSError:
        return _pid_alive(pid)  # no /proc (macOS): trust the info file
    return b"micromarket.cli" in cmd and b"daemon" in cmd and b"run" in cmd


def start(home: str | Path | None = None) -> dict[str, Any]:
    """Start a detached daemon for ``home`` and wait until it answers; its status. A CLI that finds another
    starting one (the start lock in the home is held) waits for that one instead of starting a second."""
    import fcntl
    import subprocess
    import sys
    import time

    from micromarket.home import prepare_home

    home_path = prepare_home(home_dir(home))  # refuses system directories; creates a new home, saying so
    want = identity(home_path)
    with open(home_path / START_LOCK_FILE, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        st = ping(home_path)
        if serves(st, want):
            return st
        old = st or info(home_path)
        if old:
            why = _why_replaced(old, want, answered=st is not None)
            stop(home_path)
        env = dict(os.environ, MICROMARKET_HOME=str(home_path))
        env.pop("MICROMARKET_NO_DAEMON", None)
        with open(home_path / LOG_FILE, "ab") as log:
            if old:  # a replaced daemon costs a new warm-up (seconds): say why, here and on a terminal
                line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} replacing the daemon (pid {old.get('pid')}): {why}"
                log.write((line + "\n").encode())
                log.flush()
                if sys.stderr.isatty():
                    sys.stderr.write(f"restarting the micromarket daemon: {why}\n")
            proc = subprocess.Popen([sys.executable, "-P", "-m", "micromarket.cli", "daemon", "run", "--home", str(home_path)],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=str(home_path),
                                    start_new_session=True, close_fds=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            st = ping(home_path, timeout=5.0)
            if st is not None and st.get("ready"):
                return st
            if proc.poll() is not None:
                raise DaemonError(f"the micromarket daemon exited with code {proc.returncode} while starting; "
                                  f"see {home_path / LOG_FILE} (or run with --no-daemon)")
            time.sleep(0.05)
        raise DaemonError(f"the micromarket daemon did not start within {START_TIMEOUT_S:.0f} s; see {home_path / LOG_FILE}")


def serves(st: dict[str, Any] | None, want: dict[str, Any]) -> bool:
    """Whether the daemon that answered a ping (its status ``st``) may serve a client of identity ``want``."""
    return st is not None and st.get("identity") == want and not st.get("stale")


def _why_replaced(old: dict[str, Any], want: dict[str, Any], *, answered: bool) -> str:
    """Why a running daemon cannot serve this client: the parts of its identity that differ (never their values:
    the environment's may hold keys), or that it did not answer."""
    if not answered:
        return "it did not answer a ping"
    if old.get("stale"):
        return f"its loaded module {old['stale']} changed on disk since it started"
    have = old.get("identity") or {}
    names = {"version": "package version", "package": "package location",
             "python": "Python", "home": "home", "env": "settings or environment (MICROMARKET_*, API keys, PATH, ...)"}
    diff = [names.get(k, k) for k in sorted(set(have) | set(want)) if have.get(k) != want.get(k)]
    return ("its " + ", ".join(diff) + " differ from this client's") if diff else "it was not ready"


def _home_arg(argv: list[str]) -> str | None:
    """The value of --home in argv (the last one wins, as in click), relative to this directory."""
    home = None
    for i, a in enumerate(argv):
        if a == "--":
            break
        if a == "--home" and i + 1 < len(argv):
            home = argv[i + 1]
        elif a.startswith("--home="):
            home = a.split("=", 1)[1]
    return os.path.abspath(os.path.expanduser(home)) if home else None


def _absolute_home(argv: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return out + argv[i:]
        if a == "--home" and i + 1 < len(argv):
            out += [a, os.path.realpath(os.path.expanduser(argv[i + 1]))]
            i += 2
            continue
        if a.startswith("--home="):
            a = "--home=" + os.path.realpath(os.path.expanduser(a.split("=", 1)[1]))
        out.append(a)
        i += 1
    return out


def routed(argv: list[str]) -> bool:
    """Whether this command line goes to the daemon: a command that opens a home, no --help, daemon not disabled."""
    if disabled() or not argv or argv[0] not in ROUTED:
        return False
    # --chat-model builds its own services around its model: it would replace the daemon's warm ones under others
    return not any(a in ("--help", "--no-daemon", "--chat-model") or a.startswith("--chat-model=") for a in argv)


def run_via_daemon(argv: list[str]) -> int | None:
    """Run a CLI command line in the home's daemon (starting one if needed); its exit code. None: run it in
    process (not a routed command, the daemon is disabled, or the HTTP front door serves this home)."""
    import sys

    if argv[:1] and argv[0] in STOPS_DAEMON and "--help" not in argv:
        stop(_home_arg(argv))
        return None
    if not routed(argv):
        return None
    home = _home_arg(argv)
    if daemon_info(home) is not None:  # `micromarket serve --transport http` holds this home: the old path
        return None
    from micromarket.home import prepare_home

    try:  # a system directory is refused, a new home is created and said, exactly as in process
        prepare_home(home_dir(home))
    except MicromarketError:
        return None  # the in-process command reports it, in its words
    want = identity(home)
    st = ping(home)
    if not serves(st, want) or not st.get("ready"):
        if sys.stderr.isatty() and st is None:
            sys.stderr.write(f"starting the micromarket daemon for {home_dir(home)} ...\r")
            sys.stderr.flush()
        start(home)
        if sys.stderr.isatty() and st is None:
            sys.stderr.write("\x1b[2K")
    argv = _absolute_home(argv)  # the daemon's home, by the same name (its services are keyed by it)
    stdin_data = None
    if "-" in argv and not sys.stdin.isatty():  # bytes as they are: the command checks the encoding
        import base64

        stdin_data = base64.b64encode(sys.stdin.buffer.read()).decode("ascii")
    try:
        cols = os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else None
    except OSError:
        cols = None
    try:
        conn = _Conn(socket_path(home), None)
    except OSError:  # it stopped (idle, or replaced) between the ping and now: start it once more
        start(home)
        conn = _Conn(socket_path(home), None)
    try:
        conn.send({"op": "run", "argv": argv, "cwd": os.getcwd(), "stdin": stdin_data, "columns": cols,
                   "tty": {"stdin": sys.stdin.isatty(), "stdout": sys.stdout.isatty(), "stderr": sys.stderr.isatty()}})
        while True:
            msg = conn.recv()
            if msg is None:
                raise DaemonError(f"the micromarket daemon closed the connection during the command; see {home_dir(home) / LOG_FILE}")
            if "out" in msg:
                sys.stdout.write(msg["out"])
                sys.stdout.flush()
            elif "err" in msg:
                sys.stderr.write(msg["err"])
                sys.stderr.flush()
            elif "read" in msg:
                conn.send({"line": sys.stdin.readline()})
            elif "exit" in msg:
                return int(msg["exit"])
    except (OSError, ValueError) as e:
        raise DaemonError(f"the connection to the micromarket daemon broke ({type(e).__name__}: {e}); "
                          f"see {home_dir(home) / LOG_FILE}") from None
    finally:
        conn.close()
