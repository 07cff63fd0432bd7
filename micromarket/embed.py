"""Embed the marketplace in your own agent: as a LangGraph node or subgraph, or as a LangChain tool.

    from micromarket import Marketplace
    from micromarket.embed import as_tool, as_node

    mp = Marketplace.open()
    tool = as_tool(mp)                      # give it to any tool-calling agent
    parent.add_node("market", as_node(mp))  # a node in your own StateGraph

The compiled marketplace graph (``mp.graph``) is also a subgraph you can add directly
to a parent graph whose state has ``task`` and ``answer`` keys; pass
``context=mp.context()`` when invoking the parent so the subgraph finds its data.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

DEFAULT_TOOL_NAME = "micromarket_solve"
DEFAULT_TOOL_DESCRIPTION = (
    "Solve a well-defined task with a marketplace of specialist models (exact math, unit conversion, dates and more). "
    "Pass the whole task in plain language; returns the answer and which specialist answered each part."
)


class SolveArgs(BaseModel):
    task: str = Field(description="The task, in plain language")


def summarize(out: dict[str, Any]) -> str:
    """A compact text of a solve result for a model to read: the answer plus provenance per subtask."""
    lines = [str(out.get("answer") or "").strip() or "(no answer)"]
    for r in out.get("subtasks") or []:
        who = f"{r.get('specialist')}.{r.get('capability')}" if r.get("specialist") else "no specialist"
        conf = r.get("confidence")
        lines.append(f"- {r.get('subtask_id')}: {r.get('text')} -> {r.get('status')} by {who}" + (f" (confidence {conf:.2f})" if isinstance(conf, (int, float)) else ""))
    if out.get("run_id"):
        lines.append(f"run_id: {out['run_id']}")
    return "\n".join(lines)


def as_tool(market, *, name: str = DEFAULT_TOOL_NAME, description: str = DEFAULT_TOOL_DESCRIPTION, **solve_options):
    """A LangChain tool (sync and async) that solves a task with the marketplace.

    Its content is a short text (answer + provenance); its artifact is the full result
    (``response_format="content_and_artifact"``), so agents can keep the run_id for feedback.
    """
    async def _arun(task: str) -> tuple[str, dict]:
        out = await market.asolve(task, **solve_options)
        return summarize(out), _plain(out)

    def _run(task: str) -> tuple[str, dict]:
        out = market.solve(task, **solve_options)
        return summarize(out), _plain(out)

    return StructuredTool.from_function(
        func=_run, coroutine=_arun, name=name, description=description, args_schema=SolveArgs,
        response_format="content_and_artifact",
    )


def as_node(market, *, task_key: str = "task", answer_key: str = "answer", result_key: str | None = "marketplace", **solve_options):
    """An async LangGraph node: reads ``state[task_key]``, writes ``answer_key`` (and the full result to ``result_key``)."""

    async def micromarket_node(state: dict) -> dict:
        task = state[task_key] if isinstance(state, dict) else getattr(state, task_key)
        out = await market.asolve(task, **solve_options)
        upd: dict[str, Any] = {answer_key: out["answer"]}
        if result_key:
            upd[result_key] = _plain(out)
        return upd

    return micromarket_node


def _plain(out: dict[str, Any]) -> dict[str, Any]:
    keys = ("run_id", "answer", "subtasks", "unsupported", "warnings")
    return {k: out.get(k) for k in keys if k in out}
