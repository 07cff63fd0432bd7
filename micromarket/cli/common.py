"""The CLI's Typer apps and the helpers every command uses. Heavy imports stay inside the commands."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from micromarket.errors import InputError, MicromarketError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="A marketplace of specialist models.")
specialists_app = typer.Typer(no_args_is_help=True, help="List, add, remove, import and approve specialists.")
index_app = typer.Typer(no_args_is_help=True, help="The capability index (Chroma).")
trust_app = typer.Typer(no_args_is_help=True, help="The trust ledger.")
app.add_typer(specialists_app, name="specialists")
app.add_typer(index_app, name="index")
app.add_typer(trust_app, name="trust")

HomeOpt = typer.Option(None, "--home", help="Data directory (default $MICROMARKET_HOME or ~/.micromarket)")
FORWARD = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


# In the daemon (micromarket/cli/daemon.py), the thread running a client's command: that client's terminal width.
CLIENT = threading.local()


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, width=getattr(CLIENT, "columns", None))


def _text_arg(value: str, what: str) -> str | bytes:
    """Read '-' from stdin; reject text that was not valid UTF-8 on the command line."""
    if value == "-":
        return sys.stdin.buffer.read()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"the {what} is not valid UTF-8 text") from None
    return value


def _open(home: Optional[Path], *, progress: bool = True, **kw):
    from micromarket.api import Marketplace  # deferred: a light CLI start

    return Marketplace.open(home=home, progress=progress, **kw)


def run_argv(argv: list[str], cmd=None) -> int:
    """Run one command line in this process; its exit code. The daemon runs clients' commands through this too."""
    import click

    from micromarket import _speedups  # deferred: a light CLI start

    _speedups.apply()
    debug = bool(os.environ.get("MICROMARKET_DEBUG"))
    try:
        cmd = cmd or typer.main.get_command(app)
        rv = cmd.main(args=argv, prog_name="micromarket", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Abort:
        _console(True).print("aborted")
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except MicromarketError as e:
        if debug:
            raise
        _console(True).print(f"[red]error:[/red] {e}", markup=True, highlight=False, soft_wrap=True)  # paths stay whole
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Exception as e:  # noqa: BLE001 - never show a traceback to a user
        if hasattr(e, "show") and isinstance(getattr(e, "exit_code", None), int):  # typer's vendored click: usage errors
            e.show()
            return e.exit_code or 2
        if type(e).__name__ == "Abort":
            _console(True).print("aborted")
            return 130
        if debug:
            raise
        _console(True).print(f"[red]internal error:[/red] {type(e).__name__}: {e}\n(set MICROMARKET_DEBUG=1 for a traceback)")
        return 1
