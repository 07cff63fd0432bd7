"""Built-in specialists: one FastMCP server per module, one card per server in ``cards/``.

``cards()`` is the ``micromarket.specialists`` entry point (``builtins = "micromarket.specialists.builtin:cards"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from micromarket.capability_index.cards import SpecialistCard

CARD_DIR = Path(__file__).parent / "cards"


def cards() -> list[SpecialistCard]:
    """The cards of all built-in specialists, sorted by file name."""
    from micromarket.capability_index.cards import load_card

    return [load_card(p) for p in sorted(CARD_DIR.glob("*.yaml"))]
