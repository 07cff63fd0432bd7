"""The trust ledger: one object over one database (SQLite file or PostgreSQL URL).

It holds, each in its own module:

- the database, schema and retried transactions: :mod:`capability_index.ledger_db`;
- evidence and decayed Beta posteriors: :mod:`capability_index.evidence`;
- specialist identities and status (the one place status lives): :mod:`capability_index.identities`;
- vetting and on-off demotion: :mod:`capability_index.vetting`;
- the run log and routing records: :mod:`capability_index.runlog`.

This module wires them together and adds user feedback and the trust report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from micromarket.capability_index import identities as ID
from micromarket.capability_index import posterior as T
from micromarket.capability_index.calibration import CALIBRATION_KINDS, bucket_counts, calibration, calibrator
from micromarket.capability_index.evidence import DAY, DecayPolicy, EvidenceBook
from micromarket.capability_index.ledger_db import LedgerDB, check_id
from micromarket.capability_index.outcomes import ROUTING_OUTCOMES
from micromarket.capability_index.runlog import RunLog
from micromarket.capability_index.vetting import VettingPolicy
from micromarket.errors import InputError, UnknownRunError


class TrustLedger:
    """The trust ledger on SQLite or PostgreSQL.

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
        self.db = LedgerDB(path, busy_timeout_s=busy_timeout_s)
        self.path = self.db.path
        self.backend = self.db.backend
        self.clock = clock
        self.evidence = EvidenceBook(
            self.db,
            decay=DecayPolicy(half_life_days * DAY if half_life_days else None, float(decay_step_s), float(version_carry)),
            vetting=VettingPolicy(int(vet_n), float(vet_min_mean), int(window)),
            penalty=penalty, clock=clock,
        )
        self.runs = RunLog(self.db, clock)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> TrustLedger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- posteriors and evidence
    def posterior(self, specialist_id: str, capability: str, version: str | None = None) -> T.Posterior:
        """The Beta posterior for a specialist × capability (× version), decayed to now."""
        return self.evidence.posterior(specialist_id, capability, version)

    def posteriors(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], T.Posterior]:
        """Posteriors for several (specialist_id, capability) pairs, in one read."""
        return self.evidence.posteriors(pairs)

    def record_evidence(self, *, run_id: str, subtask_id: str, specialist_id: str, capability: str, kind: str,
                        success: bool, weight: float | None = None, note: str | None = None,
                        version: str | None = None, confidence: float | None = None) -> bool:
        """Record one piece of evidence atomically; False (and nothing counted) on a replay.

        ``confidence`` is the specialist's self-reported confidence: stored for calibration, never evidence.
        """
        return self.evidence.record(run_id=run_id, subtask_id=subtask_id, specialist_id=specialist_id,
                                    capability=capability, kind=kind, success=success, weight=weight, note=note,
                                    version=version, confidence=confidence)

    def calibration_counts(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[list[int]]]:
        """Per (specialist_id, capability): its verified record by self-reported confidence bucket, in one read."""
        return {k: bucket_counts(v) for k, v in self.calibration_pairs(pairs).items()}

    def calibrators(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict | None]:
        """Per (specialist_id, capability): the isotonic map from self-reported to shown confidence, fitted on its
        verified record (None while the record is short; see calibration.shown_confidence)."""
        return {k: calibrator(v) for k, v in self.calibration_pairs(pairs).items()}

    def calibration_pairs(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[tuple[float, bool]]]:
        """Per (specialist_id, capability): (self-reported confidence, verified right) of its verified answers."""
        want = set((str(s), str(c)) for s, c in pairs)
        if not want:
            return {}
        kinds = CALIBRATION_KINDS

        def read(c):
            got: dict[tuple[str, str], list[tuple[float, bool]]] = {k: [] for k in want}
            ids = sorted({s for s, _ in want})
            for r in c.execute(
                f"SELECT specialist_id, capability, confidence, success FROM evidence WHERE confidence IS NOT NULL"
                f" AND kind IN ({','.join('?' * len(kinds))}) AND specialist_id IN ({','.join('?' * len(ids))})",
                (*kinds, *ids),
            ):
                if (r[0], r[1]) in got:
                    got[(r[0], r[1])].append((r[2], bool(r[3])))
            return got

        return self.db.read(read)

    # ---- identities and status (the one source of truth)
    def register(self, specialist_id: str, fingerprint: str | None, endpoint: str | None, *,
                 status: str = "newcomer") -> dict:
        """Register an id: ``{"identity", "status", "inherited_from"}`` (status may be inherited)."""
        check_id("specialist_id", specialist_id)
        ID.check_status(status)
        return self.db.tx(lambda c: ID.register(c, specialist_id, fingerprint, endpoint, status, self.clock()))

    def unregister(self, specialist_id: str) -> None:
        """The id was removed: it is no longer listed, but its identity and status are kept."""
        check_id("specialist_id", specialist_id)
        self.db.tx(lambda c: ID.mark_removed(c, specialist_id, self.clock()))

    def set_status(self, specialist_id: str, status: str, reason: str | None = None) -> None:
        """Set a status for the specialist's identity (every id of it)."""
        check_id("specialist_id", specialist_id)
        ID.check_status(status)
        if reason is not None and not isinstance(reason, str):
            raise InputError("reason must be a string")
        self.db.tx(lambda c: ID.set_status(c, specialist_id, status, reason, self.clock()))

    def status(self, specialist_id: str) -> str:
        """Current status; "active" for an id never registered here (e.g. a probe)."""
        check_id("specialist_id", specialist_id)
        return self.db.read(lambda c: ID.status_of(c, specialist_id))

    def status_info(self, specialist_id: str) -> dict | None:
        row = self.db.read(lambda c: c.execute("SELECT * FROM identities WHERE specialist_id=?", (specialist_id,)).fetchone())
        return dict(row) if row else None

    def registered(self, ids: Iterable[str] | None = None) -> dict[str, dict]:
        """``{id: {"status", "reason", "identity"}}`` of the registered (not removed) specialists."""
        return self.db.read(lambda c: ID.registered(c, ids))

    def statuses(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        return {k: v["status"] for k, v in self.registered(ids).items()}

    # ---- runs and routing
    def record_run(self, run_id: str, task: str, result: dict) -> None:
        self.runs.record_run(run_id, task, result)

    def get_run(self, run_id: str) -> dict | None:
        return self.runs.get_run(run_id)

    def record_routing(self, record: dict) -> None:
        self.runs.record_routing(record)

    def routing_records(self, run_id: str | None = None, limit: int = 50) -> list[dict]:
        return self.runs.routing_records(run_id=run_id, limit=limit)

    # ---- feedback
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
        if not self.runs.known(run_id):
            raise UnknownRunError(f"unknown run id {run_id!r}; `micromarket solve` prints the run id of each run")
        targets = self.runs.feedback_targets(run_id, subtask_id)
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

    # ---- reporting
    def trust_table(self) -> list[dict]:
        """One row per specialist × capability: alpha, beta, mean, n, errors, timeouts,
        reliability, calibration (Brier score of self-reported confidence vs verified
        and user-checked outcomes, or None), status; registered specialists without evidence get one row."""
        now = self.clock()

        def read(c):
            rows = c.execute("SELECT * FROM posteriors WHERE version='' ORDER BY specialist_id, capability").fetchall()
            statuses = {r["specialist_id"]: (r["status"], r["reason"]) for r in c.execute("SELECT * FROM identities")}
            listed = ID.registered(c)
            kinds = CALIBRATION_KINDS
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
                p = self.evidence.to_posterior(r, now, "active")
                st, reason = statuses.get(r["specialist_id"], (ID.DEFAULT_STATUS, None))
                cb = calibration(cal.get((r["specialist_id"], r["capability"]), []))
                out.append({
                    "specialist_id": r["specialist_id"], "capability": r["capability"],
                    "alpha": round(p.alpha, 4), "beta": round(p.beta, 4), "mean": round(p.mean, 4),
                    "n": round(p.n, 4), "verified_ok": r["succ"], "verified_failed": r["fail"],
                    "errors": r["errors"], "timeouts": r["timeouts"], "reliability": round(p.reliability, 4),
                    "calibration": None if cb is None else {"n": cb["n"], "brier": round(cb["brier"], 4), "buckets": cb["buckets"]},
                    "status": st, "status_reason": reason, "versions": nvers.get((r["specialist_id"], r["capability"]), 0),
                })
            seen = {r["specialist_id"] for r in out}
            for sid, info in sorted(listed.items()):  # registered specialists without evidence yet
                if sid not in seen:
                    p = T.prior(info["status"])
                    out.append({"specialist_id": sid, "capability": None, "alpha": p.alpha, "beta": p.beta,
                                "mean": round(p.mean, 4), "n": 0.0, "verified_ok": 0, "verified_failed": 0,
                                "errors": 0, "timeouts": 0, "reliability": 1.0, "calibration": None,
                                "status": info["status"], "status_reason": info["reason"], "versions": 0})
            return out

        return self.db.read(read)


__all__ = ["TrustLedger", "ROUTING_OUTCOMES"]
