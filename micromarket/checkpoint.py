"""Durable runs: the marketplace graph checkpointed in SQLite, resumable after a crash.

``micromarket solve --thread ID "task"`` runs the graph with LangGraph's
``AsyncSqliteSaver`` (``<home>/checkpoints.sqlite``) and ``durability="sync"``:
every super-step's checkpoint, and every finished ``run_specialist`` branch's
writes, are on disk before the run goes on. If the process dies (SIGKILL, OOM,
power), ``micromarket resume ID`` continues from the last checkpoint; branches
whose writes were saved are not run again, so specialists that had finished are
not called twice. Trust updates are idempotent (keyed by run and subtask), so a
replayed ``update_trust`` never counts twice.

With a ``postgresql://`` database URL (``MICROMARKET_DATABASE_URL``) the checkpoints go to
PostgreSQL instead (``AsyncPostgresSaver``, see :func:`open_checkpointer`); the thread book below
stays in ``<home>/checkpoints.sqlite``, so ``resume`` runs from the same home.

The run's Context (options) is not part of LangGraph's state; it is kept in a
small table ``mm_threads`` in the same file so that ``resume`` uses the same options.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from micromarket.errors import InputError, MicromarketError, UnknownRunError

_THREADS = """
CREATE TABLE IF NOT EXISTS mm_threads (
    thread_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, task TEXT NOT NULL, options TEXT NOT NULL,
    status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
)
"""
OUTPUT_KEYS = ("run_id", "answer", "subtasks", "unsupported", "partial")
MAX_THREAD_ID = 128


def check_thread_id(thread_id: Any) -> str:
    if not isinstance(thread_id, str) or not thread_id.strip():
        raise InputError("a thread id is a non-empty name, e.g. --thread nightly-42")
    t = thread_id.strip()
    if len(t) > MAX_THREAD_ID or any(ord(c) < 32 for c in t):
        raise InputError(f"a thread id has at most {MAX_THREAD_ID} printable characters")
    return t


class ThreadBook:
    """The mm_threads table: thread -> run id, task, options, status."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA busy_timeout=30000")
            self.db.execute(_THREADS)
        except sqlite3.DatabaseError as e:
            raise MicromarketError(f"cannot open the checkpoint store {self.path}: {e}") from None

    def get(self, thread_id: str) -> dict | None:
        row = self.db.execute("SELECT run_id, task, options, status FROM mm_threads WHERE thread_id=?", (thread_id,)).fetchone()
        if not row:
            return None
        return {"run_id": row[0], "task": row[1], "options": json.loads(row[2]), "status": row[3]}

    def start(self, thread_id: str, run_id: str, task: str, options: dict) -> None:
        now = time.time()
        self.db.execute(
            "INSERT INTO mm_threads VALUES (?,?,?,?,?,?,?) ON CONFLICT(thread_id) DO UPDATE SET run_id=excluded.run_id, "
            "task=excluded.task, options=excluded.options, status=excluded.status, updated_at=excluded.updated_at",
            (thread_id, run_id, task, json.dumps(options, default=str), "running", now, now),
        )

    def finish(self, thread_id: str, status: str = "done") -> None:
        self.db.execute("UPDATE mm_threads SET status=?, updated_at=? WHERE thread_id=?", (status, time.time(), thread_id))

    def close(self) -> None:
        self.db.close()


def _output(values: dict) -> dict:
    out = {k: values.get(k) for k in OUTPUT_KEYS}
    out["subtasks"] = out["subtasks"] or []
    out["unsupported"] = out["unsupported"] or []
    out["partial"] = bool(out["partial"])
    return out


@contextlib.asynccontextmanager
async def open_checkpointer(settings):
    """The LangGraph checkpointer for ``settings``: ``AsyncPostgresSaver`` when ``database_url`` is a
    postgresql:// URL (tables created by ``setup()``), else ``AsyncSqliteSaver`` on ``<home>/checkpoints.sqlite``."""
    from micromarket.capability_index.sql import PostgresDialect, is_postgres_url

    if is_postgres_url(settings.database_url):
        import psycopg
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
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(str(settings.checkpoints_db)) as saver:
            yield saver


async def _with_graph(mp, fn):
    async with open_checkpointer(mp.settings) as saver:
        graph = mp.builder.compile(checkpointer=saver, name="micromarket")
        return await fn(graph)


async def asolve_durable(mp, task: str | bytes, *, thread_id: str, context: str | bytes | None = None, **options) -> dict:
    """Solve ``task`` on a checkpointed thread. Refuses a thread whose run did not finish (resume it)."""
    from micromarket.api import MAX_CONTEXT_CHARS, MAX_TASK_CHARS, clean_text
    from micromarket.nodes.common import new_run_id

    thread_id = check_thread_id(thread_id)
    text = clean_text(task, "task", MAX_TASK_CHARS)
    extra = clean_text(context, "context", MAX_CONTEXT_CHARS, allow_empty=True) if context is not None else ""
    ctx = mp.context(**options)
    book = ThreadBook(mp.settings.checkpoints_db)
    try:
        prev = book.get(thread_id)
        if prev and prev["status"] == "running":
            raise InputError(f"thread {thread_id!r} has an unfinished run ({prev['run_id']}); finish it with `micromarket resume {thread_id}`")
        run_id = new_run_id()
        book.start(thread_id, run_id, text, dataclasses.asdict(ctx))
        inp: dict[str, Any] = {"task": text, "run_id": run_id}
        if extra:
            inp["context"] = extra

        async def go(graph):
            return await graph.ainvoke(inp, {"configurable": {"thread_id": thread_id}}, context=ctx, durability="sync")

        out = await _with_graph(mp, go)
        book.finish(thread_id)
        return _output(dict(out))
    finally:
        book.close()


async def aresume(mp, thread_id: str) -> dict:
    """Continue a thread's interrupted run from its last checkpoint (finished branches are not re-run)."""
    from micromarket.graphs.context import Context

    thread_id = check_thread_id(thread_id)
    book = ThreadBook(mp.settings.checkpoints_db)
    try:
        rec = book.get(thread_id)
        if rec is None:
            raise UnknownRunError(f"no checkpointed run on thread {thread_id!r} (start one with `micromarket solve --thread {thread_id} TASK`)")
        fields = {f.name for f in dataclasses.fields(Context)}
        opts = {k: v for k, v in rec["options"].items() if k in fields}
        opts["home"] = str(mp.settings.home)
        ctx = Context(**opts)
        config = {"configurable": {"thread_id": thread_id}}

        async def go(graph):
            snap = await graph.aget_state(config)
            if not snap.values:  # killed before the first checkpoint: nothing ran yet, start it again
                out = await graph.ainvoke({"task": rec["task"], "run_id": rec["run_id"]}, config, context=ctx, durability="sync")
                return dict(out), True
            if not snap.next:  # finished: nothing left to do
                return dict(snap.values), False
            out = await graph.ainvoke(None, config, context=ctx, durability="sync")
            return dict(out), True

        values, resumed = await _with_graph(mp, go)
        book.finish(thread_id)
        out = _output(values)
        out["resumed"] = resumed
        return out
    finally:
        book.close()


def solve_durable(mp, task, *, thread_id: str, context=None, **options) -> dict:
    from micromarket.api import _run_sync

    return _run_sync(asolve_durable(mp, task, thread_id=thread_id, context=context, **options))


def resume(mp, thread_id: str) -> dict:
    from micromarket.api import _run_sync

    return _run_sync(aresume(mp, thread_id))
