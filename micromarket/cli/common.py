"""The CLI's Typer apps and the helpers every command uses. Heavy imports stay inside the commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from micromarket.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="A marketplace of specialist models.")
specialists_app = typer.Typer(no_args_is_help=True, help="List, add, remove, import and approve specialists.")
index_app = typer.Typer(no_args_is_help=True, help="The capability index (Chroma).")
trust_app = typer.Typer(no_args_is_help=True, help="The trust ledger.")
app.add_typer(specialists_app, name="specialists")
app.add_typer(index_app, name="index")
app.add_typer(trust_app, name="trust")

HomeOpt = typer.Option(None, "--home", help="Data directory (default $MICROMARKET_HOME or ~/.micromarket)")
FORWARD = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


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
