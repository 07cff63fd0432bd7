"""decompose: split the task into subtasks (a DAG), with the chat model or the offline planner.

Transient model errors (connection, timeout, HTTP 5xx, rate limit) propagate to the node's RetryPolicy;
a plan that does not parse or is not a DAG falls back to the offline planner with a warning.
"""

from __future__ import annotations

import asyncio
import logging

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from micromarket.graphs.context import Context
from micromarket.graphs.state import State, Subtask
from micromarket.nodes import prompts
from micromarket.nodes.common import aservices, chat_model_of, is_transient, new_run_id
from micromarket.nodes.context_slicing import prepare
from micromarket.nodes.planner import PlanError, split_task, validate_plan

log = logging.getLogger("micromarket.decompose")


class PlannedSubtask(BaseModel):
    text: str = Field(description="A self-contained request for one specialist")
    depends_on: list[int] = Field(default_factory=list, description="1-based numbers of earlier subtasks whose result this one needs")


class Plan(BaseModel):
    subtasks: list[PlannedSubtask] = Field(min_length=1, max_length=16)


async def plan_with_model(model, task: str) -> list[Subtask]:
    """The chat model's plan as a validated DAG. Raises PlanError on a bad dependency or a cycle."""
    plan = await model.with_structured_output(Plan).ainvoke(prompts.PLAN.format(task=task))
    if isinstance(plan, dict):
        plan = Plan.model_validate(plan)
    n = len(plan.subtasks)
    subtasks: list[Subtask] = []
    for i, p in enumerate(plan.subtasks):
        text = p.text.strip()
        if not text:
            raise PlanError(f"subtask {i + 1} of the chat model's plan is empty")
        for d in p.depends_on:
            if not 1 <= d <= n:
                raise PlanError(f"subtask {i + 1} depends on subtask {d}, which is not in the plan (1..{n})")
        subtasks.append(Subtask(id=f"s{i + 1}", text=text, depends_on=[f"s{d}" for d in dict.fromkeys(p.depends_on)]))
    validate_plan(subtasks)
    return subtasks


async def _warm_context(context: str, model_name: str) -> None:
    """Chunk and embed the task's context once, off the event loop, so the parallel
    branches only embed their subtask text (nodes.context_slicing caches per context)."""
    try:
        await asyncio.to_thread(prepare, context, model_name)
    except Exception as e:  # noqa: BLE001 - slicing falls back on its own; never fail the plan for it
        log.warning("could not prepare the context for slicing: %s: %s", type(e).__name__, e)


async def make_plan(task: str, runtime: Runtime[Context] | None) -> tuple[list[Subtask], list[str]]:
    """(plan, warnings): the chat model's plan, else the offline planner's. Transient model errors propagate."""
    model = await chat_model_of(runtime) if task else None
    warnings: list[str] = []
    if model is not None:
        try:
            return await plan_with_model(model, task), warnings
        except Exception as e:  # noqa: BLE001 - unparsable output falls back; transient errors are retried by the graph
            if is_transient(e):
                raise
            why = f"is not a valid DAG ({e})" if isinstance(e, PlanError) else f"did not parse ({type(e).__name__}: {str(e)[:200]})"
            warnings.append(f"the chat model's plan {why}; used the offline planner")
            log.warning(warnings[-1])
    plan = split_task(task)
    validate_plan(plan)  # the offline planner only makes backward dependencies; a failure here is a bug
    return plan, warnings


async def decompose(state: State, runtime: Runtime[Context]) -> dict:
    task = (state.get("task") or "").strip()
    context = state.get("context") or ""
    warm = None
    if task and context.strip():
        svc = await aservices(runtime)
        warm = asyncio.create_task(_warm_context(context, svc.settings.embedding_model))
    try:
        plan, warnings = await make_plan(task, runtime)
    finally:
        if warm is not None:
            await warm
    return {"run_id": state.get("run_id") or new_run_id(), "plan": plan, "warnings": warnings}
