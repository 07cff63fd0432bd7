"""The ledger's database: schema, one connection behind a lock, retried write transactions.

The target is an SQLite path (the embedded default) or a ``postgresql://`` URL
(one shared ledger for many orchestrator processes); :mod:`capability_index.sql`
hides what differs, so the ledger's SQL is written once. Every update is one short
write transaction, one writer at a time (SQLite: WAL, ``busy_timeout``, ``BEGIN
IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), retried with
tenacity on SQLITE_BUSY / serialization failures / lock timeouts / a dropped
PostgreSQL connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random_exponential

from micromarket.capability_index.sql import dialect_for
from micromarket.errors import InputError

# types in braces come from the dialect (capability_index.sql); {ROW_SEQ} gives PostgreSQL an insertion order
SCHEMA = """
CREATE TABLE IF NOT EXISTS posteriors (
    specialist_id TEXT NOT NULL,
    capability    TEXT NOT NULL,
    version       TEXT NOT NULL DEFAULT '',
    alpha {REAL} NOT NULL, beta {REAL} NOT NULL,
    prior_alpha {REAL} NOT NULL, prior_beta {REAL} NOT NULL,
    rel_ok {REAL} NOT NULL DEFAULT 0, rel_fail {REAL} NOT NULL DEFAULT 0,
    succ INTEGER NOT NULL DEFAULT 0, fail INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0, timeouts INTEGER NOT NULL DEFAULT 0,
    updated_at {REAL} NOT NULL,
    PRIMARY KEY (specialist_id, capability, version)
);
CREATE TABLE IF NOT EXISTS evidence (
    run_id TEXT NOT NULL, subtask_id TEXT NOT NULL,
    specialist_id TEXT NOT NULL, capability TEXT NOT NULL, kind TEXT NOT NULL,
    success INTEGER NOT NULL, weight {REAL} NOT NULL, version TEXT NOT NULL DEFAULT '',
    confidence {REAL}, note TEXT, created_at {REAL} NOT NULL{ROW_SEQ},
    PRIMARY KEY (run_id, subtask_id, specialist_id, capability, kind)
);
CREATE INDEX IF NOT EXISTS evidence_pair ON evidence (specialist_id, capability, created_at);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, task TEXT NOT NULL, result TEXT NOT NULL, created_at {REAL} NOT NULL
);
CREATE TABLE IF NOT EXISTS routing (
    id {AUTO_PK},
    run_id TEXT NOT NULL, subtask_id TEXT, specialist_id TEXT, capability TEXT, outcome TEXT,
    record TEXT NOT NULL, created_at {REAL} NOT NULL
);
CREATE INDEX IF NOT EXISTS routing_run ON routing (run_id);
CREATE INDEX IF NOT EXISTS routing_specialist ON routing (specialist_id);
CREATE TABLE IF NOT EXISTS identities (
    specialist_id TEXT PRIMARY KEY,
    fingerprint TEXT, endpoint TEXT, inherited_from TEXT,
    status TEXT NOT NULL, reason TEXT, status_since {REAL} NOT NULL, registered_at {REAL} NOT NULL,
    identity TEXT, removed_at {REAL}
);
CREATE INDEX IF NOT EXISTS identities_fp ON identities (fingerprint);
CREATE INDEX IF NOT EXISTS identities_ep ON identities (endpoint);
"""
# columns added after the first release: (table, column, type)
_ADDED = (("identities", "identity", "TEXT"), ("identities", "removed_at", "{REAL}"))
_AFTER = ("CREATE INDEX IF NOT EXISTS identities_identity ON identities (identity)",
          "UPDATE identities SET identity = 'id:' || specialist_id WHERE identity IS NULL")

MAX_ID = 512


def check_id(name: str, v: object, *, allow_empty: bool = False) -> str:
    if not isinstance(v, str):
        raise InputError(f"{name} must be a string, got {type(v).__name__}")
    if (not v and not allow_empty) or len(v) > MAX_ID or "\x00" in v:
        raise InputError(f"{name} must be a non-empty string of at most {MAX_ID} characters without NUL")
    return v


class LedgerDB:
    """One connection to the ledger database, used under a lock; see the module docstring."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 30.0):
        self._d = dialect_for(path, timeout_s=busy_timeout_s, lock_name="micromarket.ledger")
        self.dialect = self._d
        self.path = self._d.target
        self.backend = self._d.name  # "sqlite" or "postgresql"
        self.busy_timeout_s = float(busy_timeout_s)
        self._lock = threading.RLock()
        self._conn: Any = self._d.connect()
        self.tx(self._create)

    def _columns(self, c: Any, table: str) -> set[str]:
        if self.backend == "sqlite":
            return {r[1] for r in c.execute(f"PRAGMA table_info({table})").fetchall()}
        rows = c.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?"
                         " AND table_schema = current_schema()", (table,)).fetchall()
        return {r[0] for r in rows}

    def _create(self, c: Any) -> None:
        for stmt in self._d.ddl(SCHEMA):
            c.execute(stmt)
        for table, col, typ in _ADDED:
            if col not in self._columns(c, table):
                c.execute(self._d.ddl(f"ALTER TABLE {table} ADD COLUMN {col} {typ}")[0])
        for stmt in _AFTER:
            c.execute(stmt)

    @property
    def conn(self) -> Any:
        if self._conn is None:
            raise InputError("the trust ledger is closed")
        return self._conn

    def _transient(self, e: BaseException) -> bool:
        return self._conn is not None and self._d.is_retryable(e)

    def retry(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` under the lock, retried with jittered backoff on transient errors."""

        def locked():
            with self._lock:
                try:
                    return fn()
                except Exception as e:
                    if self._transient(e):
                        self._recover()  # under the lock: the connection is shared
                    raise

        retrying = Retrying(retry=retry_if_exception(self._transient), stop=stop_after_delay(self.busy_timeout_s * 4),
                            wait=wait_random_exponential(multiplier=0.005, max=0.25), reraise=True)
        return retrying(locked)

    def _recover(self) -> None:
        """After a retryable error: roll back, or reconnect if the connection is gone."""
        try:
            if self._d.is_broken(self._conn):
                self._conn = self._d.connect()
            elif self._d.in_transaction(self._conn):
                self._conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - the retry reports the real error if it persists
            pass

    def tx(self, fn: Callable[[Any], Any]) -> Any:
        """One write transaction (one writer at a time), retried."""

        def run():
            c = self.conn
            self._d.begin_write(c)
            try:
                out = fn(c)
                c.execute("COMMIT")
                return out
            except BaseException:
                if not self._d.is_broken(c) and self._d.in_transaction(c):
                    c.execute("ROLLBACK")
                raise

        return self.retry(run)

    def read(self, fn: Callable[[Any], Any]) -> Any:
        return self.retry(lambda: fn(self.conn))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None
