"""MCP client pool: one long-lived session per specialist, hard deadlines, restarts.

Sessions live on a private event loop in a background thread, so callers on
any loop (asyncio.run per solve, a notebook, `langgraph dev`) share them.
Starting a server process per call would cost ~0.5 s; here it is paid once.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import random
import re
import shlex
import sys
import threading
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from micromarket.capability_index.cards import SpecialistCard, Transport, endpoint_of
from micromarket.errors import SpecialistCallError

log = logging.getLogger("micromarket.pool")

# Variables a child may inherit; everything else (API keys, tokens) stays out.
SAFE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "SYSTEMROOT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME")


_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.I)


def _our_secrets() -> set[str]:
    return {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 8}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The explicit environment of a launched specialist: a short allowlist plus its card's env.

    Nothing else is inherited (API keys, tokens, cloud credentials stay out). A card
    env value equal to one of *our* secrets (an upstream token passed through) is dropped.
    """
    env = {k: os.environ[k] for k in SAFE_ENV if k in os.environ}
    secrets = _our_secrets()
    for k, v in (extra or {}).items():
        if v in secrets:
            log.warning("not passing %s to a specialist: its value is one of this process's own secrets (upstream token)", k)
            continue
        env[k] = v
    return env


def launch_command(t: Transport) -> list[str]:
    """The exact argv of a stdio specialist; "{python}" is this interpreter."""
    return [sys.executable if a == "{python}" else a for a in (t.command or [])]


@dataclass
class CallOutcome:
    structured: dict[str, Any] | None
    text: str
    latency_ms: float
    is_error: bool = False


@dataclass
class _Conn:
    endpoint: str
    session: Any = None
    task: asyncio.Task | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    error: BaseException | None = None
    started: float = 0.0
    restarts: int = 0
    server_info: Any = None
    tools: dict[str, Any] | None = None  # live definitions listed at connect (pinned when a guard is used)
    tools_dirty: bool = False  # the server sent notifications/tools/list_changed
    guard: Any = None
    progress: int = 0  # progress notifications received (they never extend a deadline)
    recheck: asyncio.Task | None = None  # verification started by a list_changed notification


class SpecialistPool:
    """Keeps one MCP session per specialist and calls its tools under a deadline."""

    def __init__(self, *, call_timeout: float = 30.0, connect_timeout: float = 30.0, retries: int = 2,
                 backoff_s: float = 0.1, max_backoff_s: float = 1.0):
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.retries = retries  # extra attempts for transient errors only
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.attempts: dict[str, int] = {}  # specialist id -> tool calls sent (for tests and stats)
        self._conns: dict[str, _Conn] = {}
        self._restarts: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._conn_locks: dict[str, asyncio.Lock] = {}

    # ---- loop plumbing -------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None or not self._thread or not self._thread.is_alive():
                _preload_mcp()
                loop = asyncio.new_event_loop()
                t = threading.Thread(target=loop.run_forever, name="micromarket-mcp-pool", daemon=True)
                t.start()
                self._loop, self._thread = loop, t
            return self._loop

    def _submit(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())

    async def _run(self, coro):
        """Run a coroutine on the pool loop from any loop."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is self._loop:
            return await coro
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            await asyncio.to_thread(self._ensure_loop)  # first use: imports and thread start, off the caller's loop
        return await asyncio.wrap_future(self._submit(coro))

    # ---- public API ----------------------------------------------------
    async def call(self, card: SpecialistCard, tool: str, arguments: dict[str, Any], *, timeout: float | None = None,
                   guard: Any = None) -> CallOutcome:
        """Call ``tool`` on the card's server under a hard deadline.

        Raises SpecialistCallError with kind error | timeout | schema | quarantined.
        Transient errors (connection drops, 5xx) are retried with bounded, jittered
        backoff; deterministic ones (bad arguments, schema violations, tool errors)
        and timeouts are not. With a ``guard`` (capability_index.pins.PinGuard) the
        live tool definitions are scanned and checked against their pins at every
        (re)connect and after ``notifications/tools/list_changed``.
        """
        return await self._run(self._call(card, tool, arguments, timeout or self.call_timeout, guard))

    def call_sync(self, card: SpecialistCard, tool: str, arguments: dict[str, Any], *, timeout: float | None = None,
                  guard: Any = None) -> CallOutcome:
        return self._submit(self._call(card, tool, arguments, timeout or self.call_timeout, guard)).result()

    async def list_tools(self, card_or_transport: SpecialistCard | Transport, *, key: str | None = None) -> tuple[list[Any], Any]:
        """tools/list of a server, and its server info (name, version, instructions)."""
        return await self._run(self._list_tools(card_or_transport, key))

    async def read_resource(self, card_or_transport: SpecialistCard | Transport, uri: str, *, key: str | None = None) -> str | None:
        return await self._run(self._read_resource(card_or_transport, uri, key))

    def stats(self) -> dict[str, Any]:
        return {k: {"alive": c.session is not None and c.error is None, "restarts": self._restarts.get(k, 0)} for k, c in self._conns.items()}

    def close(self) -> None:
        if self._loop is None:
            return
        try:
            self._submit(self._close_all()).result(timeout=10)
        except Exception:  # noqa: BLE001 - best effort on shutdown
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop = None

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    # ---- internals (run on the pool loop) -------------------------------
    async def _close_all(self) -> None:
        for key in list(self._conns):
            await self._drop(key)

    async def _drop(self, key: str) -> None:
        conn = self._conns.pop(key, None)
        if conn and conn.task:
            conn.stop.set()
            try:
                await asyncio.wait_for(asyncio.shield(conn.task), 5)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                conn.task.cancel()

    async def _serve(self, conn: _Conn, t: Transport, name: str) -> None:
        """Own the transport's context managers for the session's whole life."""
        from mcp import ClientSession

        handler = self._message_handler(conn, name)
        try:
            async with AsyncExitStack() as stack:
                if t.kind == "stdio":
                    from mcp import StdioServerParameters
                    from mcp.client.stdio import stdio_client

                    argv = launch_command(t)
                    env = child_env(t.env)
                    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=t.cwd)
                    log.info("launching specialist %s: %s (cwd %s, env %s)", name, shlex.join(argv), t.cwd or ".", ",".join(sorted(env)))
                    errlog = open(os.devnull, "w")  # noqa: SIM115
                    stack.callback(errlog.close)
                    read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
                    session = await stack.enter_async_context(ClientSession(read, write, message_handler=handler))
                elif t.kind == "http":
                    from mcp.client.streamable_http import streamablehttp_client

                    # no headers: no upstream token is ever passed through to a specialist
                    log.info("connecting specialist %s: %s", name, t.url)
                    read, write, _ = await stack.enter_async_context(streamablehttp_client(t.url, timeout=self.connect_timeout))
                    session = await stack.enter_async_context(ClientSession(read, write, message_handler=handler))
                else:
                    from mcp.shared.memory import create_connected_server_and_client_session

                    session = await stack.enter_async_context(
                        create_connected_server_and_client_session(await asyncio.to_thread(_resolve_target, t.target), message_handler=handler)
                    )
                init = await session.initialize()
                conn.server_info = init
                conn.session = session
                conn.ready.set()
                await conn.stop.wait()
        except BaseException as e:  # noqa: BLE001 - reported to the waiting caller
            conn.error = e
            conn.ready.set()
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
        finally:
            conn.session = None

    def _message_handler(self, conn: _Conn, name: str):
        async def handle(message) -> None:
            root = getattr(message, "root", None)
            if type(root).__name__ == "ToolListChangedNotification":
                conn.tools_dirty = True
                log.warning("specialist %s changed its tool list; re-checking its pins", name)
                if conn.guard is not None:  # check now, not only at the next call
                    conn.recheck = asyncio.get_running_loop().create_task(self._recheck(name, conn, "notifications/tools/list_changed"))
            elif type(root).__name__ == "ProgressNotification":
                conn.progress += 1

        return handle

    async def _recheck(self, key: str, conn: _Conn, source: str) -> None:
        try:
            await self._list_and_verify(key, conn, source)
        except Exception as e:  # noqa: BLE001 - the next call reports it (the hold is in the pin store)
            log.warning("specialist %s: %s", key, _describe(e))

    async def _list_and_verify(self, key: str, conn: _Conn, source: str) -> None:
        listed = await asyncio.wait_for(conn.session.list_tools(), self.connect_timeout)
        conn.tools = {t.name: t for t in listed.tools}
        if conn.guard is not None:  # SQLite and the scanner run off the pool loop: other sessions keep going
            instr = getattr(conn.server_info, "instructions", None)
            await asyncio.to_thread(conn.guard.verify, key, list(listed.tools), instructions=instr, source=source)
        conn.tools_dirty = False

    async def _connect(self, key: str, t: Transport, name: str, guard: Any = None) -> _Conn:
        lock = self._conn_locks.setdefault(key, asyncio.Lock())
        async with lock:
            conn = self._conns.get(key)
            endpoint = endpoint_of(t)
            if conn and conn.session is not None and conn.error is None and conn.endpoint == endpoint and not conn.task.done():
                rechecked = conn.recheck is not None and not conn.recheck.done()
                if rechecked:
                    await asyncio.wait({conn.recheck}, timeout=self.connect_timeout)
                if rechecked and guard is not None and conn.guard is not None:  # the caller checked before the recheck
                    try:
                        await asyncio.to_thread(guard.check_callable, key)
                    except SpecialistCallError:
                        await self._drop(key)
                        raise
                if guard is not None and conn.guard is None:  # first guarded use of an unguarded session
                    conn.guard = guard
                    await self._verify_or_drop(key, conn, "connect")
                elif conn.tools_dirty and conn.guard is not None:
                    await self._verify_or_drop(key, conn, "notifications/tools/list_changed")
                return conn
            reconnect = conn is not None or self._restarts.get(key) is not None
            if conn:
                await self._drop(key)
                self._restarts[key] = self._restarts.get(key, 0) + 1
            conn = _Conn(endpoint=endpoint, started=time.monotonic(), guard=guard)
            conn.task = asyncio.create_task(self._serve(conn, t, name))
            self._conns[key] = conn
            try:
                await asyncio.wait_for(conn.ready.wait(), self.connect_timeout)
            except asyncio.TimeoutError:
                await self._drop(key)
                raise SpecialistCallError(f"specialist {name}: no MCP handshake within {self.connect_timeout:.0f} s", kind="timeout", transient=True) from None
            if conn.error is not None or conn.session is None:
                err = conn.error
                await self._drop(key)
                kind, transient = classify(err)
                raise SpecialistCallError(f"specialist {name}: cannot start or connect: {_describe(err)}", kind="error", transient=transient)
            self._restarts.setdefault(key, 0)
            await self._verify_or_drop(key, conn, "reconnect" if reconnect else "connect")
            return conn

    async def _verify_or_drop(self, key: str, conn: _Conn, source: str) -> None:
        try:
            await self._list_and_verify(key, conn, source)
        except SpecialistCallError:
            await self._drop(key)
            raise
        except asyncio.TimeoutError:
            await self._drop(key)
            raise SpecialistCallError(f"specialist {key}: tools/list exceeded {self.connect_timeout:g} s", kind="timeout", transient=True) from None
        except Exception as e:  # noqa: BLE001
            await self._drop(key)
            kind, transient = classify(e)
            raise SpecialistCallError(f"specialist {key}: cannot list its tools: {_describe(e)}", kind=kind, transient=transient) from None

    async def _call(self, card: SpecialistCard, tool: str, arguments: dict[str, Any], timeout: float, guard: Any = None) -> CallOutcome:
        delay = self.backoff_s
        attempts = max(self.retries, 0) + 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._call_once(card, tool, arguments, timeout, guard)
            except SpecialistCallError as e:
                if not e.transient or e.kind in ("timeout", "quarantined", "schema") or attempt == attempts:
                    raise
                wait = min(delay, self.max_backoff_s) * (0.5 + random.random() / 2)
                log.info("specialist %s: transient error (%s); retry %d/%d in %.2f s", card.id, e, attempt, attempts - 1, wait)
                await asyncio.sleep(wait)
                delay *= 2
        raise AssertionError("unreachable")

    async def _call_once(self, card: SpecialistCard, tool: str, arguments: dict[str, Any], timeout: float, guard: Any) -> CallOutcome:
        if guard is not None:
            await asyncio.to_thread(guard.check_callable, card.id)  # held or pin store unreadable: refused (off the loop: SQLite)
        conn = await self._connect(card.id, card.transport, card.id, guard)
        if conn.tools is not None and tool not in conn.tools:
            raise SpecialistCallError(
                f"specialist {card.id} offers no tool {tool!r} (it lists: {', '.join(sorted(conn.tools)) or 'nothing'})", kind="error"
            )
        self.attempts[card.id] = self.attempts.get(card.id, 0) + 1
        t0 = time.perf_counter()
        try:
            res = await asyncio.wait_for(
                conn.session.call_tool(tool, arguments, read_timeout_seconds=timedelta(seconds=timeout),
                                       progress_callback=_count_progress(conn)),
                timeout,
            )
        except asyncio.TimeoutError:
            await self._drop(card.id)  # cancel: the session (and a stdio process) is torn down, restarted on the next call
            raise SpecialistCallError(f"specialist {card.id}: {tool} exceeded its {timeout:g} s deadline (cancelled)", kind="timeout") from None
        except Exception as e:  # noqa: BLE001
            kind, transient = classify(e)
            if kind == "timeout" or transient:
                await self._drop(card.id)
            if kind == "timeout":
                raise SpecialistCallError(f"specialist {card.id}: {tool} exceeded its {timeout:g} s deadline", kind="timeout") from None
            raise SpecialistCallError(f"specialist {card.id}: {tool} failed: {_describe(e)}", kind=kind, transient=transient) from None
        latency = (time.perf_counter() - t0) * 1000
        text = "\n".join(getattr(c, "text", "") for c in (res.content or []) if getattr(c, "type", "") == "text")
        if not res.isError and conn.tools is not None:
            validate_output(card.id, tool, res.structuredContent, getattr(conn.tools.get(tool), "outputSchema", None))
        return CallOutcome(structured=res.structuredContent, text=text, latency_ms=latency, is_error=bool(res.isError))

    async def _transient(self, card_or_transport, key):
        if isinstance(card_or_transport, SpecialistCard):
            return card_or_transport.id, card_or_transport.transport
        return key or ("probe:" + endpoint_of(card_or_transport)), card_or_transport

    async def _list_tools(self, card_or_transport, key):
        k, t = await self._transient(card_or_transport, key)
        conn = await self._connect(k, t, k)
        return list((conn.tools or {}).values()), conn.server_info

    async def _read_resource(self, card_or_transport, uri, key):
        from pydantic import AnyUrl

        k, t = await self._transient(card_or_transport, key)
        conn = await self._connect(k, t, k)
        try:
            res = await asyncio.wait_for(conn.session.read_resource(AnyUrl(uri)), self.call_timeout)
        except Exception:  # noqa: BLE001 - a missing card resource is normal
            return None
        for c in res.contents:
            if getattr(c, "text", None):
                return c.text
        return None


def _preload_mcp() -> None:
    """Import the MCP client modules here, not on the pool's loop (imports read files; `langgraph dev` forbids that)."""
    import mcp.client.stdio  # noqa: F401
    import mcp.client.streamable_http  # noqa: F401
    import mcp.shared.exceptions  # noqa: F401
    import mcp.shared.memory  # noqa: F401


def _resolve_target(target: str):
    """'module:attr' -> a FastMCP server (or a zero-argument factory returning one)."""
    mod, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(mod), attr or "mcp")
    if callable(obj) and not hasattr(obj, "_mcp_server"):
        obj = obj()
    return offload_sync_tools(obj)


def offload_sync_tools(server):
    """Run a FastMCP server's *sync* tools in worker threads instead of on its event loop.

    FastMCP calls a plain ``def`` tool directly on the loop that serves the session, so
    one slow sync tool blocks every other request on that loop: in process, that is the
    pool loop shared by all specialists (16 parallel subtasks ran one after another).
    A stdio server can call this on its own FastMCP before ``run()`` for the same effect."""
    import functools

    manager = getattr(server, "_tool_manager", None)
    for tool in list(getattr(manager, "_tools", {}).values()):
        if getattr(tool, "is_async", True) or getattr(tool, "_mm_offloaded", False):
            continue
        fn = tool.fn

        async def run_in_thread(*args, __fn=fn, **kwargs):
            import anyio

            return await anyio.to_thread.run_sync(functools.partial(__fn, *args, **kwargs))

        try:
            tool.fn = run_in_thread
            tool.is_async = True
            object.__setattr__(tool, "_mm_offloaded", True)
        except Exception:  # noqa: BLE001 - an unexpected FastMCP version: leave the tool as it is
            tool.fn = fn
    return server


def _describe(e: BaseException | None) -> str:
    if e is None:
        return "unknown error"
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(_describe(x) for x in e.exceptions)
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _is_connection_error(e: BaseException) -> bool:
    s = str(e).lower()
    return "connection closed" in s or "closed" in s and "connection" in s


_TRANSIENT_NAMES = ("ClosedResourceError", "BrokenResourceError", "EndOfStream", "RemoteProtocolError", "ConnectError",
                    "ReadError", "WriteError", "ConnectTimeout", "ReadTimeout", "PoolTimeout", "NetworkError")


def classify(e: BaseException | None) -> tuple[str, bool]:
    """(kind, transient) of a failure. kind: error | timeout | schema.

    Deterministic (never retried): bad arguments (JSON-RPC -32602), unknown method,
    output-schema violations, tool errors, a command that cannot be found.
    Transient (retried with backoff): connection drops, closed streams, HTTP 5xx and 429.
    """
    if e is None:
        return "error", True
    if isinstance(e, BaseExceptionGroup):
        kinds = [classify(x) for x in e.exceptions]
        return next((k for k in kinds if not k[1]), kinds[0] if kinds else ("error", True))
    if isinstance(e, SpecialistCallError):
        return e.kind, e.transient
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return "timeout", False
    try:
        from mcp.shared.exceptions import McpError
        from mcp.types import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR
    except ImportError:  # pragma: no cover
        McpError = ()  # type: ignore[assignment]
        INVALID_PARAMS = INVALID_REQUEST = METHOD_NOT_FOUND = PARSE_ERROR = None
    if McpError and isinstance(e, McpError):
        code = getattr(getattr(e, "error", None), "code", None)
        if "timed out" in str(e).lower():
            return "timeout", False
        if code == INVALID_PARAMS:
            return "schema", False
        if code in (METHOD_NOT_FOUND, INVALID_REQUEST, PARSE_ERROR):
            return "error", False
        if _is_connection_error(e):
            return "error", True
        return "error", False
    status = getattr(getattr(e, "response", None), "status_code", None)
    if isinstance(status, int):
        return "error", status >= 500 or status == 429
    msg = str(e)
    if isinstance(e, RuntimeError) and ("structured content" in msg or "Invalid schema for tool" in msg):
        return "schema", False
    if isinstance(e, (FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError)):
        return "error", False
    if isinstance(e, (ConnectionError, EOFError, BrokenPipeError, OSError)):
        return "error", True
    if type(e).__name__ in _TRANSIENT_NAMES or _is_connection_error(e):
        return "error", True
    return "error", False


def validate_output(sid: str, tool: str, structured: Any, schema: dict | None) -> None:
    """structuredContent must match the tool's (pinned) outputSchema; a violation is deterministic."""
    if not schema:
        return
    import jsonschema

    if structured is None:
        raise SpecialistCallError(f"specialist {sid}: {tool} declares an outputSchema but returned no structured content", kind="schema")
    try:
        jsonschema.validate(structured, schema)
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "<root>"
        raise SpecialistCallError(f"specialist {sid}: {tool} returned output that violates its outputSchema at {where}: {e.message[:200]}", kind="schema") from None
    except (jsonschema.SchemaError, RecursionError) as e:
        raise SpecialistCallError(f"specialist {sid}: {tool} has an invalid outputSchema: {str(e)[:200]}", kind="schema") from None


def _count_progress(conn: _Conn):
    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        conn.progress += 1  # counted, never a reason to extend the deadline

    return on_progress
