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

``jsonschema.validate(instance, schema)`` checks the schema against its
meta-schema and builds a validator on *every* call (~1.5-5 ms each). The mcp SDK
calls it four times per tool call (server: input and output; client: output) and
the pool once more: 16-20 validations of the same two schemas per 4-subtask task,
more than the whole embedding floor. :func:`cache_jsonschema_validators` makes
``jsonschema.validate`` keep the checked validator per distinct schema (keyed by
its canonical JSON), so later calls only validate the instance (~0.07 ms). The
result is identical: same validator class, same ``best_match`` error, a bad
schema still raises SchemaError (failures are not cached). Applied when
jsonschema is imported (no import cost here).

Set ``MICROMARKET_NO_SPEEDUPS=1`` to disable both.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import json
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


_MAX_CACHED = 512


def _patch_jsonschema(js) -> None:
    orig = js.validate
    if getattr(orig, "_micromarket_cached", False):
        return
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    cache: dict[str, object] = {}

    def validate(instance, schema, cls=None, *args, **kwargs):
        # the mcp client passes a fresh *empty* referencing.Registry each call: equivalent every time
        registry = kwargs.get("registry")
        empty_registry = registry is not None and set(kwargs) == {"registry"} and _is_empty_registry(registry)
        if cls is not None or args or (kwargs and not empty_registry):
            return orig(instance, schema, cls, *args, **kwargs)
        try:
            key = ("R" if empty_registry else "-") + json.dumps(schema, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return orig(instance, schema, **kwargs)
        validator = cache.get(key)
        if validator is None:
            vcls = validator_for(schema)
            vcls.check_schema(schema)  # raises SchemaError exactly as before; nothing cached then
            validator = vcls(schema, **kwargs)
            if len(cache) < _MAX_CACHED:
                cache[key] = validator
        error = best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    functools.update_wrapper(validate, orig)
    validate._micromarket_cached = True  # type: ignore[attr-defined]
    js.validate = validate


def _is_empty_registry(registry) -> bool:
    try:
        from referencing import Registry

        return type(registry) is Registry and registry == Registry()  # attrs equality: no resources, default retrieve
    except Exception:  # noqa: BLE001
        return False


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches ``jsonschema`` right after it is first imported (by whoever imports it)."""

    def find_spec(self, name, path=None, target=None):
        if name != "jsonschema":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            try:
                _patch_jsonschema(module)
            except Exception:  # noqa: BLE001 - an unexpected jsonschema: keep the original
                pass

        loader.exec_module = exec_and_patch
        return spec


def cache_jsonschema_validators() -> bool:
    if os.environ.get("MICROMARKET_NO_SPEEDUPS"):
        return False
    js = sys.modules.get("jsonschema")
    if js is not None:
        _patch_jsonschema(js)
        return True
    if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
    return True


def apply() -> None:
    defer_rfc3987_syntax()
    cache_jsonschema_validators()
