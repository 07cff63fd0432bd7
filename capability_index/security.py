"""Tool-poisoning and output-injection scanner (rules; no network, no model).

A maintained scanner was considered: ``mcp-scan`` (Invariant Labs, now
``snyk-agent-scan`` on PyPI) sends tool descriptions to a remote analysis API
(api.snyk.io) and needs a token, so it cannot run offline or inside a test
suite. Its public rule set and the published attacks (Invariant Labs' tool
poisoning, MCP security best practices) are what these rules encode:

- instruction blocks aimed at the model: ``<IMPORTANT>``, ``<SYSTEM>``, "ignore
  previous instructions", "do not tell the user", "before using this tool…";
- sensitive files and secrets: ``~/.ssh/id_rsa``, ``.env``, ``/etc/passwd``,
  ``mcp.json``, API keys and tokens;
- exfiltration: "send/post/upload … to <URL>", webhook/request-bin hosts, URLs with
  template placeholders;
- shadowing: mentions of *other* tools or specialists ("when the send_email tool
  is called…", "instead of the X tool");
- hidden characters: zero-width, bidi controls, Unicode tag characters (U+E0000…),
  other format characters; text is also scanned after NFKC folding.

Every string a tool definition carries is scanned: the description, every
parameter name, title, description, default, enum, const and example, at any
depth of the JSON schema (properties, items, anyOf/oneOf/allOf, $defs …), the
output schema and the annotations.

Findings are data: :class:`Finding` (rule, where, excerpt). A card with findings
is refused by :func:`assert_clean` (:class:`PoisonedSpecialistError`) with the
reasons; its text is never embedded and never shown to an LLM.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from micromarket.errors import CardError

MAX_DEPTH = 64  # schemas nested deeper than this are refused outright
MAX_STRINGS = 20_000  # and so are schemas with more strings than this


class PoisonedSpecialistError(CardError):
    """A specialist's definition carries hidden instructions; it is refused (or quarantined)."""

    def __init__(self, message: str, findings: list[Finding] | None = None):
        super().__init__(message)
        self.findings = list(findings or [])


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.rule} ({self.excerpt!r})"


# ---------------------------------------------------------------- hidden characters

_ZERO_WIDTH = set("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u00ad")
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def hidden_characters(text: str) -> list[str]:
    """Names of invisible or format characters in ``text`` (zero-width, bidi, tags, other Cf)."""
    found: list[str] = []
    for ch in text:
        cp = ord(ch)
        if 0xE0000 <= cp <= 0xE007F:
            name = "unicode tag character"
        elif ch in _ZERO_WIDTH:
            name = "zero-width character"
        elif ch in _BIDI:
            name = "bidirectional control character"
        elif unicodedata.category(ch) == "Cf":
            name = "invisible format character"
        elif unicodedata.category(ch) == "Cc" and ch not in "\n\r\t":
            name = "control character"
        elif 0xF0000 <= cp <= 0x10FFFF or 0xE000 <= cp <= 0xF8FF:
            name = "private-use character"
        else:
            continue
        if name not in found:
            found.append(name)
    return found


def decode_tags(text: str) -> str:
    """The ASCII smuggled in Unicode tag characters (U+E0020…U+E007E), if any."""
    return "".join(chr(ord(c) - 0xE0000) for c in text if 0xE0020 <= ord(c) <= 0xE007E)


# ---------------------------------------------------------------- text rules

_I = re.I | re.S
RULES: list[tuple[str, re.Pattern[str]]] = [
    ("instruction block (<IMPORTANT>, <SYSTEM> …)", re.compile(
        r"<\s*/?\s*(important|system|instructions?|secret|hidden|admin|prompt|assistant|user|critical|note to (?:the )?(?:ai|model|assistant))\b[^>]*>", _I)),
    ("override of previous instructions", re.compile(
        r"\b(ignore|disregard|forget|override|bypass)\b[\w\s,'-]{0,30}\b(previous|prior|above|earlier|all|any|other|system|your)\b[\w\s'-]{0,20}\b(instructions?|prompts?|rules|guidelines|directions|messages?)", _I)),
    ("secrecy towards the user", re.compile(
        r"\b(do\s*n[o']?t|never|don't|without)\b[\w\s,'-]{0,25}\b(tell|telling|inform|informing|mention|mentioning|reveal|revealing|notify|notifying|show|showing|alert|alerting)\b[\w\s'-]{0,15}\b(the\s+)?(user|human|operator|them)\b", _I)),
    ("instruction addressed to the model", re.compile(
        r"\b(you\s+(must|should|have\s+to|need\s+to|are\s+required\s+to)\s+(first\s+)?(read|send|fetch|upload|open|access|execute|exfiltrate)\b"
        r"|before\s+(using|calling|running|invoking)\s+(this|any|the|other)\b[\w\s]{0,20}\btools?\b"
        r"|(as|acting\s+as)\s+an?\s+(ai|assistant|llm|language\s+model)[\w\s,]{0,20}\byou\b"
        r"|\bnew\s+instructions?\s*:|\bsystem\s+prompt\b|\bjailbreak\b)", _I)),
    ("sensitive file or secret", re.compile(
        r"(~|\$HOME|/home/[\w.-]+|/root|%USERPROFILE%)[/\\]\.(ssh|aws|gnupg|config|kube|docker|netrc|npmrc|pypirc|git-credentials|cursor)\b"
        r"|\bid_(rsa|dsa|ecdsa|ed25519)\b|\.pem\b|/etc/(passwd|shadow|sudoers)\b|(^|[\s/\\'\"`])\.env\b|\bmcp\.json\b"
        r"|\b(read|send|include|pass|provide|attach|fetch|cat|open|upload|share|paste|append|add|collect|extract|return)\b[\w\s,'-]{0,40}"
        r"\b(private[\s_-]?keys?|secret[\s_-]?keys?|api[\s_-]?keys?|ssh[\s_-]?keys?|credentials|passwords?|passphrases?|(bearer|auth|access|session)[\s_-]?tokens?|cookies)\b"
        r"|\b[A-Z][A-Z0-9]*_(API_KEY|TOKEN|SECRET|PASSWORD)\b", _I)),
    ("exfiltration to a URL or address", re.compile(
        r"\b(send|post|upload|forward|transmit|exfiltrate|copy|leak|email|report|submit)\b[\w\s,'-]{0,60}\b(to|at|via)\b\s*(https?://|ftp://|wss?://|[\w.+-]+@[\w-]+\.[\w.]+)"
        r"|https?://[^\s\"'<>]*(\{|%7b|\$\{)|https?://[^\s\"'<>]*(webhook|requestbin|pipedream|ngrok|burpcollaborator|interact\.sh|oast\.|pastebin)"
        r"|\b(curl|wget)\s+(-[\w-]+\s+)*['\"]?https?://", _I)),
    ("shell or code execution request", re.compile(
        r"\b(run|execute|eval)\b[\w\s]{0,15}\b(shell|bash|sh|command|script|code)\b[\w\s]{0,10}[:`]|\brm\s+-rf\b|\bchmod\s+\+x\b|\|\s*(ba)?sh\b", _I)),
]

# Mentions of another tool: "the send_email tool", "tool `x`", "instead of X", "when X is called".
_OTHER_TOOL = re.compile(
    r"\b(other|another|any\s+other|all\s+other|different)\s+(tools?|functions?|servers?|specialists?|assistants?|agents?)\b"
    r"|\b(instead\s+of|rather\s+than|in\s+place\s+of)\s+(using\s+|calling\s+)?(the\s+)?[`'\"]?[\w.-]+[`'\"]?\s+(tool|function|server|specialist)\b"
    r"|\bwhen(ever)?\s+(the\s+)?[`'\"]?[\w.-]+[`'\"]?\s+(tool|function)\s+(is\s+)?(used|called|invoked|runs?)\b"
    r"|\b(tools?|functions?)\s+(named|called)\s+[`'\"]?[\w.-]+",
    _I,
)


def _fold(text: str) -> str:
    """NFKC (full-width and compatibility forms), hidden characters removed, whitespace collapsed."""
    t = unicodedata.normalize("NFKC", text)
    t = "".join(c for c in t if unicodedata.category(c) not in ("Cf", "Co") and not 0xE0000 <= ord(c) <= 0xE007F)
    return " ".join(t.split())


def _excerpt(text: str, m: re.Match[str] | None, width: int = 80) -> str:
    if m is None:
        return text[:width]
    a = max(0, m.start() - 10)
    return text[a : a + width]


def scan_text(text: str, where: str = "text", *, other_tools: Iterable[str] = (), own_names: Iterable[str] = ()) -> list[Finding]:
    """Findings for one string. ``other_tools``: names (bare or qualified) of tools that are not this
    specialist's; mentioning one is shadowing. ``own_names`` are never flagged as other tools."""
    if not isinstance(text, str) or not text:
        return []
    out: list[Finding] = []
    for name in hidden_characters(text):
        out.append(Finding(f"hidden characters: {name}", where, text[:60]))
    smuggled = decode_tags(text)
    variants = [_fold(text)]
    if smuggled:
        variants.append(_fold(smuggled))
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", re.sub(r"[_]+", " ", variants[0]))  # identifiers: ignore_previous_instructions
    if words != variants[0]:
        variants.append(words)
    seen: set[str] = set()
    for variant in variants:
        for rule, rx in RULES:
            m = rx.search(variant)
            if m and rule not in seen:
                seen.add(rule)
                out.append(Finding(rule, where, _excerpt(variant, m)))
        m = _OTHER_TOOL.search(variant)
        if m and "mentions another tool" not in seen:
            seen.add("mentions another tool")
            out.append(Finding("mentions another tool (shadowing)", where, _excerpt(variant, m)))
        own = {n.lower() for n in own_names}
        low = variant.lower()
        for name in other_tools:
            n = name.lower()
            if len(n) < 4 or n in own or "shadow:" + n in seen:
                continue
            if re.search(r"(?<![\w.-])" + re.escape(n) + r"(?![\w-])", low) and ("_" in n or "." in n or "-" in n):
                seen.add("shadow:" + n)
                out.append(Finding(f"mentions another specialist's tool {name!r} (shadowing)", where, _excerpt(variant, None)))
    return out


# ---------------------------------------------------------------- JSON schema walk

_TEXT_KEYS = ("description", "title", "$comment", "pattern", "format", "markdownDescription", "errorMessage")
_VALUE_KEYS = ("default", "enum", "const", "examples", "example")


def _walk_values(value: Any, where: str, depth: int) -> Iterator[tuple[str, str]]:
    if depth > MAX_DEPTH:
        raise PoisonedSpecialistError(f"{where}: schema nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield f"{where}.{k}(key)", str(k)
            yield from _walk_values(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk_values(v, f"{where}[{i}]", depth + 1)


def schema_strings(schema: Any, where: str = "inputSchema", depth: int = 0) -> Iterator[tuple[str, str]]:
    """Every human-readable string in a JSON schema: names, descriptions, titles, defaults, enums …"""
    if depth > MAX_DEPTH:
        raise PoisonedSpecialistError(f"{where}: schema nested more than {MAX_DEPTH} levels deep")
    if isinstance(schema, list):
        for i, s in enumerate(schema):
            yield from schema_strings(s, f"{where}[{i}]", depth + 1)
        return
    if not isinstance(schema, dict):
        if isinstance(schema, str):
            yield where, schema
        return
    for key, val in schema.items():
        if key in _TEXT_KEYS and isinstance(val, str):
            yield f"{where}.{key}", val
        elif key in _VALUE_KEYS:
            yield from _walk_values(val, f"{where}.{key}", depth + 1)
        elif key in ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas"):
            if isinstance(val, dict):
                for pname, sub in val.items():
                    yield f"{where}.{key}.{pname}(name)", str(pname)
                    yield from schema_strings(sub, f"{where}.{key}.{pname}", depth + 1)
        elif key in ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
                     "anyOf", "oneOf", "allOf", "prefixItems", "unevaluatedProperties", "additionalItems"):
            yield from schema_strings(val, f"{where}.{key}", depth + 1)
        elif key == "required" and isinstance(val, list):
            for i, r in enumerate(val):
                if isinstance(r, str):
                    yield f"{where}.required[{i}]", r
        elif isinstance(val, str) and key not in ("type", "$ref", "$schema", "$id"):
            yield f"{where}.{key}", val  # unknown keywords are text too (x-instructions …)
        elif isinstance(val, (dict, list)) and key not in ("type",):
            yield from _walk_values(val, f"{where}.{key}", depth + 1)


def tool_strings(tool: dict[str, Any], where: str = "tool") -> Iterator[tuple[str, str]]:
    """Every string of an MCP tool definition (name, title, description, schemas, annotations)."""
    for key in ("name", "title", "description"):
        if isinstance(tool.get(key), str):
            yield f"{where}.{key}", tool[key]
    yield from schema_strings(tool.get("inputSchema") or {}, f"{where}.inputSchema")
    yield from schema_strings(tool.get("outputSchema") or {}, f"{where}.outputSchema")
    ann = tool.get("annotations")
    if ann:
        yield from _walk_values(ann, f"{where}.annotations", 0)


def _check_volume(items: list[tuple[str, str]], where: str) -> None:
    if len(items) > MAX_STRINGS:
        raise PoisonedSpecialistError(f"{where}: definition has {len(items)} strings (limit {MAX_STRINGS})")


def scan_tool(tool: Any, *, where: str | None = None, other_tools: Iterable[str] = (), own_names: Iterable[str] = ()) -> list[Finding]:
    """Findings for an MCP tool (an ``mcp.types.Tool`` or its dict)."""
    d = tool_definition(tool)
    where = where or f"tool {d.get('name')!r}"
    try:
        items = list(tool_strings(d, where))
    except RecursionError:
        raise PoisonedSpecialistError(f"{where}: schema nested too deeply") from None
    _check_volume(items, where)
    others = list(other_tools)
    own = list(own_names) + [str(d.get("name") or "")]
    out: list[Finding] = []
    for w, s in items:
        out.extend(scan_text(s, w, other_tools=() if _field_name(w) else others, own_names=own))
    return out


def _field_name(where: str) -> bool:
    """A schema's property name or required entry: a data field's identifier, which may equal another tool's name
    (``day_of_week``) without being an instruction to call it. The injection rules still apply to it."""
    return where.endswith("(name)") or bool(re.search(r"\.required\[\d+\]$", where))


def card_strings(card: Any) -> Iterator[tuple[str, str]]:
    """Every string of a specialist card that could reach an embedding or an LLM."""
    yield "name", card.name
    yield "description", card.description
    for i, d in enumerate(card.domains):
        yield f"domains[{i}]", d
    for cap in card.capabilities:
        w = f"capabilities.{cap.name}"
        yield f"{w}.name", cap.name
        if cap.tool:
            yield f"{w}.tool", cap.tool
        yield f"{w}.description", cap.description
        for i, e in enumerate(cap.examples):
            yield f"{w}.examples[{i}]", e
        yield from schema_strings(cap.input_schema or {}, f"{w}.input_schema")
        yield from schema_strings(cap.output_schema or {}, f"{w}.output_schema")


def scan_card(card: Any, *, other_tools: Iterable[str] = ()) -> list[Finding]:
    """Findings for a whole card. ``other_tools``: tool/capability names of the *other* registered specialists."""
    try:
        items = list(card_strings(card))
    except RecursionError:
        raise PoisonedSpecialistError(f"card {card.id}: schema nested too deeply") from None
    _check_volume(items, f"card {card.id}")
    own = [card.id] + [c.name for c in card.capabilities] + [c.tool_name for c in card.capabilities]
    own += [card.key(c.name) for c in card.capabilities]
    others = list(other_tools)
    out: list[Finding] = []
    for w, s in items:
        out.extend(scan_text(s, w, other_tools=() if _field_name(w) else others, own_names=own))
    return out


def other_tool_names(cards: Iterable[Any], exclude: str | None = None) -> list[str]:
    """Qualified and bare tool names of registered specialists other than ``exclude``."""
    names: list[str] = []
    for c in cards:
        if c.id == exclude:
            continue
        for cap in c.capabilities:
            names.append(c.key(cap.name))
            if cap.name not in ("solve",):
                names.append(cap.name)
            if cap.tool and cap.tool != "solve":
                names.append(cap.tool)
    return sorted(set(names))


def describe(findings: list[Finding], limit: int = 8) -> str:
    lines = [f"  - {f}" for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"  … and {len(findings) - limit} more")
    return "\n".join(lines)


def assert_clean(card: Any, *, other_tools: Iterable[str] = ()) -> None:
    """Raise PoisonedSpecialistError listing the findings if the card carries hidden instructions."""
    findings = scan_card(card, other_tools=other_tools)
    if findings:
        raise PoisonedSpecialistError(
            f"specialist {card.id!r} was refused: its definition carries text aimed at the model "
            f"(tool poisoning):\n{describe(findings)}\nIts text was not indexed and was not shown to any model.",
            findings,
        )


def reason_of(findings: list[Finding]) -> str:
    return "tool poisoning: " + "; ".join(f"{f.where}: {f.rule}" for f in findings[:4])


# ---------------------------------------------------------------- tool definitions


def tool_definition(tool: Any) -> dict[str, Any]:
    """The full, JSON-ready definition of an MCP tool: name, title, description, inputSchema,
    outputSchema, annotations (the fields a pin covers)."""
    if hasattr(tool, "model_dump"):
        d = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    elif isinstance(tool, dict):
        d = dict(tool)
    else:
        raise TypeError(f"not a tool definition: {type(tool).__name__}")
    return {k: d.get(k) for k in ("name", "title", "description", "inputSchema", "outputSchema", "annotations")}


__all__ = [
    "Finding", "PoisonedSpecialistError", "scan_text", "scan_tool", "scan_card", "assert_clean", "other_tool_names",
    "tool_definition", "hidden_characters", "schema_strings", "reason_of",
]
