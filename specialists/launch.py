"""How a specialist's server is started: the child's environment and argv, in-process targets."""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
from functools import lru_cache

from micromarket.capability_index.cards import Transport
from micromarket.specialists.launchable import check_inprocess, resolve_program

log = logging.getLogger("micromarket.pool")

# Variables a child may inherit; everything else (API keys, tokens) stays out.
SAFE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "SYSTEMROOT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME",
            # where the trusted CA certificates are (paths, not secrets): package runtimes (uvx, npx) behind a TLS proxy
            "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS")

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
    """The exact argv of a stdio specialist: "{python}" is this interpreter, the program an absolute path.

    Raises CardError when the program climbs with '..' or does not exist (see launchable.resolve_program)."""
    argv = [sys.executable if a == "{python}" else a for a in (t.command or [])]
    argv[0] = resolve_program(t)
    return argv


WATCHDOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "watchdog.py")


def supervised(argv: list[str]) -> list[str]:
    """On Linux, argv run under the watchdog: the server dies with this process and reports its exit code."""
    if not sys.platform.startswith("linux"):
        return argv
    return [sys.executable, "-I", "-S", WATCHDOG, str(os.getpid()), "--", *argv]


def stderr_tail(f, limit: int = 2000) -> str:
    """The last lines a child wrote to its stderr file, on one line, control characters removed."""
    try:
        size = os.fstat(f.fileno()).st_size
        data = os.pread(f.fileno(), limit, max(0, size - limit)).decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""
    lines = [re.sub(r"[\x00-\x1f\x7f]", " ", ln).strip() for ln in data.splitlines()]
    return " | ".join(ln for ln in lines if ln)


def failure_cause(tail: str, limit: int = 220) -> str:
    """Exit code first (the watchdog's last line), then the end of what the server said."""
    if not tail:
        return ""
    m = re.search(r"\[micromarket\] specialist process (exited with code -?\d+|was killed by \w+)", tail)
    rest = tail[: m.start()].rstrip(" |") if m else tail
    said = "..." + rest[-limit:] if len(rest) > limit else rest
    return "; ".join(x for x in ((f"process {m.group(1)}" if m else ""), (f"stderr: {said}" if said else "")) if x)


def preload_mcp() -> None:
    """Import the MCP client modules here, not on the pool's loop (imports read files; `langgraph dev` forbids that)."""
    import mcp.client.stdio  # noqa: F401
    import mcp.client.streamable_http  # noqa: F401
    import mcp.shared.exceptions  # noqa: F401
    import mcp.client.client  # noqa: F401


def resolve_target(target: str):
    """'module:attr' -> an MCPServer (or a zero-argument factory returning one). Its sync tools run in worker
    threads (SDK 2.x), so one slow tool does not block the pool loop that serves every in-process session."""
    mod, _, attr = check_inprocess(target).partition(":")
    obj = getattr(importlib.import_module(mod), attr or "mcp")
    if hasattr(obj, "build_server"):
        return _server(obj)
    if callable(obj) and not hasattr(obj, "_lowlevel_server"):
        obj = obj()
    return obj


def _server(obj):
    """The MCPServer of a module's ``mcp``: the built-ins make theirs on first use (builtin/_common.LazyServer)."""
    build = getattr(obj, "build_server", None)
    return build() if build is not None else obj


BUILTIN_PACKAGE = "micromarket.specialists.builtin"


@lru_cache(maxsize=1)
def _builtin_commands() -> dict[tuple[str, ...], str]:
    """The packaged built-in cards' exact stdio commands -> the module each one runs."""
    from micromarket.specialists import builtin  # deferred: reads the packaged card files once

    out = {}
    for card in builtin.cards():
        t, cmd = card.transport, card.transport.command or []
        if (t.kind == "stdio" and not t.env and t.cwd is None and len(cmd) == 3 and cmd[:2] == ["{python}", "-m"]
                and cmd[2].startswith(BUILTIN_PACKAGE + ".")):
            out[tuple(cmd)] = cmd[2]
    return out


def hosted_builtin(t: Transport) -> str | None:
    """The module of a trusted built-in this process may host itself instead of launching it: the transport is
    exactly a packaged built-in card's (``{python} -m micromarket.specialists.builtin.X``, no env, no cwd), so the
    code that runs is the same package code either way. Anything else (third-party cards) gets None."""
    if t.kind != "stdio" or t.env or t.cwd is not None:
        return None
    return _builtin_commands().get(tuple(t.command or ()))


def load_builtin(module: str):
    """The MCPServer of a built-in module (an import: call it off the event loop)."""
    return _server(importlib.import_module(module).mcp)
