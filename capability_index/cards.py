"""Specialist cards: what a specialist declares about itself.

Cards are written as YAML or TOML, or derived from a running MCP server
(tools/list plus an optional ``card://`` resource). Validation errors name the
offending field.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from micromarket.errors import CardError

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CAP_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class Transport(BaseModel):
    """How to reach a specialist: a stdio command, a streamable-HTTP URL, in-process, or an OpenAI-compatible chat
    endpoint (``base_url`` + ``model``; the pool serves it as an in-memory MCP ``solve`` tool)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["stdio", "http", "inprocess", "openai"]
    command: list[str] | None = None  # stdio: argv; "{python}" expands to sys.executable
    env: dict[str, str] = Field(default_factory=dict)  # stdio: the explicit environment
    cwd: str | None = None
    url: str | None = None  # http: streamable-HTTP endpoint
    target: str | None = None  # inprocess: "module:attr" naming an MCPServer or a factory
    base_url: str | None = None  # openai: e.g. http://127.0.0.1:8080/v1
    model: str | None = None  # openai: the served model's name

    @model_validator(mode="after")
    def _check_kind(self) -> Transport:
        needs = {"stdio": ["command"], "http": ["url"], "inprocess": ["target"], "openai": ["base_url", "model"]}[self.kind]
        for need in needs:
            if not getattr(self, need):
                raise ValueError(f"transport kind {self.kind!r} needs '{need}'")
        if self.kind == "http" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError("transport.url must start with http:// or https://")
        if self.kind == "openai" and not (self.base_url or "").startswith(("http://", "https://")):
            raise ValueError("transport.base_url must start with http:// or https://")
        return self


class Capability(BaseModel):
    """One thing a specialist can do; usually one MCP tool."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=CAP_PATTERN)
    description: str = Field(min_length=1, max_length=4000)
    examples: list[str] = Field(default_factory=list, max_length=50)
    tool: str | None = None  # MCP tool to call; defaults to "solve"
    input_schema: dict[str, Any] = Field(
        default_factory=lambda: {
            "type": "object",
            "properties": {"task": {"type": "string"}, "context": {"type": "string"}},
            "required": ["task"],
        }
    )
    output_schema: dict[str, Any] | None = None

    @property
    def tool_name(self) -> str:
        return self.tool or "solve"


class SpecialistCard(BaseModel):
    """The declaration a specialist publishes: identity, capabilities, cost and transport."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    version: str = Field(default="0.1.0", min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    domains: list[str] = Field(default_factory=list)
    capabilities: list[Capability] = Field(min_length=1)
    cost_per_call: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    latency_ms: float = Field(default=100.0, ge=0.0, allow_inf_nan=False)
    context_tokens: int = Field(default=2048, ge=0)  # token budget for the context a call may carry
    transport: Transport
    provider: str = "unknown"
    license: str = "unknown"

    @field_validator("capabilities")
    @classmethod
    def _unique_caps(cls, caps: list[Capability]) -> list[Capability]:
        seen: set[str] = set()
        for c in caps:
            if c.name in seen:
                raise ValueError(f"duplicate capability name {c.name!r}")
            seen.add(c.name)
        return caps

    def capability(self, name: str) -> Capability:
        for c in self.capabilities:
            if c.name == name:
                return c
        raise KeyError(f"{self.id} has no capability {name!r}")

    def key(self, capability: str) -> str:
        """Qualified name ``specialist.capability``."""
        return f"{self.id}.{capability}"

    def fingerprint(self) -> str:
        """Hash of the definition (capabilities and endpoint), stable under key reordering."""
        payload = {
            "capabilities": [c.model_dump(mode="json") for c in self.capabilities],
            "endpoint": endpoint_of(self.transport),
        }
        return canonical_hash(payload)


def endpoint_of(t: Transport) -> str:
    if t.kind == "stdio":
        return "stdio:" + " ".join(t.command or [])
    if t.kind == "http":
        return "http:" + (t.url or "")
    if t.kind == "openai":
        return f"openai:{t.base_url}#{t.model}"
    return "inprocess:" + (t.target or "")


def canonical_hash(obj: Any) -> str:
    """SHA-256 of canonical JSON (sorted keys, no whitespace): key order is not a change."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _format_error(err: ValidationError, source: str) -> str:
    lines = [f"invalid specialist card ({source}):"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "<card>"
        lines.append(f"  field '{loc}': {e['msg']}")
    return "\n".join(lines)


def parse_card(data: dict[str, Any] | str | bytes, *, fmt: str = "yaml", source: str = "<card>") -> SpecialistCard:
    """Validate a card from a mapping or from YAML/TOML/JSON text. Raises CardError naming the field."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CardError(f"invalid specialist card ({source}): not UTF-8 text ({e.reason} at byte {e.start})") from None
    if isinstance(data, str):
        try:
            if fmt == "toml":
                data = tomllib.loads(data)
            elif fmt == "json":
                data = json.loads(data)
            else:
                data = yaml.safe_load(data)
        except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
            raise CardError(f"invalid specialist card ({source}): cannot parse {fmt}: {e}") from None
        except RecursionError:
            raise CardError(f"invalid specialist card ({source}): document nested too deeply") from None
    if not isinstance(data, dict):
        raise CardError(f"invalid specialist card ({source}): expected a mapping at the top level, got {type(data).__name__}")
    try:
        return SpecialistCard.model_validate(data)
    except ValidationError as e:
        raise CardError(_format_error(e, source)) from None
    except RecursionError:
        raise CardError(f"invalid specialist card ({source}): document nested too deeply") from None


def load_card(path: str | Path) -> SpecialistCard:
    """Read a card file (.yaml, .yml, .toml or .json)."""
    p = Path(path)
    if not p.is_file():
        raise CardError(f"card file not found: {p}")
    fmt = {".toml": "toml", ".json": "json"}.get(p.suffix.lower(), "yaml")
    return parse_card(p.read_bytes(), fmt=fmt, source=str(p))


def dump_card(card: SpecialistCard) -> str:
    return yaml.safe_dump(card.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True)


def card_from_tools(
    *,
    specialist_id: str,
    server_name: str,
    server_description: str | None,
    tools: list[Any],
    transport: Transport,
    card_resource: dict[str, Any] | None = None,
    version: str = "0.0.0",
) -> SpecialistCard:
    """Derive a card from an MCP server's tools/list (and its optional card resource).

    The card resource, when present, supplies metadata (cost, latency, domains,
    examples per capability); the tool list is authoritative for what exists.
    """
    extra = dict(card_resource or {})
    declared = {c.get("name"): c for c in extra.pop("capabilities", []) or [] if isinstance(c, dict)}
    caps = []
    for t in tools:
        name = getattr(t, "name", None) or t["name"]
        desc = getattr(t, "description", None) if not isinstance(t, dict) else t.get("description")
        schema = getattr(t, "input_schema", None) if not isinstance(t, dict) else t.get("inputSchema")
        out = getattr(t, "output_schema", None) if not isinstance(t, dict) else t.get("outputSchema")
        d = declared.get(name, {})
        caps.append(
            {
                "name": _safe_cap_name(name),
                "tool": name,
                "description": d.get("description") or desc or name,
                "examples": d.get("examples", []),
                "input_schema": schema or {"type": "object"},
                "output_schema": out,
            }
        )
    data = {
        "id": specialist_id,
        "version": extra.pop("version", version),
        "name": extra.pop("name", server_name),
        "description": extra.pop("description", None) or server_description or server_name,
        "capabilities": caps,
        "transport": transport.model_dump(),
    }
    for k in ("domains", "cost_per_call", "latency_ms", "context_tokens", "provider", "license"):
        if k in extra:
            data[k] = extra[k]
    return parse_card(data, source=f"mcp server {server_name}")


def _safe_cap_name(name: str) -> str:
    import re

    s = re.sub(r"[^A-Za-z0-9_-]", "_", name).strip("_-") or "tool"
    return s[:64]
