"""The MCP server over one warm Marketplace: tools solve / find_specialists / feedback and the resources."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from micromarket.errors import MicromarketError
from micromarket.server.auth import caller_id
from micromarket.server.outputs import (
    CallToolOutput,
    FeedbackOutput,
    FindOutput,
    Match,
    SearchToolsOutput,
    SolveOutput,
    call_tool_output,
    inert,
    inert_card,
    jsonable,
    solve_output,
    tool_match,
)

log = logging.getLogger("micromarket.server")

MCP_PATH = "/mcp"
CARD_TEMPLATE = "micromarket://specialists/{specialist_id}"
FEEDBACK_PER_WINDOW = 20  # feedback calls that move trust, per caller and window
FEEDBACK_WINDOW_S = 3600.0

INSTRUCTIONS = (
    "micromarket is a marketplace of specialist models. Call `solve` with a task in plain language: "
    "it is split into subtasks, each routed to the most trusted matching specialist, and the answers are "
    "integrated. Each subtask reports which specialist answered (provenance). Rate a run with `feedback` "
    "(verdict 'good' or 'bad') to teach the marketplace whom to trust. `find_specialists` shows who can do what. "
    "To use one tool of the imported MCP servers directly: `search_tools` finds tools by meaning (name, server, input "
    "schema), then `call_tool` runs one with its arguments."
)


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
            mp = open_market(home, **open_kw)
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


class FeedbackBudget:
    """At most ``limit`` trust-moving feedback calls per caller in any ``window_s`` seconds (sliding window)."""

    def __init__(self, limit: int = FEEDBACK_PER_WINDOW, window_s: float = FEEDBACK_WINDOW_S, clock=time.monotonic):
        self.limit, self.window_s, self.clock = int(limit), float(window_s), clock
        self._used: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str) -> float:
        """Reserve one; returns its timestamp (pass it to :meth:`give_back`). Raises ToolError when spent."""
        with self._lock:
            now = self.clock()
            used = [t for t in self._used.get(caller, []) if now - t < self.window_s]
            if len(used) >= self.limit:
                wait = self.window_s - (now - used[0])
                raise ToolError(f"feedback budget spent: at most {self.limit} ratings per {self.window_s / 60:g} min "
                                f"for this caller; try again in {wait:.0f} s")
            used.append(now)
            self._used[caller] = used
            return now

    def give_back(self, caller: str, stamp: float) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._used.get(caller, []).remove(stamp)


def _caller(ctx: Context) -> str:
    """The caller behind a tool call: its bearer token over HTTP (hashed; checked by the token middleware), else "stdio"."""
    try:
        headers = ctx.headers
    except (AttributeError, LookupError, ValueError):
        headers = None
    if headers is None:
        return "stdio"
    return caller_id(headers.get("authorization"))


def build_server(market=None, *, home: str | Path | None = None, feedback_budget: FeedbackBudget | None = None,
                 **open_kw) -> MCPServer:
    """An MCP server (SDK 2.x) over one Marketplace (a Marketplace, a MarketHandle, or opened in the background from ``home``).

    ``feedback_budget`` bounds how often one caller's `feedback` may move trust (default :data:`FEEDBACK_PER_WINDOW`
    per hour). Serve it with :func:`micromarket.server.http.http_app` or :func:`micromarket.server.stdio.serve_stdio`."""
    from micromarket import __version__

    handle = market if isinstance(market, MarketHandle) else MarketHandle(market, home=home, **open_kw)
    budget_ = feedback_budget or FeedbackBudget()
    mcp = MCPServer("micromarket", title="micromarket", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    mcp.market = handle  # type: ignore[attr-defined]

    def _user_error(e: Exception) -> Exception:
        return ToolError(inert(str(e))) if isinstance(e, MicromarketError) else e  # may quote a specialist

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
            out.append(Match(description=inert(desc), **h))
        return FindOutput(query=query, matches=out)

    @mcp.tool(structured_output=True)
    async def search_tools(query: str, k: int = 5) -> SearchToolsOutput:
        """Search the tools of every MCP server imported into the marketplace, best first (meaning, keywords, trust).

        Each result has the `name` to pass to `call_tool`, the real tool and server, and the tool's input schema."""
        mp = await handle.get()
        try:
            found = await asyncio.to_thread(mp.search_tools, query, k)
        except MicromarketError as e:
            raise _user_error(e) from None
        return SearchToolsOutput(query=query, tools=[tool_match(m) for m in found])

    @mcp.tool(structured_output=True)
    async def call_tool(name: str, arguments: dict[str, Any] | None = None) -> CallToolOutput:
        """Run a tool found by `search_tools`: `name` as search_tools gave it, `arguments` matching its input schema.

        The call goes through the marketplace's checks (pinned definitions, deadline, output checks, trust); the result
        names the real tool and the server it ran on."""
        mp = await handle.get()
        try:
            out = await mp.acall_tool(name, arguments)
        except MicromarketError as e:
            raise _user_error(e) from None
        return call_tool_output(out)

    @mcp.tool(structured_output=True)
    async def feedback(run_id: str, verdict: Literal["good", "bad"], ctx: Context, note: str | None = None,
                       subtask_id: str | None = None) -> FeedbackOutput:
        """Rate a run's answer: verdict 'good' raises and 'bad' lowers the trust of the specialists that answered.

        Each subtask of a run is rated once (a repeat changes nothing); a caller has a bounded number of ratings per hour."""
        v = str(verdict).strip().lower()
        if v not in ("good", "bad"):
            raise ToolError(f"verdict must be 'good' or 'bad', got {verdict!r}")
        mp = await handle.get()
        caller = _caller(ctx)
        stamp = budget_.take(caller)
        try:
            updated = await asyncio.to_thread(mp.feedback, run_id, v == "good", subtask_id=subtask_id, note=note)
        except MicromarketError as e:
            budget_.give_back(caller, stamp)
            raise _user_error(e) from None
        except BaseException:
            budget_.give_back(caller, stamp)
            raise
        if not any(u.get("updated") for u in updated):  # a repeat moved nothing: it costs nothing
            budget_.give_back(caller, stamp)
        return FeedbackOutput(run_id=run_id, verdict=v, updated=[jsonable(u) for u in updated])

    @mcp.resource("micromarket://specialists", name="specialists", mime_type="application/json",
                  description="The registered specialists: id, version, status, capabilities, cost, transport")
    async def specialists_resource() -> str:
        mp = await handle.get()
        return json.dumps([inert_card(jsonable(s)) for s in mp.specialists()], ensure_ascii=False)

    @mcp.resource("micromarket://trust", name="trust", mime_type="application/json",
                  description="Trust by specialist and capability (Beta posterior mean and evidence)")
    async def trust_resource() -> str:
        mp = await handle.get()
        return json.dumps(mp.trust(), default=str, ensure_ascii=False)

    @mcp.resource(CARD_TEMPLATE, name="card", mime_type="application/json",
                  description="The card of one specialist")
    async def card_resource(specialist_id: str) -> str:
        mp = await handle.get()
        return json.dumps(inert_card(mp.card(specialist_id).model_dump(mode="json")), ensure_ascii=False)

    @mcp.completion()
    async def complete(ref, argument, context):
        """Completes the ``specialist_id`` of the card template from the registered ids."""
        from mcp.types import Completion

        if getattr(ref, "uri", None) != CARD_TEMPLATE or argument.name != "specialist_id":
            return None
        mp = await handle.get()
        ids = sorted(s["id"] for s in await asyncio.to_thread(mp.specialists) if str(s["id"]).startswith(argument.value or ""))
        return Completion(values=ids[:100], total=len(ids), has_more=len(ids) > 100)

    return mcp


def warm(mp) -> None:
    """Load the embedding model and start the specialists' sessions now rather than on the first call."""
    t0 = time.perf_counter()
    with contextlib.suppress(Exception):
        mp.find("warm up", 1)
    cards = [c for c in mp.callable_cards() if c.transport.kind != "http"]

    async def connect_all():
        await asyncio.gather(*(mp.services.pool.list_tools(c) for c in cards), return_exceptions=True)

    with contextlib.suppress(Exception):
        asyncio.run(connect_all())
    log.info("warm in %.1f s (%d specialist sessions)", time.perf_counter() - t0, len(cards))


def configure_logging(level: str | None = None) -> None:
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


def open_market(home, **open_kw):
    from micromarket.api import Marketplace  # deferred: langgraph

    return Marketplace.open(home=home, progress=False, **open_kw)


