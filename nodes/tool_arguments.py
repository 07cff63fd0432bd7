"""Typed tools: the run's chat model fills their arguments.

A tool that takes a task or one string needs no model (``run_specialist.build_arguments``).
For any other tool the chat model is asked for the arguments with structured output against
the tool's JSON schema, or, when the model has none, for a JSON reply parsed by langchain-core's
``JsonOutputParser``. The result is checked against the schema: invented parameters are dropped,
simple types coerced, and a missing required argument is an error.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.output_parsers import JsonOutputParser
from langgraph.runtime import Runtime

from micromarket.capability_index.cards import Capability
from micromarket.errors import MicromarketError
from micromarket.graphs.context import Context
from micromarket.nodes import prompts
from micromarket.nodes.common import chat_model_of, is_transient

log = logging.getLogger("micromarket.arguments")

MAX_CONTEXT_CHARS = 4000


async def fill_arguments(model, tool_schema: dict[str, Any], request: str, *, tool_name: str = "tool",
                         description: str = "") -> dict[str, Any]:
    """The arguments of a typed tool, asked of ``model`` (async). Raises MicromarketError when the reply does not fit
    the schema; transient model errors (connection, timeout, 5xx, rate limit) propagate unchanged."""
    schema = llm_schema(tool_schema, tool_name, description)
    desc = f" ({description.strip()})" if description.strip() else ""
    prompt = prompts.FILL_ARGUMENTS.format(tool_name=tool_name, description=desc, request=request)
    raw: Any = None
    try:
        structured = model.with_structured_output(schema)
    except (NotImplementedError, AttributeError, TypeError, ValueError):
        structured = None  # no tool calling: ask for JSON
    if structured is not None:
        try:
            raw = await structured.ainvoke(prompt)
        except Exception as e:  # noqa: BLE001 - anything but a transient error falls back to a JSON reply
            if is_transient(e):
                raise
            log.debug("structured output failed for %s: %s", tool_name, e)
    if raw is None:
        try:
            raw = await (model | JsonOutputParser()).ainvoke(prompt + prompts.JSON_REPLY.format(schema=json.dumps(schema)))
        except OutputParserException as e:
            raise MicromarketError(f"the chat model's reply for {tool_name!r} is not a JSON object: {str(e)[:200]}") from None
    if hasattr(raw, "model_dump"):
        raw = raw.model_dump()
    if isinstance(raw, dict) and set(raw) == {"args"} and isinstance(raw["args"], dict) and "args" not in schema["properties"]:
        raw = raw["args"]
    if not isinstance(raw, dict):
        raise MicromarketError(f"the chat model gave no arguments for {tool_name!r}")
    return conform(raw, tool_schema, tool_name)


async def model_arguments(runtime: Runtime[Context] | None, cap: Capability, text: str, context: str = "") -> dict[str, Any] | None:
    """The arguments of ``cap``'s typed tool filled by the run's chat model; None when the run has no chat model."""
    model = await chat_model_of(runtime)
    if model is None:
        return None
    request = prompts.FILL_ARGUMENTS_CONTEXT.format(text=text, context=context[:MAX_CONTEXT_CHARS]) if context else text
    return await fill_arguments(model, cap.input_schema or {}, request, tool_name=cap.tool_name, description=cap.description)


def llm_schema(tool_schema: dict[str, Any], tool_name: str, description: str) -> dict[str, Any]:
    """The tool's input schema with the title and description structured output needs."""
    schema = {k: v for k, v in (tool_schema or {}).items() if k != "$schema"}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    schema["title"] = re.sub(r"[^A-Za-z0-9_]", "_", tool_name)[:64] or "tool"
    schema["description"] = (description or (tool_schema or {}).get("description") or f"Arguments of {tool_name}")[:1000]
    return schema


_NUM = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")


def conform(args: dict[str, Any], schema: dict[str, Any], tool_name: str) -> dict[str, Any]:
    """Keep the schema's parameters, coerce simple types; raise when a required one is missing."""
    props = (schema or {}).get("properties") or {}
    required = (schema or {}).get("required") or []
    out = {k: coerce(v, props.get(k) or {}) for k, v in args.items() if not props or k in props}  # drop invented parameters
    missing = [k for k in required if out.get(k) is None]
    if missing:
        raise MicromarketError(f"the chat model left required argument(s) of {tool_name!r} empty: {', '.join(missing)}")
    return out


def coerce(v: Any, spec: dict[str, Any]) -> Any:
    """'3' -> 3 for an integer, '1.5' -> 1.5 for a number, 'true' -> True, 7 -> '7' for a string; else unchanged."""
    t = spec.get("type")
    if t is None and isinstance(spec.get("anyOf"), list):
        t = next((s.get("type") for s in spec["anyOf"] if isinstance(s, dict) and s.get("type") not in (None, "null")), None)
    try:
        if t == "number" and isinstance(v, str) and _NUM.match(v.strip().replace(",", "")):
            return float(v.strip().replace(",", ""))
        if t == "integer" and isinstance(v, (str, float)) and _NUM.match(str(v).strip()) and float(v) == int(float(v)):
            return int(float(v))
        if t == "boolean" and isinstance(v, str) and v.lower() in ("true", "false"):
            return v.lower() == "true"
        if t == "string" and isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)
    except (TypeError, ValueError):
        return v
    return v
