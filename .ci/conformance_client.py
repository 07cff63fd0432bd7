"""The client under test for `conformance client`: micromarket's specialist pool, as it imports and calls a server.

    conformance client --command "python .ci/conformance_client.py" --scenario NAME   (the runner appends the URL)

It does what the marketplace does with any streamable-HTTP MCP server: connect (server/discover, or the initialize
handshake for a 2025-era server), list the tools, derive a card from them, and call each tool through the pool with
arguments built from its input schema. Exit code 0 when every call returned a result.
"""

from __future__ import annotations

import asyncio
import os
import sys

from micromarket.capability_index.cards import Transport
from micromarket.importer import probe_server
from micromarket.specialists.pool import SpecialistPool


def example(schema: dict) -> object:
    """A value that satisfies a (simple) JSON schema: what a caller without a chat model can fill."""
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind in ("number", "integer"):
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: example(v) for k, v in props.items() if k in (schema.get("required") or props)}
    return "hello"


async def run(url: str) -> int:
    pool = SpecialistPool(call_timeout=20, connect_timeout=20, retries=1)
    transport = Transport(kind="http", url=url)
    try:
        tools, info = await pool.list_tools(transport, key="conformance")
        print(f"connected: protocol {info.protocol_version}, {len(tools)} tools", file=sys.stderr)
        if not tools:  # nothing to import: the handshake and tools/list were the test
            return 0
        card = await probe_server(pool, "conformance", transport, timeout=20)
        failures = 0
        for cap in card.capabilities:
            out = await pool.call(card, cap.tool_name, example(cap.input_schema or {}))
            print(f"{cap.tool_name}: {'error' if out.is_error else 'ok'} {out.text[:200]!r}", file=sys.stderr)
            failures += out.is_error
        return 1 if failures else 0
    finally:
        await asyncio.to_thread(pool.close)


def main() -> int:
    url = sys.argv[-1]
    print(f"scenario {os.environ.get('MCP_CONFORMANCE_SCENARIO', '?')} against {url}", file=sys.stderr)
    try:
        return asyncio.run(run(url))
    except Exception as e:  # noqa: BLE001 - reported to the runner through the exit code
        print(f"client failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
