"""Helpers shared by the nodes: services and the chat model from the runtime context, run ids, transient errors."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy

from micromarket.graphs.context import Context
from micromarket.services import Services, found_services, services_of_context


def context_of(runtime: Runtime[Context] | None) -> Context:
    return runtime.context if runtime is not None and runtime.context is not None else Context()


async def aservices(runtime: Runtime[Context] | None) -> Services:
    """The services of the run's data directory: found off the event loop the first time (that opens and checks
    files), then on the loop without a thread hop."""
    ctx = context_of(runtime)
    known = found_services(ctx)  # a warm run: no thread hop
    if known is not None:
        return known

    def find() -> Services:
        svc = services_of_context(ctx)
        svc.store, svc.ledger  # noqa: B018 - open (and integrity-check) the stores here, not on the loop
        return svc

    return await asyncio.to_thread(find)


async def chat_model_of(runtime: Runtime[Context] | None):
    """The run's chat model (``Context.chat_model``), loaded off the event loop; None without one."""
    spec = context_of(runtime).chat_model
    if not spec:
        return None
    svc = await aservices(runtime)
    return await asyncio.to_thread(svc.chat_model, spec)


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def results_of_run(state: dict) -> list[dict]:
    """The fan-in list holds results of every run on a thread; keep this run's."""
    rid = state.get("run_id")
    return [r for r in state.get("results", []) if r.get("run_id", rid) == rid]


# ---------------------------------------------------------------- transient errors

_TRANSIENT_NAMES = frozenset({"APIConnectionError", "APITimeoutError", "RateLimitError", "InternalServerError", "ServiceUnavailableError"})


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    if code is None:
        code = getattr(getattr(exc, "response", None), "status_code", None)
    return code if isinstance(code, int) else None


def is_transient(exc: BaseException) -> bool:
    """A model call worth retrying: connection errors, timeouts, HTTP 408/429/5xx, provider rate limits.

    Looks through explicit causes (``raise ... from e``). Used as the ``retry_on`` of the nodes' RetryPolicy."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, (ConnectionError, TimeoutError, httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)):
            return True
        status = _status(e)
        if status is not None:
            return status in (408, 429) or 500 <= status < 600
        if type(e).__name__ in _TRANSIENT_NAMES:
            return True
        e = e.__cause__
    return False


MODEL_RETRY = RetryPolicy(max_attempts=3, initial_interval=0.2, retry_on=is_transient)
