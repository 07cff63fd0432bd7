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
import sys
import threading
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from capability_index.cards import SpecialistCard, Transport, endpoint_of
from micromarket.errors import SpecialistCallError

log = logging.getLogger("micromarket.pool")

# Variables a child may inherit; everything else (API keys, tokens) stays out.
SAFE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "SYSTEMROOT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The explicit environment of a launched specialist: a short allowlist plus its card's env."""
    env = {k: os.environ[k] for k in SAFE_ENV if k in os.environ}
    env.update(extra or {})
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


class SpecialistPool:
    """Keeps one MCP session per specialist and calls its tools under a deadline."""

    def __init__(self, *, call_timeout: float = 30.0, connect_timeout: float = 30.0):
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
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
        if running is self._loop:
            return await coro
        return await asyncio.wrap_future(self._submit(coro))

    # ---- public API ----------------------------------------------------
    async def call(self, card: SpecialistCard, tool: str, arguments: dict[str, Any], *, timeout: float | None = None) -> CallOutcome:
        """Call ``tool`` on the card's server. Raises SpecialistCallError (kind error|timeout)."""
        return await self._run(self._call(card, tool, arguments, timeout or self.call_timeout))

    def call_sync(self, card: SpecialistCard, tool: str, arguments: dict[str, Any], *, timeout: float | None = None) -> CallOutcome:
        return self._submit(self._call(card, tool, arguments, timeout or self.call_timeout)).result()

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

        try:
            async with AsyncExitStack() as stack:
                if t.kind == "stdio":
                    from mcp import StdioServerParameters
                    from mcp.client.stdio import stdio_client

                    argv = launch_command(t)
                    params = StdioServerParameters(command=argv[0], args=argv[1:], env=child_env(t.env), cwd=t.cwd)
                    log.info("launching specialist %s: %s", name, " ".join(argv))
                    errlog = open(os.devnull, "w")  # noqa: SIM115
                    stack.callback(errlog.close)
                    read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
                    session = await stack.enter_async_context(ClientSession(read, write))
                elif t.kind == "http":
                    from mcp.client.streamable_http import streamablehttp_client

                    read, write, _ = await stack.enter_async_context(streamablehttp_client(t.url, timeout=self.connect_timeout))
                    session = await stack.enter_async_context(ClientSession(read, write))
                else:
                    from mcp.shared.memory import create_connected_server_and_client_session

                    session = await stack.enter_async_context(create_connected_server_and_client_session(_resolve_target(t.target)))
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

    async def _connect(self, key: str, t: Transport, name: str) -> _Conn:
        lock = self._conn_locks.setdefault(key, asyncio.Lock())
        async with lock:
            conn = self._conns.get(key)
            endpoint = endpoint_of(t)
            if conn and conn.session is not None and conn.error is None and conn.endpoint == endpoint and not conn.task.done():
                return conn
            if conn:
                await self._drop(key)
                self._restarts[key] = self._restarts.get(key, 0) + 1
            conn = _Conn(endpoint=endpoint, started=time.monotonic())
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
                raise SpecialistCallError(f"specialist {name}: cannot start or connect: {_describe(err)}", kind="error", transient=True)
            return conn

    async def _call(self, card: SpecialistCard, tool: str, arguments: dict[str, Any], timeout: float) -> CallOutcome:
        from mcp.shared.exceptions import McpError

        for attempt in (1, 2):  # one reconnect for a crashed server
            conn = await self._connect(card.id, card.transport, card.id)
            t0 = time.perf_counter()
            try:
                res = await asyncio.wait_for(
                    conn.session.call_tool(tool, arguments, read_timeout_seconds=timedelta(seconds=timeout)), timeout
                )
            except asyncio.TimeoutError:
                await self._drop(card.id)  # a hung server is restarted on the next call
                raise SpecialistCallError(f"specialist {card.id}: {tool} exceeded its {timeout:g} s deadline", kind="timeout") from None
            except McpError as e:
                if "timed out" in str(e).lower():
                    await self._drop(card.id)
                    raise SpecialistCallError(f"specialist {card.id}: {tool} exceeded its {timeout:g} s deadline", kind="timeout") from None
                if _is_connection_error(e) and attempt == 1:
                    await self._drop(card.id)
                    continue
                raise SpecialistCallError(f"specialist {card.id}: {tool} failed: {e}", kind="error", transient=_is_connection_error(e)) from None
            except (ConnectionError, OSError, EOFError) as e:
                await self._drop(card.id)
                if attempt == 1:
                    continue
                raise SpecialistCallError(f"specialist {card.id}: connection lost: {_describe(e)}", kind="error", transient=True) from None
            except Exception as e:  # noqa: BLE001 - anyio's ClosedResourceError and friends
                await self._drop(card.id)
                if attempt == 1 and type(e).__name__ in ("ClosedResourceError", "BrokenResourceError", "EndOfStream"):
                    continue
                raise SpecialistCallError(f"specialist {card.id}: {tool} failed: {_describe(e)}", kind="error", transient=True) from None
            latency = (time.perf_counter() - t0) * 1000
            text = "\n".join(getattr(c, "text", "") for c in (res.content or []) if getattr(c, "type", "") == "text")
            return CallOutcome(structured=res.structuredContent, text=text, latency_ms=latency, is_error=bool(res.isError))
        raise SpecialistCallError(f"specialist {card.id}: connection lost twice", kind="error", transient=True)

    async def _transient(self, card_or_transport, key):
        if isinstance(card_or_transport, SpecialistCard):
            return card_or_transport.id, card_or_transport.transport
        return key or ("probe:" + endpoint_of(card_or_transport)), card_or_transport

    async def _list_tools(self, card_or_transport, key):
        k, t = await self._transient(card_or_transport, key)
        conn = await self._connect(k, t, k)
        tools = await asyncio.wait_for(conn.session.list_tools(), self.call_timeout)
        return list(tools.tools), conn.server_info

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


def _is_connection_error(e: Exception) -> bool:
    s = str(e).lower()
    return "connection closed" in s or "closed" in s and "connection" in s
