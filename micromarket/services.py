"""Process-wide services (card store, index, retriever, ledger, MCP pool), one set per data directory.

Graph nodes find them from ``Runtime.context.home``; heavy parts (the embedding
model, the Chroma client, MCP sessions) are opened once and reused.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from pathlib import Path

from micromarket import plugins
from micromarket.capability_index.cards import endpoint_of
from micromarket.capability_index.ledger import TrustLedger
from micromarket.capability_index.store import CardStore
from micromarket.home import prepare_home
from micromarket.settings import Settings
from micromarket.stores import check_store, note_store

log = logging.getLogger("micromarket")

_REGISTRY: dict[Path, Services] = {}
_LOCK = threading.Lock()


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        prepare_home(settings.home)  # a directory the user means; created (and said) when missing
        self._lock = threading.RLock()

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

        return CapabilityIndex(self.settings)

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

        return SpecialistPool(call_timeout=self.settings.call_timeout_s)

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
        svc.close()


def settings_from_context(ctx) -> Settings:
    """Settings for a run: environment defaults, overridden by the Context's fields."""
    home = getattr(ctx, "home", None) if ctx is not None else None
    chat = getattr(ctx, "chat_model", None) if ctx is not None else None
    timeout = getattr(ctx, "call_timeout_s", None) if ctx is not None else None
    base = Settings.from_env(home=home)
    key = base.home.resolve()
    existing = _REGISTRY.get(key)
    if existing is not None:  # an opened Marketplace decides the services of its home
        return existing.settings
    return base.model_copy(update={"chat_model": chat or base.chat_model, "call_timeout_s": timeout or base.call_timeout_s})
