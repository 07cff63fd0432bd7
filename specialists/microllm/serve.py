"""Serve a Hugging Face model (local causal/seq2seq, or a TGI/vLLM endpoint) as an MCP specialist.

    python -m specialists.microllm.serve --model <id|path> --card card.yaml [--transport stdio|http] [--port N] [--endpoint URL]

Tools: ``solve(task, context="") -> SolveResult``; resource ``card://<id>`` serves the card as JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from micromarket.capability_index.cards import SpecialistCard, load_card
from micromarket.specialists.microllm.engine import EndpointBackend, LocalBackend, ServeConfig, to_result
from micromarket.specialists.result import SolveResult

from micromarket.errors import InputError, MicromarketError


def make_backend(model: str | None, endpoint: str | None = None):
    if endpoint:
        tok_dir = model if model and Path(model).expanduser().is_dir() else None
        return EndpointBackend(endpoint, ServeConfig.load(tok_dir), tokenizer_dir=tok_dir)
    if not model:
        raise InputError("give --model (a local directory or hub id) or --endpoint URL")
    import os

    import torch

    # one query at a time: a second thread only adds barrier stalls (measured: median 21 ms with 1 thread vs
    # 113 ms with 2 on the shared 2-core machine); MICROMARKET_MICROLLM_THREADS overrides for bigger models
    torch.set_num_threads(int(os.environ.get("MICROMARKET_MICROLLM_THREADS", "1")))
    return LocalBackend(model)


def build_server(card: SpecialistCard, backend) -> MCPServer:
    """An MCP server with the ``solve`` tool (structured SolveResult) and the ``card://`` resource."""
    cap = card.capabilities[0]
    kind = "endpoint" if isinstance(backend, EndpointBackend) else "local"
    mcp = MCPServer(card.name, instructions=card.description, log_level="WARNING")

    @mcp.tool(name=cap.tool_name, description=cap.description, structured_output=True)
    def solve(task: str, context: str = "") -> SolveResult:
        gen = backend.generate([backend.prompt(task, context)])[0]
        return to_result(gen, backend.config, kind)

    @mcp.resource(f"card://{card.id}", name="card", mime_type="application/json")
    def card_resource() -> str:
        return card.model_dump_json(exclude_none=True)

    return mcp


def _quiet() -> None:
    # stdout is the MCP channel: keep transformers' progress bars and advice off it
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def run(model: str | None, card_path: str, transport: str = "stdio", port: int = 8000, endpoint: str | None = None, host: str = "127.0.0.1") -> None:
    _quiet()
    card = load_card(card_path)
    backend = make_backend(model, endpoint)
    server = build_server(card, backend)
    if transport == "http":
        server.run(transport="streamable-http", host=host, port=port)
    else:
        server.run()


def main(argv: list[str] | None = None) -> None:
    from micromarket import _speedups  # deferred: torch / transformers

    _speedups.apply()
    ap = argparse.ArgumentParser(prog="python -m micromarket.specialists.microllm.serve", description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="HF model id or local directory (also the tokenizer/config source with --endpoint)")
    ap.add_argument("--card", required=True, help="specialist card (yaml/toml/json)")
    ap.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--endpoint", help="TGI/vLLM URL: generate remotely instead of loading the model")
    a = ap.parse_args(argv)

    try:
        run(a.model, a.card, a.transport, a.port, a.endpoint, a.host)
    except MicromarketError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
