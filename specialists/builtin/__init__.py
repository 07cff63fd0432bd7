"""Built-in specialists: one MCP server (SDK 2.x MCPServer) per module, one card per server in ``cards/``.

``cards()`` is the ``micromarket.specialists`` entry point (``builtins = "micromarket.specialists.builtin:cards"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from micromarket.capability_index.cards import SpecialistCard

CARD_DIR = Path(__file__).parent / "cards"


def module_of(domain: str):
    """The built-in module of ``domain`` ("units", "dates", ...), imported on first use: the built-ins load sympy,
    pint and scipy (seconds of a cold start), which a text no reader claims never needs."""
    import importlib  # deferred with the import it makes

    return importlib.import_module(f"{__name__}.{domain}")


_parsed: dict[tuple[str, int, int], SpecialistCard] = {}


def cards() -> list[SpecialistCard]:
    """The cards of all built-in specialists, sorted by file name (each file parsed once per process and version
    of the file: every `Marketplace.open` reads them, and a warm daemon opens the home for every command)."""
    # deferred: the card model and yaml; every built-in specialist process imports this package, none reads cards
    from micromarket.capability_index.cards import load_card

    out = []
    for p in sorted(CARD_DIR.glob("*.yaml")):
        st = p.stat()
        key = (str(p), st.st_mtime_ns, st.st_size)
        card = _parsed.get(key)
        if card is None:
            card = _parsed[key] = load_card(p)
        out.append(card.model_copy(deep=True))
    return out
