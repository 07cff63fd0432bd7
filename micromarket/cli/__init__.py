"""The `micromarket` command line (typer + rich): one module per group of commands, the entry point here."""

from __future__ import annotations

import os
import sys

import typer

from micromarket.cli import manage, programs, run, tools  # noqa: F401, I001 - importing registers the commands, in help order
from micromarket.cli.common import _console, app
from micromarket.errors import MicromarketError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: user errors print a message and a non-zero exit code, never a traceback."""
    import click

    from micromarket import _speedups  # deferred: a light CLI start

    _speedups.apply()
    debug = bool(os.environ.get("MICROMARKET_DEBUG"))
    try:
        cmd = typer.main.get_command(app)
        rv = cmd.main(args=sys.argv[1:], prog_name="micromarket", standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except click.exceptions.Abort:
        _console(True).print("aborted")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except MicromarketError as e:
        if debug:
            raise
        _console(True).print(f"[red]error:[/red] {e}", markup=True, highlight=False, soft_wrap=True)  # paths stay whole
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - never show a traceback to a user
        if hasattr(e, "show") and isinstance(getattr(e, "exit_code", None), int):  # typer's vendored click: usage errors
            e.show()
            sys.exit(e.exit_code or 2)
        if type(e).__name__ == "Abort":
            _console(True).print("aborted")
            sys.exit(130)
        if debug:
            raise
        _console(True).print(f"[red]internal error:[/red] {type(e).__name__}: {e}\n(set MICROMARKET_DEBUG=1 for a traceback)")
        sys.exit(1)

