"""Specialist identities and their status: the one place a specialist's status lives.

Status is one of :data:`STATUSES`: "active" (established), "newcomer" (low
prior, a bounded share of traffic until vetted), "quarantined" (never nominated
or called until a human approves it) and "disabled". Registration, the ledger's
injection quarantine, vetting and on-off demotion, tool-pin drift and human
approval all write it here; discovery, selection and the call check read it here.

An *identity* is what a specialist is, not the id it claims: a new id whose
definition fingerprint or endpoint (command or URL) matches a registered one
joins that identity, inherits its history and shares its status (a
quarantined specialist re-added under a new name comes back quarantined, and
copies compete as one). Removing a specialist keeps its identity row, so a
removed-and-re-added one inherits its status too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from micromarket.errors import InputError

STATUSES = ("active", "newcomer", "quarantined", "disabled")
CALLABLE = ("active", "newcomer")
DEFAULT_STATUS = "active"  # an id never registered here (a probe, a bare ledger): nothing is known against it


def check_status(status: object) -> str:
    if status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    return status  # type: ignore[return-value]


def _identity_key(fingerprint: str | None, endpoint: str | None, specialist_id: str) -> str:
    if not fingerprint and not endpoint:
        return "id:" + specialist_id
    return "def:" + hashlib.sha256(f"{fingerprint or ''}\x00{endpoint or ''}".encode()).hexdigest()[:24]


def status_of(c: Any, specialist_id: str) -> str:
    row = c.execute("SELECT status FROM identities WHERE specialist_id = ?", (specialist_id,)).fetchone()
    return row["status"] if row else DEFAULT_STATUS


def status_since(c: Any, specialist_id: str) -> float:
    row = c.execute("SELECT status_since FROM identities WHERE specialist_id = ?", (specialist_id,)).fetchone()
    return row["status_since"] if row else 0.0


def set_status(c: Any, specialist_id: str, status: str, reason: str | None, now: float) -> None:
    """Set the status of ``specialist_id``'s identity (every id of it), inside the caller's transaction."""
    row = c.execute("SELECT identity FROM identities WHERE specialist_id = ?", (specialist_id,)).fetchone()
    if row is None:
        c.execute(
            "INSERT INTO identities (specialist_id, identity, status, reason, status_since, registered_at)"
            " VALUES (?,?,?,?,?,?)",
            (specialist_id, "id:" + specialist_id, status, reason, now, now),
        )
        return
    c.execute("UPDATE identities SET status=?, reason=?, status_since=? WHERE identity=?",
              (status, reason, now, row["identity"]))


def register(c: Any, specialist_id: str, fingerprint: str | None, endpoint: str | None, status: str,
             now: float) -> dict:
    """Register (or re-register) an id; returns ``{"identity", "status", "inherited_from"}``.

    An id seen before keeps its identity and status (re-adding after removal
    changes nothing). A new id matching a known fingerprint or endpoint joins
    that identity and copies its posteriors; otherwise it is a new identity
    with ``status``.
    """
    fp, ep = fingerprint or None, endpoint or None
    row = c.execute("SELECT * FROM identities WHERE specialist_id=?", (specialist_id,)).fetchone()
    if row is not None:
        c.execute("UPDATE identities SET fingerprint=?, endpoint=?, removed_at=NULL WHERE specialist_id=?",
                  (fp, ep, specialist_id))
        return {"identity": row["identity"], "status": row["status"], "inherited_from": row["inherited_from"]}
    prev = None
    if fp or ep:
        prev = c.execute(
            "SELECT * FROM identities WHERE (fingerprint IS NOT NULL AND fingerprint=?)"
            " OR (endpoint IS NOT NULL AND endpoint=?) ORDER BY registered_at DESC LIMIT 1",
            (fp, ep),
        ).fetchone()
    if prev is None:
        key = _identity_key(fp, ep, specialist_id)
        c.execute(
            "INSERT INTO identities (specialist_id, identity, fingerprint, endpoint, inherited_from, status, reason,"
            " status_since, registered_at) VALUES (?,?,?,?,NULL,?,?,?,?)",
            (specialist_id, key, fp, ep, status, "new identity", now, now),
        )
        return {"identity": key, "status": status, "inherited_from": None}
    src = prev["specialist_id"]
    c.execute(
        "INSERT INTO posteriors (specialist_id, capability, version, alpha, beta, prior_alpha,"
        " prior_beta, rel_ok, rel_fail, succ, fail, errors, timeouts, updated_at)"
        " SELECT CAST(? AS TEXT), capability, version, alpha, beta, prior_alpha, prior_beta, rel_ok, rel_fail,"
        " succ, fail, errors, timeouts, updated_at FROM posteriors WHERE specialist_id=?"
        " ON CONFLICT (specialist_id, capability, version) DO NOTHING",
        (specialist_id, src),
    )
    same = "fingerprint" if fp and prev["fingerprint"] == fp else "endpoint"
    reason = f"inherits the history of {src!r} (same {same})" + (f"; {prev['reason']}" if prev["reason"] else "")
    c.execute(
        "INSERT INTO identities (specialist_id, identity, fingerprint, endpoint, inherited_from, status, reason,"
        " status_since, registered_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (specialist_id, prev["identity"], fp, ep, src, prev["status"], reason, prev["status_since"], now),
    )
    return {"identity": prev["identity"], "status": prev["status"], "inherited_from": src}


def mark_removed(c: Any, specialist_id: str, now: float) -> None:
    c.execute("UPDATE identities SET removed_at=? WHERE specialist_id=?", (now, specialist_id))


def registered(c: Any, ids: Iterable[str] | None = None) -> dict[str, dict]:
    """``{id: {"status", "reason", "identity"}}`` for registered (not removed) ids, optionally only ``ids``."""
    rows = c.execute("SELECT specialist_id, status, reason, identity FROM identities WHERE removed_at IS NULL").fetchall()
    want = None if ids is None else set(ids)
    return {r["specialist_id"]: {"status": r["status"], "reason": r["reason"], "identity": r["identity"]}
            for r in rows if want is None or r["specialist_id"] in want}
