"""Tool-definition pins: rug-pull detection (trust on first use, then any change quarantines).

At a specialist's first connection the full definition of every tool it lists
(name, title, description, inputSchema, outputSchema, annotations) is scanned for
poisoning and pinned as a canonical SHA-256 (sorted keys: reordering JSON keys is
not a change). At every later connection, and whenever the server sends
``notifications/tools/list_changed``, the live definitions are compared with the
pins. A changed, added or removed tool *holds* the specialist: its status is set
to quarantined in the trust ledger (where status lives, capability_index/identities.py),
so it is no longer nominated and every call fails with
:class:`micromarket.errors.QuarantinedError`, until a human runs
``micromarket specialists approve ID``, which pins the definitions last seen and
restores the status it had before the hold.

The pins live in their own SQLite file (``<home>/pins.sqlite``). Every event
(pin, drift, poisoning, approve) is appended to ``pin_events``: history is kept;
a hold records why and the status to restore. A read error on the pin store fails
closed: the call is refused.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from micromarket.capability_index.cards import canonical_hash
from micromarket.capability_index.security import (
    PoisonedSpecialistError, describe, other_tool_names, reason_of, scan_text, scan_tool, tool_definition,
)
from micromarket.errors import QuarantinedError

log = logging.getLogger("micromarket.pins")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pins (
    specialist_id TEXT NOT NULL, tool TEXT NOT NULL, hash TEXT NOT NULL, definition TEXT NOT NULL,
    approved INTEGER NOT NULL DEFAULT 0, pinned_at REAL NOT NULL,
    PRIMARY KEY (specialist_id, tool)
);
CREATE TABLE IF NOT EXISTS observed (
    specialist_id TEXT NOT NULL, tool TEXT NOT NULL, hash TEXT NOT NULL, definition TEXT NOT NULL, seen_at REAL NOT NULL,
    PRIMARY KEY (specialist_id, tool)
);
CREATE TABLE IF NOT EXISTS holds (
    specialist_id TEXT PRIMARY KEY, reason TEXT NOT NULL, prior_status TEXT, since REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pin_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, specialist_id TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL, at REAL NOT NULL
);
"""


class PinStoreError(QuarantinedError):
    """The pin store cannot be read: calls are refused (fail closed)."""


def definition_hash(tool: Any) -> str:
    """Canonical hash of a tool's full definition; key order is irrelevant."""
    return canonical_hash(tool_definition(tool))


class PinStore:
    """SQLite pins per (specialist, tool), holds, and an append-only event history."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: survives a process crash; commits need no fsync
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as e:
            raise PinStoreError(f"cannot open the tool-pin store {self.path}: {e}; specialist calls are refused until it is readable") from None

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                pass

    # -- plumbing: every read and write fails closed
    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise PinStoreError(f"cannot read the tool-pin store {self.path}: {e}; calls are refused (fail closed)") from None

    def _tx(self, ops: list[tuple[str, tuple]]) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for sql, args in ops:
                        self._db.execute(sql, args)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                raise PinStoreError(f"cannot write the tool-pin store {self.path}: {e}; calls are refused (fail closed)") from None

    @staticmethod
    def _event(sid: str, event: str, detail: dict) -> tuple[str, tuple]:
        return ("INSERT INTO pin_events (specialist_id, event, detail, at) VALUES (?,?,?,?)",
                (sid, event, json.dumps(detail, sort_keys=True, default=str, ensure_ascii=False), time.time()))

    # -- reads
    def check_readable(self) -> None:
        """Raise PinStoreError if the pin store cannot be read (the call check fails closed)."""
        self._q("SELECT 1 FROM pins LIMIT 1")

    def pins(self, sid: str) -> dict[str, str]:
        return dict(self._q("SELECT tool, hash FROM pins WHERE specialist_id=?", (sid,)))

    def approved_hashes(self, sid: str) -> set[str]:
        return {r[0] for r in self._q("SELECT hash FROM pins WHERE specialist_id=? AND approved=1", (sid,))}

    def hold(self, sid: str) -> dict | None:
        rows = self._q("SELECT reason, prior_status, since FROM holds WHERE specialist_id=?", (sid,))
        return dict(zip(("reason", "prior_status", "since"), rows[0])) if rows else None

    # -- writes
    def set_hold(self, sid: str, reason: str, prior_status: str | None, event: str, detail: dict) -> None:
        self._tx([
            ("INSERT INTO holds (specialist_id, reason, prior_status, since) VALUES (?,?,?,?) ON CONFLICT(specialist_id) "
             "DO UPDATE SET reason=excluded.reason", (sid, reason, prior_status, time.time())),
            self._event(sid, event, {"reason": reason, **detail}),
        ])

    def observe(self, sid: str, tools: list[Any]) -> dict[str, tuple[str, dict]]:
        """Record the definitions just seen (unless they are exactly the pins); returns {tool: (hash, definition)}."""
        seen = {}
        for t in tools:
            d = tool_definition(t)
            seen[str(d.get("name"))] = (canonical_hash(d), d)
        pinned = self.pins(sid)
        if pinned and pinned == {n: h for n, (h, _) in seen.items()}:
            return seen  # the common case: no write at all
        now = time.time()
        ops = [("DELETE FROM observed WHERE specialist_id=?", (sid,))]
        ops += [("INSERT INTO observed VALUES (?,?,?,?,?)", (sid, n, h, json.dumps(d, sort_keys=True), now)) for n, (h, d) in seen.items()]
        self._tx(ops)
        return seen

    def pin(self, sid: str, seen: dict[str, tuple[str, dict]], *, approved: bool = False, event: str = "pin", detail: dict | None = None) -> None:
        now = time.time()
        ops = [("DELETE FROM pins WHERE specialist_id=?", (sid,))]
        ops += [("INSERT INTO pins VALUES (?,?,?,?,?,?)", (sid, n, h, json.dumps(d, sort_keys=True), int(approved), now)) for n, (h, d) in seen.items()]
        ops.append(self._event(sid, event, {"tools": {n: h for n, (h, _) in seen.items()}, **(detail or {})}))
        self._tx(ops)

    def approve(self, sid: str, by: str = "cli") -> dict:
        """Pin the definitions last seen (approved) and lift the hold. Returns the hold that was lifted."""
        rows = self._q("SELECT tool, hash, definition FROM observed WHERE specialist_id=?", (sid,))
        held = self.hold(sid)
        seen = {t: (h, json.loads(d)) for t, h, d in rows}
        ops = [("DELETE FROM holds WHERE specialist_id=?", (sid,))]
        if seen:
            now = time.time()
            ops.append(("DELETE FROM pins WHERE specialist_id=?", (sid,)))
            ops += [("INSERT INTO pins VALUES (?,?,?,?,?,?)", (sid, n, h, json.dumps(d, sort_keys=True), 1, now)) for n, (h, d) in seen.items()]
        ops.append(self._event(sid, "approve", {"by": by, "tools": {n: h for n, (h, _) in seen.items()}, "lifted": held}))
        self._tx(ops)
        return held or {}


def diff(pinned: dict[str, str], seen: dict[str, tuple[str, dict]]) -> dict[str, list[str]]:
    changed = sorted(n for n in pinned if n in seen and seen[n][0] != pinned[n])
    added = sorted(n for n in seen if n not in pinned)
    removed = sorted(n for n in pinned if n not in seen)
    return {"changed": changed, "added": added, "removed": removed}


class PinGuard:
    """Checks live tool lists against pins and the scanner; quarantines on drift or poisoning.

    ``ledger`` (TrustLedger) holds the status: the call check reads it, a hold
    writes "quarantined" to it and approval restores the previous status.
    ``store`` (CardStore) gives the other specialists' tool names (shadowing checks).
    """

    def __init__(self, pins: PinStore, store: Any = None, ledger: Any = None):
        self.pins = pins
        self.store = store
        self.ledger = ledger

    def check_callable(self, sid: str) -> None:
        """Raise QuarantinedError unless the specialist's status allows calls (or the pin store is unreadable)."""
        self.pins.check_readable()
        if self.ledger is None:
            held = self.pins.hold(sid)
            status, reason = ("quarantined", held["reason"]) if held else ("active", None)
        else:
            info = self.ledger.status_info(sid) or {"status": "active", "reason": None}  # one read per call
            status, reason = info["status"], info["reason"]
        if status in ("quarantined", "disabled"):
            raise QuarantinedError(
                f"specialist {sid!r} is {status}: {reason or 'no reason recorded'}. Calls are refused until a human "
                f"reviews it: `micromarket specialists approve {sid}`"
            )

    def _quarantine(self, sid: str, reason: str, event: str, detail: dict) -> None:
        prior = self.ledger.status(sid) if self.ledger is not None else None
        if prior == "quarantined":
            prior = (self.pins.hold(sid) or {}).get("prior_status")
        self.pins.set_hold(sid, reason, prior, event, detail)
        log.warning("quarantined specialist %s: %s", sid, reason)
        if self.ledger is not None:
            self.ledger.set_status(sid, "quarantined", reason[:500])

    def verify(self, sid: str, tools: list[Any], *, instructions: str | None = None, source: str = "connect") -> None:
        """Scan and compare a live tool list. First sight pins it; a change or poisoning quarantines (raises)."""
        self.check_callable(sid)
        seen = self.pins.observe(sid, tools)
        pinned = self.pins.pins(sid)
        approved = self.pins.approved_hashes(sid)
        others: list[str] = []
        if self.store is not None:
            try:
                others = other_tool_names(self.store.cards(), exclude=sid)
            except Exception:  # noqa: BLE001
                others = []
        own = [sid] + list(seen)
        try:
            findings = []
            for t in tools:
                if definition_hash(t) in approved:
                    continue  # a human approved exactly this definition
                findings += scan_tool(t, other_tools=others, own_names=own)
            if instructions and not approved:
                findings += scan_text(instructions, "server instructions", other_tools=others, own_names=own)
        except PoisonedSpecialistError as e:
            findings = list(e.findings) or []
            reason = f"tool poisoning: {e}"
            self._quarantine(sid, reason, "poisoned", {"source": source})
            raise QuarantinedError(f"specialist {sid!r} quarantined at {source}: {reason}") from None
        if findings:
            reason = reason_of(findings)
            self._quarantine(sid, reason, "poisoned", {"source": source, "findings": [str(f) for f in findings[:20]]})
            raise QuarantinedError(
                f"specialist {sid!r} quarantined at {source}: its tool definitions carry hidden instructions:\n{describe(findings)}\n"
                f"Review it, then `micromarket specialists approve {sid}`"
            )
        if not pinned:
            self.pins.pin(sid, seen, detail={"source": source})
            return
        d = diff(pinned, seen)
        if any(d.values()):
            parts = [f"{k}: {', '.join(v)}" for k, v in d.items() if v]
            reason = f"tool definitions changed since they were pinned ({'; '.join(parts)}; seen at {source})"
            self._quarantine(sid, reason, "drift", {"source": source, **d,
                                                    "new": {n: seen[n][0] for n in d["changed"] + d["added"]},
                                                    "old": {n: pinned[n] for n in d["changed"] + d["removed"]}})
            raise QuarantinedError(
                f"specialist {sid!r} quarantined: {reason} (a possible rug pull). Calls are refused until "
                f"`micromarket specialists approve {sid}`"
            )

    def approve(self, sid: str) -> str:
        """Lift the hold, pin the definitions last seen, restore the status before the quarantine.

        Returns the status now. A quarantine with no pin hold (an injection found in an
        output) is lifted to "newcomer": the specialist must be vetted again.
        """
        held = self.pins.approve(sid)
        if self.ledger is None:
            return "active"
        status = self.ledger.status(sid)
        if status == "quarantined":
            status = held.get("prior_status") if held.get("prior_status") in ("active", "newcomer") else "newcomer"
            self.ledger.set_status(sid, status, "approved by a human after review")
        return status


_guards: dict[str, PinGuard] = {}
_glock = threading.Lock()


def guard_for(svc: Any) -> PinGuard:
    """The PinGuard of a Services object (one per data directory and process)."""
    key = str(Path(svc.settings.home).resolve())
    with _glock:
        g = _guards.get(key)
        if g is None or g.store is not svc.store:
            g = _guards[key] = PinGuard(PinStore(svc.sqlite_path("pins.sqlite")), svc.store, svc.ledger)
        return g


def drop_guard(home: str | Path) -> None:
    with _glock:
        g = _guards.pop(str(Path(home).resolve()), None)
    if g is not None:
        g.pins.close()
