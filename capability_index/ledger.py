"""Trust ledger: evidence, Beta posteriors, identities, runs and routing records in SQLite (WAL) or PostgreSQL.

The target is an SQLite path (the embedded default) or a ``postgresql://`` URL
(one shared ledger for many orchestrator processes); :mod:`capability_index.sql`
hides what differs (placeholders, types, write locking, retried errors), so the
ledger logic below is written once.

Safe for several threads (one connection behind a lock) and several processes:
every update is one short write transaction, one writer at a time (SQLite:
WAL, ``busy_timeout``, ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level
advisory lock), with a retry loop on SQLITE_BUSY / serialization failures /
lock timeouts / a dropped PostgreSQL connection.

Evidence is idempotent: it is keyed by (run_id, subtask_id, specialist_id,
capability, kind); a replay changes nothing and returns False. The math lives in
:mod:`capability_index.trust`.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from micromarket.capability_index import trust as T
from micromarket.capability_index.sql import dialect_for
from micromarket.errors import InputError, UnknownRunError, UnknownSpecialistError

DAY = 86400.0

# types in braces come from the dialect (capability_index.sql); {ROW_SEQ} gives PostgreSQL an insertion order
_SCHEMA = """
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
    status TEXT NOT NULL, reason TEXT, status_since {REAL} NOT NULL, registered_at {REAL} NOT NULL
);
CREATE INDEX IF NOT EXISTS identities_fp ON identities (fingerprint);
CREATE INDEX IF NOT EXISTS identities_ep ON identities (endpoint);
"""

ROUTING_OUTCOMES = ("ok", "error", "timeout", "unsupported", "skipped")
_MAX_ID = 512


def _check_id(name: str, v: object, *, allow_empty: bool = False) -> str:
    if not isinstance(v, str):
        raise InputError(f"{name} must be a string, got {type(v).__name__}")
    if (not v and not allow_empty) or len(v) > _MAX_ID or "\x00" in v:
        raise InputError(f"{name} must be a non-empty string of at most {_MAX_ID} characters without NUL")
    return v


class TrustLedger:
    """The trust ledger on SQLite or PostgreSQL. See the module docstring.

    Parameters
    ----------
    path: the SQLite file (created with its parent directory); ":memory:" for a private one;
        or a ``postgresql://user@host:5432/db`` URL (tables created on first use).
    half_life_days: evidence half-life for decay towards the prior (None or 0: no decay).
    penalty: multiplier on negative accuracy evidence (trust falls fast, recovers slowly).
    vet_n: verified successes a newcomer needs (with posterior mean ≥ vet_min_mean) to become active.
    window: how many recent verified outcomes the on-off detector looks at.
    clock: time source (seconds), injectable for tests and simulations.
    decay_step_s: decay is applied in whole steps of this many seconds (default one day).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        half_life_days: float | None = 30.0,
        penalty: float = T.DEFAULT_PENALTY,
        vet_n: int = 5,
        vet_min_mean: float = 0.6,
        window: int = 10,
        version_carry: float = 0.5,
        clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 30.0,
        decay_step_s: float = DAY,
    ):
        self._d = dialect_for(path, timeout_s=busy_timeout_s, lock_name="micromarket.ledger")
        self.path = self._d.target
        self.backend = self._d.name  # "sqlite" or "postgresql"
        self.half_life_s = half_life_days * DAY if half_life_days else None
        self.penalty = float(penalty)
        self.vet_n = int(vet_n)
        self.vet_min_mean = float(vet_min_mean)
        self.window = int(window)
        self.version_carry = float(version_carry)
        self.clock = clock
        self.decay_step_s = float(decay_step_s)
        self.busy_timeout_s = float(busy_timeout_s)
        self._lock = threading.RLock()
        self._conn: Any = self._d.connect()  # Any or sql.PgConnection
        self._retry(self._init_db)

    # ------------------------------------------------------------------ plumbing

    def _init_db(self) -> None:
        c = self._c
        self._d.begin_write(c)  # also serialises concurrent CREATE TABLEs on PostgreSQL
        try:
            for stmt in self._d.ddl(_SCHEMA):
                c.execute(stmt)
            c.execute("COMMIT")
        except BaseException:
            if self._d.in_transaction(c):
                c.execute("ROLLBACK")
            raise

    @property
    def _c(self) -> Any:
        """The connection: ``Any``, or a psycopg one taking ``?`` placeholders."""
        if self._conn is None:
            raise InputError("the trust ledger is closed")
        return self._conn

    def _retry(self, fn: Callable[[], Any], *, deadline_s: float | None = None) -> Any:
        """Run ``fn`` under the lock, retrying transient errors (SQLITE_BUSY, serialization
        failures, lock timeouts, a dropped server connection) with jittered backoff."""
        deadline = time.monotonic() + (deadline_s or self.busy_timeout_s * 4)
        delay = 0.005
        while True:
            with self._lock:
                try:
                    return fn()
                except Exception as e:
                    if self._conn is None or not self._d.is_retryable(e) or time.monotonic() > deadline:
                        raise
                    self._recover()
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.25)

    def _recover(self) -> None:
        """After a retryable error: roll back, or reconnect if the connection is gone."""
        c = self._c
        try:
            if self._d.is_broken(c):
                self._conn = self._d.connect()
            elif self._d.in_transaction(c):
                c.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - the retry reports the real error if it persists
            pass

    def _tx(self, fn: Callable[[Any], Any]) -> Any:
        """One write transaction (one writer at a time, see :mod:`capability_index.sql`), retried."""

        def run():
            c = self._c
            self._d.begin_write(c)
            try:
                out = fn(c)
                c.execute("COMMIT")
                return out
            except BaseException:
                if not self._d.is_broken(c) and self._d.in_transaction(c):
                    c.execute("ROLLBACK")
                raise

        return self._retry(run)

    def _read(self, fn: Callable[[Any], Any]) -> Any:
        return self._retry(lambda: fn(self._c))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def __enter__(self) -> TrustLedger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ posteriors

    def _status_of(self, c: Any, specialist_id: str) -> str:
        row = c.execute("SELECT status FROM identities WHERE specialist_id = ?", (specialist_id,)).fetchone()
        return row["status"] if row else "active"

    def _decayed(self, row: Any, now: float) -> tuple[float, float, float, float]:
        f = T.decay_factor(self._elapsed(row["updated_at"], now), self.half_life_s)
        a, b = T.decay_counts(row["alpha"], row["beta"], f, row["prior_alpha"], row["prior_beta"])
        return a, b, row["rel_ok"] * f, row["rel_fail"] * f

    def _elapsed(self, then: float, now: float) -> float:
        """Seconds of decay between two instants, quantised to whole ``decay_step_s`` steps.

        Updates within one step (a UTC day by default) never decay each other, so
        counts stay exact under bursts of concurrent updates; each step boundary
        crossed applies one step of decay.
        """
        step = self.decay_step_s
        if step <= 0:
            return max(0.0, now - then)
        return max(0, math.floor(now / step) - math.floor(then / step)) * step

    def _to_posterior(self, row: Any | None, now: float, status: str) -> T.Posterior:
        if row is None:
            return T.prior(status)
        a, b, ok, fail = self._decayed(row, now)
        return T.make_posterior(a, b, rel_ok=ok, rel_fail=fail, prior_alpha=row["prior_alpha"], prior_beta=row["prior_beta"])

    def _posterior(self, c: Any, sid: str, cap: str, version: str | None, now: float) -> T.Posterior:
        status = self._status_of(c, sid)
        agg = c.execute(
            "SELECT * FROM posteriors WHERE specialist_id=? AND capability=? AND version=''", (sid, cap)
        ).fetchone()
        p = self._to_posterior(agg, now, status)
        if not version:
            return p
        vrow = c.execute(
            "SELECT * FROM posteriors WHERE specialist_id=? AND capability=? AND version=?", (sid, cap, version)
        ).fetchone()
        # A version's posterior: its own evidence plus a share (version_carry) of the
        # evidence earned by other versions. A new version has to re-earn part of its trust.
        pa, pb = p.prior_alpha, p.prior_beta
        own_a = own_b = own_ok = own_fail = 0.0
        if vrow is not None:
            va, vb, own_ok, own_fail = self._decayed(vrow, now)
            own_a, own_b = va - vrow["prior_alpha"], vb - vrow["prior_beta"]
        other_a = max(0.0, p.alpha - pa - own_a)
        other_b = max(0.0, p.beta - pb - own_b)
        k = self.version_carry
        a = pa + own_a + k * other_a
        b = pb + own_b + k * other_b
        return T.make_posterior(a, b, rel_ok=own_ok, rel_fail=own_fail, prior_alpha=pa, prior_beta=pb)

    def posterior(self, specialist_id: str, capability: str, version: str | None = None) -> T.Posterior:
        """The Beta posterior for a specialist × capability (× version), decayed to now."""
        _check_id("specialist_id", specialist_id)
        _check_id("capability", capability)
        now = self.clock()
        return self._read(lambda c: self._posterior(c, specialist_id, capability, version, now))

    def posteriors(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], T.Posterior]:
        """Posteriors for several (specialist_id, capability) pairs, in one read."""
        pairs = list(dict.fromkeys((str(s), str(c)) for s, c in pairs))
        now = self.clock()

        def read(c):
            return {(s, cap): self._posterior(c, s, cap, None, now) for s, cap in pairs}

        return self._read(read)

    def fill(self, candidates: Iterable[T.Candidate]) -> list[T.Candidate]:
        """Set each candidate's ``posterior`` (per version when given) and ``status`` from the ledger."""
        cands = list(candidates)
        now = self.clock()

        def read(c):
            for x in cands:
                x.status = self._status_of(c, x.specialist_id)
                x.posterior = self._posterior(c, x.specialist_id, x.capability, x.version or None, now)
            return cands

        return self._read(read)

    # ------------------------------------------------------------------ evidence

    def record_evidence(
        self,
        *,
        run_id: str,
        subtask_id: str,
        specialist_id: str,
        capability: str,
        kind: str,
        success: bool,
        weight: float | None = None,
        note: str | None = None,
        version: str | None = None,
        confidence: float | None = None,
    ) -> bool:
        """Record one piece of evidence atomically; False (and nothing counted) on a replay.

        ``confidence`` is the specialist's self-reported confidence for that answer:
        it is never trust evidence, only stored for calibration (verified kinds).
        """
        _check_id("run_id", run_id)
        _check_id("subtask_id", subtask_id, allow_empty=True)
        _check_id("specialist_id", specialist_id)
        _check_id("capability", capability)
        T.check_kind(kind)
        if not isinstance(success, bool):
            raise InputError(f"success must be true or false, got {success!r}")
        w = T.EVIDENCE_WEIGHTS[kind] if weight is None else T.check_weight(weight)
        if confidence is not None:
            confidence = T.check_unit("confidence", confidence)
        version = _check_id("version", version or "", allow_empty=True)
        if note is not None and not isinstance(note, str):
            raise InputError("note must be a string")
        note = note[:2000] if note else note
        da, db, dok, dfail = T.evidence_delta(kind, success, w, penalty=self.penalty)
        ok_raw = success and kind != "injection"

        def apply(c: Any) -> bool:
            now = self.clock()
            cur = c.execute(
                "INSERT INTO evidence (run_id, subtask_id, specialist_id, capability, kind, success, weight,"
                " version, confidence, note, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                (run_id, subtask_id, specialist_id, capability, kind, int(ok_raw), w, version, confidence, note, now),
            )
            if cur.rowcount == 0:
                return False
            status = self._status_of(c, specialist_id)
            counted = kind in T.VERIFIED_KINDS or kind == "injection"
            for ver in ([""] + ([version] if version else [])):
                self._bump(c, specialist_id, capability, ver, status, now, da, db, dok, dfail,
                           succ=int(counted and ok_raw), fail=int(counted and not ok_raw),
                           err=int(kind == "error"), tmo=int(kind == "timeout"))
            if kind == "injection":
                self._set_status(c, specialist_id, "quarantined", f"prompt injection in run {run_id}", now)
            elif counted:
                self._after_verified(c, specialist_id, capability, status, now)
            return True

        return self._tx(apply)

    def _bump(self, c, sid, cap, ver, status, now, da, db, dok, dfail, *, succ, fail, err, tmo) -> None:
        row = c.execute(
            "SELECT * FROM posteriors WHERE specialist_id=? AND capability=? AND version=?", (sid, cap, ver)
        ).fetchone()
        if row is None:
            p0 = T.prior(status)
            a, b, ok, fl = p0.alpha, p0.beta, 0.0, 0.0
            pa, pb = p0.prior_alpha, p0.prior_beta
        else:
            a, b, ok, fl = self._decayed(row, now)
            pa, pb = row["prior_alpha"], row["prior_beta"]
        c.execute(
            "INSERT INTO posteriors (specialist_id, capability, version, alpha, beta, prior_alpha, prior_beta,"
            " rel_ok, rel_fail, succ, fail, errors, timeouts, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (specialist_id, capability, version) DO UPDATE SET alpha=excluded.alpha, beta=excluded.beta,"
            " rel_ok=excluded.rel_ok, rel_fail=excluded.rel_fail, succ=posteriors.succ+excluded.succ,"
            " fail=posteriors.fail+excluded.fail, errors=posteriors.errors+excluded.errors,"
            " timeouts=posteriors.timeouts+excluded.timeouts, updated_at=excluded.updated_at",
            (sid, cap, ver, a + da, b + db, pa, pb, ok + dok, fl + dfail, succ, fail, err, tmo, now),
        )

    def _after_verified(self, c, sid: str, cap: str, status: str, now: float) -> None:
        """Vet newcomers; demote a specialist whose recent outcomes collapse (on-off attack)."""
        kinds = tuple(sorted(T.VERIFIED_KINDS | {"injection"}))
        qmarks = ",".join("?" * len(kinds))
        if status == "newcomer":
            since = c.execute("SELECT status_since FROM identities WHERE specialist_id=?", (sid,)).fetchone()
            since_ts = since["status_since"] if since else 0.0
            n_ok = c.execute(
                f"SELECT COUNT(*) FROM evidence WHERE specialist_id=? AND success=1 AND kind IN ({qmarks})"
                " AND created_at >= ?",
                (sid, *kinds, since_ts),
            ).fetchone()[0]
            if n_ok >= self.vet_n:
                p = self._posterior(c, sid, cap, None, now)
                if p.mean >= self.vet_min_mean:
                    self._set_status(c, sid, "active", f"vetted after {n_ok} verified successes", now)
            return
        if status != "active":
            return
        recent = c.execute(
            f"SELECT success FROM evidence WHERE specialist_id=? AND capability=? AND kind IN ({qmarks})"
            f" ORDER BY created_at DESC, {self._d.rowid} DESC LIMIT ?",
            (sid, cap, *kinds, self.window),
        ).fetchall()
        recent_ok = [bool(r[0]) for r in recent]
        if len(recent_ok) < 3:
            return
        row = c.execute(
            "SELECT succ, fail FROM posteriors WHERE specialist_id=? AND capability=? AND version=''", (sid, cap)
        ).fetchone()
        succ = row["succ"] - sum(recent_ok)
        fail = row["fail"] - (len(recent_ok) - sum(recent_ok))
        if succ + fail < self.window:  # not enough history to call it a collapse
            return
        if T.sudden_drop(recent_ok, succ, fail):
            n_bad = len(recent_ok) - sum(recent_ok)
            self._set_status(
                c, sid, "newcomer",
                f"demoted: {n_bad} failures in the last {len(recent_ok)} verified outcomes on {cap}, "
                f"far above its record ({succ} ok / {fail} failed); must be vetted again",
                now,
            )

    # ------------------------------------------------------------------ identities and status

    def _set_status(self, c, sid: str, status: str, reason: str | None, now: float) -> None:
        c.execute(
            "INSERT INTO identities (specialist_id, status, reason, status_since, registered_at) VALUES (?,?,?,?,?)"
            " ON CONFLICT (specialist_id) DO UPDATE SET status=excluded.status, reason=excluded.reason,"
            " status_since=excluded.status_since",
            (sid, status, reason, now, now),
        )

    def set_status(self, specialist_id: str, status: str, reason: str | None = None) -> None:
        """Set "active", "newcomer" or "quarantined" (quarantined specialists are never ranked)."""
        _check_id("specialist_id", specialist_id)
        if status not in T.STATUSES:
            raise InputError(f"status must be one of {', '.join(T.STATUSES)}, got {status!r}")
        if reason is not None and not isinstance(reason, str):
            raise InputError("reason must be a string")
        self._tx(lambda c: self._set_status(c, specialist_id, status, reason, self.clock()))

    def status(self, specialist_id: str) -> str:
        """Current status; "active" for a specialist never registered here (e.g. a built-in)."""
        _check_id("specialist_id", specialist_id)
        return self._read(lambda c: self._status_of(c, specialist_id))

    def status_info(self, specialist_id: str) -> dict | None:
        row = self._read(
            lambda c: c.execute("SELECT * FROM identities WHERE specialist_id=?", (specialist_id,)).fetchone()
        )
        return dict(row) if row else None

    def register_identity(
        self, specialist_id: str, fingerprint: str | None, endpoint: str | None, *, status: str = "newcomer"
    ) -> str | None:
        """Register an identity; returns the id whose history it inherits, or None.

        Whitewashing defence: a new id whose definition ``fingerprint`` or
        ``endpoint`` matches an identity already registered inherits that
        identity's posteriors and status (a quarantined specialist stays
        quarantined under a new name). A genuinely new identity gets ``status``
        (default "newcomer": low prior, capped traffic until vetted).
        Re-registering an existing id updates its fingerprint and endpoint.
        """
        _check_id("specialist_id", specialist_id)
        if status not in T.STATUSES:
            raise InputError(f"status must be one of {', '.join(T.STATUSES)}, got {status!r}")
        fp = fingerprint or None
        ep = endpoint or None

        def apply(c):
            now = self.clock()
            row = c.execute("SELECT * FROM identities WHERE specialist_id=?", (specialist_id,)).fetchone()
            if row is not None and row["registered_at"] is not None and (row["fingerprint"] or row["endpoint"]):
                c.execute(
                    "UPDATE identities SET fingerprint=?, endpoint=? WHERE specialist_id=?", (fp, ep, specialist_id)
                )
                return row["inherited_from"]
            prev = None
            if fp or ep:
                prev = c.execute(
                    "SELECT * FROM identities WHERE specialist_id != ? AND ((fingerprint IS NOT NULL AND fingerprint=?)"
                    " OR (endpoint IS NOT NULL AND endpoint=?)) ORDER BY registered_at DESC LIMIT 1",
                    (specialist_id, fp, ep),
                ).fetchone()
            if prev is None:
                st = row["status"] if row is not None else status
                reason = row["reason"] if row is not None else "new identity"
                c.execute(
                    "INSERT INTO identities (specialist_id, fingerprint, endpoint, inherited_from, status, reason,"
                    " status_since, registered_at) VALUES (?,?,?,NULL,?,?,?,?) ON CONFLICT (specialist_id) DO UPDATE"
                    " SET fingerprint=excluded.fingerprint, endpoint=excluded.endpoint",
                    (specialist_id, fp, ep, st, reason, now, now),
                )
                return None
            src = prev["specialist_id"]
            c.execute(
                "INSERT INTO posteriors (specialist_id, capability, version, alpha, beta, prior_alpha,"
                " prior_beta, rel_ok, rel_fail, succ, fail, errors, timeouts, updated_at)"
                " SELECT CAST(? AS TEXT), capability, version, alpha, beta, prior_alpha, prior_beta, rel_ok, rel_fail,"
                " succ, fail, errors, timeouts, updated_at FROM posteriors WHERE specialist_id=?"
                " ON CONFLICT (specialist_id, capability, version) DO UPDATE SET alpha=excluded.alpha,"
                " beta=excluded.beta, prior_alpha=excluded.prior_alpha, prior_beta=excluded.prior_beta,"
                " rel_ok=excluded.rel_ok, rel_fail=excluded.rel_fail, succ=excluded.succ, fail=excluded.fail,"
                " errors=excluded.errors, timeouts=excluded.timeouts, updated_at=excluded.updated_at",
                (specialist_id, src),
            )
            c.execute(
                "INSERT INTO identities (specialist_id, fingerprint, endpoint, inherited_from, status, reason,"
                " status_since, registered_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (specialist_id) DO UPDATE SET"
                " fingerprint=excluded.fingerprint, endpoint=excluded.endpoint, inherited_from=excluded.inherited_from,"
                " status=excluded.status, reason=excluded.reason, status_since=excluded.status_since,"
                " registered_at=excluded.registered_at",
                (specialist_id, fp, ep, src, prev["status"],
                 f"inherits the history of {src!r} (same {'fingerprint' if fp and prev['fingerprint'] == fp else 'endpoint'})"
                 + (f"; {prev['reason']}" if prev["reason"] else ""),
                 prev["status_since"], now),
            )
            return src

        return self._tx(apply)

    # ------------------------------------------------------------------ runs and routing

    def record_run(self, run_id: str, task: str, result: dict) -> None:
        _check_id("run_id", run_id)
        if not isinstance(task, str):
            raise InputError("task must be a string")
        if not isinstance(result, dict):
            raise InputError("result must be a mapping")
        payload = json.dumps(result, default=str, ensure_ascii=False)
        self._tx(
            lambda c: c.execute(
                "INSERT INTO runs (run_id, task, result, created_at) VALUES (?,?,?,?) ON CONFLICT (run_id) DO UPDATE"
                " SET task=excluded.task, result=excluded.result, created_at=excluded.created_at",
                (run_id, task, payload, self.clock()),
            )
        )

    def get_run(self, run_id: str) -> dict | None:
        if not isinstance(run_id, str):
            return None
        row = self._read(lambda c: c.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone())
        if row is None:
            return None
        return {"run_id": row["run_id"], "task": row["task"], "result": json.loads(row["result"]), "created_at": row["created_at"]}

    def record_routing(self, record: dict) -> None:
        """Store one routing decision (keys: see the module docs; extra keys are kept)."""
        if not isinstance(record, dict):
            raise InputError("routing record must be a mapping")
        _check_id("run_id", record.get("run_id"))
        outcome = record.get("outcome")
        if outcome is not None and outcome not in ROUTING_OUTCOMES:
            raise InputError(f"routing outcome must be one of {', '.join(ROUTING_OUTCOMES)}, got {outcome!r}")
        payload = json.dumps(record, default=str, ensure_ascii=False)
        sub = record.get("subtask_id")
        self._tx(
            lambda c: c.execute(
                "INSERT INTO routing (run_id, subtask_id, specialist_id, capability, outcome, record, created_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (record["run_id"], None if sub is None else str(sub), record.get("specialist_id"),
                 record.get("capability"), outcome, payload, self.clock()),
            )
        )

    def routing_records(self, run_id: str | None = None, specialist_id: str | None = None, limit: int = 50) -> list[dict]:
        """Most recent routing records first, optionally for one run and/or one specialist."""
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1 or limit > 100_000:
            raise InputError(f"limit must be an integer in [1, 100000], got {limit!r}")
        where, args = [], []
        if run_id is not None:
            where.append("run_id = ?")
            args.append(run_id)
        if specialist_id is not None:
            where.append("specialist_id = ?")
            args.append(specialist_id)
        sql = "SELECT record, created_at FROM routing" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY id DESC LIMIT ?"
        rows = self._read(lambda c: c.execute(sql, (*args, limit)).fetchall())
        out = []
        for r in rows:
            d = json.loads(r["record"])
            d.setdefault("created_at", r["created_at"])
            out.append(d)
        return out

    # ------------------------------------------------------------------ feedback

    def _feedback_targets(self, run_id: str, subtask_id: str | None) -> list[dict]:
        recs = list(reversed(self.routing_records(run_id=run_id, limit=100_000)))
        targets: dict[tuple[str, str, str], dict] = {}
        for r in recs:
            if not r.get("chosen") or not r.get("specialist_id") or not r.get("capability"):
                continue
            if r.get("outcome") not in (None, "ok"):
                continue
            sub = "" if r.get("subtask_id") is None else str(r.get("subtask_id"))
            targets[(sub, r["specialist_id"], r["capability"])] = {
                "subtask_id": sub, "specialist_id": r["specialist_id"], "capability": r["capability"],
                "version": r.get("version") or None, "confidence": r.get("confidence"),
            }
        if not targets:  # fall back to the run's stored result
            run = self.get_run(run_id)
            for i, s in enumerate((run or {}).get("result", {}).get("subtasks") or []):
                if not isinstance(s, dict):
                    continue
                sid = s.get("specialist_id") or s.get("specialist")
                cap = s.get("capability")
                if not sid or not cap or s.get("status") not in (None, "ok", "answered"):
                    continue
                sub = str(s.get("subtask_id", s.get("id", i)))
                targets[(sub, sid, cap)] = {"subtask_id": sub, "specialist_id": sid, "capability": cap,
                                            "version": s.get("version") or None, "confidence": s.get("confidence")}
        out = list(targets.values())
        if subtask_id is not None:
            out = [t for t in out if t["subtask_id"] == str(subtask_id)]
        return out

    def feedback(self, run_id: str, good: bool, *, subtask_id: str | None = None, note: str | None = None) -> list[dict]:
        """Explicit user feedback on a run (or one subtask of it): "user" evidence for the chosen specialists.

        Returns one dict per specialist touched: specialist_id, capability, subtask_id,
        updated (False when this feedback was already recorded), mean_before, mean_after.
        """
        if not isinstance(run_id, str) or not run_id.strip():
            raise InputError("feedback needs a run id (a non-empty string)")
        if not isinstance(good, bool):
            raise InputError(f"feedback must be good (true) or bad (false), got {good!r}")
        if subtask_id is not None and not isinstance(subtask_id, (str, int)):
            raise InputError("subtask_id must be a string")
        if note is not None and not isinstance(note, str):
            raise InputError("note must be a string")
        known = self.get_run(run_id) is not None or bool(self.routing_records(run_id=run_id, limit=1))
        if not known:
            raise UnknownRunError(f"unknown run id {run_id!r}; `micromarket solve` prints the run id of each run")
        targets = self._feedback_targets(run_id, subtask_id)
        if subtask_id is not None and not targets:
            raise InputError(f"run {run_id!r} has no answered subtask {subtask_id!r}")
        out = []
        for t in targets:
            before = self.posterior(t["specialist_id"], t["capability"]).mean
            conf = t.get("confidence")
            try:
                conf = None if conf is None else T.check_unit("confidence", conf)
            except InputError:
                conf = None
            updated = self.record_evidence(
                run_id=run_id, subtask_id=t["subtask_id"], specialist_id=t["specialist_id"],
                capability=t["capability"], kind="user", success=good, note=note,
                version=t.get("version"), confidence=conf,
            )
            after = self.posterior(t["specialist_id"], t["capability"]).mean
            out.append({**{k: t[k] for k in ("specialist_id", "capability", "subtask_id")},
                        "good": good, "updated": updated, "mean_before": before, "mean_after": after})
        return out

    # ------------------------------------------------------------------ reporting

    def trust_table(self) -> list[dict]:
        """One row per specialist × capability: alpha, beta, mean, n, errors, timeouts,
        reliability, calibration (Brier score of self-reported confidence vs verified
        outcomes, or None), status."""
        now = self.clock()

        def read(c):
            rows = c.execute("SELECT * FROM posteriors WHERE version='' ORDER BY specialist_id, capability").fetchall()
            statuses = {r["specialist_id"]: (r["status"], r["reason"]) for r in c.execute("SELECT * FROM identities")}
            kinds = tuple(sorted(T.VERIFIED_KINDS))
            cal: dict[tuple[str, str], list[tuple[float, bool]]] = {}
            for r in c.execute(
                f"SELECT specialist_id, capability, confidence, success FROM evidence WHERE confidence IS NOT NULL"
                f" AND kind IN ({','.join('?' * len(kinds))})",
                kinds,
            ):
                cal.setdefault((r[0], r[1]), []).append((r[2], bool(r[3])))
            nvers = {
                (r[0], r[1]): r[2]
                for r in c.execute(
                    "SELECT specialist_id, capability, COUNT(*) FROM posteriors WHERE version != '' GROUP BY 1, 2"
                )
            }
            out = []
            for r in rows:
                p = self._to_posterior(r, now, "active")
                st, reason = statuses.get(r["specialist_id"], ("active", None))
                cb = T.calibration(cal.get((r["specialist_id"], r["capability"]), []))
                out.append({
                    "specialist_id": r["specialist_id"], "capability": r["capability"],
                    "alpha": round(p.alpha, 4), "beta": round(p.beta, 4), "mean": round(p.mean, 4),
                    "n": round(p.n, 4), "verified_ok": r["succ"], "verified_failed": r["fail"],
                    "errors": r["errors"], "timeouts": r["timeouts"], "reliability": round(p.reliability, 4),
                    "calibration": None if cb is None else {"n": cb["n"], "brier": round(cb["brier"], 4), "buckets": cb["buckets"]},
                    "status": st, "status_reason": reason, "versions": nvers.get((r["specialist_id"], r["capability"]), 0),
                })
            # registered identities without evidence yet
            seen = {r["specialist_id"] for r in out}
            for sid, (st, reason) in sorted(statuses.items()):
                if sid not in seen:
                    p = T.prior(st)
                    out.append({"specialist_id": sid, "capability": None, "alpha": p.alpha, "beta": p.beta,
                                "mean": round(p.mean, 4), "n": 0.0, "verified_ok": 0, "verified_failed": 0,
                                "errors": 0, "timeouts": 0, "reliability": 1.0, "calibration": None,
                                "status": st, "status_reason": reason, "versions": 0})
            return out

        return self._read(read)

    def require_known(self, specialist_id: str) -> None:
        row = self._read(lambda c: c.execute(
            "SELECT 1 FROM identities WHERE specialist_id=? UNION SELECT 1 FROM posteriors WHERE specialist_id=?",
            (specialist_id, specialist_id)).fetchone())
        if row is None:
            raise UnknownSpecialistError(f"the trust ledger knows no specialist {specialist_id!r}")


__all__ = ["TrustLedger", "ROUTING_OUTCOMES"]
