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
