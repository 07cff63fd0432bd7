"""micromarket: a marketplace of specialist models for orchestrator LLMs.

Importing the package has no side effects; entry points apply process speed-ups (``micromarket._speedups``)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Marketplace", "Settings", "__version__"]


def __getattr__(name: str):  # lazy: `import micromarket` stays fast
    if name == "Marketplace":
        from micromarket.api import Marketplace  # deferred: langgraph

        return Marketplace
    if name == "Settings":
        from micromarket.settings import Settings  # deferred: pydantic-settings

        return Settings
    raise AttributeError(name)
