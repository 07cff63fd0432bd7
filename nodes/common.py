"""Helpers shared by the nodes: services from the runtime context, run ids."""

from __future__ import annotations

import uuid

from langgraph.runtime import Runtime

from micromarket.graphs.context import Context
from micromarket.services import Services, services_for, settings_from_context


def services(runtime: Runtime[Context] | None) -> Services:
    ctx = runtime.context if runtime is not None and runtime.context is not None else Context()
    return services_for(settings_from_context(ctx))


async def aservices(runtime: Runtime[Context] | None) -> Services:
    """services() off the event loop: the first call opens files (langgraph dev forbids blocking the loop)."""
    import asyncio

    return await asyncio.to_thread(services, runtime)


def context_of(runtime: Runtime[Context] | None) -> Context:
    return runtime.context if runtime is not None and runtime.context is not None else Context()


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def results_of_run(state: dict) -> list[dict]:
    """The fan-in list holds results of every run on a thread; keep this run's."""
    rid = state.get("run_id")
    return [r for r in state.get("results", []) if r.get("run_id", rid) == rid]
