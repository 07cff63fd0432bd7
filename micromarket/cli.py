"""The `micromarket` command line (typer + rich). Heavy imports stay inside the commands."""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from micromarket.errors import InputError, MicromarketError, UnknownRunError

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
    from micromarket.api import Marketplace

    return Marketplace.open(home=home, progress=progress, **kw)


@app.command()
def solve(
    task: str = typer.Argument(..., help="The task, or '-' to read it from stdin"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
    context_file: Optional[Path] = typer.Option(None, "--context", help="A file of context (documents, conversation) for the subtasks"),
    home: Optional[Path] = HomeOpt,
    chat_model: Optional[str] = typer.Option(None, "--chat-model", help="'provider:model', 'hf:<id or path>' or 'hf-endpoint:<url>'"),
    redundancy: int = typer.Option(1, "--redundancy", "-k", help="Specialists per subtask (0 = automatic)"),
    quality_cost: float = typer.Option(0.0, "--quality-cost", help="0 = best quality, 1 = cheapest acceptable"),
    budget: Optional[float] = typer.Option(None, "--budget", help="Cost ceiling for the task"),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for the selection policy"),
    thread: Optional[str] = typer.Option(None, "--thread", help="Checkpoint the run on this thread; after a crash, `micromarket resume THREAD`"),
    no_daemon: bool = typer.Option(False, "--no-daemon", help="Solve in this process even if `micromarket serve --transport http` is running"),
) -> None:
    """Solve a task with the marketplace's specialists (through the warm daemon when one is running for --home)."""
    from micromarket.api import MAX_CONTEXT_CHARS, MAX_TASK_CHARS, clean_text

    text = clean_text(_text_arg(task, "task"), "task", MAX_TASK_CHARS)  # before anything heavy is opened
    if context_file is not None and not context_file.is_file():
        raise InputError(f"context file not found: {context_file}")
    if context_file is not None and context_file.stat().st_size > 4 * MAX_CONTEXT_CHARS:  # UTF-8: at most 4 bytes a character
        raise InputError(f"context file {context_file} is {context_file.stat().st_size:,} bytes; the limit is {MAX_CONTEXT_CHARS:,} characters")
    ctx_text = clean_text(context_file.read_bytes(), "context", MAX_CONTEXT_CHARS, allow_empty=True) if context_file else None
    out = None
    if not no_daemon and thread is None and chat_model is None and redundancy == 1 and quality_cost == 0.0 and seed is None:
        from micromarket.daemon import solve_via_daemon  # stdlib only; None when no daemon serves this home

        out = solve_via_daemon(home, text, context=ctx_text, budget=budget)
    if out is None:
        mp = _open(home, progress=not as_json, chat_model=chat_model)
        if thread is not None:
            from micromarket.checkpoint import solve_durable

            out = solve_durable(mp, text, thread_id=thread, context=ctx_text, redundancy=redundancy, quality_cost=quality_cost, budget=budget, seed=seed)
        else:
            out = mp.solve(text, context=ctx_text, redundancy=redundancy, quality_cost=quality_cost, budget=budget, seed=seed)
    _emit_solution(out, as_json)


@app.command()
def resume(
    thread: str = typer.Argument(..., help="The thread given to `solve --thread`"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Finish a checkpointed run after a crash; specialists that had finished are not called again."""
    from micromarket.checkpoint import resume as resume_run

    mp = _open(home, progress=False)
    out = resume_run(mp, thread)
    if not as_json and not out.get("resumed"):
        _console().print(f"thread {thread} had already finished; its result:")
    _emit_solution(out, as_json)


def _emit_solution(out: dict, as_json: bool) -> None:
    if as_json:
        keys = ("text", "specialist", "capability", "answer", "confidence", "status", "version", "reason", "subtask_id")
        payload = {
            "answer": out["answer"],
            "run_id": out["run_id"],
            "subtasks": [{k: r.get(k) for k in keys} for r in out["subtasks"]],
            "unsupported": out["unsupported"],
            "partial": bool(out.get("partial")),
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    _print_solution(out)


def _print_solution(out: dict) -> None:
    from rich.table import Table

    con = _console()
    table = Table(title="Subtasks", show_lines=False)
    for col in ("#", "subtask", "specialist", "confidence", "status"):
        table.add_column(col)
    for r in out["subtasks"]:
        who = f"{r['specialist']}.{r['capability']}" if r.get("specialist") else "-"
        conf = f"{r['confidence']:.2f}" if r.get("confidence") is not None else "-"
        table.add_row(r["subtask_id"], r["text"], who, conf, r["status"])
    con.print(table)
    con.print("[bold]Answer[/bold]")
    con.print(out["answer"], markup=False)
    con.print(f"\nrun id: [bold]{out['run_id']}[/bold]  (rate it: micromarket feedback {out['run_id']} --good | --bad)")


@app.command()
def feedback(
    run_id: str = typer.Argument(..., help="The run id printed by `solve`"),
    good: Optional[bool] = typer.Option(None, "--good/--bad", help="Was the answer right?"),
    subtask: Optional[str] = typer.Option(None, "--subtask", help="Only this subtask (e.g. s2)"),
    note: Optional[str] = typer.Option(None, "--note"),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Tell the marketplace whether a run's answer was right; this updates trust."""
    if good is None:
        raise InputError("say --good or --bad")
    mp = _open(home, progress=False)
    updated = mp.feedback(run_id, good, subtask_id=subtask, note=note)
    con = _console()
    for u in updated:
        if not u.get("updated"):
            con.print(f"{u.get('specialist_id')}.{u.get('capability')}: already counted for this run; trust stays {u['mean_after']:.3f}")
            continue
        con.print(f"{'raised' if good else 'lowered'} trust of {u.get('specialist_id')}.{u.get('capability')}: "
                  f"{u['mean_before']:.3f} -> {u['mean_after']:.3f}")
    if not updated:
        con.print("nothing to update: that run chose no specialist")


@app.command()
def routing(run_id: Optional[str] = typer.Argument(None), limit: int = typer.Option(20, "--limit"), home: Optional[Path] = HomeOpt,
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Show routing records: candidates, similarity, trust, the choice and the outcome."""
    mp = _open(home, progress=False)
    recs = mp.routing(run_id, limit=limit)
    if run_id is not None and not recs:
        raise UnknownRunError(f"no routing records for run {run_id!r}: check the id printed by `micromarket solve`")
    if as_json:
        sys.stdout.write(json.dumps(recs, ensure_ascii=False, default=str) + "\n")
        return
    from rich.table import Table

    t = Table(title="Routing records")
    for c in ("run", "subtask", "chosen", "outcome", "candidates (similarity / trust)", "ms"):
        t.add_column(c)
    for r in recs:
        cands = ", ".join(f"{c['key']} ({c.get('similarity', 0):.2f}/{c.get('trust') if c.get('trust') is not None else '-'})" for c in r.get("candidates", [])[:4])
        t.add_row(r["run_id"], r["subtask"][:50], str(r.get("chosen") or "-"), str(r.get("outcome")), cands, f"{r.get('latency_ms') or 0:.0f}")
    _console().print(t)


@trust_app.command("show")
def trust_show(home: Optional[Path] = HomeOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Trust per specialist and capability (Beta posterior mean and evidence)."""
    mp = _open(home, progress=False)
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
    _console().print(t)


@specialists_app.command("list")
def specialists_list(home: Optional[Path] = HomeOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Registered specialists."""
    mp = _open(home)
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
    _console().print(t)


@specialists_app.command("add")
def specialists_add(card: Path = typer.Argument(..., help="A card file (.yaml, .toml, .json)"), replace: bool = typer.Option(False, "--replace"),
                    home: Optional[Path] = HomeOpt) -> None:
    """Register a specialist from its card and index its capabilities."""
    mp = _open(home)
    c = mp.register(card, replace=replace)
    info = mp.services.ledger.status_info(c.id) or {}
    why = f" ({info['reason']})" if info.get("reason") and info.get("reason") != "new identity" else ""
    _console().print(f"registered {c.id} v{c.version} with {len(c.capabilities)} capabilities; status {mp.status(c.id)}{why}")


@specialists_app.command("remove")
def specialists_remove(specialist_id: str, home: Optional[Path] = HomeOpt) -> None:
    """Unregister a specialist (its trust history is kept)."""
    mp = _open(home)
    mp.remove(specialist_id)
    _console().print(f"removed {specialist_id}")


@specialists_app.command("approve")
def specialists_approve(specialist_id: str, home: Optional[Path] = HomeOpt) -> None:
    """After review, lift a quarantine (changed or suspicious tool definitions): pin what the server shows now."""
    mp = _open(home, progress=False)
    status = mp.approve(specialist_id)
    _console().print(f"approved {specialist_id}: its current tool definitions are pinned; status {status}")


@specialists_app.command("import")
def specialists_import(config: Path = typer.Argument(..., help='A JSON file {"mcpServers": {name: {command, args, env} | {url}}}'),
                       timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for each server"),
                       yes: bool = typer.Option(False, "--yes", "-y", help="Launch the listed commands without asking"),
                       replace: bool = typer.Option(False, "--replace", help="Update specialists that are already registered"),
                       home: Optional[Path] = HomeOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Import existing MCP servers (Claude-Desktop-style config): each tool becomes an indexed capability.

    Every command that would be launched is shown first and needs a confirmation (or --yes)."""
    from micromarket.importer import import_servers, plan_import

    mp = _open(home, progress=not as_json)
    plans = plan_import(mp, config)
    con = _console(True)
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
        out = _console()
        for r in results:
            if r.error:
                out.print(f"[yellow]{r.name}: {r.status}[/yellow] - {r.error}", highlight=False)
            else:
                out.print(f"{r.name}: {r.status} as {r.specialist_id} ({', '.join(r.capabilities)})", highlight=False)
    if results and not any(r.status in ("registered", "updated", "unchanged") for r in results):
        raise MicromarketError("no server could be imported")


@app.command()
def serve(
    transport: str = typer.Option("stdio", "--transport", "-t", help="stdio (for an MCP client that launches us) or http (streamable HTTP at /mcp)"),
    host: str = typer.Option("127.0.0.1", "--host", help="http: address to listen on"),
    port: int = typer.Option(8765, "--port", help="http: port (0 = any free port)"),
    home: Optional[Path] = HomeOpt,
    chat_model: Optional[str] = typer.Option(None, "--chat-model", help="Orchestrator model for every run"),
    no_auth: bool = typer.Option(False, "--no-auth", help="http: accept requests without the bearer token of <home>/token (loopback only)"),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="http: allow a --host beyond loopback (the token stays required)"),
    allow_host: Optional[list[str]] = typer.Option(None, "--allow-host", help="http: another accepted Host name (repeatable), e.g. box.lan:8765"),
) -> None:
    """Serve the whole marketplace as an MCP server (tools solve, find_specialists, feedback).

    Over http every request needs `Authorization: Bearer <token>`, the token being in <home>/token (made on first start)."""
    from micromarket import server

    if transport == "stdio":
        server.serve_stdio(home, chat_model=chat_model)
    elif transport in ("http", "streamable-http"):
        server.serve_http(host, port, home, auth=not no_auth, allow_remote=allow_remote, allowed_hosts=allow_host or (),
                          chat_model=chat_model)
    else:
        raise InputError(f"unknown transport {transport!r}: use stdio or http")


@app.command()
def backup(dest: Path = typer.Argument(..., help="A new directory for the copy"), home: Optional[Path] = HomeOpt) -> None:
    """Copy the home's stores (cards, trust ledger, checkpoints, memory, pins) with SQLite's online backup."""
    from micromarket.settings import Settings
    from micromarket.stores import backup_home

    src = Settings.from_env(home=home).home
    names = backup_home(src, dest)
    _console().print(f"backed up {', '.join(names)} from {src} to {dest} (the index is rebuilt from the cards on restore)")


@app.command()
def restore(src: Path = typer.Argument(..., help="A directory written by `micromarket backup`"), home: Optional[Path] = HomeOpt,
            force: bool = typer.Option(False, "--force", help="Replace the home's existing stores")) -> None:
    """Restore a backup into the home; then `micromarket index rebuild` re-creates the index from the cards."""
    from micromarket.settings import Settings
    from micromarket.stores import restore_home

    dest = Settings.from_env(home=home).home
    names = restore_home(src, dest, force=force)
    _console().print(f"restored {', '.join(names)} into {dest}; run `micromarket index rebuild` to re-create the index")


@index_app.command("rebuild")
def index_rebuild(home: Optional[Path] = HomeOpt) -> None:
    """Rebuild the Chroma index from the card store (after a model change or damage)."""
    from micromarket.capability_index.index import CapabilityIndex
    from micromarket.progress import progress_bar
    from micromarket.services import services_for
    from micromarket.settings import Settings

    svc = services_for(Settings.from_env(home=home))
    try:
        idx = CapabilityIndex(svc.settings, check=False)  # a model mismatch is what rebuild fixes
        idx.count()
    except Exception as e:  # noqa: BLE001 - any damage to a local index: move it aside (never delete), start a new one
        if svc.settings.chroma_url:
            raise MicromarketError(f"the Chroma server at {svc.settings.chroma_url} failed: {e}") from None
        import time

        aside = svc.settings.chroma_dir.with_name(f"chroma.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
        svc.settings.chroma_dir.rename(aside)
        _console(True).print(f"the index at {svc.settings.chroma_dir} is damaged ({type(e).__name__}: {e}); "
                             f"moved it to {aside} and rebuilding from the card store", soft_wrap=True)
        from chromadb.api.client import SharedSystemClient  # heavy: only on this recovery path

        SharedSystemClient.clear_system_cache()  # chroma caches the broken client per path
        idx = CapabilityIndex(svc.settings, check=False)
    svc.__dict__["index"] = idx
    with progress_bar() as bar:
        n = svc.index.rebuild(svc.store.cards(), progress=bar)
    _console().print(f"indexed {n} capabilities")


@index_app.command("learn")
def index_learn(home: Optional[Path] = HomeOpt, holdout: float = typer.Option(0.2, "--holdout", min=0.05, max=0.5),
                seed: int = typer.Option(0, "--seed")) -> None:
    """Fit how retrieval mixes its zero-shot ranking with the outcome memory, on held-out feedback."""
    from rich.table import Table

    from micromarket.capability_index.learning import learn_fusion
    from micromarket.services import services_for
    from micromarket.settings import Settings

    con = _console()
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
    mp = _open(home, progress=False)
    rep = mp.verify_index()
    _console().print_json(json.dumps(rep, default=str))
    if not rep.get("ok"):
        raise MicromarketError("the index is damaged: run `micromarket index rebuild`")


def _forward(module: str, ctx: typer.Context, prefix: list[str] | None = None, obj: dict | None = None) -> None:
    mod = importlib.import_module(module)
    cmd = typer.main.get_command(mod.app)
    cmd.main(args=[*(prefix or []), *ctx.args], prog_name=f"micromarket {ctx.info_name}", standalone_mode=False, obj=obj)


def _forward_named(ctx: typer.Context, module: str, what: str, name: str, obj: dict | None = None) -> None:
    """Forward to `module` (which names `name`); an unknown name is a clear error, not an ImportError."""
    if not name.isidentifier():
        raise InputError(f"unknown {what} {name!r}")
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        raise InputError(f"unknown {what} {name!r}") from None
    _forward(module, ctx, obj=obj)


@app.command(context_settings=FORWARD)
def bench(ctx: typer.Context, name: str = typer.Argument(..., help="retrieval | trust | market | overhead | scale | context | fuzz | microllm")) -> None:
    """Run a benchmark program from benchmarks/ (pass its own options after the name)."""
    _forward_named(ctx, f"micromarket.benchmarks.{name}", "benchmark", name)


@app.command(context_settings=FORWARD)
def train(ctx: typer.Context, name: str = typer.Argument(..., help="dates | roman")) -> None:
    """Train a micro-LLM specialist from scratch (pass its options after the name)."""
    _forward_named(ctx, f"micromarket.specialists.microllm.train_{name}", "trainer", name, obj={"register_card": _register_card})


def _register_card(card, home: Optional[Path]) -> None:
    """`train ... --register`: a retrained model replaces its previous card."""
    with _open(home, progress=False) as mp:
        mp.register(card, replace=True)


@app.command(context_settings=FORWARD)
def specialist(ctx: typer.Context, action: str = typer.Argument(..., help="serve | card")) -> None:
    """Serve a Hugging Face model as an MCP specialist (`serve --model ... --card ...`) or write its card (`card`)."""
    if action not in ("serve", "card"):
        raise InputError(f"unknown action {action!r}; try `micromarket specialist serve --help`")
    _forward("micromarket.specialists.microllm.cli", ctx, prefix=[action])


def main() -> None:
    """Entry point: user errors print a message and a non-zero exit code, never a traceback."""
    import click

    from micromarket import _speedups

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


if __name__ == "__main__":
    main()
