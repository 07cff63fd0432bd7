"""The `micromarket` command line (typer + rich): one module per group of commands, the entry point here.

The commands (and typer) are imported on first use of ``app``/``run_argv``: a command that goes to the daemon
costs the client only the interpreter and the stdlib client (micromarket/daemon.py)."""

from __future__ import annotations

import importlib
import os
import sys

__all__ = ["app", "main", "run_argv"]
_COMMANDS = ("daemon", "manage", "programs", "run", "tools")  # importing registers the commands, in help order


def _commands():
    for name in _COMMANDS:
        importlib.import_module(f"micromarket.cli.{name}")
    return importlib.import_module("micromarket.cli.common")


def __getattr__(name: str):  # lazy: app, run_argv, _console and the command modules
    if name in ("app", "run_argv", "_console"):
        return getattr(_commands(), name)
    if name in (*_COMMANDS, "common"):
        _commands()
        return importlib.import_module(f"micromarket.cli.{name}")
    raise AttributeError(name)


def main() -> None:
    """Entry point: the command runs in the home's warm daemon (started when none runs) unless it needs no home,
    --no-daemon or MICROMARKET_NO_DAEMON=1 is given; user errors print a message and a non-zero exit code."""
    from micromarket import daemon as client  # stdlib only

    argv = sys.argv[1:]
    if "--no-daemon" in argv and argv[:1] != ["solve"]:  # every command takes it; solve declares it
        argv = [a for a in argv if a != "--no-daemon"]
        os.environ["MICROMARKET_NO_DAEMON"] = "1"
    try:
        code = client.run_via_daemon(argv)
    except client.DaemonError as e:
        _commands()._console(True).print(f"[red]error:[/red] {e}", markup=True, highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    if code is None:
        import logging

        # as in the daemon: warnings on stderr (logging's last resort); the handler also keeps a library's
        # basicConfig (the MCP SDK's rich INFO handler, on importing a built-in) from printing debug lines
        if not logging.root.handlers:
            logging.root.addHandler(logging.lastResort)
        code = _commands().run_argv(argv)
    sys.exit(code)
