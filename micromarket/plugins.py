"""Specialist plugins: packages declare cards through the `micromarket.specialists` entry-point group.

An entry point names a callable returning a list of SpecialistCard (or card
dicts, or paths to card files). The built-ins load through the same path.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from pathlib import Path

from micromarket.capability_index.cards import SpecialistCard, load_card, parse_card

GROUP = "micromarket.specialists"
log = logging.getLogger("micromarket.plugins")


def plugin_cards() -> list[tuple[SpecialistCard, str]]:
    """All cards from installed plugins, with the entry point that supplied each."""
    found: list[tuple[SpecialistCard, str]] = []
    eps = list(entry_points(group=GROUP))
    if not any(ep.value.startswith("micromarket.specialists.builtin") for ep in eps):
        from micromarket.specialists import builtin  # running from a source tree that is not installed

        found += [(c, "builtin") for c in builtin.cards()]
    for ep in eps:
        try:
            items = ep.load()()
        except Exception as e:  # noqa: BLE001 - a broken plugin must not break the marketplace
            log.warning("plugin %s failed to load: %s", ep.name, e)
            continue
        for item in items:
            if isinstance(item, SpecialistCard):
                card = item
            elif isinstance(item, dict):
                card = parse_card(item, source=f"plugin {ep.name}")
            else:
                card = load_card(Path(item))
            found.append((card, f"plugin:{ep.name}"))
    return found
