"""Commands that manage a home: trust, specialists, backup and restore, the index."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from micromarket.cli import common
from micromarket.cli.common import HomeOpt, app, index_app, specialists_app, trust_app
from micromarket.errors import InputError, MicromarketError


@trust_app.command("show")
def trust_show(home: Optional[Path] = HomeOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Trust per specialist and capability (Beta posterior mean and evidence)."""
    mp = common._open(home, progress=False)
    rows = mp.trust()
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str) + "\n")
        return
    from rich.table import Table

    t = Table(title="Trust")
    cols = ("specialist_id", "capability", "mean", "alpha", "beta", "n", "errors", "timeouts", "status")
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*[f"{r.get(c):.3f}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in cols])
    common._console().print(t)


@specialists_app.command("list")
def specialists_list(home: Optional[Path] = HomeOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Registered specialists."""
    mp = common._open(home)
    rows = mp.specialists()
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str) + "\n")
        return
    from rich.table import Table

    t = Table(title="Specialists")
    for c in ("id", "version", "status", "capabilities", "cost", "transport"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["id"], r["version"], r["status"] + (f" ({r['status_reason']})" if r.get("status_reason") else ""),
                  ", ".join(r.get("capabilities", [])), f"{r.get('cost_per_call', 0):g}", str(r.get("launch") or r.get("transport", "")))
    common._console().print(t)


@specialists_app.command("add")
def specialists_add(card: Path = typer.Argument(..., help="A card file (.yaml, .toml, .json)"), replace: bool = typer.Option(False, "--replace"),
                    home: Optional[Path] = HomeOpt) -> None:
    """Register a specialist from its card and index its capabilities."""
    mp = common._open(home)
    c = mp.register(card, replace=replace)
    info = mp.services.ledger.status_info(c.id) or {}
    why = f" ({info['reason']})" if info.get("reason") and info.get("reason") != "new identity" else ""
    common._console().print(f"registered {c.id} v{c.version} with {len(c.capabilities)} capabilities; status {mp.status(c.id)}{why}")


@specialists_app.command("remove")
def specialists_remove(specialist_id: str, home: Optional[Path] = HomeOpt) -> None:
    """Unregister a specialist (its trust history is kept)."""
    mp = common._open(home)
    mp.remove(specialist_id)
    common._console().print(f"removed {specialist_id}")


@specialists_app.command("approve")
def specialists_approve(specialist_id: str, home: Optional[Path] = HomeOpt) -> None:
    """After review, lift a quarantine (changed or suspicious tool definitions): pin what the server shows now."""
    mp = common._open(home, progress=False)
    status = mp.approve(specialist_id)
    common._console().print(f"approved {specialist_id}: its current tool definitions are pinned; status {status}")


@specialists_app.command("import")
def specialists_import(config: Path = typer.Argument(..., help='A JSON file {"mcpServers": {name: {command, args, env} | {url}}}, or an MCP Registry server.json'),
                       timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for each server"),
                       yes: bool = typer.Option(False, "--yes", "-y", help="Launch the listed commands without asking"),
                       replace: bool = typer.Option(False, "--replace", help="Update specialists that are already registered"),
                       home: Optional[Path] = HomeOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Import existing MCP servers (Claude-Desktop-style config or MCP Registry server.json): each tool becomes an indexed capability.

    Every command that would be launched is shown first and needs a confirmation (or --yes)."""
    from micromarket.importer import import_servers, plan_import  # deferred: a light CLI start

    mp = common._open(home, progress=not as_json)
    plans = plan_import(mp, config)
    con = common._console(True)
    runnable = [p for p in plans if not p.error and (replace or not p.replaces)]
    for p in plans:
        if p.error:
            con.print(f"  {p.name}: invalid - {p.error}", highlight=False, markup=False)
        elif p.replaces and not replace:
            con.print(f"  {p.name}: {p.specialist_id} is already registered; skipped (--replace to update it)", highlight=False, markup=False)
        else:
            verb = "reach" if p.transport.kind == "http" else "launch"
            con.print(f"  {p.name}: will {verb} {p.launches}" + (f" (replacing {p.specialist_id})" if p.replaces else ""),
                      highlight=False, markup=False, soft_wrap=True)
    if runnable and not yes:
        if not sys.stdin.isatty():
            raise InputError("importing launches the commands listed above: pass --yes to confirm non-interactively")
        if not typer.confirm(f"launch and register {len(runnable)} server(s)?", default=False, err=True):
            raise InputError("import cancelled: nothing was launched")
    results = import_servers(mp, config, timeout=timeout, replace=replace)
    if as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in results]) + "\n")
    else:
        out = common._console()
        for r in results:
            if r.error:
                out.print(f"[yellow]{r.name}: {r.status}[/yellow] - {r.error}", highlight=False)
            else:
                out.print(f"{r.name}: {r.status} as {r.specialist_id} ({', '.join(r.capabilities)})", highlight=False)
    if results and not any(r.status in ("registered", "updated", "unchanged") for r in results):
        raise MicromarketError("no server could be imported")


@app.command()
def backup(dest: Path = typer.Argument(..., help="A new directory for the copy"), home: Optional[Path] = HomeOpt) -> None:
    """Copy the home's stores (cards, trust ledger, checkpoints, memory, pins) with SQLite's online backup."""
    from micromarket.settings import Settings  # deferred: a light CLI start
    from micromarket.stores import backup_home  # deferred: a light CLI start

    src = Settings.from_env(home=home).home
    names = backup_home(src, dest)
    common._console().print(f"backed up {', '.join(names)} from {src} to {dest} (the index is rebuilt from the cards on restore)")


@app.command()
def restore(src: Path = typer.Argument(..., help="A directory written by `micromarket backup`"), home: Optional[Path] = HomeOpt,
            force: bool = typer.Option(False, "--force", help="Replace the home's existing stores")) -> None:
    """Restore a backup into the home; then `micromarket index rebuild` re-creates the index from the cards."""
    from micromarket.settings import Settings  # deferred: a light CLI start
    from micromarket.stores import restore_home  # deferred: a light CLI start

    dest = Settings.from_env(home=home).home
    names = restore_home(src, dest, force=force)
    common._console().print(f"restored {', '.join(names)} into {dest}; run `micromarket index rebuild` to re-create the index")


@index_app.command("rebuild")
def index_rebuild(home: Optional[Path] = HomeOpt) -> None:
    """Rebuild the Chroma index from the card store (after a model change, or any damage: the broken one is moved aside)."""
    from micromarket.progress import progress_bar  # deferred: a light CLI start
    from micromarket.services import services_for  # deferred: a light CLI start
    from micromarket.settings import Settings  # deferred: a light CLI start

    svc = services_for(Settings.from_env(home=home))
    with progress_bar() as bar:
        n = svc.rebuild_index(progress=bar)
    common._console().print(f"indexed {n} capabilities")


@index_app.command("learn")
def index_learn(home: Optional[Path] = HomeOpt, holdout: float = typer.Option(0.2, "--holdout", min=0.05, max=0.5),
                seed: int = typer.Option(0, "--seed")) -> None:
    """Fit how retrieval mixes its zero-shot ranking with the outcome memory, on held-out feedback."""
    from rich.table import Table

    from micromarket.capability_index.learning import learn_fusion  # deferred: a light CLI start
    from micromarket.services import services_for  # deferred: a light CLI start
    from micromarket.settings import Settings  # deferred: a light CLI start

    con = common._console()
    retriever = services_for(Settings.from_env(home=home)).retriever
    with con.status("learning from the outcome memory ...") as status:
        fit = learn_fusion(retriever, holdout=holdout, seed=seed, progress=lambda m: (con.print(m), status.update(m)))
    table = Table(title=f"held-out feedback ({fit.fitted['held_out_queries'] // 2} queries scored)")
    table.add_column("step")
    table.add_column("hit@5", justify="right")
    for step in ("zero_shot", "knn10", "head", "default_mix", "fitted_mix"):
        table.add_row(step.replace("_", " "), f"{fit.fitted[step + '_hit@5']:.1f}")
    con.print(table)
    con.print(f"saved to {retriever.fusion_path}: k={fit.k} min_sim={fit.min_sim} "
              f"weights dense={fit.dense:.2f} knn={fit.knn:.2f} nearest={fit.nearest:.2f} proto={fit.proto:.2f} head={fit.head:.2f}")


@index_app.command("verify")
def index_verify(home: Optional[Path] = HomeOpt) -> None:
    """Check that the index holds exactly the registered capabilities."""
    mp = common._open(home, progress=False)
    rep = mp.verify_index()
    common._console().print_json(json.dumps(rep, default=str))
    if not rep.get("ok"):
        raise MicromarketError("the index is damaged: run `micromarket index rebuild`")
