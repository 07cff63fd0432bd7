"""Servers of earlier protocol generations are still imported and called: a v1-SDK server that speaks 2025-11-25
(mcp 1.26) and one that speaks 2025-06-18 at most (mcp 1.12), each in its own venv, while micromarket's pool runs
the 2.x SDK (it probes server/discover and falls back to the initialize handshake)."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from tests.integration.venv_support import MCP_2025_06_18, MCP_2025_11_25, venv_python

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

V1_SERVER = textwrap.dedent(
    '''
    from mcp.server.fastmcp import FastMCP

    mcp = FastMCP("legacy-text")

    @mcp.tool()
    def reverse_text(text: str) -> str:
        """Reverse a string of text, character by character (mirror / backwards spelling)."""
        return text[::-1]

    if __name__ == "__main__":
        mcp.run()
    '''
)


@pytest.mark.parametrize("requirements, protocol", [(MCP_2025_11_25, "2025-11-25"), (MCP_2025_06_18, "2025-06-18")],
                         ids=["2025-11-25", "2025-06-18"])
def test_v1_server_is_imported_and_called(tmp_path, monkeypatch, requirements, protocol):
    from micromarket import Marketplace

    py = venv_python(requirements)
    script = tmp_path / "legacy_server.py"
    script.write_text(V1_SERVER)
    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    mp = Marketplace.open(home=tmp_path / "home", builtins=False, call_timeout_s=60)
    try:
        [res] = mp.import_servers({"mcpServers": {"legacy": {"command": str(py), "args": [str(script)]}}}, timeout=120)
        assert res["status"] == "registered" and res["capabilities"] == ["reverse_text"], res
        card = mp.card("legacy")
        _, info = asyncio.run(mp.services.pool.list_tools(card))
        assert info.protocol_version == protocol and info.name == "legacy-text"
        out = mp.call_tool("legacy.reverse_text", {"text": "micromarket"})
        assert out["tool"] == "reverse_text" and out["server"] == "legacy"
        assert out["text"] == "tekramorcim" or (out["structured"] or {}).get("result") == "tekramorcim"
        assert mp.search_tools("spell a word backwards", k=1)[0]["name"] == "legacy.reverse_text"
    finally:
        mp.close()
