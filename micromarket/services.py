"""Process-wide services (card store, index, retriever, ledger, MCP pool), one set per data directory.

Graph nodes find them from ``Runtime.context.home``; heavy parts (the embedding
model, the Chroma client, MCP sessions) are opened once and reused.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from functools import cached_property
from pathlib import Path

from micromarket import plugins
from micromarket.capability_index.cards import endpoint_of
from micromarket.capability_index.ledger import TrustLedger
from micromarket.capability_index.store import CardStore
from micromarket.errors import MicromarketError
from micromarket.home import prepare_home
from micromarket.settings import ENV_PREFIX, Settings
from micromarket.stores import check_store, note_store

log = logging.getLogger("micromarket")

_REGISTRY: dict[Path, Services] = {}
_LOCK = threading.Lock()


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        prepare_home(settings.home)  # a directory the user means; created (and said) when missing
        self._lock = threading.RLock()
        self._shared: dict[str, object] = {}

    def shared(self, name: str, make):
        """One object per services (per home) made by ``make()`` on first use: e.g. the compiled graph, which every
        command of a warm daemon would otherwise compile again (~40 ms)."""
        with self._lock:
            have = self._shared.get(name)
            if have is None:
                have = self._shared[name] = make()
            return have

    def sqlite_path(self, name: str) -> Path:
        """The path of one of the home's SQLite stores, checked intact (or new) and noted in the manifest."""
        path = self.settings.home / name
        check_store(path)
        note_store(path)
        return path

    @cached_property
    def store(self):
        return CardStore(self.settings.database_url or self.sqlite_path(self.settings.cards_db.name))

    @cached_property
    def index(self):
        from micromarket.capability_index.index import CapabilityIndex  # deferred: chromadb, numpy

        try:
            idx = CapabilityIndex(self.settings)
            idx.count()
        except MicromarketError:
            raise  # already names the problem (another writer, another embedding model)
        except Exception as e:  # noqa: BLE001 - chroma's own errors do not say where or what to do
            _forget_chroma_client(self.settings.chroma_dir)  # so that an open after the repair starts afresh
            where = self.settings.chroma_url or self.settings.chroma_dir
            raise MicromarketError(f"the capability index at {where} is damaged ({type(e).__name__}: {e}); "
                                   "run `micromarket index rebuild` (the cards are safe: it is rebuilt from them)") from None
        return idx

    @cached_property
    def retriever(self):
        from micromarket.capability_index.retriever import Retriever  # deferred: chromadb, numpy

        return Retriever(self.index, memory_path=self.sqlite_path("experience.sqlite"))

    @cached_property
    def ledger(self):
        return TrustLedger(self.settings.database_url or self.sqlite_path(self.settings.ledger_db.name))

    @cached_property
    def pool(self):
        from micromarket.specialists.pool import SpecialistPool  # deferred: the mcp SDK

        # a model that loads slowly (a GGUF dequantized on a busy machine) gets a longer call deadline, and its handshake too
        return SpecialistPool(call_timeout=self.settings.call_timeout_s, connect_timeout=max(30.0, self.settings.call_timeout_s),
                              host_builtins=self.settings.inprocess_builtins)

    def chat_model(self, spec: str | None):
        if not spec:
            return None
        from micromarket.llm import load_chat_model  # deferred: langchain chat models

        return load_chat_model(spec)

    def ensure_ready(self, *, progress=None) -> None:
        """First run: register the built-in and plugin specialists (trusted) and build the index
        (``progress(done, total)`` reports indexing, see capability_index.index.ProgressFn).
        Later runs: a built-in or plugin card whose installed version differs from the stored one is updated
        and re-indexed (identity, status and trust history kept); cards users registered are never touched."""
        with self._lock:
            installed = []
            if self.settings.builtins:
                installed = plugins.plugin_cards()
                if len(self.store) == 0:
                    for card, source in installed:
                        if not self.store.has(card.id):
                            self.store.add(card, source=source)
                            self.ledger.register(card.id, card.fingerprint(), endpoint_of(card.transport), status="active")
            # cards stored before status moved to the ledger: adopt them with the status they had
            known = self.ledger.registered()
            legacy = None
            for card in self.store.cards():
                if card.id not in known:
                    legacy = self.store.legacy_statuses() if legacy is None else legacy
                    status, reason = legacy.get(card.id, ("active", None))
                    self.ledger.register(card.id, card.fingerprint(), endpoint_of(card.transport), status=status)
                    if reason:
                        self.ledger.set_status(card.id, status, reason)
            sources = {r["id"]: r["source"] for r in self.store.rows()} if installed else {}
            refreshed = [card for card, source in installed
                         if is_installed_source(sources.get(card.id)) and self.refresh_card(card, source)]
            cards = self.store.cards()
            if cards and self.index.count() == 0:
                self.index.rebuild(cards, progress=progress)
                self.retriever.refresh()
            elif refreshed:
                self.index.upsert(refreshed, progress=progress)
                self.retriever.refresh()

    def refresh_card(self, card, source: str) -> bool:
        """An installed (built-in or plugin) card that changed since it was stored: store the installed one,
        keeping its identity, status and trust history (the index is updated by the caller). True if updated."""
        old = self.store.get(card.id)
        if old.model_dump(mode="json") == card.model_dump(mode="json"):
            return False
        self.store.add(card, replace=True, source=source)
        self.ledger.register(card.id, card.fingerprint(), endpoint_of(card.transport), status="active")  # a known id keeps its own
        log.info("updated installed card %s (%s): version %s -> %s%s", card.id, source, old.version, card.version,
                 "" if old.fingerprint() == card.fingerprint() else ", capabilities changed")
        return True

    def rebuild_index(self, *, progress=None) -> int:
        """Rebuild the index from the card store: after a model change, or from any damage to a local index,
        whose directory is moved aside (never deleted). Returns the number of capabilities indexed."""
        from micromarket.capability_index.index import CapabilityIndex  # deferred: chromadb, numpy

        with self._lock:
            for name in ("retriever", "index"):  # the retriever holds the index: both are made anew
                old = self.__dict__.pop(name, None)
                if name == "index" and old is not None:
                    old.close()
            try:
                idx = CapabilityIndex(self.settings, check=False)  # a model mismatch is what rebuild fixes
                idx.count()
            except Exception as e:  # noqa: BLE001 - any damage to a local index: move it aside, start a new one
                if self.settings.chroma_url:
                    raise MicromarketError(f"the Chroma server at {self.settings.chroma_url} failed: {e}") from None
                aside = self.settings.chroma_dir.with_name(f"chroma.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
                self.settings.chroma_dir.rename(aside)
                log.warning("the index at %s is damaged (%s: %s); moved it to %s and rebuilding from the card store",
                            self.settings.chroma_dir, type(e).__name__, e, aside)
                _forget_chroma_client(self.settings.chroma_dir)
                idx = CapabilityIndex(self.settings, check=False)
            self.__dict__["index"] = idx
            n = idx.rebuild(self.store.cards(), progress=progress)
            self.retriever.refresh()
            return n

    def close(self) -> None:
        for name in ("pool", "ledger", "store", "index"):
            obj = self.__dict__.get(name)
            if obj is not None:
                try:
                    obj.close()
                except Exception as e:  # noqa: BLE001
                    log.debug("closing %s: %s", name, e)


def is_installed_source(source: str | None) -> bool:
    """A card stored from the installed package (built-in or plugin), not one a user registered."""
    return bool(source) and (source == "builtin" or source.startswith("plugin:"))


def _forget_chroma_client(path: Path) -> None:
    """Chroma caches one client per directory, a broken one too: drop this directory's."""
    from chromadb.api.shared_system_client import SharedSystemClient  # deferred: chromadb

    for key in {str(path), str(Path(path).resolve())}:
        SharedSystemClient._identifier_to_system.pop(key, None)
        SharedSystemClient._identifier_to_refcount.pop(key, None)


def services_for(settings: Settings) -> Services:
    key = settings.home.resolve()
    with _LOCK:
        svc = _REGISTRY.get(key)
        if svc is None or svc.settings != settings:
            if svc is not None:
                svc.close()
            svc = _REGISTRY[key] = Services(settings)
        return svc


def drop_services(home: Path) -> None:
    with _LOCK:
        svc = _REGISTRY.pop(home.resolve(), None)
    if svc:
        for k, (_, found) in list(_FOUND.items()):  # not kept alive by the lookup's memory
            if found is svc:
                _FOUND.pop(k, None)
        svc.close()


def settings_from_context(ctx) -> Settings:
    """Settings for a run: environment defaults, overridden by the Context's fields."""
    return _settings_and_key(ctx)[0]


def _settings_and_key(ctx) -> tuple[Settings, Path, bool]:
    """The run's settings, the registry key of its home, and whether the home was given as an absolute path."""
    home = getattr(ctx, "home", None) if ctx is not None else None
    chat = getattr(ctx, "chat_model", None) if ctx is not None else None
    timeout = getattr(ctx, "call_timeout_s", None) if ctx is not None else None
    base = Settings.from_env(home=home)
    key = base.home.resolve()
    existing = _REGISTRY.get(key)
    if existing is not None:  # an opened Marketplace decides the services of its home
        return existing.settings, key, base.home.is_absolute()
    settings = base.model_copy(update={"chat_model": chat or base.chat_model, "call_timeout_s": timeout or base.call_timeout_s})
    return settings, key, base.home.is_absolute()


# A warm run finds its services without parsing settings or touching the disk (each node asks, ~1 ms a time):
# (the Context's fields, the environment) -> (registry key, services), valid while the registry still holds them.
_FOUND: dict[tuple, tuple[Path, Services]] = {}


# what from_env reads (the documented upper-case names; scanning the whole environment cost as much as parsing)
_ENV_NAMES = ("HOME", *(ENV_PREFIX + name.upper() for name in Settings.model_fields))


def _context_key(ctx) -> tuple:
    return (getattr(ctx, "home", None), getattr(ctx, "chat_model", None), getattr(ctx, "call_timeout_s", None),
            *(os.environ.get(name) for name in _ENV_NAMES))


def services_of_context(ctx) -> Services:
    """``services_for(settings_from_context(ctx))``, remembered for the same context and environment."""
    ckey = _context_key(ctx)
    hit = _FOUND.get(ckey)
    if hit is not None and _REGISTRY.get(hit[0]) is hit[1]:
        return hit[1]
    settings, key, absolute = _settings_and_key(ctx)
    svc = services_for(settings)
    if absolute:  # a relative home depends on the working directory
        if len(_FOUND) >= 64:
            _FOUND.clear()
        _FOUND[ckey] = (key, svc)
    return svc


def found_services(ctx) -> Services | None:
    """The services ``services_of_context(ctx)`` would return, when known without any file system call and their
    stores are open (safe on an event loop); None otherwise."""
    hit = _FOUND.get(_context_key(ctx))
    if hit is None or _REGISTRY.get(hit[0]) is not hit[1]:
        return None
    svc = hit[1]
    return svc if "store" in svc.__dict__ and "ledger" in svc.__dict__ else None
