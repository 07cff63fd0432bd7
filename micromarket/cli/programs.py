"""Commands that forward to programs: bench, train, specialist (serve or card a model)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Optional

import typer

from micromarket.errors import InputError
from micromarket.cli import common
from micromarket.cli.common import FORWARD, app


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
def bench(ctx: typer.Context, name: str = typer.Argument(..., help="retrieval | trust | market | overhead | scale | context | fuzz | robustness | microllm | understanding | microllm_runtime | orchestrator_chat | finetune | daemon_warmup | services_lookup")) -> None:
    """Run a benchmark program from benchmarks/ (pass its own options after the name)."""
    _forward_named(ctx, f"micromarket.benchmarks.{name}", "benchmark", name)


@app.command(context_settings=FORWARD)
def train(ctx: typer.Context, name: str = typer.Argument(..., help="reading | dates | roman | numwords")) -> None:
    """Train the reading heads (`train reading [--domain D] [--steps N] [--seed S] [--json]`), or a micro-LLM
    specialist from scratch or fine-tuned with --base (pass its options after the name)."""
    if name == "reading":  # the built-ins' learned readers (specialists/reading/train.py)
        _forward("micromarket.specialists.reading.train", ctx)
        return
    _forward_named(ctx, f"micromarket.specialists.microllm.train_{name}", "trainer", name, obj={"register_card": _register_card})


def _register_card(card, home: Optional[Path]) -> None:
    """`train ... --register`: a retrained model replaces its previous card."""
    with common._open(home, progress=False) as mp:
        mp.register(card, replace=True)


@app.command(context_settings=FORWARD)
def specialist(ctx: typer.Context, action: str = typer.Argument(..., help="serve | card")) -> None:
    """Serve a Hugging Face model as an MCP specialist (`serve --model ... --card ...`) or write its card (`card`)."""
    if action not in ("serve", "card"):
        raise InputError(f"unknown action {action!r}; try `micromarket specialist serve --help`")
    _forward("micromarket.specialists.microllm.cli", ctx, prefix=[action])
