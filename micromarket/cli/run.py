"""Commands that run the marketplace: solve, resume, feedback, routing, serve."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from micromarket.cli import common
from micromarket.cli.common import HomeOpt, app
from micromarket.errors import InputError, UnknownRunError


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
    from micromarket.api import MAX_CONTEXT_CHARS, MAX_TASK_CHARS, clean_text  # deferred: a light CLI start

    text = clean_text(common._text_arg(task, "task"), "task", MAX_TASK_CHARS)  # before anything heavy is opened
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
        mp = common._open(home, progress=not as_json, chat_model=chat_model)
        if thread is not None:
            from micromarket.checkpoint import solve_durable  # deferred: a light CLI start

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
    from micromarket.checkpoint import resume as resume_run  # deferred: a light CLI start

    mp = common._open(home, progress=False)
    out = resume_run(mp, thread)
    if not as_json and not out.get("resumed"):
        common._console().print(f"thread {thread} had already finished; its result:")
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

    con = common._console()
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
    mp = common._open(home, progress=False)
    updated = mp.feedback(run_id, good, subtask_id=subtask, note=note)
    con = common._console()
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
    mp = common._open(home, progress=False)
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
    common._console().print(t)


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
    from micromarket import server  # deferred: a light CLI start

    if transport == "stdio":
        server.serve_stdio(home, chat_model=chat_model)
    elif transport in ("http", "streamable-http"):
        server.serve_http(host, port, home, auth=not no_auth, allow_remote=allow_remote, allowed_hosts=allow_host or (),
                          chat_model=chat_model)
    else:
        raise InputError(f"unknown transport {transport!r}: use stdio or http")
