"""`micromarket serve --transport http`: streamable HTTP at /mcp, discoverable through ``<home>/daemon.json``.

Every request needs the bearer token of ``<home>/token`` unless served with ``auth=False`` (loopback only);
Host/Origin are checked on every bind (see :mod:`micromarket.server.auth`)."""

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
from micromarket.server.auth import BearerTokenMiddleware, check_bind, load_or_create_token, transport_security

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


def http_app(mcp, token: str | None = None, *, security=None, host: str = "127.0.0.1"):
    """The Starlette app serving MCP at /mcp (plus GET /healthz) — mountable in other ASGI apps.

    With ``token``, every request needs ``Authorization: Bearer <token>`` (401 otherwise). ``security`` (the SDK's
    TransportSecuritySettings, see :func:`micromarket.server.auth.transport_security`) checks Host and Origin;
    without it the SDK allows loopback names only."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    app = mcp.streamable_http_app(streamable_http_path=MCP_PATH, transport_security=security, host=host)

    async def healthz(request):
        return JSONResponse({"ok": True, "pid": os.getpid()})

    app.router.routes.append(Route("/healthz", healthz, methods=["GET"]))
    if token is not None:
        app.add_middleware(BearerTokenMiddleware, token=token)
    return app


async def aserve_http(host: str = "127.0.0.1", port: int = 8765, home: str | Path | None = None, *, market=None,
                      ready: asyncio.Event | None = None, stop: asyncio.Event | None = None, auth: bool = True,
                      allow_remote: bool = False, allowed_hosts: list[str] | tuple[str, ...] = (), **open_kw) -> None:
    """Serve streamable HTTP at http://HOST:PORT/mcp until ``stop`` is set (or cancelled); port 0 picks a free port.

    ``auth`` (default) requires the bearer token of ``<home>/token`` (made on first use); ``auth=False`` only on
    loopback. A bind beyond loopback needs ``allow_remote``; ``allowed_hosts`` adds accepted Host names."""
    import uvicorn

    check_bind(host, auth=auth, allow_remote=allow_remote)
    mp = market if market is not None else await asyncio.to_thread(open_market, home, **open_kw)
    try:
        token = load_or_create_token(mp.settings.home) if auth else None
        await asyncio.to_thread(warm, mp)
        sock = _bind(host, port)
    except BaseException:
        if market is None:
            mp.close()
        raise
    real_port = sock.getsockname()[1]
    mcp = build_server(mp)
    url = f"http://{_url_host(host)}:{real_port}{MCP_PATH}"
    app = http_app(mcp, token, security=transport_security(host, real_port, allowed_hosts), host=host)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    info_path = Path(mp.settings.home) / DAEMON_FILE
    info = {"url": url, "pid": os.getpid(), "host": host, "port": real_port, "transport": "streamable-http",
            "home": str(mp.settings.home), "auth": "bearer" if auth else "none", "started": time.time()}
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
        how = f"bearer token in {Path(mp.settings.home) / 'token'}" if auth else "no authentication (--no-auth)"
        print(f"micromarket MCP server at {url} ({how})", file=sys.stderr, flush=True)
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


def serve_http(host: str = "127.0.0.1", port: int = 8765, home: str | Path | None = None, *, auth: bool = True,
               allow_remote: bool = False, allowed_hosts: list[str] | tuple[str, ...] = (), **open_kw) -> None:
    """Serve streamable HTTP (blocking) until SIGINT/SIGTERM; writes and removes ``<home>/daemon.json``."""
    import signal

    check_bind(host, auth=auth, allow_remote=allow_remote)  # before anything heavy is opened
    configure_logging()

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await aserve_http(host, port, home, stop=stop, auth=auth, allow_remote=allow_remote, allowed_hosts=allowed_hosts, **open_kw)

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
