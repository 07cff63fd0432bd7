"""A small SQL dialect layer: the same ledger code on SQLite (embedded default) and PostgreSQL (shared).

:func:`dialect_for` picks the dialect from the target: a ``postgresql://`` (or
``postgres://``) URL selects PostgreSQL, anything else is an SQLite file path
(or ``":memory:"``). Callers write portable SQL with ``?`` placeholders and
standard upserts (``INSERT ... ON CONFLICT ... DO NOTHING / DO UPDATE``); the
dialect supplies what differs:

===================  ==========================================  ===========================================
                      SQLite                                      PostgreSQL
===================  ==========================================  ===========================================
connection            ``sqlite3`` (WAL, ``busy_timeout``,         ``psycopg`` 3, autocommit, ``lock_timeout``,
                      ``synchronous=NORMAL``)                     ``synchronous_commit=off`` (same guarantee)
placeholders          ``?``                                       ``?`` rewritten to ``%s`` (outside quotes)
rows                  ``sqlite3.Row``                             :class:`Row` (by index and by name, ``dict()``)
write transaction     ``BEGIN IMMEDIATE`` (one writer)            ``BEGIN`` + ``pg_advisory_xact_lock`` (one
                                                                  writer per lock key), READ COMMITTED
retried errors        SQLITE_BUSY / "database is locked"          serialization failure, deadlock, lock
                                                                  timeout, lost connection (reconnects)
schema types          ``{REAL}`` ``{AUTO_PK}`` ``{ROW_SEQ}``      DOUBLE PRECISION, identity columns
insertion order       ``rowid``                                   the ``seq`` identity column
===================  ==========================================  ===========================================

One writer at a time is what SQLite's ``BEGIN IMMEDIATE`` gives; the advisory
lock gives PostgreSQL the same semantics, so read-modify-write transactions
(decay, then add) never lose an update and need no per-statement locking. With
READ COMMITTED each statement after the lock sees every earlier commit.
"""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path
from typing import Any

from micromarket.errors import InputError, MicromarketError

POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.strip().lower().startswith(POSTGRES_SCHEMES)


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        from urllib.parse import urlsplit, urlunsplit

        p = urlsplit(url)
        if p.password:
            netloc = p.netloc.replace(f":{p.password}@", ":***@")
            return urlunsplit(p._replace(netloc=netloc))
    except ValueError:
        pass
    return url


def translate_placeholders(sql: str) -> str:
    """``?`` -> ``%s`` and ``%`` -> ``%%`` outside quoted strings and identifiers (psycopg's format style)."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
            out.append("%%" if ch == "%" else ch)
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class Dialect:
    """What differs between the engines. Subclasses: :class:`SqliteDialect`, :class:`PostgresDialect`."""

    name = "?"
    types: dict[str, str] = {}
    rowid = "rowid"

    def __init__(self, target: str, *, timeout_s: float = 30.0, lock_name: str = "micromarket"):
        self.target = target
        self.timeout_s = float(timeout_s)
        self.lock_name = lock_name

    def describe(self) -> str:
        return f"{self.name}:{self.target}"

    def connect(self) -> Any:
        raise NotImplementedError

    def ddl(self, schema: str) -> list[str]:
        """The schema's statements with this dialect's types (``{REAL}``, ``{AUTO_PK}``, ``{ROW_SEQ}``)."""
        return [s.strip() for s in schema.format(**self.types).split(";") if s.strip()]

    def begin_write(self, conn) -> None:
        raise NotImplementedError

    def in_transaction(self, conn) -> bool:
        raise NotImplementedError

    def is_retryable(self, exc: BaseException) -> bool:
        raise NotImplementedError

    def is_broken(self, conn) -> bool:
        return False


class SqliteDialect(Dialect):
    name = "sqlite"
    types = {"REAL": "REAL", "AUTO_PK": "INTEGER PRIMARY KEY AUTOINCREMENT", "ROW_SEQ": ""}
    rowid = "rowid"

    def __init__(self, target: str | Path, **kw):
        super().__init__(str(target), **kw)
        if self.target != ":memory:":
            Path(self.target).expanduser().parent.mkdir(parents=True, exist_ok=True)

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.target, timeout=self.timeout_s, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout_s * 1000)}")
        if self.target != ":memory:":
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def begin_write(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def in_transaction(self, conn: sqlite3.Connection) -> bool:
        return conn.in_transaction

    def is_retryable(self, exc: BaseException) -> bool:
        if not isinstance(exc, sqlite3.OperationalError):
            return False
        msg = str(exc).lower()
        return "locked" in msg or "busy" in msg


class Row(tuple):
    """A result row readable by position and by column name, like ``sqlite3.Row`` (``dict(row)`` works)."""

    _index: dict[str, int]

    def __new__(cls, values, index: dict[str, int]):
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor):
    desc = cursor.description
    index = {d.name: i for i, d in enumerate(desc or ())}
    return lambda values: Row(values, index)


class PgConnection:
    """A psycopg connection that takes ``?`` placeholders, so callers write one SQL for both engines."""

    def __init__(self, raw):
        self.raw = raw
        self._sql: dict[str, str] = {}

    def execute(self, sql: str, params: tuple | list | None = None):
        if not params:
            return self.raw.execute(sql)
        q = self._sql.get(sql)
        if q is None:
            q = self._sql[sql] = translate_placeholders(sql)
        return self.raw.execute(q, tuple(params))

    @property
    def closed(self) -> bool:
        return bool(self.raw.closed)

    def close(self) -> None:
        self.raw.close()


class PostgresDialect(Dialect):
    name = "postgresql"
    types = {
        "REAL": "DOUBLE PRECISION",  # PostgreSQL's REAL is 4 bytes: trust counts and timestamps need 8
        "AUTO_PK": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        "ROW_SEQ": ", seq BIGINT GENERATED ALWAYS AS IDENTITY",
    }
    rowid = "seq"

    def __init__(self, target: str, **kw):
        target = target.strip()
        if target.lower().startswith("postgresql+psycopg://"):
            target = "postgresql://" + target.split("://", 1)[1]
        super().__init__(target, **kw)
        # one 64-bit advisory lock key per lock name (stable across processes and Python versions)
        self.lock_key = zlib.crc32(self.lock_name.encode()) | (0x4D4D << 32)

    def describe(self) -> str:
        return f"{self.name}:{redact_url(self.target)}"

    def connect(self) -> PgConnection:
        try:
            import psycopg
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ImportError(
                "a postgresql:// database URL needs psycopg: pip install 'micromarket[postgres]'"
            ) from e
        try:
            raw = psycopg.connect(
                self.target, autocommit=True, row_factory=_row_factory,
                connect_timeout=max(1, int(self.timeout_s)), application_name="micromarket",
            )
        except psycopg.Error as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise MicromarketError(
                f"cannot connect to the database {redact_url(self.target)} (MICROMARKET_DATABASE_URL): {first}"
            ) from e
        # a writer waiting longer than this for the ledger lock gets LockNotAvailable (retried until the deadline)
        raw.execute(f"SET lock_timeout = '{int(self.timeout_s * 1000)}ms'")
        if "synchronous_commit" not in self.target:
            # The same durability as SQLite's WAL + synchronous=NORMAL: a commit survives the client crashing,
            # a crash of the server itself may lose the last ~0.6 s of commits (never consistency). A flush per
            # commit costs ~8 ms on this kind of disk (×20 per update); put options=-c synchronous_commit=on in
            # the URL to have it anyway.
            raw.execute("SET synchronous_commit = off")
        return PgConnection(raw)

    def begin_write(self, conn: PgConnection) -> None:
        conn.execute(f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({self.lock_key})")

    def in_transaction(self, conn: PgConnection) -> bool:
        from psycopg import pq

        return conn.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def is_retryable(self, exc: BaseException) -> bool:
        import psycopg
        from psycopg import errors as E

        if isinstance(exc, (E.SerializationFailure, E.DeadlockDetected, E.LockNotAvailable)):
            return True
        # a dropped connection (server restart, terminated backend, network): reconnect and try again
        if not isinstance(exc, psycopg.OperationalError):
            return False
        state = getattr(exc, "sqlstate", None) or ""
        return state == "" or state.startswith(("08", "57P"))

    def is_broken(self, conn: PgConnection) -> bool:
        return conn.closed


def dialect_for(target: str | Path, **kw) -> Dialect:
    """The dialect for a database target: a postgresql:// URL, or an SQLite path (or sqlite:///path URL)."""
    if is_postgres_url(target):
        return PostgresDialect(str(target), **kw)
    if isinstance(target, str) and "://" in target:
        scheme, rest = target.split("://", 1)
        if scheme.lower() != "sqlite":
            raise InputError(
                f"unsupported database URL scheme {scheme!r}: use postgresql://user@host:5432/db, "
                "or leave MICROMARKET_DATABASE_URL unset for SQLite under the home"
            )
        target = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel/path, sqlite:////abs/path
        target = target or ":memory:"
    return SqliteDialect(target, **kw)


__all__ = [
    "Dialect", "SqliteDialect", "PostgresDialect", "PgConnection", "Row",
    "dialect_for", "is_postgres_url", "redact_url", "translate_placeholders",
]
