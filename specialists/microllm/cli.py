"""`micromarket specialist serve` and card derivation for served models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from micromarket.capability_index.cards import SpecialistCard, dump_card, parse_card

app = typer.Typer(help="Serve Hugging Face models as MCP specialists.", no_args_is_help=True)


@app.command()
def serve(
    model: Annotated[str | None, typer.Option(help="HF model id, local directory, .gguf file or smollm2 (packaged)")] = None,
    card: Annotated[Path, typer.Option(help="specialist card file")] = ...,
    transport: Annotated[str, typer.Option(help="stdio or http")] = "stdio",
    port: Annotated[int, typer.Option(help="port for --transport http")] = 8000,
    host: Annotated[str, typer.Option(help="host for --transport http")] = "127.0.0.1",
    endpoint: Annotated[str | None, typer.Option(help="TGI/vLLM endpoint URL (remote generation)")] = None,
    openai: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL#MODEL (remote generation)")] = None,
    runtime: Annotated[str | None, typer.Option(help="GGUF runtime: auto (llama.cpp where installed), llama.cpp, transformers")] = None,
) -> None:
    """Serve MODEL (or a remote ENDPOINT) over MCP with a solve(task, context) tool."""
    from micromarket.specialists.microllm.serve import run  # deferred: torch / transformers

    if transport not in ("stdio", "http"):
        raise typer.BadParameter("transport must be stdio or http", param_hint="--transport")
    run(model, str(card), transport, port, endpoint, host, runtime, openai)


@app.command("card")
def card_cmd(
    model: Annotated[Path, typer.Option(help="local model directory")],
    out: Annotated[Path | None, typer.Option(help="card path (default MODEL/card.yaml)")] = None,
    specialist_id: Annotated[str | None, typer.Option("--id", help="specialist id")] = None,
    capability: Annotated[str, typer.Option(help="capability name")] = "generate",
    description: Annotated[str | None, typer.Option(help="capability description")] = None,
    example: Annotated[list[str] | None, typer.Option("--example", help="an example task (repeat; helps retrieval)")] = None,
    domain: Annotated[list[str] | None, typer.Option("--domain", help="a domain tag (repeat)")] = None,
    latency_ms: Annotated[float, typer.Option("--latency-ms", help="declared typical latency")] = 200.0,
) -> None:
    """Write a card for a local model directory (stdio transport via specialists.microllm.serve)."""
    c = card_for_model(model, out=out, specialist_id=specialist_id, capability=capability, description=description,
                       examples=example, domains=domain, latency_ms=latency_ms)
    typer.echo(str(out or Path(model) / "card.yaml") + f"  ({c.id})")


def _slug(text: str) -> str:
    import re

    s = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_") or "microllm"
    return s[:64]


def card_for_model(
    model_path: str | Path,
    *,
    out: str | Path | None = None,
    specialist_id: str | None = None,
    name: str | None = None,
    capability: str = "generate",
    description: str | None = None,
    examples: list[str] | None = None,
    domains: list[str] | None = None,
    latency_ms: float = 200.0,
    provider: str = "micromarket-microllm",
    license: str = "unknown",
    write: bool = True,
) -> SpecialistCard:
    """Derive (and by default write) a card whose stdio transport serves ``model_path`` with this module.

    ``out`` defaults to ``<model_path>/card.yaml``; the command points at that card file.
    """
    model_path = Path(model_path).expanduser().resolve()
    card_path = Path(out).expanduser().resolve() if out else model_path / "card.yaml"
    sid = specialist_id or _slug(model_path.name)
    desc = description or f"Text generation by the model at {model_path.name}"
    data = {
        "id": sid,
        "name": name or f"{model_path.name} (micro-LLM)",
        "description": desc,
        "domains": domains or [],
        "capabilities": [{"name": capability, "description": desc, "examples": examples or []}],
        "latency_ms": latency_ms,
        "provider": provider,
        "license": license,
        "transport": {
            "kind": "stdio",
            "cwd": str(Path(__file__).resolve().parents[2]),  # so `-m specialists...` imports without an install
            "command": ["{python}", "-m", "micromarket.specialists.microllm.serve", "--model", str(model_path), "--card", str(card_path)],
        },
    }
    card = parse_card(data, source=f"card for {model_path}")
    if write:
        card_path.parent.mkdir(parents=True, exist_ok=True)
        card_path.write_text(dump_card(card))
    return card
