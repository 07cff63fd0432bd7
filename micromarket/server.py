"""The whole marketplace as one MCP server: `micromarket serve [--transport stdio|http]`.

Tools: ``solve(task, budget?)``, ``find_specialists(query, k)``, ``feedback(run_id, verdict, note?)``.
Resources: ``micromarket://specialists`` (the registered specialists) and
``micromarket://trust`` (trust by capability), plus ``micromarket://specialists/{id}`` (one card).

The Marketplace (embedding model, Chroma index, ledger, MCP sessions to the
specialists) is opened once and kept warm for the life of the process.

stdio: stdout *is* the protocol. The real stdout is kept for the protocol
stream and file descriptor 1 is pointed at stderr, so that a stray print, a
progress bar or a C library's output can never corrupt it. Logs go to stderr.

HTTP: :func:`serve_http` serves streamable HTTP at ``http://HOST:PORT/mcp`` and,
while it runs, writes ``<home>/daemon.json`` (url, pid, host, port) so that other
processes (the CLI) can find a warm daemon; the file is removed on exit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

log = logging.getLogger("micromarket.server")

DAEMON_FILE = "daemon.json"
MCP_PATH = "/mcp"

INSTRUCTIONS = (
    "micromarket is a marketplace of specialist models. Call `solve` with a task in plain language: "
    "it is split into subtasks, each routed to the most trusted matching specialist, and the answers are "
    "integrated. Each subtask reports which specialist answered (provenance). Rate a run with `feedback` "
    "(verdict 'good' or 'bad') to teach the marketplace whom to trust. `find_specialists` shows who can do what."
)


# ---------------------------------------------------------------- structured outputs


class Attempt(BaseModel):
    key: str = Field(description="specialist.capability that was tried")
    outcome: str = Field(description="ok | declined | error | timeout | quarantined | schema")
    latency_ms: float = 0.0
    error: str | None = None


class Subtask(BaseModel):
    subtask_id: str
    text: str = Field(description="The subtask as sent to the specialist")
    status: str = Field(description="ok | failed | unsupported")
    specialist: str | None = Field(None, description="Id of the specialist that answered (provenance)")
    capability: str | None = None
    version: str | None = Field(None, description="Version of the specialist that answered")
    answer: str = ""
    confidence: float | None = None
    explanation: str = ""
    reason: str | None = Field(None, description="Why a subtask failed or is unsupported")
    attempts: list[Attempt] = Field(default_factory=list)


class SolveOutput(BaseModel):
    answer: str = Field(description="The integrated answer")
    run_id: str = Field(description="Pass this to `feedback`")
    subtasks: list[Subtask] = Field(default_factory=list)
    unsupported: list[dict[str, Any]] = Field(default_factory=list, description="Subtasks no specialist could take")
    warnings: list[str] = Field(default_factory=list)


class Match(BaseModel):
    key: str
    specialist_id: str
    capability: str
    similarity: float
    description: str = ""


class FindOutput(BaseModel):
    query: str
    matches: list[Match]


class FeedbackOutput(BaseModel):
    run_id: str
    verdict: str
    updated: list[dict[str, Any]] = Field(default_factory=list, description="Trust entries that changed")


def solve_output(out: dict[str, Any]) -> SolveOutput:
    subs = []
    for r in out.get("subtasks") or []:
        subs.append(
            Subtask(
                subtask_id=str(r.get("subtask_id", "")), text=str(r.get("text", "")), status=str(r.get("status", "")),
                specialist=r.get("specialist"), capability=r.get("capability"), version=r.get("version"),
                answer=str(r.get("answer") or ""), confidence=r.get("confidence"), explanation=str(r.get("explanation") or ""),
                reason=r.get("reason"),
                attempts=[Attempt(key=a.get("key", ""), outcome=a.get("outcome", ""), latency_ms=float(a.get("latency_ms") or 0.0),
                                  error=a.get("error")) for a in r.get("attempts") or []],
            )
        )
    return SolveOutput(
        answer=str(out.get("answer") or ""), run_id=str(out.get("run_id") or ""), subtasks=subs,
        unsupported=[_jsonable(u) for u in out.get("unsupported") or []], warnings=[str(w) for w in out.get("warnings") or []],
    )


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


# ---------------------------------------------------------------- the server


class MarketHandle:
    """The server's Marketplace, opened in a background thread so that the MCP handshake is answered at once."""

    def __init__(self, market=None, *, home=None, warm_up: bool = True, **open_kw):
        self._fut: concurrent.futures.Future = concurrent.futures.Future()
        if market is not None:
            self._fut.set_result(market)
        else:
            threading.Thread(target=self._open, args=(home, warm_up, open_kw), name="micromarket-open", daemon=True).start()

    def _open(self, home, warm_up, open_kw) -> None:
        try:
            mp = _open_market(home, **open_kw)
        except BaseException as e:  # noqa: BLE001 - reported to every tool call
            log.error("cannot open the marketplace: %s", e)
            self._fut.set_exception(e)
            return
        if warm_up:
            with contextlib.suppress(Exception):
                mp.find("warm up", 1)  # the embedding model
        self._fut.set_result(mp)
        if warm_up:
            warm(mp)

    async def get(self):
        return await asyncio.wrap_future(self._fut)

    def result(self, timeout: float | None = None):
        return self._fut.result(timeout)

    def close(self) -> None:
        if self._fut.done() and self._fut.exception() is None:
            self._fut.result().close()


def build_server(market=None, *, home: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000, **open_kw):
    """A FastMCP server over one Marketplace (a Marketplace, a MarketHandle, or opened in the background from ``home``)."""
    from mcp.server.fastmcp import FastMCP

    from micromarket.errors import MicromarketError

    handle = market if isinstance(market, MarketHandle) else MarketHandle(market, home=home, **open_kw)
    mcp = FastMCP("micromarket", instructions=INSTRUCTIONS, host=host, port=port, log_level="WARNING",
                  streamable_http_path=MCP_PATH)
    mcp.market = handle  # type: ignore[attr-defined]

    def _user_error(e: Exception) -> Exception:
        from mcp.server.fastmcp.exceptions import ToolError

        return ToolError(str(e)) if isinstance(e, MicromarketError) else e

    @mcp.tool(structured_output=True)
    async def solve(task: str, budget: float | None = None, context: str | None = None) -> SolveOutput:
        """Solve a task with the marketplace's specialists.

        The task is split into subtasks; each goes to the best trusted specialist for it. Returns the
        integrated answer, a run_id (for `feedback`), and per subtask which specialist answered (provenance).
        `budget` caps the summed declared cost of the specialist calls; `context` is optional material
        (documents, conversation) the subtasks may draw on."""
        mp = await handle.get()
        try:
            out = await mp.asolve(task, context=context, budget=budget)
        except MicromarketError as e:
            raise _user_error(e) from None
        return solve_output(out)

    @mcp.tool(structured_output=True)
    async def find_specialists(query: str, k: int = 5) -> FindOutput:
        """The specialist capabilities that best match a query, best first (similarity in [0, 1])."""
        mp = await handle.get()
        try:
            hits = await asyncio.to_thread(mp.find, query, max(1, min(int(k), 50)))
        except MicromarketError as e:
            raise _user_error(e) from None
        out = []
        for h in hits:
            desc = ""
            with contextlib.suppress(Exception):
                desc = mp.card(h["specialist_id"]).capability(h["capability"]).description
            out.append(Match(description=desc, **h))
        return FindOutput(query=query, matches=out)

    @mcp.tool(structured_output=True)
    async def feedback(run_id: str, verdict: Literal["good", "bad"], note: str | None = None,
                       subtask_id: str | None = None) -> FeedbackOutput:
        """Rate a run's answer: verdict 'good' raises and 'bad' lowers the trust of the specialists that answered."""
        v = str(verdict).strip().lower()
        if v not in ("good", "bad"):
            from mcp.server.fastmcp.exceptions import ToolError

            raise ToolError(f"verdict must be 'good' or 'bad', got {verdict!r}")
        mp = await handle.get()
        try:
            updated = await asyncio.to_thread(mp.feedback, run_id, v == "good", subtask_id=subtask_id, note=note)
        except MicromarketError as e:
            raise _user_error(e) from None
        return FeedbackOutput(run_id=run_id, verdict=v, updated=[_jsonable(u) for u in updated])

    @mcp.resource("micromarket://specialists", name="specialists", mime_type="application/json",
                  description="The registered specialists: id, version, status, capabilities, cost, transport")
    async def specialists_resource() -> str:
        mp = await handle.get()
        return json.dumps(mp.specialists(), default=str, ensure_ascii=False)

    @mcp.resource("micromarket://trust", name="trust", mime_type="application/json",
                  description="Trust by specialist and capability (Beta posterior mean and evidence)")
    async def trust_resource() -> str:
        mp = await handle.get()
        return json.dumps(mp.trust(), default=str, ensure_ascii=False)

    @mcp.resource("micromarket://specialists/{specialist_id}", name="card", mime_type="application/json",
                  description="The card of one specialist")
    async def card_resource(specialist_id: str) -> str:
        mp = await handle.get()
        return mp.card(specialist_id).model_dump_json()

    return mcp


def warm(mp) -> None:
    """Load the embedding model and start the specialists' sessions now rather than on the first call."""
    t0 = time.perf_counter()
    with contextlib.suppress(Exception):
        mp.find("warm up", 1)
    cards = [c for c in mp.services.store.cards(statuses=("active", "newcomer")) if c.transport.kind != "http"]

    async def connect_all():
        await asyncio.gather(*(mp.services.pool.list_tools(c) for c in cards), return_exceptions=True)

    with contextlib.suppress(Exception):
        asyncio.run(connect_all())
    log.info("warm in %.1f s (%d specialist sessions)", time.perf_counter() - t0, len(cards))


def _logging(level: str | None = None) -> None:
    """Logs to stderr only: WARNING and up from libraries, ``level`` (default INFO, $MICROMARKET_LOG_LEVEL) from micromarket."""
    root = logging.getLogger()
    if not any(getattr(h, "_micromarket", False) for h in root.handlers):
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        h._micromarket = True  # type: ignore[attr-defined]
        h.addFilter(lambda r: r.name.startswith("micromarket") or r.levelno >= logging.WARNING)  # libraries set their own levels
        root.addHandler(h)
    root.setLevel(logging.WARNING)
    for lib in ("bm25s", "httpx", "chromadb", "sentence_transformers", "mcp", "uvicorn"):
        logging.getLogger(lib).setLevel(logging.WARNING)
    logging.getLogger("micromarket").setLevel(level or os.environ.get("MICROMARKET_LOG_LEVEL", "INFO").upper())


def _protect_stdout():
    """Keep the real stdout for the protocol and send everything else written to fd 1 to stderr."""
    import anyio
    from io import TextIOWrapper

    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr  # print() from any library lands on stderr
    return anyio.wrap_file(TextIOWrapper(os.fdopen(proto_fd, "wb", buffering=0), encoding="utf-8", write_through=True))


def serve_stdio(home: str | Path | None = None, **open_kw) -> None:
    """Serve over stdio until the client closes stdin."""
    from mcp.server.stdio import stdio_server

    _logging()
    proto_out = _protect_stdout()
    handle = MarketHandle(home=home, **open_kw)  # opens and warms in the background
    mcp = build_server(handle)

    async def run():
        async with stdio_server(stdout=proto_out) as (read, write):
            await mcp._mcp_server.run(read, write, mcp._mcp_server.create_initialization_options())

    try:
        import anyio

        anyio.run(run)
    finally:
        handle.close()


def _open_market(home, **open_kw):
    from micromarket.api import Marketplace

    return Marketplace.open(home=home, progress=False, **open_kw)


def daemon_file(home: str | Path | None = None) -> Path:
    from micromarket.settings import Settings

    return Settings.from_env(home=home).home / DAEMON_FILE


def read_daemon(home: str | Path | None = None) -> dict | None:
    """The running HTTP daemon for ``home`` ({url, pid, host, port, ...}), or None if there is none alive."""
    p = daemon_file(home)
    try:
        info = json.loads(p.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info


def _bind(host: str, port: int) -> socket.socket:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(128)
    s.setblocking(False)
    return s


def http_app(mcp):
    """The Starlette app serving MCP at /mcp (plus GET /healthz) — mountable in other ASGI apps."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    app = mcp.streamable_http_app()

    async def healthz(request):
        return JSONResponse({"ok": True, "pid": os.getpid()})

    app.router.routes.append(Route("/healthz", healthz, methods=["GET"]))
    return app


async def aserve_http(host: str = "127.0.0.1", port: int = 8765, home: str | Path | None = None, *, market=None,
                      ready: asyncio.Event | None = None, stop: asyncio.Event | None = None, **open_kw) -> None:
    """Serve streamable HTTP at http://HOST:PORT/mcp until ``stop`` is set (or cancelled); port 0 picks a free port."""
    import uvicorn

    mp = market if market is not None else await asyncio.to_thread(_open_market, home, **open_kw)
    mcp = build_server(mp, host=host, port=port)
    await asyncio.to_thread(warm, mp)
    sock = _bind(host, port)
    real_port = sock.getsockname()[1]
    url = f"http://{_url_host(host)}:{real_port}{MCP_PATH}"
    config = uvicorn.Config(http_app(mcp), log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    info_path = Path(mp.settings.home) / DAEMON_FILE
    info = {"url": url, "pid": os.getpid(), "host": host, "port": real_port, "transport": "streamable-http",
            "home": str(mp.settings.home), "started": time.time()}
    task = asyncio.create_task(server.serve(sockets=[sock]))
    stopper = asyncio.create_task(_stop_when(stop, server)) if stop is not None else None
    try:
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if task.done():
            await task
            return
        tmp = info_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(info_path)
        log.info("micromarket MCP server at %s (pid %d)", url, os.getpid())
        print(f"micromarket MCP server at {url}", file=sys.stderr, flush=True)
        if ready is not None:
            ready.set()
        await task
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):  # remove the discovery file first: no await before it
            cur = json.loads(info_path.read_text())
            if cur.get("pid") == os.getpid():
                info_path.unlink()
        if stopper is not None:
            stopper.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(task), 5)
        sock.close()
        if market is None:  # closing the specialists' sessions may take a while; do not hang the exit on it
            closer = threading.Thread(target=mp.close, name="micromarket-close", daemon=True)
            closer.start()
            await asyncio.to_thread(closer.join, 5)


def serve_http(host: str = "127.0.0.1", port: int = 8765, home: str | Path | None = None, **open_kw) -> None:
    """Serve streamable HTTP (blocking) until SIGINT/SIGTERM; writes and removes ``<home>/daemon.json``."""
    import signal

    _logging()

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await aserve_http(host, port, home, stop=stop, **open_kw)

    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(main())


async def _stop_when(stop: asyncio.Event, server) -> None:
    await stop.wait()
    server.should_exit = True


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
