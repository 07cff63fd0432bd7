"""What kind of failure a specialist call met, and whether trying again can help."""

from __future__ import annotations

import asyncio

from micromarket.errors import SpecialistCallError

_TRANSIENT_NAMES = ("ClosedResourceError", "BrokenResourceError", "EndOfStream", "RemoteProtocolError", "ConnectError",
                    "ReadError", "WriteError", "ConnectTimeout", "ReadTimeout", "PoolTimeout", "NetworkError")


def describe(e: BaseException | None) -> str:
    if e is None:
        return "unknown error"
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(describe(x) for x in e.exceptions)
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _is_connection_error(e: BaseException) -> bool:
    s = str(e).lower()
    return "connection closed" in s or "closed" in s and "connection" in s


def retryable(e: BaseException) -> bool:
    """Only transient failures are tried again; timeouts, quarantine and schema violations never are."""
    return isinstance(e, SpecialistCallError) and e.transient and e.kind not in ("timeout", "quarantined", "schema")


def classify(e: BaseException | None) -> tuple[str, bool]:
    """(kind, transient) of a failure. kind: error | timeout | schema.

    Deterministic (never retried): bad arguments (JSON-RPC -32602), unknown method,
    output-schema violations (the mcp client checks structured content against
    the listed outputSchema), tool errors, a command that cannot be found.
    Transient (retried with backoff): connection drops, closed streams, HTTP 5xx and 429.
    """
    if e is None:
        return "error", True
    if isinstance(e, BaseExceptionGroup):
        kinds = [classify(x) for x in e.exceptions]
        return next((k for k in kinds if not k[1]), kinds[0] if kinds else ("error", True))
    if isinstance(e, SpecialistCallError):
        return e.kind, e.transient
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return "timeout", False
    from mcp.shared.exceptions import MCPError
    from mcp.types import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR

    if isinstance(e, MCPError):
        code = getattr(getattr(e, "error", None), "code", None)
        if "timed out" in str(e).lower():
            return "timeout", False
        if code == INVALID_PARAMS:
            return "schema", False
        if code in (METHOD_NOT_FOUND, INVALID_REQUEST, PARSE_ERROR):
            return "error", False
        if _is_connection_error(e):
            return "error", True
        return "error", False
    status = getattr(getattr(e, "response", None), "status_code", None)
    if isinstance(status, int):
        return "error", status >= 500 or status == 429
    msg = str(e)
    if isinstance(e, RuntimeError) and ("structured content" in msg or "Invalid schema for tool" in msg):
        return "schema", False  # raised by mcp.ClientSession's output validation
    if isinstance(e, (FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError)):
        return "error", False
    if isinstance(e, (ConnectionError, EOFError, BrokenPipeError, OSError)):
        return "error", True
    if type(e).__name__ in _TRANSIENT_NAMES or _is_connection_error(e):
        return "error", True
    return "error", False
