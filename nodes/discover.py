"""discover: retrieve candidate capabilities for every subtask (one batched query)."""

from __future__ import annotations

import asyncio

from langgraph.runtime import Runtime

from micromarket.capability_index.identities import CALLABLE
from micromarket.graphs.context import Context
from micromarket.graphs.state import State
from micromarket.nodes.common import aservices, context_of


async def discover(state: State, runtime: Runtime[Context]) -> dict:
    plan = state.get("plan") or []
    if not plan:
        return {"candidates": {}}
    ctx = context_of(runtime)
    svc = await aservices(runtime)
    known = await asyncio.to_thread(svc.ledger.registered)  # status lives with the identity, in the ledger
    eligible = {sid for sid, info in known.items() if info.get("status") in CALLABLE}  # the memory votes only for these
    hits = await asyncio.to_thread(
        lambda: svc.retriever.retrieve([s["text"] for s in plan], max(ctx.top_k, 1) * 3, eligible=eligible)
    )
    candidates: dict[str, list[dict]] = {}
    for sub, found in zip(plan, hits):
        rows = []
        seen: set[str] = set()
        for h in found:
            info = known.get(h.specialist_id) or {}
            status = info.get("status")
            if status not in CALLABLE:  # quarantined, disabled or removed: never nominated
                continue
            if h.specialist_id in seen or len(rows) >= ctx.top_k:  # one nomination per specialist: its best match
                continue
            seen.add(h.specialist_id)
            rows.append(
                {
                    "key": h.key,
                    "specialist_id": h.specialist_id,
                    "capability": h.capability,
                    "similarity": round(float(h.similarity), 4),
                    "match": round(float(h.metadata.get("dense_similarity", h.similarity)), 4),
                    "cost": float(h.metadata.get("cost", 0.0) or 0.0),
                    "version": str(h.metadata.get("version", "")),
                    "status": status,
                    "identity": info.get("identity") or h.specialist_id,
                }
            )
        candidates[sub["id"]] = rows
    return {"candidates": candidates}
