"""micromarket: a marketplace of specialist models for orchestrator LLMs."""

from __future__ import annotations

__version__ = "0.1.0"

from micromarket import _speedups as _sp  # noqa: E402  (lazy rfc3987 parser: -3 s per process; see the module)

_sp.apply()
__all__ = ["Marketplace", "Settings", "__version__"]


def __getattr__(name: str):  # lazy: `import micromarket` stays fast
    if name == "Marketplace":
        from micromarket.api import Marketplace

        return Marketplace
    if name == "Settings":
        from micromarket.settings import Settings

        return Settings
    raise AttributeError(name)
