"""Graph state. TypedDicts from typing_extensions so Studio can read the schemas."""

from __future__ import annotations

import operator
from typing import Annotated, Any

from typing_extensions import NotRequired, TypedDict


class Subtask(TypedDict):
    id: str
    text: str
    depends_on: list[str]


class Attempt(TypedDict):
    key: str
    specialist_id: str
    outcome: str  # ok | declined | error | timeout | quarantined | schema
    latency_ms: float
    error: NotRequired[str]


class SubtaskResult(TypedDict):
    subtask_id: str
    text: str
    status: str  # ok | failed | unsupported
    specialist: str | None
    version: str | None
    capability: str | None
    answer: str
    confidence: float | None
    explanation: str
    value: Any
    latency_ms: float
    attempts: list[Attempt]
    reason: NotRequired[str]
    context_tokens: NotRequired[int]
    consensus: NotRequired[dict]
    alternatives: NotRequired[list[dict]]
    depends_on: NotRequired[list[str]]  # subtask ids whose results this one received (set by integrate)
    provenance: NotRequired[dict]  # specialist, capability, version, confidence, context_tokens, evidence (set by integrate)


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
