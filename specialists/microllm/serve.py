"""Serve a model as an MCP specialist: a Hugging Face model (local causal/seq2seq), a GGUF file (llama.cpp or
transformers), a TGI/vLLM endpoint, or an OpenAI-compatible chat endpoint.

    python -m micromarket.specialists.microllm.serve --model <id|path|file.gguf|smollm2> --card card.yaml
        [--runtime auto|llama.cpp|transformers] [--transport stdio|http] [--port N] [--endpoint URL] [--openai URL#MODEL]

Tools: ``solve(task, context="") -> SolveResult``; resource ``card://<id>`` serves the card as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from micromarket.capability_index.cards import SpecialistCard, load_card
from micromarket.specialists.microllm.engine import EndpointBackend, LocalBackend, ServeConfig, split_openai, to_result
from micromarket.specialists.microllm.gguf import gguf_runtime, resolve_gguf, threads
from micromarket.specialists.result import SolveResult

from micromarket.errors import InputError, MicromarketError


def make_backend(model: str | None, endpoint: str | None = None, *, runtime: str | None = None, openai: str | None = None):
    if openai:
        from micromarket.specialists.microllm.engine import OpenAIBackend

        tok_dir = model if model and Path(model).expanduser().is_dir() else None
        return OpenAIBackend(*split_openai(openai), ServeConfig.load(tok_dir))
    if endpoint:
        tok_dir = model if model and Path(model).expanduser().is_dir() else None
        return EndpointBackend(endpoint, ServeConfig.load(tok_dir), tokenizer_dir=tok_dir)
    if not model:
        raise InputError("give --model (a local directory, a .gguf file, smollm2 or a hub id), --endpoint URL or --openai URL#MODEL")
    if resolve_gguf(model) is not None and gguf_runtime(runtime) == "llama.cpp":
        from micromarket.specialists.microllm.engine import LlamaCppBackend

        return LlamaCppBackend(model)
    import torch

    # one query at a time: a second thread only adds barrier stalls (measured: median 21 ms with 1 thread vs
    # 113 ms with 2 on the shared 2-core machine); MICROMARKET_MICROLLM_THREADS overrides for bigger models
    torch.set_num_threads(threads())
    return LocalBackend(model)


def build_server(card: SpecialistCard, backend) -> MCPServer:
    """An MCP server with the ``solve`` tool (structured SolveResult) and the ``card://`` resource."""
    cap = card.capabilities[0]
    kind = getattr(backend, "kind", "local")
    mcp = MCPServer(card.name, instructions=card.description, log_level="WARNING")

    @mcp.tool(name=cap.tool_name, description=cap.description, structured_output=True)
    def solve(task: str, context: str = "") -> SolveResult:
        gen = backend.generate([backend.prompt(task, context)])[0]
        return to_result(gen, backend.config, kind)

    @mcp.resource(f"card://{card.id}", name="card", mime_type="application/json")
    def card_resource() -> str:
        return card.model_dump_json(exclude_none=True)

    return mcp


def openai_server(transport) -> MCPServer:
    """The in-memory MCP server the pool talks to for a card with ``transport: {kind: openai, base_url, model}``."""
    from micromarket.specialists.microllm.engine import OpenAIBackend

    backend = OpenAIBackend(transport.base_url, transport.model)
    mcp = MCPServer(f"{transport.model} at {transport.base_url}", log_level="WARNING")

    @mcp.tool(name="solve", description=f"Ask the model {transport.model} (OpenAI-compatible endpoint)", structured_output=True)
    async def solve(task: str, context: str = "") -> SolveResult:
        gen = (await asyncio.to_thread(backend.generate, [backend.prompt(task, context)]))[0]
        return to_result(gen, backend.config, backend.kind)

    return mcp


def _quiet() -> None:
    # stdout is the MCP channel: keep transformers' progress bars and advice off it
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def run(model: str | None, card_path: str, transport: str = "stdio", port: int = 8000, endpoint: str | None = None, host: str = "127.0.0.1",
        runtime: str | None = None, openai: str | None = None) -> None:
    _quiet()
    card = load_card(card_path)
    backend = make_backend(model, endpoint, runtime=runtime, openai=openai)
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
    ap.add_argument("--openai", help="OpenAI-compatible endpoint URL#MODEL (e.g. http://127.0.0.1:8080/v1#smollm2)")
    ap.add_argument("--runtime", choices=["auto", "llama.cpp", "transformers"], default=None,
                    help="runtime for GGUF files (default: llama.cpp where installed; $MICROMARKET_GGUF_RUNTIME)")
    a = ap.parse_args(argv)

    try:
        run(a.model, a.card, a.transport, a.port, a.endpoint, a.host, a.runtime, a.openai)
    except MicromarketError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
