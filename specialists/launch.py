"""How a specialist's server is started: the child's environment and argv, in-process targets."""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import sys

from micromarket.capability_index.cards import Transport

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


def preload_mcp() -> None:
    """Import the MCP client modules here, not on the pool's loop (imports read files; `langgraph dev` forbids that)."""
    import mcp.client.stdio  # noqa: F401
    import mcp.client.streamable_http  # noqa: F401
    import mcp.shared.exceptions  # noqa: F401
    import mcp.shared.memory  # noqa: F401


def resolve_target(target: str):
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
