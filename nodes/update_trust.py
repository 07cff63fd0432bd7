"""update_trust: the feedback edge. Record routing decisions and outcomes in the trust ledger."""

from __future__ import annotations

import asyncio
import logging

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from micromarket.capability_index.consensus import consensus_evidence
from micromarket.capability_index.outcomes import ATTEMPT_OUTCOMES, EVIDENCE_FOR, routing_outcome
from micromarket.graphs.context import Context
from micromarket.graphs.state import State
from micromarket.nodes.common import aservices, context_of

log = logging.getLogger("micromarket.trust")


def record(ledger, state: dict, results: list[dict], verdict: bool | None) -> None:
    run_id = state["run_id"]
    cands = state.get("candidates") or {}
    for r in results:
        for a in r.get("attempts", []):
            if a["outcome"] not in ATTEMPT_OUTCOMES:
                log.warning("attempt %s: unknown outcome %r, recorded as no evidence", a["key"], a["outcome"])
            kind = EVIDENCE_FOR.get(a["outcome"])
            spec, _, cap = a["key"].partition(".")
            if kind:
                ledger.record_evidence(run_id=run_id, subtask_id=r["subtask_id"], specialist_id=spec, capability=cap, kind=kind[0], success=kind[1])
        cons = r.get("consensus")
        if cons and r["status"] == "ok":
            members = [k for g in cons.get("groups", []) for k in g["members"] if k]
            peers = ledger.posteriors([tuple(k.split(".", 1)) for k in members])
            trust = {f"{s}.{c}": p.mean for (s, c), p in peers.items()}
            for key, kind, ok, weight in consensus_evidence(cons, trust):
                spec, _, cap = key.partition(".")
                ledger.record_evidence(run_id=run_id, subtask_id=r["subtask_id"], specialist_id=spec, capability=cap, kind=kind, success=ok, weight=weight)
        ledger.record_routing(
            {
                "run_id": run_id, "subtask_id": r["subtask_id"], "subtask": r["text"],
                "candidates": cands.get(r["subtask_id"], []),
                "chosen": f"{r['specialist']}.{r['capability']}" if r.get("specialist") else None,
                "specialist_id": r.get("specialist"), "capability": r.get("capability"),
                "outcome": routing_outcome(r["status"]), "latency_ms": r.get("latency_ms", 0.0), "confidence": r.get("raw_confidence", r.get("confidence")),
                "attempts": r.get("attempts", []), "context_tokens": r.get("context_tokens", 0), "reason": r.get("reason"),
            }
        )
    ledger.record_run(run_id, state.get("task", ""), {"answer": state.get("answer", ""), "subtasks": results, "unsupported": state.get("unsupported", [])})
    if verdict is not None:
        ledger.feedback(run_id, verdict, note="human review")


async def update_trust(state: State, runtime: Runtime[Context]) -> dict:
    ctx = context_of(runtime)
    results = state.get("subtasks") or []
    verdict = None
    if ctx.human_review and any(r["status"] == "ok" for r in results):
        reply = interrupt({"question": "Is this answer correct? Reply true or false.", "run_id": state["run_id"], "answer": state.get("answer", "")})
        if isinstance(reply, dict):
            reply = reply.get("good", reply.get("verdict"))
        if isinstance(reply, str):
            reply = reply.strip().lower() in ("true", "yes", "good", "y", "1")
        verdict = bool(reply) if reply is not None else None
    svc = await aservices(runtime)
    await asyncio.to_thread(lambda: record(svc.ledger, state, results, verdict))
    return {"partial": any(r["status"] != "ok" for r in results)}
