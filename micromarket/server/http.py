"""`micromarket serve --transport http`: streamable HTTP at /mcp, discoverable through ``<home>/daemon.json``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path

from micromarket.server.app import MCP_PATH, build_server, configure_logging, open_market, warm

log = logging.getLogger("micromarket.server")

DAEMON_FILE = "daemon.json"  # micromarket.daemon reads it (the two entry points may not import each other)


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

    mp = market if market is not None else await asyncio.to_thread(open_market, home, **open_kw)
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

    configure_logging()

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
