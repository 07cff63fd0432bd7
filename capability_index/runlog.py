"""The run log: the one place a run is recorded (its task and result), with its routing decisions.

``feedback`` on a run finds its targets here: the chosen specialists of its
routing records.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from micromarket.capability_index.ledger_db import LedgerDB, check_id
from micromarket.capability_index.outcomes import ROUTING_OUTCOMES
from micromarket.errors import InputError


class RunLog:
    def __init__(self, db: LedgerDB, clock: Callable[[], float]):
        self.db = db
        self.clock = clock

    def record_run(self, run_id: str, task: str, result: dict) -> None:
        check_id("run_id", run_id)
        if not isinstance(task, str):
            raise InputError("task must be a string")
        if not isinstance(result, dict):
            raise InputError("result must be a mapping")
        payload = json.dumps(result, default=str, ensure_ascii=False)
        self.db.tx(
            lambda c: c.execute(
                "INSERT INTO runs (run_id, task, result, created_at) VALUES (?,?,?,?) ON CONFLICT (run_id) DO UPDATE"
                " SET task=excluded.task, result=excluded.result, created_at=excluded.created_at",
                (run_id, task, payload, self.clock()),
            )
        )

    def get_run(self, run_id: str) -> dict | None:
        if not isinstance(run_id, str):
            return None
        row = self.db.read(lambda c: c.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone())
        if row is None:
            return None
        return {"run_id": row["run_id"], "task": row["task"], "result": json.loads(row["result"]), "created_at": row["created_at"]}

    def record_routing(self, record: dict) -> None:
        """Store one routing decision (extra keys are kept)."""
        if not isinstance(record, dict):
            raise InputError("routing record must be a mapping")
        check_id("run_id", record.get("run_id"))
        outcome = record.get("outcome")
        if outcome is not None and outcome not in ROUTING_OUTCOMES:
            raise InputError(f"routing outcome must be one of {', '.join(ROUTING_OUTCOMES)}, got {outcome!r}")
        payload = json.dumps(record, default=str, ensure_ascii=False)
        sub = record.get("subtask_id")
        self.db.tx(
            lambda c: c.execute(
                "INSERT INTO routing (run_id, subtask_id, specialist_id, capability, outcome, record, created_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (record["run_id"], None if sub is None else str(sub), record.get("specialist_id"),
                 record.get("capability"), outcome, payload, self.clock()),
            )
        )

    def routing_records(self, run_id: str | None = None, limit: int = 50) -> list[dict]:
        """Most recent routing records first, optionally for one run."""
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1 or limit > 100_000:
            raise InputError(f"limit must be an integer in [1, 100000], got {limit!r}")
        args: tuple = () if run_id is None else (run_id,)
        sql = "SELECT record, created_at FROM routing" + ("" if run_id is None else " WHERE run_id = ?")
        sql += " ORDER BY id DESC LIMIT ?"
        rows = self.db.read(lambda c: c.execute(sql, (*args, limit)).fetchall())
        out = []
        for r in rows:
            d = json.loads(r["record"])
            d.setdefault("created_at", r["created_at"])
            out.append(d)
        return out

    def known(self, run_id: str) -> bool:
        return self.get_run(run_id) is not None or bool(self.routing_records(run_id=run_id, limit=1))

    def feedback_targets(self, run_id: str, subtask_id: str | None) -> list[dict]:
        """The (subtask, specialist, capability) a run's answer came from, for user feedback."""
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
        out = list(targets.values())
        if subtask_id is not None:
            out = [t for t in out if t["subtask_id"] == str(subtask_id)]
        return out
