"""The `micromarket` command line (typer + rich): one module per group of commands, the entry point here."""

from __future__ import annotations

import os
import sys

from micromarket.cli import daemon, manage, programs, run  # noqa: F401, I001 - importing registers the commands, in help order
from micromarket.cli.common import _console, app, run_argv

__all__ = ["app", "main", "run_argv"]


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
        _console(True).print(f"[red]error:[/red] {e}", markup=True, highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    if code is None:
        code = run_argv(argv)
    sys.exit(code)
