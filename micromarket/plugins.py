"""Specialist plugins: packages declare cards through the `micromarket.specialists` entry-point group.

An entry point names a callable returning a list of SpecialistCard (or card
dicts, or paths to card files). The built-ins load through the same path.
Only cards declared this way may use an in-process transport (see
micromarket.specialists.launchable).
"""

from __future__ import annotations

from importlib.metadata import entry_points

from micromarket.capability_index.cards import SpecialistCard
from micromarket.specialists.launchable import GROUP, group_entry_points, installed_cards

__all__ = ["GROUP", "plugin_cards"]


def plugin_cards() -> list[tuple[SpecialistCard, str]]:
    """All cards from installed plugins, with the entry point that supplied each."""
    return installed_cards(group_entry_points(entry_points))
