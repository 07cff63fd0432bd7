"""The home's stores: what exists, whether it is intact, and backups.

A home keeps a manifest (``stores.json``) of the SQLite stores it has created. Before a store is opened,
:func:`check_store` refuses one that the manifest knows but that is missing, empty (truncated to 0 bytes) or
damaged (``PRAGMA quick_check``), naming the file and the recovery -- nothing stored is silently re-created.
:func:`backup_home` / :func:`restore_home` copy every SQLite store with SQLite's online backup API (safe while
other processes use them); the Chroma index is not copied: it is rebuilt from the card store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from micromarket.errors import InputError, MicromarketError

MANIFEST = "stores.json"
SQLITE_STORES = ("cards.sqlite", "ledger.sqlite", "checkpoints.sqlite", "experience.sqlite", "pins.sqlite")
_HEADER = b"SQLite format 3\x00"


class StoreCorruptError(MicromarketError):
    """A store of the home is missing, truncated or damaged; the message names the file and the recovery."""

    exit_code = 3


def _manifest(home: Path) -> dict:
    try:
        return json.loads((home / MANIFEST).read_text())
    except FileNotFoundError:
        return {"stores": {}}
    except (OSError, ValueError) as e:
        raise StoreCorruptError(f"{home / MANIFEST} is unreadable ({e}); restore it from a backup "
                                f"(`micromarket restore`) or delete it to re-learn which stores exist") from None


def _recovery(home: Path, name: str) -> str:
    return (f"restore the home from a backup (`micromarket restore BACKUP --home {home}`), or move {home / name} "
            f"aside and remove its entry from {home / MANIFEST} to start that store afresh")


def check_store(path: Path) -> None:
    """Refuse a store that existed and is now missing, empty or damaged. A store never created passes."""
    path = Path(path)
    home, name = path.parent, path.name
    known = name in _manifest(home).get("stores", {})
    if not path.exists():
        if known:
            raise StoreCorruptError(f"{path} existed and is gone; micromarket will not re-create it empty. {_recovery(home, name)}")
        return
    size = path.stat().st_size
    if size == 0:
        if known:
            raise StoreCorruptError(f"{path} is empty (0 bytes): it was truncated and its data is lost. {_recovery(home, name)}")
        return  # created by sqlite3.connect a moment ago, never written
    with path.open("rb") as f:
        head = f.read(16)
    if head != _HEADER:
        raise StoreCorruptError(f"{path} is not an SQLite database (damaged header). {_recovery(home, name)}")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            row = con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise StoreCorruptError(f"{path} is damaged ({e}). {_recovery(home, name)}") from None
    if not row or row[0] != "ok":
        raise StoreCorruptError(f"{path} is damaged (quick_check: {row[0] if row else 'no answer'}). {_recovery(home, name)}")


def note_store(path: Path) -> None:
    """Record in the home's manifest that this store exists (idempotent)."""
    path = Path(path)
    man = _manifest(path.parent)
    if path.name in man.setdefault("stores", {}):
        return
    man["stores"][path.name] = {"created_at": time.time()}
    tmp = path.parent / f".{MANIFEST}.{os.getpid()}"
    tmp.write_text(json.dumps(man, indent=1, sort_keys=True))
    os.replace(tmp, path.parent / MANIFEST)


def backup_home(home: Path, dest: Path) -> list[str]:
    """Copy every SQLite store of ``home`` into the new directory ``dest`` (online backup); returns the names."""
    home, dest = Path(home), Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise InputError(f"backup directory {dest} is not empty; choose a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    done = []
    for name in SQLITE_STORES:
        src = home / name
        if not src.exists() or src.stat().st_size == 0:
            continue
        check_store(src)
        with closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)) as s, closing(sqlite3.connect(dest / name)) as d:
            s.backup(d)
        done.append(name)
    if not done:
        raise InputError(f"{home} holds no micromarket stores to back up")
    (dest / MANIFEST).write_text(json.dumps({"stores": {n: {"backed_up_at": time.time()} for n in done}, "from": str(home)}, indent=1))
    return done


def restore_home(src: Path, home: Path, *, force: bool = False) -> list[str]:
    """Copy a backup's stores into ``home`` (online backup into each file). Existing stores need ``force``."""
    src, home = Path(src), Path(home)
    names = [n for n in SQLITE_STORES if (src / n).exists()]
    if not names:
        raise InputError(f"{src} is not a micromarket backup (no {', '.join(SQLITE_STORES)})")
    clash = [n for n in names if (home / n).exists() and (home / n).stat().st_size > 0]
    if clash and not force:
        raise InputError(f"{home} already has {', '.join(clash)}; restoring would replace them: pass --force")
    home.mkdir(parents=True, exist_ok=True)
    for name in names:
        check_store(src / name)
        with closing(sqlite3.connect(f"file:{src / name}?mode=ro", uri=True)) as s, closing(sqlite3.connect(home / name)) as d:
            s.backup(d)
        note_store(home / name)
    return names


__all__ = ["StoreCorruptError", "check_store", "note_store", "backup_home", "restore_home", "SQLITE_STORES"]
