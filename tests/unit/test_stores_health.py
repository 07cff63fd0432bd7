"""Stores that existed are never silently re-created; damage names the file; backups round-trip."""

from __future__ import annotations

import sqlite3

import pytest

from micromarket.errors import InputError
from micromarket.stores import StoreCorruptError, backup_home, check_store, note_store, restore_home


def _store(path, rows=3):
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE IF NOT EXISTS t(x)")
        c.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(rows)])
    c.close()
    note_store(path)


def test_a_new_store_passes_and_a_known_one_truncated_to_zero_is_refused(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    check_store(ledger)  # never created: fine
    _store(ledger)
    check_store(ledger)
    ledger.write_bytes(b"")
    with pytest.raises(StoreCorruptError) as ei:
        check_store(ledger)
    assert str(ledger) in str(ei.value) and "0 bytes" in str(ei.value) and "micromarket restore" in str(ei.value)


def test_a_known_store_that_vanished_is_refused(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    _store(ledger)
    ledger.unlink()
    with pytest.raises(StoreCorruptError, match="existed and is gone"):
        check_store(ledger)


def test_a_half_truncated_store_is_named(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    _store(ledger, rows=5000)
    data = ledger.read_bytes()
    ledger.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreCorruptError) as ei:
        check_store(ledger)
    assert str(ledger) in str(ei.value) and "damaged" in str(ei.value)


def test_garbage_header_is_named(tmp_path):
    cards = tmp_path / "cards.sqlite"
    cards.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreCorruptError, match="not an SQLite database"):
        check_store(cards)


def test_backup_and_restore_round_trip(tmp_path):
    home, bak, new = tmp_path / "home", tmp_path / "bak", tmp_path / "new"
    home.mkdir()
    _store(home / "ledger.sqlite", rows=7)
    _store(home / "cards.sqlite", rows=2)
    assert sorted(backup_home(home, bak)) == ["cards.sqlite", "ledger.sqlite"]
    with pytest.raises(InputError, match="not empty"):
        backup_home(home, bak)
    assert sorted(restore_home(bak, new)) == ["cards.sqlite", "ledger.sqlite"]
    with sqlite3.connect(new / "ledger.sqlite") as c:
        assert c.execute("SELECT count(*) FROM t").fetchone()[0] == 7
    with pytest.raises(InputError, match="--force"):
        restore_home(bak, home)
    (home / "ledger.sqlite").write_bytes(b"")
    restore_home(bak, home, force=True)  # the documented recovery from a truncated ledger
    check_store(home / "ledger.sqlite")
