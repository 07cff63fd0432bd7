"""`micromarket serve` over stdio: stdout *is* the protocol, everything else goes to stderr."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from micromarket.server.app import MarketHandle, build_server, configure_logging


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

    configure_logging()
    proto_out = _protect_stdout()
    handle = MarketHandle(home=home, **open_kw)  # opens and warms in the background
    mcp = build_server(handle)

    async def run():
        async with stdio_server(stdout=proto_out) as (read, write):
            await mcp._lowlevel_server.run(read, write, mcp._lowlevel_server.create_initialization_options())

    try:
        import anyio

        anyio.run(run)
    finally:
        handle.close()
