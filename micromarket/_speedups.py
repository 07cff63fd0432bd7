"""Process-start speed-ups that do not change behaviour.

``jsonschema`` (imported by chromadb and by the mcp SDK) imports the optional
``rfc3987_syntax`` package at import time when it is installed; that package
builds an Earley parser for the RFC 3987 grammar in its module body, which costs
3-4 s of CPU on a 2-core machine -- more than everything else in a cold
``micromarket solve`` together. It is only ever used to check the "iri" and
"iri-reference" formats. :func:`defer_rfc3987_syntax` registers a stand-in
module whose ``is_valid_syntax`` imports the real parser on first use, so the
checks behave exactly as before and the cost is paid only by a process that
validates an IRI.

Set ``MICROMARKET_NO_SPEEDUPS=1`` to disable.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types

_NAME = "rfc3987_syntax"


def defer_rfc3987_syntax() -> bool:
    """Install the lazy stand-in for ``rfc3987_syntax``; True if installed."""
    if os.environ.get("MICROMARKET_NO_SPEEDUPS") or _NAME in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec(_NAME)
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    stub = types.ModuleType(_NAME)
    stub.__path__ = list(spec.submodule_search_locations)  # submodules import from the real package dir
    stub.__file__ = spec.origin
    stub.__micromarket_lazy__ = True

    def _real():
        return importlib.import_module(_NAME + ".syntax_helpers")

    def is_valid_syntax(term: str, value: str):
        return _real().is_valid_syntax(term, value)

    def parse(term: str, value: str):
        return _real().parse(term, value)

    def __getattr__(name: str):  # anything else: the real module's attribute
        return getattr(_real(), name)

    stub.is_valid_syntax = is_valid_syntax
    stub.parse = parse
    stub.__getattr__ = __getattr__
    sys.modules[_NAME] = stub
    return True


def apply() -> None:
    defer_rfc3987_syntax()
