"""Evidence and posteriors: record one piece of evidence, read decayed Beta posteriors.

Evidence is idempotent: it is keyed by (run_id, subtask_id, specialist_id,
capability, kind); a replay changes nothing and returns False. Each record
updates the aggregate posterior and the per-version one in the same
transaction; an injection quarantines the specialist and verified kinds run the
vetting policy (:mod:`capability_index.vetting`). The math lives in
:mod:`capability_index.trust`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from micromarket.capability_index import identities
from micromarket.capability_index import posterior as T
from micromarket.capability_index.ledger_db import LedgerDB, check_id
from micromarket.capability_index.vetting import VettingPolicy, after_verified
from micromarket.errors import InputError

DAY = 86400.0


@dataclass(frozen=True)
class DecayPolicy:
    half_life_s: float | None = 30 * DAY  # evidence half-life towards the prior (None: no decay)
    step_s: float = DAY  # decay applies in whole steps: updates within one step never decay each other
    version_carry: float = 0.5  # share of other versions' evidence a version inherits

    def elapsed(self, then: float, now: float) -> float:
        """Seconds of decay between two instants, quantised to whole steps (counts stay exact under bursts)."""
        if self.step_s <= 0:
            return max(0.0, now - then)
        return max(0, math.floor(now / self.step_s) - math.floor(then / self.step_s)) * self.step_s


class EvidenceBook:
    def __init__(self, db: LedgerDB, *, decay: DecayPolicy, vetting: VettingPolicy, penalty: float,
                 clock: Callable[[], float]):
        self.db = db
        self.decay = decay
        self.vetting = vetting
        self.penalty = float(penalty)
        self.clock = clock

    # ---- posteriors
    def decayed(self, row: Any, now: float) -> tuple[float, float, float, float]:
        f = T.decay_factor(self.decay.elapsed(row["updated_at"], now), self.decay.half_life_s)
        a, b = T.decay_counts(row["alpha"], row["beta"], f, row["prior_alpha"], row["prior_beta"])
        return a, b, row["rel_ok"] * f, row["rel_fail"] * f

    def to_posterior(self, row: Any | None, now: float, status: str) -> T.Posterior:
        if row is None:
            return T.prior(status)
        a, b, ok, fail = self.decayed(row, now)
        return T.make_posterior(a, b, rel_ok=ok, rel_fail=fail, prior_alpha=row["prior_alpha"], prior_beta=row["prior_beta"])

    def posterior_in(self, c: Any, sid: str, cap: str, version: str | None, now: float) -> T.Posterior:
        status = identities.status_of(c, sid)
        agg = c.execute(
            "SELECT * FROM posteriors WHERE specialist_id=? AND capability=? AND version=''", (sid, cap)
        ).fetchone()
        p = self.to_posterior(agg, now, status)
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
            va, vb, own_ok, own_fail = self.decayed(vrow, now)
            own_a, own_b = va - vrow["prior_alpha"], vb - vrow["prior_beta"]
        other_a = max(0.0, p.alpha - pa - own_a)
        other_b = max(0.0, p.beta - pb - own_b)
        k = self.decay.version_carry
        return T.make_posterior(pa + own_a + k * other_a, pb + own_b + k * other_b,
                                rel_ok=own_ok, rel_fail=own_fail, prior_alpha=pa, prior_beta=pb)

    def posterior(self, specialist_id: str, capability: str, version: str | None = None) -> T.Posterior:
        check_id("specialist_id", specialist_id)
        check_id("capability", capability)
        now = self.clock()
        return self.db.read(lambda c: self.posterior_in(c, specialist_id, capability, version, now))

    def posteriors(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], T.Posterior]:
        pairs = list(dict.fromkeys((str(s), str(c)) for s, c in pairs))
        now = self.clock()
        return self.db.read(lambda c: {(s, cap): self.posterior_in(c, s, cap, None, now) for s, cap in pairs})

    # ---- evidence
    def record(self, *, run_id: str, subtask_id: str, specialist_id: str, capability: str, kind: str,
               success: bool, weight: float | None = None, note: str | None = None, version: str | None = None,
               confidence: float | None = None) -> bool:
        check_id("run_id", run_id)
        check_id("subtask_id", subtask_id, allow_empty=True)
        check_id("specialist_id", specialist_id)
        check_id("capability", capability)
        T.check_kind(kind)
        if not isinstance(success, bool):
            raise InputError(f"success must be true or false, got {success!r}")
        w = T.EVIDENCE_WEIGHTS[kind] if weight is None else T.check_weight(weight)
        if confidence is not None:
            confidence = T.check_unit("confidence", confidence)
        version = check_id("version", version or "", allow_empty=True)
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
            status = identities.status_of(c, specialist_id)
            counted = kind in T.VERIFIED_KINDS or kind == "injection"
            for ver in ([""] + ([version] if version else [])):
                self._bump(c, specialist_id, capability, ver, status, now, (da, db, dok, dfail),
                           (int(counted and ok_raw), int(counted and not ok_raw), int(kind == "error"), int(kind == "timeout")))
            if kind == "injection":
                identities.set_status(c, specialist_id, "quarantined", f"prompt injection in run {run_id}", now)
            elif counted:
                after_verified(c, specialist_id, capability, status, now, self.vetting, self.db.dialect.rowid,
                               lambda: self.posterior_in(c, specialist_id, capability, None, now))
            return True

        return self.db.tx(apply)

    def _bump(self, c: Any, sid: str, cap: str, ver: str, status: str, now: float,
              delta: tuple[float, float, float, float], counts: tuple[int, int, int, int]) -> None:
        da, db, dok, dfail = delta
        row = c.execute(
            "SELECT * FROM posteriors WHERE specialist_id=? AND capability=? AND version=?", (sid, cap, ver)
        ).fetchone()
        if row is None:
            p0 = T.prior(status)
            a, b, ok, fl = p0.alpha, p0.beta, 0.0, 0.0
            pa, pb = p0.prior_alpha, p0.prior_beta
        else:
            a, b, ok, fl = self.decayed(row, now)
            pa, pb = row["prior_alpha"], row["prior_beta"]
        c.execute(
            "INSERT INTO posteriors (specialist_id, capability, version, alpha, beta, prior_alpha, prior_beta,"
            " rel_ok, rel_fail, succ, fail, errors, timeouts, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (specialist_id, capability, version) DO UPDATE SET alpha=excluded.alpha, beta=excluded.beta,"
            " rel_ok=excluded.rel_ok, rel_fail=excluded.rel_fail, succ=posteriors.succ+excluded.succ,"
            " fail=posteriors.fail+excluded.fail, errors=posteriors.errors+excluded.errors,"
            " timeouts=posteriors.timeouts+excluded.timeouts, updated_at=excluded.updated_at",
            (sid, cap, ver, a + da, b + db, pa, pb, ok + dok, fl + dfail, *counts, now),
        )
