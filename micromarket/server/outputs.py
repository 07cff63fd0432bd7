"""The front door's structured tool outputs (published as each tool's outputSchema).

Specialist text leaving through the front door (answers, explanations, reasons, errors, descriptions) is
rendered inert (:func:`micromarket.capability_index.output_guard.render_inert`): no tags, live links or turns."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from micromarket.capability_index.outcomes import ATTEMPT_OUTCOMES
from micromarket.capability_index.output_guard import render_inert


class Attempt(BaseModel):
    key: str = Field(description="specialist.capability that was tried")
    outcome: str = Field(description=" | ".join(ATTEMPT_OUTCOMES))
    latency_ms: float = 0.0
    error: str | None = None


class Subtask(BaseModel):
    subtask_id: str
    text: str = Field(description="The subtask as sent to the specialist")
    status: str = Field(description="ok | failed | unsupported")
    specialist: str | None = Field(None, description="Id of the specialist that answered (provenance)")
    capability: str | None = None
    version: str | None = Field(None, description="Version of the specialist that answered")
    answer: str = ""
    confidence: float | None = None
    explanation: str = ""
    reason: str | None = Field(None, description="Why a subtask failed or is unsupported")
    attempts: list[Attempt] = Field(default_factory=list)


class SolveOutput(BaseModel):
    answer: str = Field(description="The integrated answer")
    run_id: str = Field(description="Pass this to `feedback`")
    subtasks: list[Subtask] = Field(default_factory=list)
    unsupported: list[dict[str, Any]] = Field(default_factory=list, description="Subtasks no specialist could take")
    warnings: list[str] = Field(default_factory=list)


class Match(BaseModel):
    key: str
    specialist_id: str
    capability: str
    similarity: float
    description: str = ""


class FindOutput(BaseModel):
    query: str
    matches: list[Match]


class FeedbackOutput(BaseModel):
    run_id: str
    verdict: str
    updated: list[dict[str, Any]] = Field(default_factory=list, description="Trust entries that changed")


class ToolMatch(BaseModel):
    name: str = Field(description="Pass this to `call_tool` (server.capability)")
    tool: str = Field(description="The real tool's name on its server")
    server: str = Field(description="The server (specialist id) that offers it")
    server_name: str = ""
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=dict, description="JSON Schema of the tool's arguments")
    similarity: float
    trust: float = Field(description="Posterior mean of the tool's trust")
    score: float = Field(description="Similarity re-ranked with trust")


class SearchToolsOutput(BaseModel):
    query: str
    tools: list[ToolMatch]


class CallToolOutput(BaseModel):
    name: str = Field(description="server.capability that ran")
    tool: str = Field(description="The real tool that ran")
    server: str = Field(description="The server (specialist id) it ran on")
    server_name: str = ""
    version: str | None = None
    result: Any = Field(None, description="The tool's structured result, if any")
    text: str = Field("", description="The tool's text content")
    latency_ms: float = 0.0


def tool_match(m: dict[str, Any]) -> ToolMatch:
    return ToolMatch(**{**m, "description": inert(m.get("description")), "server_name": inert(m.get("server_name"))})


def call_tool_output(out: dict[str, Any]) -> CallToolOutput:
    return CallToolOutput(name=out["name"], tool=out["tool"], server=out["server"], server_name=inert(out.get("server_name")),
                          version=out.get("version"), result=_inert_deep(jsonable(out.get("structured"))), text=inert(out.get("text")),
                          latency_ms=float(out.get("latency_ms") or 0.0))


def inert(text: Any) -> str:
    """Specialist-originated text, safe to show: ``None`` -> ""."""
    return render_inert("" if text is None else str(text))


def _inert_opt(text: Any) -> str | None:
    return None if text is None else inert(text)


def _inert_deep(obj: Any) -> Any:
    if isinstance(obj, str):
        return inert(obj)
    if isinstance(obj, dict):
        return {k: _inert_deep(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_inert_deep(v) for v in obj]
    return obj


def inert_card(card: dict[str, Any]) -> dict[str, Any]:
    """A card (or a specialists row) with its specialist-written text inert; ids and the operator's transport kept."""
    return {k: v if k in ("id", "transport", "version", "status") else _inert_deep(v) for k, v in card.items()}


def solve_output(out: dict[str, Any]) -> SolveOutput:
    """The run as the front door returns it; every specialist-originated string rendered inert."""
    subs = []
    for r in out.get("subtasks") or []:
        subs.append(
            Subtask(
                subtask_id=str(r.get("subtask_id", "")), text=str(r.get("text", "")), status=str(r.get("status", "")),
                specialist=r.get("specialist"), capability=r.get("capability"), version=r.get("version"),
                answer=inert(r.get("answer") or ""), confidence=r.get("confidence"), explanation=inert(r.get("explanation") or ""),
                reason=_inert_opt(r.get("reason")),
                attempts=[Attempt(key=a.get("key", ""), outcome=a.get("outcome", ""), latency_ms=float(a.get("latency_ms") or 0.0),
                                  error=_inert_opt(a.get("error"))) for a in r.get("attempts") or []],
            )
        )
    return SolveOutput(
        answer=inert(out.get("answer") or ""), run_id=str(out.get("run_id") or ""), subtasks=subs,
        unsupported=[_inert_deep(jsonable(u)) for u in out.get("unsupported") or []],
        warnings=[inert(w) for w in out.get("warnings") or []],
    )


def jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))
