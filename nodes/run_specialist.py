"""run_specialist: one Send branch. Call the best candidate; on failure or a decline try the next.

Never raises: LangGraph cancels sibling branches when one raises, so every
failure becomes a typed result and the siblings' answers are kept.

Security (docs/robustness.md): calls go through the pool with the data directory's
PinGuard (poisoning scan + tool pins, quarantine on drift); quarantined or disabled
specialists are refused; outputs are validated against the declared outputSchema;
an output that carries instructions is an ``injection`` attempt: discarded, never
passed on, and recorded against the specialist's trust. A dependent subtask gets
only its dependency's *value* (a number or short plain text), never another
specialist's free text or explanation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from langgraph.runtime import Runtime

from micromarket.capability_index.cards import Capability, SpecialistCard
from micromarket.graphs.context import Context
from micromarket.graphs.state import Attempt, SubtaskResult, WorkerState
from micromarket.errors import MicromarketError, QuarantinedError, SpecialistCallError
from micromarket.nodes.common import aservices, context_of
from micromarket.nodes.planner import substitute_inputs

log = logging.getLogger("micromarket.run")


def build_arguments(cap: Capability, text: str, context: str) -> dict[str, Any]:
    """Arguments for the capability's tool: solve-style (task, context) or a single string parameter."""
    props = (cap.input_schema or {}).get("properties") or {}
    if "task" in props:
        args: dict[str, Any] = {"task": text}
        if "context" in props and context:
            args["context"] = context
        return args
    strings = [k for k, v in props.items() if isinstance(v, dict) and v.get("type") == "string"]
    required = (cap.input_schema or {}).get("required") or []
    if len(strings) == 1 and set(required) <= set(strings):
        return {strings[0]: text}
    if not props:
        return {}
    from micromarket.importer import model_arguments  # typed tools: the run's chat model fills them (issue 6)

    filled = model_arguments(cap, text, context)
    if filled is not None:
        return filled
    raise SpecialistCallError(
        f"tool {cap.tool_name!r} takes typed arguments ({', '.join(props)}); configure a chat model to fill them",
        kind="schema",
    )


def parse_outcome(structured: dict | None, text: str) -> dict[str, Any]:
    """Normalise a tool result to answer / confidence / explanation / value."""
    if isinstance(structured, dict):
        inner = structured.get("result") if set(structured) == {"result"} else None
        if isinstance(inner, dict):
            structured = inner
        if "answer" in structured:
            conf = structured.get("confidence")
            try:
                conf = None if conf is None else min(max(float(conf), 0.0), 1.0)
            except (TypeError, ValueError):
                conf = None
            return {
                "answer": str(structured.get("answer") or ""),
                "confidence": conf,
                "explanation": str(structured.get("explanation") or ""),
                "value": structured.get("value"),
            }
        if inner is not None or "result" in structured:
            val = structured.get("result")
            return {"answer": str(val), "confidence": None, "explanation": "", "value": val if isinstance(val, (int, float, str)) else None}
        return {"answer": text or str(structured), "confidence": None, "explanation": "", "value": None}
    return {"answer": text, "confidence": None, "explanation": "", "value": None}


def slice_context(context: str, subtask: str, card: SpecialistCard, inputs: dict[str, dict] | None = None) -> str:
    """The part of the task's context this call may carry: the chunks relevant to the subtask (and the
    results it depends on), within the card's token budget. See nodes/context_slicing.py."""
    from micromarket.nodes.context_slicing import slice_context as _slice

    return _slice(context, subtask, card, inputs)


class InjectionAttempt(SpecialistCallError):
    """A specialist's output carried instructions aimed at the orchestrator."""

    def __init__(self, message: str):
        super().__init__(message, kind="injection")


def _guard(svc):
    from micromarket.capability_index.pins import guard_for

    return guard_for(svc)


def check_output(card: SpecialistCard, cap: Capability, structured, text: str, parsed: dict) -> None:
    """Output schema (declared on the card) and injection checks; raises SpecialistCallError."""
    from micromarket.capability_index.output_guard import output_injection
    from micromarket.specialists.pool import validate_output

    if cap.output_schema:
        validate_output(card.id, cap.tool_name, structured, cap.output_schema)
    blob = "\n".join(str(x) for x in (parsed.get("answer"), parsed.get("explanation"), parsed.get("value"), text) if x)
    findings = output_injection(blob)
    if findings:
        raise InjectionAttempt(
            f"{card.id}.{cap.name} returned instructions instead of data ({findings[0].rule}: {findings[0].excerpt!r}); output discarded"
        )


async def call_candidate(svc, card: SpecialistCard, cap: Capability, text: str, context: str, timeout: float) -> dict:
    status = await asyncio.to_thread(lambda: svc.store.status(card.id))
    if status in ("quarantined", "disabled"):
        raise QuarantinedError(f"specialist {card.id!r} is {status}; `micromarket specialists approve {card.id}` after review")
    args = build_arguments(cap, text, context)
    guard = await asyncio.to_thread(_guard, svc)
    out = await svc.pool.call(card, cap.tool_name, args, timeout=timeout, guard=guard)
    if out.is_error:
        raise SpecialistCallError(f"{card.id}.{cap.name} reported an error: {out.text[:300]}", kind="error")
    parsed = parse_outcome(out.structured, out.text)
    check_output(card, cap, out.structured, out.text, parsed)
    parsed["latency_ms"] = out.latency_ms
    return parsed


MAX_INPUT_CHARS = 200


def safe_inputs(inputs: dict[str, dict]) -> tuple[dict[str, dict], str | None]:
    """What a dependent subtask may see of its dependencies: the value only (no explanation, no
    alternatives, no provenance), short, and free of instructions. Returns (inputs, problem)."""
    from micromarket.capability_index.output_guard import output_injection

    out: dict[str, dict] = {}
    for dep, r in inputs.items():
        value = r.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or value == "":
            value = r.get("answer", "")
        if isinstance(value, str):
            value = " ".join(value.split())
            if len(value) > MAX_INPUT_CHARS or output_injection(value):
                return {}, f"the result of {dep} is not plain data that can be passed on"
        out[dep] = {"status": r.get("status"), "value": value, "answer": str(value)}
    return out, None


async def _attempt(svc, ctx: Context, cand: dict, text: str, context: str, inputs: dict | None = None) -> tuple[Attempt, dict | None]:
    t0 = time.perf_counter()
    try:
        card = await asyncio.to_thread(lambda: svc.store.get(cand["specialist_id"]))
        cap = card.capability(cand["capability"])
        ctx_slice = await asyncio.to_thread(slice_context, context, text, card, inputs) if context or inputs else ""
        res = await call_candidate(svc, card, cap, text, ctx_slice, ctx.call_timeout_s)
        res["context_tokens"] = len(ctx_slice.split())
        res["version"] = card.version
        declined = not res["answer"].strip() or res["confidence"] == 0.0
        att = Attempt(key=cand["key"], specialist_id=cand["specialist_id"], outcome="declined" if declined else "ok",
                      latency_ms=round(res["latency_ms"], 2))
        if declined:
            att["error"] = (res["explanation"] or "returned no answer")[:300]
            return att, None
        return att, res
    except SpecialistCallError as e:
        return Attempt(key=cand["key"], specialist_id=cand["specialist_id"], outcome=e.kind,
                       latency_ms=round((time.perf_counter() - t0) * 1000, 2), error=str(e)[:300]), None
    except (MicromarketError, KeyError) as e:
        return Attempt(key=cand["key"], specialist_id=cand["specialist_id"], outcome="error",
                       latency_ms=round((time.perf_counter() - t0) * 1000, 2), error=str(e)[:300]), None


def _result(state: WorkerState, text: str, status: str, attempts: list[Attempt], **kw) -> SubtaskResult:
    base = dict(
        run_id=state["run_id"], subtask_id=state["subtask"]["id"], text=text, status=status, specialist=None, version=None,
        capability=None, answer="", confidence=None, explanation="", value=None, latency_ms=0.0, attempts=attempts,
    )
    base.update(kw)
    return base  # type: ignore[return-value]


async def solve_subtask(state: WorkerState, runtime: Runtime[Context]) -> SubtaskResult:
    ctx = context_of(runtime)
    svc = await aservices(runtime)
    sub = state["subtask"]
    failed_deps = [d for d, r in state.get("inputs", {}).items() if r.get("status") != "ok"]
    if failed_deps:
        return _result(state, sub["text"], "failed", [], reason=f"depends on {', '.join(failed_deps)}, which did not succeed")
    inputs, problem = safe_inputs(state.get("inputs", {}) or {})
    if problem:
        return _result(state, sub["text"], "failed", [], reason=problem)
    text = substitute_inputs(sub["text"], inputs)
    context = state.get("context", "") or ""
    attempts: list[Attempt] = []
    cands = state.get("candidates", [])
    k = max(ctx.redundancy, 1)
    tried = 0
    while tried < len(cands) and tried < max(ctx.max_attempts, k):
        batch = cands[tried : tried + (k if tried == 0 else 1)]
        tried += len(batch)
        outs = await asyncio.gather(*(_attempt(svc, ctx, c, text, context, inputs) for c in batch))
        good = []
        for cand, (att, res) in zip(batch, outs):
            attempts.append(att)
            if res is not None:
                good.append((cand, res))
        if good:
            cand, res = max(good, key=lambda g: (g[1]["confidence"] or 0.0))
            extra: dict[str, Any] = {}
            if len(good) > 1:
                from micromarket.capability_index.trust import consensus

                cons = consensus([{"key": c["key"], "answer": r["answer"], "value": r["value"], "confidence": r["confidence"]} for c, r in good])
                winners = set(cons["groups"][0]["members"]) if cons.get("value") is not None else set()
                if winners:  # answer with the consensus group's most confident member
                    cand, res = max((g for g in good if g[0]["key"] in winners), key=lambda g: (g[1]["confidence"] or 0.0))
                extra["consensus"] = cons
                extra["alternatives"] = [{"specialist": c["specialist_id"], "answer": r["answer"], "confidence": r["confidence"]} for c, r in good if c is not cand]
            return _result(
                state, text, "ok", attempts, specialist=cand["specialist_id"], version=res["version"], capability=cand["capability"],
                answer=res["answer"], confidence=res["confidence"], explanation=res["explanation"], value=res["value"],
                latency_ms=round(res["latency_ms"], 2), context_tokens=res.get("context_tokens", 0), **extra,
            )
    if not cands:
        return _result(state, text, "unsupported", attempts, reason="no candidate specialist")
    if attempts and all(a["outcome"] == "declined" for a in attempts):
        return _result(state, text, "unsupported", attempts,
                       reason="the candidate specialists declined: " + "; ".join(f"{a['specialist_id']}: {a.get('error', '')}" for a in attempts))
    return _result(state, text, "failed", attempts,
                   reason="every candidate failed: " + "; ".join(f"{a['specialist_id']} {a['outcome']}" for a in attempts))


async def run_specialist(state: WorkerState, runtime: Runtime[Context]) -> dict:
    try:
        result = await solve_subtask(state, runtime)
    except Exception as e:  # noqa: BLE001 - keep siblings alive whatever happens
        log.exception("subtask %s failed", state["subtask"]["id"])
        result = _result(state, state["subtask"]["text"], "failed", [], reason=f"internal error: {type(e).__name__}: {e}")
    return {"results": [result]}
