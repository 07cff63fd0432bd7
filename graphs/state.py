"""Graph state. TypedDicts from typing_extensions so Studio can read the schemas.

A subtask's result is built in one place, :func:`subtask_result`, and an attempt in one place,
:func:`attempt`; ``Outcome`` is the one list of attempt outcomes.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, get_args

from typing_extensions import NotRequired, TypedDict

from micromarket.capability_index.outcomes import ATTEMPT_OUTCOMES
from micromarket.capability_index.output_guard import render_inert

Outcome = Literal["ok", "declined", "error", "timeout", "quarantined", "schema", "injection", "unfilled"]
OUTCOMES: frozenset[str] = frozenset(get_args(Outcome))
assert OUTCOMES == frozenset(ATTEMPT_OUTCOMES), "graphs.state.Outcome must list capability_index.outcomes.ATTEMPT_OUTCOMES"
Status = Literal["ok", "failed", "unsupported"]


class Subtask(TypedDict):
    id: str
    text: str
    depends_on: list[str]


class Attempt(TypedDict):
    key: str
    specialist_id: str
    outcome: Outcome
    latency_ms: float
    error: NotRequired[str]


class SubtaskResult(TypedDict):
    run_id: str
    subtask_id: str
    text: str
    status: Status
    specialist: str | None
    version: str | None
    capability: str | None
    answer: str
    confidence: float | None
    explanation: str
    value: Any
    latency_ms: float
    attempts: list[Attempt]
    depends_on: list[str]  # subtask ids whose results this one received
    provenance: dict  # specialist, capability, version, confidence, context_tokens, evidence
    reason: NotRequired[str]
    context_tokens: NotRequired[int]
    consensus: NotRequired[dict]
    alternatives: NotRequired[list[dict]]
    raw_confidence: NotRequired[float | None]  # the specialist's self-report, where the shown confidence is calibrated


def attempt(candidate: dict, outcome: str, latency_ms: float, error: str | None = None) -> Attempt:
    """One try of one candidate. An outcome outside ``Outcome`` is recorded as ``error``."""
    a = Attempt(key=candidate["key"], specialist_id=candidate["specialist_id"],
                outcome=outcome if outcome in OUTCOMES else "error", latency_ms=round(latency_ms, 2))  # type: ignore[typeddict-item]
    if error:
        a["error"] = render_inert(error[:300])  # errors may quote a specialist (its stderr, its message)
    return a


def subtask_result(run_id: str, subtask: Subtask, status: Status, *, text: str | None = None, attempts: list[Attempt] | None = None,
                   reason: str | None = None, specialist: str | None = None, capability: str | None = None,
                   version: str | None = None, answer: str = "", confidence: float | None = None, explanation: str = "",
                   value: Any = None, latency_ms: float = 0.0, context_tokens: int = 0, consensus: dict | None = None,
                   alternatives: list[dict] | None = None) -> SubtaskResult:
    """The result of one subtask, with its provenance: who answered, how sure, and the evidence."""
    attempts = list(attempts or [])
    # specialist text leaves the marketplace only as inert data (no live links, images, tags or fake turns)
    answer, explanation = render_inert(answer), render_inert(explanation)
    value = render_inert(value) if isinstance(value, str) else value
    reason = render_inert(reason) if reason else reason
    if alternatives:
        alternatives = [{**a, "answer": render_inert(a["answer"])} if isinstance(a.get("answer"), str) else a for a in alternatives]
    r = SubtaskResult(
        run_id=run_id, subtask_id=subtask["id"], text=subtask["text"] if text is None else text, status=status,
        specialist=specialist, version=version, capability=capability, answer=answer, confidence=confidence,
        explanation=explanation, value=value, latency_ms=round(latency_ms, 2), attempts=attempts,
        depends_on=list(subtask.get("depends_on") or []), provenance={}, context_tokens=context_tokens,
    )
    if reason:
        r["reason"] = reason
    evidence: dict = {"explanation": explanation, "attempts": attempts}
    if consensus:
        r["consensus"] = consensus
        evidence["consensus"] = {k: consensus.get(k) for k in ("agreed", "disagreement", "support")} | {"groups": consensus.get("groups", [])}
    if alternatives:
        r["alternatives"] = alternatives
        evidence["alternatives"] = alternatives
    r["provenance"] = {"specialist": specialist, "capability": capability, "version": version, "confidence": confidence,
                       "context_tokens": context_tokens, "evidence": evidence}
    return r


class InputState(TypedDict):
    """What a caller sends."""

    task: str
    context: NotRequired[str]  # optional documents or conversation the subtasks may draw on
    run_id: NotRequired[str]


class OutputState(TypedDict):
    """What a caller gets back."""

    run_id: str
    answer: str
    subtasks: list[SubtaskResult]
    unsupported: list[dict]
    partial: NotRequired[bool]  # some subtask failed or is unsupported; the others' answers are kept
    integration: NotRequired[str]  # "model" (chat-model prose, values checked) or "deterministic"
    warnings: NotRequired[Annotated[list[str], operator.add]]  # fallbacks taken (bad plan, value-changing prose, ...)


class State(InputState):
    run_id: str
    plan: list[Subtask]
    candidates: dict[str, list[dict]]  # subtask id -> ranked candidates
    results: Annotated[list[SubtaskResult], operator.add]  # fan-in of the Send branches
    subtasks: list[SubtaskResult]
    unsupported: list[dict]
    answer: str
    warnings: Annotated[list[str], operator.add]
    partial: bool
    integration: str


class WorkerState(TypedDict):
    """Payload of one Send branch: one subtask and its ranked candidates."""

    run_id: str
    subtask: Subtask
    candidates: list[dict]
    inputs: dict[str, SubtaskResult]  # results of the subtasks it depends on
    context: str
