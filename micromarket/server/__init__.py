"""The whole marketplace as one MCP server: `micromarket serve [--transport stdio|http]`.

Tools: ``solve(task, budget?)``, ``find_specialists(query, k)``, ``feedback(run_id, verdict, note?)``, and the
tool-search gateway ``search_tools(query, k)`` / ``call_tool(name, arguments)`` (:mod:`micromarket.gateway`).
Resources: ``micromarket://specialists`` (the registered specialists) and
``micromarket://trust`` (trust by capability), plus ``micromarket://specialists/{id}`` (one card).

The Marketplace (embedding model, Chroma index, ledger, MCP sessions to the
specialists) is opened once and kept warm for the life of the process.

stdio: stdout *is* the protocol. The real stdout is kept for the protocol
stream and file descriptor 1 is pointed at stderr, so that a stray print, a
progress bar or a C library's output can never corrupt it. Logs go to stderr.

HTTP: :func:`serve_http` serves streamable HTTP at ``http://HOST:PORT/mcp`` and,
while it runs, writes ``<home>/daemon.json`` (url, pid, host, port) so that other
processes (the CLI) can find a warm daemon; the file is removed on exit. Every HTTP request needs the
bearer token of ``<home>/token`` (:mod:`micromarket.server.auth`); ``auth=False`` is for loopback only.
"""

from micromarket.server.app import INSTRUCTIONS, MCP_PATH, FeedbackBudget, MarketHandle, build_server, warm
from micromarket.server.auth import TOKEN_FILE, load_or_create_token
from micromarket.server.http import DAEMON_FILE, aserve_http, http_app, serve_http
from micromarket.server.outputs import FeedbackOutput, FindOutput, SolveOutput, solve_output
from micromarket.server.stdio import serve_stdio

__all__ = ["DAEMON_FILE", "INSTRUCTIONS", "MCP_PATH", "TOKEN_FILE", "FeedbackBudget", "FeedbackOutput", "load_or_create_token", "FindOutput", "MarketHandle", "SolveOutput",
           "aserve_http", "build_server", "http_app", "serve_http", "serve_stdio", "solve_output", "warm"]
