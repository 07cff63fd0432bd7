"""The card store: the source of truth for registered specialists' cards.

SQLite under the home by default; the shared PostgreSQL database when a
``postgresql://`` database URL is configured (capability_index/sql.py), so that
several orchestrators see the same specialists. The Chroma index is derived from
it and can always be rebuilt from it. A specialist's *status* is not kept here:
it lives with its identity in the trust ledger (capability_index/identities.py).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from micromarket.capability_index.cards import SpecialistCard, parse_card
from micromarket.capability_index.sql import dialect_for, redact_url
from micromarket.errors import DuplicateSpecialistError, MicromarketError, UnknownSpecialistError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS specialists (
    id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    card TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    source TEXT,
    created_at {REAL} NOT NULL,
    updated_at {REAL} NOT NULL
);
CREATE TABLE IF NOT EXISTS card_history (
    id TEXT NOT NULL,
    version TEXT NOT NULL,
    card TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    event TEXT NOT NULL,
    at {REAL} NOT NULL{ROW_SEQ}
)
"""


class CardStore:
    """Registered specialist cards and their history (status lives in the trust ledger)."""

    def __init__(self, path: str | Path):
        """``path``: an SQLite file, or a postgresql:// URL shared by several orchestrators."""
        self._d = dialect_for(path, lock_name="micromarket.cards")
        self.path = path if isinstance(path, str) and "://" in path else Path(path)
        self._lock = threading.RLock()
        try:
            self._db = self._d.connect()
            self._d.begin_write(self._db)  # serialises concurrent CREATE TABLEs on PostgreSQL
            for stmt in self._d.ddl(_SCHEMA):
                self._db.execute(stmt)
            self._db.execute("COMMIT")
        except Exception as e:  # noqa: BLE001 - sqlite3 and psycopg errors alike
            where = redact_url(str(path)) if isinstance(path, str) else str(path)
            raise MicromarketError(f"cannot open the card store {where}: {e}") from None
        self._order = self._d.rowid

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql_list: list[tuple[str, tuple]]) -> None:
        with self._lock:
            self._d.begin_write(self._db)
            try:
                for sql, args in sql_list:
                    self._db.execute(sql, args)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def add(self, card: SpecialistCard, *, replace: bool = False, source: str | None = None) -> None:
        """Register a card. A duplicate id is an error unless ``replace``."""
        now = time.time()
        data = card.model_dump_json()
        fp = card.fingerprint()
        with self._lock:
            existing = self._db.execute("SELECT 1 FROM specialists WHERE id=?", (card.id,)).fetchone()
            if existing and not replace:
                raise DuplicateSpecialistError(
                    f"a specialist with id {card.id!r} is already registered; "
                    f"remove it first (`micromarket specialists remove {card.id}`) or choose another id"
                )
            ops = [
                (
                    "INSERT INTO specialists(id, version, card, fingerprint, source, created_at, updated_at) "
                    "VALUES(?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET version=excluded.version, card=excluded.card, "
                    "fingerprint=excluded.fingerprint, source=excluded.source, updated_at=excluded.updated_at",
                    (card.id, card.version, data, fp, source, now, now),
                ),
                ("INSERT INTO card_history(id, version, card, fingerprint, event, at) VALUES(?,?,?,?,?,?)", (card.id, card.version, data, fp, "replace" if existing else "add", now)),
            ]
            self._write(ops)

    def get(self, specialist_id: str) -> SpecialistCard:
        with self._lock:
            row = self._db.execute("SELECT card FROM specialists WHERE id=?", (specialist_id,)).fetchone()
        if not row:
            raise UnknownSpecialistError(f"no specialist with id {specialist_id!r} (see `micromarket specialists list`)")
        return parse_card(json.loads(row[0]), source=f"card store ({specialist_id})")

    def has(self, specialist_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM specialists WHERE id=?", (specialist_id,)).fetchone() is not None

    def cards(self, ids: set[str] | dict | None = None) -> list[SpecialistCard]:
        """All cards, or only those whose id is in ``ids``."""
        with self._lock:
            rows = self._db.execute("SELECT id, card FROM specialists ORDER BY id").fetchall()
        return [parse_card(json.loads(c), source="card store") for i, c in rows if ids is None or i in ids]

    def rows(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT id, version, fingerprint, source, updated_at FROM specialists ORDER BY id").fetchall()
        return [dict(zip(("id", "version", "fingerprint", "source", "updated_at"), r)) for r in rows]

    def legacy_statuses(self) -> dict[str, tuple[str, str | None]]:
        """``{id: (status, reason)}`` from a card store written before status moved to the ledger, else {}."""
        with self._lock:
            try:
                rows = self._db.execute("SELECT id, status, status_reason FROM specialists").fetchall()
            except Exception:  # noqa: BLE001 - no such column: a current store
                if self._d.in_transaction(self._db):
                    self._db.execute("ROLLBACK")
                return {}
        return {r[0]: (r[1], r[2]) for r in rows}

    def remove(self, specialist_id: str) -> None:
        if not self.has(specialist_id):
            raise UnknownSpecialistError(f"no specialist with id {specialist_id!r} (see `micromarket specialists list`)")
        self._write(
            [
                ("INSERT INTO card_history(id, version, card, fingerprint, event, at) SELECT id, version, card, fingerprint, 'remove', ? FROM specialists WHERE id=?", (time.time(), specialist_id)),
                ("DELETE FROM specialists WHERE id=?", (specialist_id,)),
            ]
        )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM specialists").fetchone()[0]
