"""discover: retrieve candidate capabilities for every subtask (one batched query).

Similarity nominates, trust decides (nodes/select.py); so that nomination cannot be flooded, each identity is
nominated once (copies of one specialist under many ids are one candidate) and newcomers fill at most
:data:`NEWCOMER_SHARE` of the ``top_k`` slots while established specialists can fill the rest. When copies or
newcomers crowd the first hits, discovery reads further down the ranking (a larger ``k``, still one batched query per round) until the slots are filled or
the index is exhausted.
"""

from __future__ import annotations

import asyncio

from langgraph.runtime import Runtime

from micromarket.capability_index.identities import CALLABLE
from micromarket.graphs.context import Context
from micromarket.graphs.state import State
from micromarket.nodes.common import aservices, context_of

NEWCOMER_SHARE = 0.5
MAX_DEPTH = 4096  # hits read per subtask at most


def nominate(found: list, known: dict[str, dict], top_k: int) -> tuple[list[dict], bool]:
    """Callable candidates from ranked hits, in hit order: one per identity (its best match); newcomers beyond
    :data:`NEWCOMER_SHARE` of ``top_k`` only fill slots nothing established claims. Returns the rows and whether
    the slots were filled without such spill-over (if not, hits further down may hold established ones)."""
    picked: list[tuple[int, dict]] = []
    spill: list[tuple[int, dict]] = []
    seen: set[str] = set()
    newcomers, cap = 0, max(1, int(top_k * NEWCOMER_SHARE))
    for i, h in enumerate(found):
        if len(picked) >= top_k:
            break
        info = known.get(h.specialist_id) or {}
        status = info.get("status")
        if status not in CALLABLE:  # quarantined, disabled or removed: never nominated
            continue
        identity = info.get("identity") or h.specialist_id
        if identity in seen:
            continue
        seen.add(identity)
        row = {
            "key": h.key,
            "specialist_id": h.specialist_id,
            "capability": h.capability,
            "similarity": round(float(h.similarity), 4),
            "match": round(float(h.metadata.get("dense_similarity", h.similarity)), 4),
            "cost": float(h.metadata.get("cost", 0.0) or 0.0),
            "version": str(h.metadata.get("version", "")),
            "status": status,
            "identity": identity,
        }
        if status == "newcomer" and newcomers >= cap:
            spill.append((i, row))
            continue
        newcomers += status == "newcomer"
        picked.append((i, row))
    full = len(picked) >= top_k
    chosen = sorted(picked + spill[: max(0, top_k - len(picked))], key=lambda x: x[0])
    return [r for _, r in chosen], full


async def discover(state: State, runtime: Runtime[Context]) -> dict:
    plan = state.get("plan") or []
    if not plan:
        return {"candidates": {}}
    ctx = context_of(runtime)
    svc = await aservices(runtime)
    top_k = max(ctx.top_k, 1)
    known = await asyncio.to_thread(svc.ledger.registered)  # status lives with the identity, in the ledger
    eligible = {sid for sid, info in known.items() if info.get("status") in CALLABLE}  # the memory votes only for these
    candidates: dict[str, list[dict]] = {}
    todo, k = list(plan), top_k * 3
    while todo:
        hits = await asyncio.to_thread(lambda: svc.retriever.retrieve([s["text"] for s in todo], k, eligible=eligible))
        again = []
        for sub, found in zip(todo, hits):
            candidates[sub["id"]], full = nominate(found, known, top_k)
            if not full and len(found) >= k and k < MAX_DEPTH:
                again.append(sub)  # crowded by copies, newcomers or uncallable ones: read further down
        todo, k = again, k * 4
    return {"candidates": {s["id"]: candidates[s["id"]] for s in plan}}
