"""Durable runs: the marketplace graph checkpointed, resumable after a crash.

``micromarket solve --thread ID "task"`` runs the graph with a LangGraph checkpointer
(``AsyncSqliteSaver`` on ``<home>/checkpoints.sqlite``, or ``AsyncPostgresSaver`` with a
``postgresql://`` database URL) and ``durability="sync"``: every super-step's checkpoint, and
every finished ``run_specialist`` branch's writes, are stored before the run goes on. If the
process dies (SIGKILL, OOM, power), ``micromarket resume ID`` continues from the last checkpoint;
branches whose writes were saved are not run again, so specialists that had finished are not
called twice. Trust updates are idempotent (keyed by run and subtask), so a replayed
``update_trust`` never counts twice.

The checkpointer is the only record of a thread: whether its run finished is the checkpoint's
``next``, and the run's options (the Context, which is not graph state) travel in the checkpoint
metadata under ``micromarket_options`` so that ``resume`` uses the same options.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from micromarket.api import MAX_CONTEXT_CHARS, MAX_TASK_CHARS, _run_sync, clean_text
from micromarket.capability_index.sql import PostgresDialect, is_postgres_url
from micromarket.errors import InputError, UnknownRunError
from micromarket.graphs.context import Context
from micromarket.nodes.common import new_run_id
from micromarket.stores import check_store, note_store

log = logging.getLogger("micromarket.checkpoint")

OUTPUT_KEYS = ("run_id", "answer", "subtasks", "unsupported", "partial")
MAX_THREAD_ID = 128
OPTIONS_KEY = "micromarket_options"


def check_thread_id(thread_id: Any) -> str:
    if not isinstance(thread_id, str) or not thread_id.strip():
        raise InputError("a thread id is a non-empty name, e.g. --thread nightly-42")
    t = thread_id.strip()
    if len(t) > MAX_THREAD_ID or any(ord(c) < 32 for c in t):
        raise InputError(f"a thread id has at most {MAX_THREAD_ID} printable characters")
    return t


def _output(values: dict) -> dict:
    out = {k: values.get(k) for k in OUTPUT_KEYS}
    out["subtasks"] = out["subtasks"] or []
    out["unsupported"] = out["unsupported"] or []
    out["partial"] = bool(out["partial"])
    return out


def _config(thread_id: str, ctx: Context | None = None) -> dict:
    """The run config: the thread, and the run's options as checkpoint metadata (scalars only, hence JSON)."""
    config: dict[str, Any] = {"configurable": {"thread_id": thread_id}}
    if ctx is not None:
        config["metadata"] = {OPTIONS_KEY: json.dumps(dataclasses.asdict(ctx), default=str)}
    return config


def _context_from(metadata: dict | None, mp) -> Context:
    """The Context a thread's run was started with (read from its checkpoint metadata), on this marketplace's home."""
    try:
        stored = json.loads((metadata or {}).get(OPTIONS_KEY) or "{}")
    except (TypeError, ValueError):
        stored = {}
    if not stored:
        log.warning("the thread's checkpoint carries no run options; resuming with the defaults")
    fields = {f.name for f in dataclasses.fields(Context)}
    opts = {k: v for k, v in stored.items() if k in fields}
    opts["home"] = str(mp.settings.home)
    return Context(**opts)


@contextlib.asynccontextmanager
async def open_checkpointer(settings):
    """The LangGraph checkpointer for ``settings``: ``AsyncPostgresSaver`` when ``database_url`` is a
    postgresql:// URL (tables created by ``setup()``), else ``AsyncSqliteSaver`` on ``<home>/checkpoints.sqlite``."""
    if is_postgres_url(settings.database_url):
        import psycopg  # optional dependency (the postgres extra): imported only for a postgresql:// URL
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        url = PostgresDialect(settings.database_url).target
        async with AsyncPostgresSaver.from_conn_string(url) as saver:
            # setup() migrates without a lock: serialise it across processes with a session advisory lock
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as lock:
                await lock.execute("SELECT pg_advisory_lock(hashtext('micromarket.checkpoint.setup'))")
                try:
                    await saver.setup()
                finally:
                    await lock.execute("SELECT pg_advisory_unlock(hashtext('micromarket.checkpoint.setup'))")
            yield saver
    else:
        check_store(settings.checkpoints_db)  # a truncated or damaged checkpoint file is named, never re-created
        note_store(settings.checkpoints_db)
        async with AsyncSqliteSaver.from_conn_string(str(settings.checkpoints_db)) as saver:
            yield saver


@contextlib.asynccontextmanager
async def _durable_graph(mp):
    async with open_checkpointer(mp.settings) as saver:
        yield mp.builder.compile(checkpointer=saver, name="micromarket")


async def asolve_durable(mp, task: str | bytes, *, thread_id: str, context: str | bytes | None = None, **options) -> dict:
    """Solve ``task`` on a checkpointed thread. Refuses a thread whose run did not finish (resume it)."""
    thread_id = check_thread_id(thread_id)
    text = clean_text(task, "task", MAX_TASK_CHARS)
    extra = clean_text(context, "context", MAX_CONTEXT_CHARS, allow_empty=True) if context is not None else ""
    ctx = mp.context(**options)
    inp: dict[str, Any] = {"task": text, "run_id": new_run_id()}
    if extra:
        inp["context"] = extra
    async with _durable_graph(mp) as graph:
        config = _config(thread_id, ctx)
        snap = await graph.aget_state(config)
        if snap.next:
            raise InputError(f"thread {thread_id!r} has an unfinished run ({snap.values.get('run_id')}); "
                             f"finish it with `micromarket resume {thread_id}`")
        out = await graph.ainvoke(inp, config, context=ctx, durability="sync")
    return _output(dict(out))


async def aresume(mp, thread_id: str) -> dict:
    """Continue a thread's interrupted run from its last checkpoint (finished branches are not re-run)."""
    thread_id = check_thread_id(thread_id)
    async with _durable_graph(mp) as graph:
        snap = await graph.aget_state(_config(thread_id))
        if snap.metadata is None:
            raise UnknownRunError(f"no checkpointed run on thread {thread_id!r} (start one with `micromarket solve --thread {thread_id} TASK`)")
        if not snap.next:  # finished: nothing left to do
            out = _output(dict(snap.values))
            out["resumed"] = False
            return out
        ctx = _context_from(snap.metadata, mp)
        values = await graph.ainvoke(None, _config(thread_id, ctx), context=ctx, durability="sync")
    out = _output(dict(values))
    out["resumed"] = True
    return out


def solve_durable(mp, task, *, thread_id: str, context=None, **options) -> dict:
    return _run_sync(asolve_durable(mp, task, thread_id=thread_id, context=context, **options))


def resume(mp, thread_id: str) -> dict:
    return _run_sync(aresume(mp, thread_id))
