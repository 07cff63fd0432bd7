"""What a card may make this process launch, checked at registration and again at launch.

* stdio: the program must resolve to an existing executable: ``{python}``, an absolute
  path, a name found on PATH, or a path relative to the card's absolute ``cwd``; a
  ``..`` component is refused (a card cannot climb to ``/bin/sh`` from its directory).
* inprocess: importing ``module:attr`` runs code in *this* process, so a target must be
  declared by an installed plugin (entry-point group ``micromarket.specialists``; the
  built-ins are one). The one other allowance is ``MICROMARKET_ALLOW_INPROCESS_MODULES``,
  a comma-separated list of module prefixes set by whoever controls this process's
  environment (the test suite sets ``tests``; benchmarks add ``micromarket.benchmarks``).
  A card file can set neither.
"""

from __future__ import annotations

import importlib.metadata as md
import logging
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

from micromarket.capability_index.cards import SpecialistCard, Transport, load_card, parse_card
from micromarket.errors import CardError

GROUP = "micromarket.specialists"
ALLOW_INPROCESS_ENV = "MICROMARKET_ALLOW_INPROCESS_MODULES"
_TARGET = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*)?$")
_declared_cache: dict[frozenset, frozenset[str]] = {}
_eps_cache: dict[tuple, list] = {}

log = logging.getLogger("micromarket.plugins")


def _dir_stamp(path: str) -> int | None:
    try:
        return os.stat(path or ".").st_mtime_ns
    except OSError:
        return None


def group_entry_points(finder=None) -> list:
    """The entry points of the plugin group, read again only when a directory on sys.path changed (installing or
    removing a distribution adds or removes its metadata directory there): reading every distribution's metadata
    costs ~60 ms, which a warm daemon would pay on each command. ``finder`` defaults to importlib.metadata's."""
    finder = finder or md.entry_points
    key = (finder, tuple((p, _dir_stamp(p)) for p in sys.path))
    eps = _eps_cache.get(key)
    if eps is None:
        eps = list(finder(group=GROUP))
        _eps_cache.clear()
        _eps_cache[key] = eps
    return list(eps)


def installed_cards(eps=None) -> list[tuple[SpecialistCard, str]]:
    """All cards from installed plugins (and the built-ins), with the entry point that supplied each."""
    eps = list(group_entry_points() if eps is None else eps)
    found: list[tuple[SpecialistCard, str]] = []
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
            try:
                if isinstance(item, SpecialistCard):
                    card = item
                elif isinstance(item, dict):
                    card = parse_card(item, source=f"plugin {ep.name}")
                else:
                    card = load_card(Path(item))
            except CardError as e:
                log.warning("plugin %s: %s", ep.name, e)
                continue
            found.append((card, f"plugin:{ep.name}"))
    return found


def declared_targets() -> frozenset[str]:
    """In-process targets that installed plugins declare (cached per set of entry points)."""
    eps = group_entry_points()
    key = frozenset((ep.name, ep.value) for ep in eps)
    if key not in _declared_cache:
        _declared_cache[key] = frozenset(
            c.transport.target for c, _ in installed_cards(eps) if c.transport.kind == "inprocess" and c.transport.target
        )
    return _declared_cache[key]


def allowed_module_prefixes() -> list[str]:
    return [p.strip().rstrip(".") for p in os.environ.get(ALLOW_INPROCESS_ENV, "").split(",") if p.strip().rstrip(".")]


def allow_inprocess_modules(*prefixes: str) -> None:
    """Let cards name in-process targets under these module prefixes (this process and its children)."""
    have = allowed_module_prefixes()
    os.environ[ALLOW_INPROCESS_ENV] = ",".join(have + [p for p in prefixes if p not in have])


def check_inprocess(target: str | None) -> str:
    """The target, if a card may name it; else CardError saying which target and why."""
    t = target or ""
    if not _TARGET.match(t):
        raise CardError(f"transport.target {t!r} is not a 'module:attribute' name")
    module = t.partition(":")[0]
    if any(module == p or module.startswith(p + ".") for p in allowed_module_prefixes()):
        return t
    if t in declared_targets():
        return t
    raise CardError(
        f"transport.target {t!r}: in-process targets run code inside micromarket, so they may only come from an "
        f"installed plugin (entry-point group {GROUP!r}); no installed plugin declares this one. "
        "Run the server over stdio instead (transport kind 'stdio' with its command)."
    )


def resolve_program(t: Transport) -> str:
    """The absolute path of a stdio card's program; CardError when it climbs with '..' or does not exist."""
    prog = (t.command or [""])[0]
    if prog == "{python}":
        return sys.executable
    if not prog.strip() or "\x00" in prog:
        raise CardError(f"transport.command[0] {prog!r} is not a program name")
    p = Path(prog)
    if ".." in p.parts:
        raise CardError(f"transport.command[0] {prog!r} climbs out of its directory with '..'; "
                        "give an absolute path or a program name found on PATH")
    if p.is_absolute():
        cand = p
    elif len(p.parts) > 1:
        if not t.cwd or not Path(t.cwd).is_absolute():
            raise CardError(f"transport.command[0] {prog!r} is a relative path; give an absolute path, "
                            "or set transport.cwd to an absolute directory it is relative to")
        cand = Path(t.cwd) / p
    else:
        found = shutil.which(prog, path=(t.env or {}).get("PATH") or os.environ.get("PATH"))
        if not found:
            raise CardError(f"transport.command[0] {prog!r}: no such program on PATH")
        cand = Path(found)
    if not cand.is_file() or not os.access(cand, os.X_OK):
        raise CardError(f"transport.command[0] {prog!r}: {cand} is not an executable file")
    return os.path.abspath(cand)


def check_transport(t: Transport) -> None:
    """Refuse, with a clear CardError, a transport this process must not launch."""
    if t.kind == "stdio":
        resolve_program(t)
    elif t.kind == "inprocess":
        check_inprocess(t.target)


def shown(t: Transport) -> str:
    """The transport as launched: resolved stdio argv, URL or in-process target."""
    if t.kind == "stdio":
        argv = [sys.executable if a == "{python}" else a for a in (t.command or [])]
        try:
            argv[0] = resolve_program(t)
        except CardError as e:
            return f"stdio: {shlex.join(argv)} (cannot launch: {e})"
        return "stdio: " + shlex.join(argv)
    if t.kind == "http":
        return f"http: {t.url}"
    if t.kind == "openai":
        return f"openai: {t.base_url} (model {t.model})"
    return f"inprocess: {t.target}"
