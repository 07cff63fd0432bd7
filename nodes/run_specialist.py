"""run_specialist: one Send branch. Call the best candidate; on failure or a decline try the next.

Never raises: LangGraph cancels sibling branches when one raises, so every
failure becomes a typed result and the siblings' answers are kept.

Security (docs/robustness.md): calls go through the pool with the data directory's
PinGuard (poisoning scan + tool pins, quarantine on drift); quarantined or disabled
specialists are refused; an output that carries instructions is an ``injection`` attempt: discarded, never
passed on, and recorded against the specialist's trust. A dependent subtask gets
only its dependency's *value* (a number or short plain text), never another
specialist's free text or explanation.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any

from langgraph.runtime import Runtime

from micromarket.capability_index.cards import Capability, SpecialistCard
from micromarket.capability_index.pins import guard_for
from micromarket.capability_index.output_guard import output_injection
from micromarket.capability_index.calibration import shown_confidence
from micromarket.capability_index.consensus import choose
from micromarket.errors import MicromarketError, QuarantinedError, SpecialistCallError
from micromarket.graphs.context import Context
from micromarket.graphs.state import Attempt, SubtaskResult, WorkerState, attempt, subtask_result
from micromarket.nodes.common import aservices, context_of
from micromarket.nodes.context_slicing import slice_context
from micromarket.nodes.planner import substitute_inputs, unit_of
from micromarket.nodes.tool_arguments import model_arguments
from micromarket.nodes.verify import verify_outcome

log = logging.getLogger("micromarket.run")


async def build_arguments(runtime: Runtime[Context] | None, cap: Capability, text: str, context: str) -> dict[str, Any]:
    """Arguments for the capability's tool: solve-style (task, context), a single string parameter, or
    typed arguments filled by the run's chat model (nodes/tool_arguments.py)."""
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
    try:
        filled = await model_arguments(runtime, cap, text, context)
    except Exception as e:  # noqa: BLE001 - a failed fill is a failed attempt, not a crash
        raise SpecialistCallError(f"filling the arguments of {cap.tool_name!r} failed: {type(e).__name__}: {str(e)[:200]}",
                                 kind="unfilled") from None  # the orchestrator's failure: not charged to the specialist
    if filled is None:
        raise SpecialistCallError(
            f"tool {cap.tool_name!r} takes typed arguments ({', '.join(props)}); configure a chat model to fill them", kind="unfilled")
    return filled


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


class InjectionAttempt(SpecialistCallError):
    """A specialist's output carried instructions aimed at the orchestrator."""

    def __init__(self, message: str):
        super().__init__(message, kind="injection")


def check_output(card: SpecialistCard, cap: Capability, text: str, parsed: dict) -> None:
    """Raises InjectionAttempt when the output carries instructions for the orchestrator."""
    blob = "\n".join(str(x) for x in (parsed.get("answer"), parsed.get("explanation"), parsed.get("value"), text) if x)
    findings = output_injection(blob)
    if findings:
        raise InjectionAttempt(
            f"{card.id}.{cap.name} returned instructions instead of data ({'; '.join(sorted({f.rule for f in findings}))}); "
            "output discarded unread"
        )


async def call_candidate(runtime: Runtime[Context] | None, svc, card: SpecialistCard, cap: Capability, text: str, context: str,
                         timeout: float) -> dict:
    status = await asyncio.to_thread(svc.ledger.status, card.id)
    if status in ("quarantined", "disabled"):
        raise QuarantinedError(f"specialist {card.id!r} is {status}; `micromarket specialists approve {card.id}` after review")
    args = await build_arguments(runtime, cap, text, context)
    guard = await asyncio.to_thread(guard_for, svc)
    out = await svc.pool.call(card, cap.tool_name, args, timeout=timeout, guard=guard)
    if out.is_error:
        raise SpecialistCallError(f"{card.id}.{cap.name} reported an error: {out.text[:300]}", kind="error")
    parsed = parse_outcome(out.structured, out.text)
    check_output(card, cap, out.text, parsed)
    parsed["latency_ms"] = out.latency_ms
    return parsed


MAX_INPUT_CHARS = 200


_CURRENCY_OR_PERCENT = {"$", "€", "£", "%", "usd", "eur", "gbp", "dollars", "euros", "pounds sterling", "percent"}


@functools.lru_cache(maxsize=256)
def known_unit(unit: str) -> bool:
    """Whether a dependency's stated unit is a unit (pint reads it, exactly) or a currency: words that are not a
    unit never travel to another specialist, so the unit cannot carry instructions."""
    if unit.lower() in _CURRENCY_OR_PERCENT:
        return True
    if len(unit.split()) > 3:
        return False
    # deferred: pint's registry is loaded only when a dependency states a unit
    from micromarket.specialists.builtin.units import resolve_unit

    r = resolve_unit(unit)
    return r is not None and not r.guessed


def safe_inputs(inputs: dict[str, dict]) -> tuple[dict[str, dict], str | None]:
    """What a dependent subtask may see of its dependencies: the value only (no explanation, no
    alternatives, no provenance), short, and free of instructions. Returns (inputs, problem)."""
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
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            unit = unit_of(str(r.get("answer", "")), float(value))  # the unit the answer states: a short word, checked
            if unit and known_unit(unit) and not output_injection(unit):
                out[dep]["unit"] = unit
    return out, None


async def try_candidate(runtime: Runtime[Context] | None, svc, cand: dict, text: str, context: str,
                        inputs: dict | None = None) -> tuple[Attempt, dict | None]:
    """One attempt: (its record, the parsed answer or None when it failed or declined)."""
    ctx = context_of(runtime)
    t0 = time.perf_counter()
    try:
        card = await asyncio.to_thread(svc.store.get, cand["specialist_id"])
        cap = card.capability(cand["capability"])
        ctx_slice = await asyncio.to_thread(slice_context, context, text, card, inputs, model=svc.settings.embedding_model) if context or inputs else ""
        res = await call_candidate(runtime, svc, card, cap, text, ctx_slice, ctx.call_timeout_s)
        res = verify_outcome(text, res)  # WP-E: a reading that leaves part of the request unexplained declines
    except SpecialistCallError as e:
        return attempt(cand, e.kind, (time.perf_counter() - t0) * 1000, str(e)), None
    except (MicromarketError, KeyError) as e:
        return attempt(cand, "error", (time.perf_counter() - t0) * 1000, str(e)), None
    res["context_tokens"] = len(ctx_slice.split())
    res["version"] = card.version
    if not res["answer"].strip() or res["confidence"] == 0.0:
        return attempt(cand, "declined", res["latency_ms"], res["explanation"] or "returned no answer"), None
    return attempt(cand, "ok", res["latency_ms"]), res


def _answered(good: list[tuple[dict, dict]]) -> tuple[dict, dict, dict[str, Any]]:
    """The answer among redundant good attempts (trust × calibrated confidence decides, capability_index.consensus.choose),
    with the consensus and the alternatives; or the only one."""
    if len(good) == 1:
        return good[0][0], good[0][1], {}
    i, cons = choose([{"key": c["key"], "answer": r["answer"], "value": r["value"], "confidence": r["confidence"],
                       "trust": c.get("trust"), "calibration": c.get("calibration")} for c, r in good])
    cand, res = good[i or 0]
    alternatives = [{"specialist": c["specialist_id"], "answer": r["answer"], "confidence": r["confidence"]} for c, r in good if c is not cand]
    return cand, res, {"consensus": cons, "alternatives": alternatives}


async def solve_subtask(state: WorkerState, runtime: Runtime[Context]) -> SubtaskResult:
    ctx = context_of(runtime)
    svc = await aservices(runtime)
    run_id, sub = state["run_id"], state["subtask"]
    failed_deps = [d for d, r in state.get("inputs", {}).items() if r.get("status") != "ok"]
    if failed_deps:
        return subtask_result(run_id, sub, "failed", reason=f"depends on {', '.join(failed_deps)}, which did not succeed")
    inputs, problem = safe_inputs(state.get("inputs", {}) or {})
    if problem:
        return subtask_result(run_id, sub, "failed", reason=problem)
    text = substitute_inputs(sub["text"], inputs)
    context = state.get("context", "") or ""
    attempts: list[Attempt] = []
    cands = state.get("candidates", [])
    k = (cands[0].get("redundancy") if cands else None) or max(ctx.redundancy, 1)  # per subtask, set by select
    tried = 0
    # a decline ("not mine") is cheap and honest: only failed or answered attempts use up max_attempts, so every
    # retrieved candidate may be asked before a subtask is called unsupported
    while tried < len(cands) and sum(a["outcome"] != "declined" for a in attempts) < max(ctx.max_attempts, k):
        batch = cands[tried : tried + (k if tried == 0 else 1)]
        tried += len(batch)
        outs = await asyncio.gather(*(try_candidate(runtime, svc, c, text, context, inputs) for c in batch))
        attempts += [att for att, _ in outs]
        good = [(c, res) for c, (_, res) in zip(batch, outs) if res is not None]
        if good:
            cand, res, extra = _answered(good)
            out = subtask_result(
                run_id, sub, "ok", text=text, attempts=attempts, specialist=cand["specialist_id"], version=res["version"],
                capability=cand["capability"], answer=res["answer"], explanation=res["explanation"],
                confidence=shown_confidence(res["confidence"], cand.get("calibrator")),  # calibrated from verified outcomes
                value=res["value"], latency_ms=res["latency_ms"], context_tokens=res["context_tokens"], **extra,
            )
            if out["confidence"] != res["confidence"]:
                out["raw_confidence"] = res["confidence"]  # the self-report: what the ledger calibrates on
                out["provenance"]["raw_confidence"] = res["confidence"]
            return out
    if not cands:
        return subtask_result(run_id, sub, "unsupported", text=text, attempts=attempts, reason="no candidate specialist")
    if attempts and all(a["outcome"] == "declined" for a in attempts):
        return subtask_result(run_id, sub, "unsupported", text=text, attempts=attempts,
                              reason="the candidate specialists declined: " + "; ".join(f"{a['specialist_id']}: {a.get('error', '')}" for a in attempts))
    return subtask_result(run_id, sub, "failed", text=text, attempts=attempts,
                          reason="every candidate failed: " + "; ".join(f"{a['specialist_id']} {a['outcome']}{_cause(a)}" for a in attempts))


def _cause(a: Attempt) -> str:
    """Why an attempt failed, for the subtask's reason; never text that was refused as an injection."""
    err = a.get("error") or ""
    if not err or a["outcome"] == "injection" or output_injection(err):
        return ""
    return f" ({err})"


async def run_specialist(state: WorkerState, runtime: Runtime[Context]) -> dict:
    try:
        result = await solve_subtask(state, runtime)
    except Exception as e:  # noqa: BLE001 - keep siblings alive whatever happens
        log.exception("subtask %s failed", state["subtask"]["id"])
        result = subtask_result(state["run_id"], state["subtask"], "failed", reason=f"internal error: {type(e).__name__}: {e}")
    return {"results": [result]}
