"""Built-in specialists: one MCP server (SDK 2.x MCPServer) per module, one card per server in ``cards/``.

``cards()`` is the ``micromarket.specialists`` entry point (``builtins = "micromarket.specialists.builtin:cards"``).
"""

from __future__ import annotations

from pathlib import Path

from micromarket.capability_index.cards import SpecialistCard, load_card

CARD_DIR = Path(__file__).parent / "cards"


def cards() -> list[SpecialistCard]:
    """The cards of all built-in specialists, sorted by file name."""
    return [load_card(p) for p in sorted(CARD_DIR.glob("*.yaml"))]
