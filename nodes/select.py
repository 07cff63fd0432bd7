"""select: rank each subtask's candidates by trust (Thompson sampling), similarity and cost.

Copies of one identity (same definition or endpoint under different ids) compete as one:
only the best-ranked copy is kept. With ``redundancy`` 0 the number of specialists to
ask is chosen per subtask from trust uncertainty (:func:`choose_k`); the first ranked
candidate carries it as ``redundancy``.
"""

from __future__ import annotations

import asyncio
import random
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Send

from micromarket.capability_index.calibration import bucket_counts, calibrator
from micromarket.capability_index.ranking import Candidate, RankOptions, choose_k, rank
from micromarket.graphs.context import Context
from micromarket.graphs.state import State, SubtaskResult, WorkerState, subtask_result
from micromarket.nodes.common import aservices, context_of, results_of_run


def _rng(ctx: Context, sub: dict) -> random.Random:
    """Deterministic for a fixed seed: the same seed, subtask and ledger state give the same choice."""
    if ctx.seed is None:
        return random.Random()
    return random.Random(f"{ctx.seed}:{sub['id']}:{sub['text']}")


def unsupported_result(run_id: str, sub: dict, reason: str, attempts: list | None = None) -> SubtaskResult:
    return subtask_result(run_id, sub, "unsupported", attempts=attempts, reason=reason)


def one_per_identity(order: list[Candidate], rows: list[dict]) -> list[Candidate]:
    """Keep the best-ranked candidate of each identity: copies share one identity's traffic."""
    ident = {r["key"]: r.get("identity") or r["specialist_id"] for r in rows}
    seen: set[str] = set()
    out = []
    for c in order:
        i = ident.get(c.key, c.specialist_id)
        if i not in seen:
            seen.add(i)
            out.append(c)
    return out


def shortlist_first(order: list[Candidate], rows: list[dict], margin: float) -> list[Candidate]:
    """Similarity nominates, trust decides: the retriever's best candidate and those whose semantic match
    is within ``margin`` of the best compete on trust; weaker matches stay behind as fallbacks."""
    if not order or not rows:
        return order
    match = {r["key"]: r.get("match", r["similarity"]) for r in rows}
    best = max(match.values())
    keep = {k for k, m in match.items() if m >= best - margin} | {rows[0]["key"]}
    return [c for c in order if c.key in keep] + [c for c in order if c.key not in keep]


async def select(state: State, runtime: Runtime[Context]) -> dict:
    ctx = context_of(runtime)
    svc = await aservices(runtime)
    plan = state.get("plan") or []
    found = state.get("candidates") or {}
    pairs = [(c["specialist_id"], c["capability"]) for rows in found.values() for c in rows]
    posteriors = await asyncio.to_thread(lambda: svc.ledger.posteriors(pairs)) if pairs else {}
    # what each one's self-reported confidence has been worth (weighs its side when redundant answers disagree)
    # and the map from its self-reported confidence to the confidence shown to users (isotonic, from the same record)
    record = await asyncio.to_thread(lambda: svc.ledger.calibration_pairs(pairs)) if pairs else {}
    calib = {k: bucket_counts(v) for k, v in record.items()}
    shown = {k: calibrator(v) for k, v in record.items()}
    per_call_budget = ctx.budget / max(len(plan), 1) if ctx.budget is not None else None
    opts = RankOptions(quality_cost=ctx.quality_cost, budget=per_call_budget, min_similarity=ctx.min_similarity)
    ranked: dict[str, list[dict]] = {}
    results: list[SubtaskResult] = []
    for sub in plan:
        rows = found.get(sub["id"], [])
        cands = [
            Candidate(
                key=c["key"], specialist_id=c["specialist_id"], capability=c["capability"], similarity=c["similarity"],
                cost=c["cost"], version=c["version"], status=c["status"], posterior=posteriors.get((c["specialist_id"], c["capability"])),
            )
            for c in rows
        ]
        order = one_per_identity(rank(cands, rng=_rng(ctx, sub), options=opts), rows)
        order = shortlist_first(order, rows, ctx.shortlist_margin)
        ranked[sub["id"]] = [
            {**next(r for r in rows if r["key"] == c.key), "trust": round(c.posterior.mean, 4) if c.posterior else None,
             "sampled_trust": round(c.sampled_trust, 4), "score": round(c.score, 4),
             "calibration": calib.get((c.specialist_id, c.capability)), "calibrator": shown.get((c.specialist_id, c.capability))}
            for c in order
        ]
        if ranked[sub["id"]]:
            ranked[sub["id"]][0]["redundancy"] = choose_k(order) if ctx.redundancy == 0 else max(ctx.redundancy, 1)
        if not ranked[sub["id"]]:
            best = max((c["similarity"] for c in rows), default=0.0)
            why = "no registered specialist covers this request"
            if rows:
                why += f" (best match {rows[0]['key']} at similarity {best:.2f}, below {ctx.min_similarity:.2f}, or over budget)"
            results.append(unsupported_result(state["run_id"], sub, why))
    return {"candidates": ranked, "results": results}


def dispatch(state: State) -> list[Send] | Literal["integrate"]:
    """Send every subtask whose dependencies are done; when none is left, integrate."""
    done = {r["subtask_id"]: r for r in results_of_run(state)}
    ready = [s for s in state.get("plan") or [] if s["id"] not in done and all(d in done for d in s["depends_on"])]
    if not ready:
        return "integrate"
    return [
        Send(
            "run_specialist",
            WorkerState(
                run_id=state["run_id"], subtask=s, candidates=(state.get("candidates") or {}).get(s["id"], []),
                inputs={d: done[d] for d in s["depends_on"]}, context=state.get("context", "") or "",
            ),
        )
        for s in ready
    ]
