"""`micromarket tools search | call`: the tool-search gateway (micromarket.gateway) from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from micromarket.cli import common
from micromarket.cli.common import HomeOpt, app
from micromarket.errors import InputError

tools_app = typer.Typer(no_args_is_help=True, help="Search every imported server's tools and call one (the gateway).")
app.add_typer(tools_app, name="tools")


@tools_app.command("search")
def tools_search(query: str = typer.Argument(..., help="What the tool should do"), k: int = typer.Option(5, "-k", min=1, max=50),
                 home: Optional[Path] = HomeOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """The tools that best match QUERY (meaning, keywords, trust), with the name to pass to `tools call`."""
    mp = common._open(home, progress=not as_json)
    found = mp.search_tools(str(common._text_arg(query, "query")), k)
    if as_json:
        sys.stdout.write(json.dumps(found) + "\n")
        return
    from rich.table import Table

    from micromarket.capability_index.output_guard import render_inert

    t = Table(title=f"Tools for {query!r}")
    for c in ("name", "server", "score", "trust", "arguments", "description"):
        t.add_column(c)
    for f in found:
        args = ", ".join((f["input_schema"].get("properties") or {}).keys())
        t.add_row(f["name"], f["server"], f"{f['score']:.3f}", f"{f['trust']:.2f}", args, render_inert(f["description"])[:80])
    common._console().print(t)


@tools_app.command("call")
def tools_call(name: str = typer.Argument(..., help="A name from `tools search` (server.capability)"),
               arguments: str = typer.Argument("{}", help="The arguments as a JSON object ('-' reads stdin)"),
               home: Optional[Path] = HomeOpt) -> None:
    """Call one tool through the pool's checks (pins, deadline, output checks, trust); prints the result as JSON."""
    raw = common._text_arg(arguments, "arguments")
    try:
        args = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"arguments must be a JSON object: {e}") from None
    mp = common._open(home, progress=False)
    out = mp.call_tool(name, args)
    from micromarket.capability_index.output_guard import render_inert

    out["text"] = render_inert(out.get("text") or "")
    sys.stdout.write(json.dumps(out, default=str, ensure_ascii=False) + "\n")
