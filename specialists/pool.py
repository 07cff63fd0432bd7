"""MCP client pool: one long-lived session per specialist, hard deadlines, restarts.

Sessions live on a private event loop in a background thread, so callers on
any loop (asyncio.run per solve, a notebook, `langgraph dev`) share them.
Starting a server process per call would cost ~0.5 s; here it is paid once.

With ``host_builtins`` the trusted built-in specialists (a card whose transport is exactly a packaged built-in's)
are served in this process over the SDK's in-memory MCP transport: one encoder and one copy of their libraries
for all of them instead of a process each. Every other card keeps its own supervised process.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import tempfile
import threading
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from micromarket.capability_index.cards import SpecialistCard, Transport, endpoint_of
from micromarket.errors import SpecialistCallError
from micromarket.specialists.failures import classify, describe, retryable
from micromarket.specialists.launch import (
    child_env,
    failure_cause,
    hosted_builtin,
    launch_command,
    load_builtin,
    preload_mcp,
    resolve_target,
    stderr_tail,
    supervised,
)

__all__ = ["CallOutcome", "ServerInfo", "SpecialistPool", "child_env", "classify", "launch_command"]

log = logging.getLogger("micromarket.pool")


@dataclass
class CallOutcome:
    structured: dict[str, Any] | None
    text: str
    latency_ms: float
    is_error: bool = False


@dataclass(frozen=True)
class ServerInfo:
    """What a server says about itself, whichever protocol generation it speaks."""

    name: str = ""
    title: str | None = None
    version: str | None = None
    instructions: str | None = None
    resources: bool = False  # it offers resources (a card:// resource may be among them)
    protocol_version: str | None = None


def server_info_of(client) -> ServerInfo:
    """The ServerInfo of a connected ``mcp.Client`` (from server/discover or the initialize handshake)."""
    info = client.server_info
    caps = client.server_capabilities
    return ServerInfo(name=getattr(info, "name", "") or "", title=getattr(info, "title", None),
                      version=getattr(info, "version", None), instructions=client.instructions,
                      resources=getattr(caps, "resources", None) is not None, protocol_version=client.protocol_version)


@dataclass
class _Conn:
    endpoint: str
    session: Any = None
    task: asyncio.Task | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    error: BaseException | None = None
    server_info: ServerInfo | None = None
    tools: dict[str, Any] | None = None  # live definitions listed at connect (pinned when a guard is used)
    tools_dirty: bool = False  # the server sent notifications/tools/list_changed
    guard: Any = None
    progress: int = 0  # progress notifications received (they never extend a deadline)
    recheck: asyncio.Task | None = None  # verification started by a list_changed notification
    stderr: str = ""  # the tail of a stdio server's stderr (with its exit code), once its session has ended
    hosted: bool = False  # a built-in served in this process (in-memory MCP), not a launched process


class SpecialistPool:
    """Keeps one MCP session per specialist and calls its tools under a deadline."""

    def __init__(self, *, call_timeout: float = 30.0, connect_timeout: float = 30.0, retries: int = 2,
                 backoff_s: float = 0.1, max_backoff_s: float = 1.0, host_builtins: bool = False):
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.retries = retries  # extra attempts for transient errors only
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._conns: dict[str, _Conn] = {}
        self._connected: set[str] = set()  # keys that had a session before: the next one is a reconnect
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._conn_locks: dict[str, asyncio.Lock] = {}
        self.host_builtins = host_builtins
        self._demoted: set[str] = set()  # hosted built-ins that overran a deadline: launched as processes from then on

    # ---- loop plumbing -------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None or not self._thread or not self._thread.is_alive():
                preload_mcp()
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

    async def list_tools(self, card_or_transport: SpecialistCard | Transport, *, key: str | None = None) -> tuple[list[Any], ServerInfo]:
        """tools/list of a server, and its server info (name, version, instructions, protocol version)."""
        return await self._run(self._list_tools(card_or_transport, key))

    async def read_resource(self, card_or_transport: SpecialistCard | Transport, uri: str, *, key: str | None = None) -> str | None:
        return await self._run(self._read_resource(card_or_transport, uri, key))

    def close(self) -> None:
        if self._loop is None:
            return
        try:
            self._submit(self._close_all()).result(timeout=10)
        except Exception:  # noqa: BLE001 - best effort on shutdown
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop = None

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
        from mcp import Client

        handler = self._message_handler(conn, name)
        errlog = None  # the stdio server's stderr: its tail explains a crash
        try:
            async with AsyncExitStack() as stack:
                # the packaged cards are read once (off the loop: `langgraph dev` forbids blocking calls on it)
                module = await asyncio.to_thread(hosted_builtin, t) if self.host_builtins and name not in self._demoted else None
                if module:
                    log.info("hosting built-in specialist %s in this process (%s)", name, module)
                    server: Any = await asyncio.to_thread(load_builtin, module)
                    conn.hosted = True
                elif t.kind == "stdio":
                    from mcp import StdioServerParameters
                    from mcp.client.stdio import stdio_client

                    def prepare():  # resolving the program and opening the stderr file touch the disk: off the loop
                        argv, env = launch_command(t), child_env(t.env)
                        log.info("launching specialist %s: %s (cwd %s, env %s)", name, shlex.join(argv), t.cwd or ".", ",".join(sorted(env)))
                        return argv, env, tempfile.TemporaryFile(prefix=f"mm-{name[:40]}-stderr-")  # noqa: SIM115 - closed in finally

                    argv, env, errlog = await asyncio.to_thread(prepare)
                    run = supervised(argv)
                    params = StdioServerParameters(command=run[0], args=run[1:], env=env, cwd=t.cwd)
                    server = stdio_client(params, errlog=errlog)
                elif t.kind == "http":
                    from mcp.client.streamable_http import streamable_http_client

                    # no headers: no upstream token is ever passed through to a specialist
                    log.info("connecting specialist %s: %s", name, t.url)
                    server = streamable_http_client(t.url)
                else:
                    if t.kind == "openai":  # an OpenAI-compatible endpoint behind an in-memory MCP solve tool
                        from micromarket.specialists.microllm.serve import openai_server  # deferred: langchain-openai

                        server = await asyncio.to_thread(openai_server, t)
                    else:
                        server = await asyncio.to_thread(resolve_target, t.target)
                # mode "auto": server/discover (2026-07-28, stateless) first, the initialize handshake
                # (2025-11-25, 2025-06-18, ...) when the server does not know it; no response cache (pins see every list)
                session = await stack.enter_async_context(Client(server, mode="auto", message_handler=handler, cache=None))
                conn.server_info = server_info_of(session)
                conn.session = session
                listener = asyncio.create_task(self._listen(conn, name))
                conn.ready.set()
                try:
                    await conn.stop.wait()
                finally:
                    listener.cancel()
        except BaseException as e:  # noqa: BLE001 - reported to the waiting caller
            conn.error = e
            conn.ready.set()
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
        finally:
            conn.session = None
            if errlog is not None:
                log_file = errlog

                def drain() -> str:
                    try:
                        return stderr_tail(log_file)
                    finally:
                        log_file.close()

                try:
                    conn.stderr = await asyncio.shield(asyncio.to_thread(drain))
                except BaseException:  # noqa: BLE001 - cancelled while closing: the thread still closes the file
                    pass

    def _message_handler(self, conn: _Conn, name: str):
        async def handle(message) -> None:
            root = getattr(message, "root", message)
            if type(root).__name__ == "ToolListChangedNotification":  # a 2025-era session
                self._tools_changed(conn, name)
            elif type(root).__name__ == "ProgressNotification":
                conn.progress += 1

        return handle

    def _tools_changed(self, conn: _Conn, name: str) -> None:
        conn.tools_dirty = True
        log.warning("specialist %s changed its tool list; re-checking its pins", name)
        if conn.guard is not None:  # check now, not only at the next call
            conn.recheck = asyncio.get_running_loop().create_task(self._recheck(name, conn, "notifications/tools/list_changed"))

    async def _listen(self, conn: _Conn, name: str) -> None:
        """On a 2026-07-28 session, tool-list changes arrive on a ``subscriptions/listen`` stream, not as notifications."""
        from mcp.client.subscriptions import ToolsListChanged
        from mcp_types.version import MODERN_PROTOCOL_VERSIONS

        client = conn.session
        caps = getattr(client.server_capabilities, "tools", None)
        if client.protocol_version not in MODERN_PROTOCOL_VERSIONS or not getattr(caps, "list_changed", False):
            return
        try:
            async with client.listen(tools_list_changed=True) as sub:
                async for event in sub:
                    if isinstance(event, ToolsListChanged):
                        self._tools_changed(conn, name)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - a server without listen support: pins are still checked at each (re)connect
            log.info("specialist %s: no tool-change subscription (%s)", name, describe(e))

    async def _recheck(self, key: str, conn: _Conn, source: str) -> None:
        try:
            await self._list_and_verify(key, conn, source)
        except Exception as e:  # noqa: BLE001 - the next call reports it (the hold is in the pin store)
            log.warning("specialist %s: %s", key, describe(e))

    async def _list_and_verify(self, key: str, conn: _Conn, source: str) -> None:
        # also fills the session's outputSchema cache: call_tool then validates structuredContent (mcp SDK)
        listed = await asyncio.wait_for(conn.session.list_tools(), self.connect_timeout)
        conn.tools = {t.name: t for t in listed.tools}
        if conn.guard is not None:  # SQLite and the scanner run off the pool loop: other sessions keep going
            instr = conn.server_info.instructions if conn.server_info else None
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
            reconnect = conn is not None or key in self._connected
            if conn:
                await self._drop(key)
            conn = _Conn(endpoint=endpoint, guard=guard)
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
                raise SpecialistCallError(_with_cause(f"specialist {name}: cannot start or connect: {describe(err)}", conn), kind="error", transient=transient)
            self._connected.add(key)
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
            raise SpecialistCallError(f"specialist {key}: cannot list its tools: {describe(e)}", kind=kind, transient=transient) from None

    async def _call(self, card: SpecialistCard, tool: str, arguments: dict[str, Any], timeout: float, guard: Any = None) -> CallOutcome:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(self.retries, 0) + 1),
            wait=wait_random_exponential(multiplier=self.backoff_s, max=self.max_backoff_s),
            retry=retry_if_exception(retryable),
            before_sleep=lambda rs: log.info("specialist %s: transient error (%s); retry %d/%d in %.2f s", card.id,
                                             rs.outcome.exception(), rs.attempt_number, self.retries, rs.next_action.sleep),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call_once(card, tool, arguments, timeout, guard)
        raise AssertionError("unreachable")

    async def _call_once(self, card: SpecialistCard, tool: str, arguments: dict[str, Any], timeout: float, guard: Any) -> CallOutcome:
        if guard is not None:
            await asyncio.to_thread(guard.check_callable, card.id)  # held or pin store unreadable: refused (off the loop: SQLite)
        conn = await self._connect(card.id, card.transport, card.id, guard)
        if conn.tools is not None and tool not in conn.tools:
            raise SpecialistCallError(
                f"specialist {card.id} offers no tool {tool!r} (it lists: {', '.join(sorted(conn.tools)) or 'nothing'})", kind="error"
            )
        t0 = time.perf_counter()
        try:
            res = await asyncio.wait_for(
                conn.session.call_tool(tool, arguments, read_timeout_seconds=timeout,
                                       progress_callback=_count_progress(conn)),
                timeout,
            )
        except asyncio.TimeoutError:
            await self._drop(card.id)  # cancel: the session (and a stdio process) is torn down, restarted on the next call
            self._demote(card.id, conn)
            raise SpecialistCallError(f"specialist {card.id}: {tool} exceeded its {timeout:g} s deadline (cancelled)", kind="timeout") from None
        except Exception as e:  # noqa: BLE001
            kind, transient = classify(e)
            if kind == "timeout" or transient:
                await self._drop(card.id)  # waits for a stdio server to end: conn.stderr is then filled
                if kind == "timeout":
                    self._demote(card.id, conn)
            if transient and conn.stderr:
                raise SpecialistCallError(_with_cause(f"specialist {card.id}: {tool} failed: {describe(e)}", conn), kind=kind, transient=True) from None
            if kind == "timeout":
                raise SpecialistCallError(f"specialist {card.id}: {tool} exceeded its {timeout:g} s deadline", kind="timeout") from None
            if kind == "schema" and isinstance(e, RuntimeError):  # the mcp client checked structured content against outputSchema
                detail = describe(e).splitlines()[0][:300]
                raise SpecialistCallError(f"specialist {card.id}: {tool} returned output that violates its outputSchema ({detail})", kind="schema") from None
            raise SpecialistCallError(f"specialist {card.id}: {tool} failed: {describe(e)}", kind=kind, transient=transient) from None
        latency = (time.perf_counter() - t0) * 1000
        text = "\n".join(getattr(c, "text", "") for c in (res.content or []) if getattr(c, "type", "") == "text")
        return CallOutcome(structured=res.structured_content, text=text, latency_ms=latency, is_error=bool(res.is_error))

    def _demote(self, key: str, conn: _Conn) -> None:
        """A hosted built-in that overran its deadline: its worker thread cannot be killed, so this specialist is
        launched as a supervised process from now on (a second overrun is then killed with its process)."""
        if conn.hosted and key not in self._demoted:
            self._demoted.add(key)
            log.warning("built-in specialist %s overran its deadline in this process; it runs as its own process from now on", key)

    async def _transient(self, card_or_transport, key):
        if isinstance(card_or_transport, SpecialistCard):
            return card_or_transport.id, card_or_transport.transport
        return key or ("probe:" + endpoint_of(card_or_transport)), card_or_transport

    async def _list_tools(self, card_or_transport, key):
        k, t = await self._transient(card_or_transport, key)
        conn = await self._connect(k, t, k)
        return list((conn.tools or {}).values()), conn.server_info

    async def _read_resource(self, card_or_transport, uri, key):
        k, t = await self._transient(card_or_transport, key)
        conn = await self._connect(k, t, k)
        try:
            res = await asyncio.wait_for(conn.session.read_resource(uri), self.call_timeout)
        except Exception:  # noqa: BLE001 - a missing card resource is normal
            return None
        for c in res.contents:
            if getattr(c, "text", None):
                return c.text
        return None


def _with_cause(message: str, conn: _Conn, room: int = 290) -> str:
    """The message, then the server's exit code and last words, within ``room`` characters (reasons are kept short)."""
    if not conn.stderr:
        return message
    cause = failure_cause(conn.stderr, limit=max(40, room - len(message) - 50))
    return f"{message} ({cause})" if cause else message


def _count_progress(conn: _Conn):
    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        conn.progress += 1  # counted, never a reason to extend the deadline

    return on_progress
