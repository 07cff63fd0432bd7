"""The Python API: `Marketplace.open(home=...)`, then `.solve()`, `.register()`, `.feedback()`, `.trust()`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
from pathlib import Path
from typing import Any

from micromarket.capability_index.cards import SpecialistCard, endpoint_of, load_card, parse_card
from micromarket.capability_index.identities import CALLABLE
from micromarket.capability_index.security import assert_clean, other_tool_names
from micromarket.errors import InputError
from micromarket.progress import progress_bar
from micromarket.services import Services, drop_services, services_for
from micromarket.settings import Settings
from micromarket.specialists.launch import hosted_builtin
from micromarket.specialists.launchable import check_transport, shown

MAX_TASK_CHARS = 20_000
MAX_CONTEXT_CHARS = 2_000_000


def clean_text(value: Any, what: str, limit: int, *, allow_empty: bool = False) -> str:
    """Validate user text: str or UTF-8 bytes, within the size limit, without NULs."""
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"the {what} is not valid UTF-8 text (bad byte at position {e.start})") from None
    if not isinstance(value, str):
        raise InputError(f"the {what} must be text, got {type(value).__name__}")
    value = value.replace("\x00", "").strip()
    if not value and not allow_empty:
        raise InputError(f"the {what} is empty: say what you want solved, e.g. \"Convert 5 miles to km\"")
    if len(value) > limit:
        raise InputError(
            f"the {what} is {len(value):,} characters; the limit is {limit:,}. "
            "Put long material in the context (--context FILE) and keep the task short."
        )
    return value


def _run_sync(coro):
    """Run a coroutine from sync code, also when called inside a running loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()


class Marketplace:
    """A marketplace on one data directory: card store, capability index, trust ledger and MCP pool."""

    def __init__(self, services: Services):
        self._svc = services
        self.settings = services.settings
        self._graph = None

    # ---- lifecycle -------------------------------------------------------
    @classmethod
    def open(
        cls,
        home: str | Path | None = None,
        *,
        chat_model: str | None = None,
        embedding_model: str | None = None,
        chroma_url: str | None = None,
        database_url: str | None = None,
        builtins: bool | None = None,
        call_timeout_s: float | None = None,
        progress: bool = False,
    ) -> Marketplace:
        """Open (and on first use initialise) the marketplace stored under ``home``."""
        settings = Settings.from_env(
            home=home, chat_model=chat_model, embedding_model=embedding_model, chroma_url=chroma_url,
            database_url=database_url, builtins=builtins, call_timeout_s=call_timeout_s,
        )
        svc = services_for(settings)
        with progress_bar(progress) as bar:
            svc.ensure_ready(progress=bar)
        return cls(svc)

    def close(self) -> None:
        drop_services(self.settings.home)

    def __enter__(self) -> Marketplace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- the graph ---------------------------------------------------------
    @property
    def builder(self):
        """A fresh uncompiled graph builder, for host apps that compile with their own checkpointer."""
        from micromarket.graphs.marketplace import make_builder  # deferred: langgraph

        return make_builder()

    @property
    def graph(self):
        if self._graph is None:  # compiled once per home in this process (a daemon opens the home per command)
            self._graph = self._svc.shared("graph", lambda: self.builder.compile(name="micromarket"))
        return self._graph

    def context(self, **overrides) -> Any:
        """The run Context for this marketplace (home and chat model filled in)."""
        from micromarket.graphs.context import Context  # deferred: langgraph

        fields = {f.name for f in dataclasses.fields(Context)}
        bad = set(overrides) - fields
        if bad:
            raise InputError(f"unknown option(s) {', '.join(sorted(bad))}; known: {', '.join(sorted(fields))}")
        base = dict(home=str(self.settings.home), chat_model=self.settings.chat_model, call_timeout_s=self.settings.call_timeout_s)
        base.update({k: v for k, v in overrides.items() if v is not None})
        return Context(**base)

    async def asolve(self, task: str | bytes, *, context: str | bytes | None = None, **options) -> dict[str, Any]:
        """Solve a task. Returns run_id, answer, subtasks (with provenance), unsupported and warnings."""
        text = clean_text(task, "task", MAX_TASK_CHARS)
        extra = clean_text(context, "context", MAX_CONTEXT_CHARS, allow_empty=True) if context is not None else ""
        ctx = self.context(**options)
        inp: dict[str, Any] = {"task": text}
        if extra:
            inp["context"] = extra
        out = await self.graph.ainvoke(inp, context=ctx)
        return dict(out)

    def solve(self, task: str | bytes, *, context: str | bytes | None = None, **options) -> dict[str, Any]:
        return _run_sync(self.asolve(task, context=context, **options))

    # ---- specialists --------------------------------------------------------
    def register(self, card: SpecialistCard | dict | str | Path, *, replace: bool = False, trusted: bool = False) -> SpecialistCard:
        """Add a specialist from a card (object, mapping or file) and index its capabilities.

        A new specialist starts as a newcomer (a bounded share of traffic until vetted) unless
        ``trusted``; one whose definition or endpoint matches a known identity inherits that
        identity's status and history (a quarantined one stays quarantined under a new id).
        """
        for name, flag in (("replace", replace), ("trusted", trusted)):
            if not isinstance(flag, bool):
                raise InputError(f"register: {name} must be True or False, got {flag!r}")
        if isinstance(card, (str, Path)):
            if isinstance(card, str) and not card.strip():
                raise InputError("register: the card path is empty; give a card file, a mapping or a SpecialistCard")
            card = load_card(card)
        elif isinstance(card, dict):
            card = parse_card(card)
        elif not isinstance(card, SpecialistCard):
            raise InputError(f"register: expected a SpecialistCard, a card mapping or the path of a card file, "
                             f"got {type(card).__name__} {card!r:.60}")

        check_transport(card.transport)  # an in-process target no plugin declared, a '..' or missing program: refused
        # tool poisoning: refused before anything is stored, embedded or shown to a model
        assert_clean(card, other_tools=other_tool_names(self._svc.store.cards(), exclude=card.id))
        self._svc.store.add(card, replace=replace, source="register")
        try:
            self._svc.ledger.register(card.id, card.fingerprint(), endpoint_of(card.transport),
                                      status="active" if trusted else "newcomer")
            if replace:
                self._svc.index.remove(card.id)
            self._svc.index.upsert([card])
        except Exception:
            if not replace:  # keep store, ledger and index consistent
                self._svc.store.remove(card.id)
                self._svc.ledger.unregister(card.id)
            raise
        self._svc.retriever.refresh()
        return card

    def approve(self, specialist_id: str) -> str:
        """A human reviewed a quarantined specialist: pin its current tool definitions, lift the quarantine."""
        from micromarket.capability_index.pins import guard_for  # deferred: chromadb, numpy

        self._svc.store.get(specialist_id)  # unknown id -> a clear error
        return guard_for(self._svc).approve(specialist_id)

    def remove(self, specialist_id: str) -> None:
        """Unregister a specialist; its identity, status and trust history are kept."""
        self._svc.store.remove(specialist_id)
        self._svc.ledger.unregister(specialist_id)
        self._svc.index.remove(specialist_id)
        self._svc.retriever.refresh()

    def status(self, specialist_id: str) -> str:
        """active | newcomer | quarantined | disabled (the one status, kept with the identity in the ledger)."""
        self._svc.store.get(specialist_id)  # unknown id -> a clear error
        return self._svc.ledger.status(specialist_id)

    def specialists(self) -> list[dict]:
        rows = self._svc.store.rows()
        cards = {c.id: c for c in self._svc.store.cards()}
        status = self._svc.ledger.registered(cards)
        for r in rows:
            st = status.get(r["id"]) or {"status": "active", "reason": None}
            r.update(status=st["status"], status_reason=st["reason"])
            c = cards.get(r["id"])
            if c:
                hosted = hosted_builtin(c.transport) if self.settings.inprocess_builtins else None
                r.update(name=c.name, capabilities=[x.name for x in c.capabilities], cost_per_call=c.cost_per_call, transport=c.transport.kind,
                         launch=f"in process (built-in): {hosted}" if hosted else shown(c.transport))
        return rows

    def callable_cards(self) -> list[SpecialistCard]:
        """The cards of specialists that may be called now (active or newcomer)."""
        statuses = self._svc.ledger.statuses()
        return self._svc.store.cards({k for k, v in statuses.items() if v in CALLABLE})

    def card(self, specialist_id: str) -> SpecialistCard:
        return self._svc.store.get(specialist_id)

    def find(self, query: str, k: int = 5) -> list[dict]:
        """Capabilities that match a query, best first."""
        q = clean_text(query, "query", MAX_TASK_CHARS)
        hits = self._svc.retriever.retrieve([q], k)[0]
        return [{"key": h.key, "specialist_id": h.specialist_id, "capability": h.capability, "similarity": round(h.similarity, 4)} for h in hits]

    def rebuild_index(self, *, progress: bool = False) -> int:
        """Rebuild the index from the card store (after a model change, or any damage: see Services.rebuild_index)."""
        with progress_bar(progress) as bar:
            return self._svc.rebuild_index(progress=bar)

    def verify_index(self) -> dict:
        return self._svc.index.verify(self._svc.store.cards())

    def import_servers(self, config: str | Path | dict, *, timeout: float = 30.0, replace: bool = False) -> list[dict]:
        """Import MCP servers from an ``{"mcpServers": {...}}`` config; down servers are reported, not fatal.

        Registered ids are left alone (and their servers not launched) unless ``replace``."""
        from micromarket.importer import import_servers  # deferred: langgraph

        return [r.as_dict() for r in import_servers(self, config, timeout=timeout, replace=replace)]

    # ---- tool-search gateway ---------------------------------------------------
    def search_tools(self, query: str, k: int = 5) -> list[dict]:
        """Every registered server's tools, searched by meaning and ranked with trust (see micromarket.gateway)."""
        from micromarket.gateway import search_tools

        return search_tools(self, query, k)

    async def acall_tool(self, name: str, arguments: dict | None = None) -> dict:
        """Call a tool found by :meth:`search_tools` through the pool, with pins, deadline, output checks and trust."""
        from micromarket.gateway import acall_tool

        return await acall_tool(self, name, arguments)

    def call_tool(self, name: str, arguments: dict | None = None) -> dict:
        return _run_sync(self.acall_tool(name, arguments))

    # ---- embedding ------------------------------------------------------------
    def as_tool(self, **kw):
        """This marketplace as a LangChain tool (see micromarket.embed.as_tool)."""
        from micromarket.embed import as_tool  # deferred: langgraph

        return as_tool(self, **kw)

    def as_node(self, **kw):
        """This marketplace as a node for your own LangGraph graph (see micromarket.embed.as_node)."""
        from micromarket.embed import as_node  # deferred: langgraph

        return as_node(self, **kw)

    # ---- trust --------------------------------------------------------------
    def feedback(self, run_id: str, good: bool, *, subtask_id: str | None = None, note: str | None = None) -> list[dict]:
        """Explicit user feedback on a run: updates trust and teaches retrieval."""
        if not isinstance(good, bool):
            raise InputError(f"feedback must be True (good) or False (bad), got {good!r}")
        if not isinstance(run_id, str) or not run_id.strip():
            raise InputError("feedback needs a run id (printed by `micromarket solve`)")
        updated = self._svc.ledger.feedback(run_id.strip(), good, subtask_id=subtask_id, note=note)
        for rec in self._svc.ledger.routing_records(run_id=run_id.strip(), limit=1000):
            if rec.get("chosen") and (subtask_id is None or rec.get("subtask_id") == subtask_id):
                self._svc.retriever.learn(rec["subtask"], rec["chosen"], good, run_id=run_id.strip())
        return updated

    def trust(self) -> list[dict]:
        return self._svc.ledger.trust_table()

    def routing(self, run_id: str | None = None, limit: int = 50) -> list[dict]:
        return self._svc.ledger.routing_records(run_id=run_id, limit=limit)

    @property
    def services(self) -> Services:
        return self._svc
