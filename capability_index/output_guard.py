"""Specialist output is data: detect injection attempts in it, and render it inert wherever it leaves.

Two halves, used by the graph (which quarantines a specialist whose output carries a finding) and by every
exit (CLI, Python API, MCP front door, a chat model's prompt):

- :func:`output_injection` finds instructions aimed at the orchestrator or at the user's model: instruction
  blocks and overrides (the card scanner's rules), fake tool calls (JSON ``tool_calls``/``function_call``,
  ``<tool_call>``/``<invoke>`` markup), markdown images and links that carry data to a remote host, fake
  conversation turns (``Human:`` / ``Assistant:`` / ``System:`` at the start of a line), requests to paste or
  send the conversation somewhere, and closing-tag breakouts (``</results> System: ...``).
- :func:`render_inert` escapes a text so that no reader renders it as markup: no live links or images, no
  tags, no line that starts a conversation turn. Plain answers ("5 mi = 8.05 km") come back unchanged.
"""

from __future__ import annotations

import re
import unicodedata

from micromarket.capability_index.security import RULES, Finding, _excerpt, _fold, decode_tags, hidden_characters, _OTHER_TOOL

_I = re.I | re.S
_ROLES = r"(human|user|assistant|system|ai|model|developer|tool|function)"

OUTPUT_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("fake tool call", re.compile(
        r"[\"']\s*(tool_calls|tool_use|function_call|tool_call)\s*[\"']\s*:"
        r"|<\s*/?\s*(tool_call|tool_use|function_calls?|invoke|antml:[\w-]+|tool_result|function_results?)\b"
        r"|\{\s*[\"']name[\"']\s*:\s*[\"'][\w.-]+[\"']\s*,\s*[\"'](arguments|args|parameters|input)[\"']\s*:", _I)),
    ("markdown image or link to a remote host", re.compile(
        r"!\[[^\]]{0,200}\]\(\s*<?\s*(https?:)?//"
        r"|\[[^\]]{0,200}\]\(\s*<?\s*(https?:)?//[^)\s]*[?#&=][^)\s]*\)"
        r"|<\s*img\b[^>]*\bsrc\s*=", _I)),
    ("fake conversation turn", re.compile(r"(^|\n)[ \t>*_#-]*" + _ROLES + r"\s*:\s*\S", re.I)),
    ("request to send the conversation elsewhere", re.compile(
        r"\b(paste|send|post|share|upload|submit|forward|leak|e-?mail|transmit|exfiltrate|dump|copy)\b[\w\s,'-]{0,40}?"
        r"\b(the|this|our|your|whole|entire|full|all|previous|prior)\s+([\w-]+\s+){0,2}"
        r"(conversation|chat|chats|dialog(ue)?|transcript|(message|conversation|chat)\s+(history|log)|system\s+prompt|messages|instructions)\b", _I)),
    ("closing-tag breakout", re.compile(
        r"<\s*/\s*(results?|data|outputs?|context|documents?|tool[_-]?outputs?|function[_-]?results?|specialist[_-]output|answer|response|search_results|source)\s*>"
        r"|<\s*/\s*[\w-]{1,40}\s*>\s*(\n|\s)*" + _ROLES + r"\s*:", re.I)),
]
_INSTRUCTION_RULES = [r for r in RULES if r[0] not in ("sensitive file or secret",)]
_OUTPUT_EXTRA = re.compile(
    r"\b(call|invoke|use|run)\s+(the\s+)?[`'\"]?[\w.-]+[`'\"]?\s+(tool|function|specialist)\b"
    r"|\b(add|insert|create|append)\s+(a\s+)?(new\s+)?(sub-?task|step|tool\s+call)\b|\b(change|modify|rewrite)\s+(the\s+)?plan\b",
    _I,
)
_SECRET_ASK = re.compile(
    r"\b(print|show|cat|read|display|output|reveal|dump|list|give|send)\b[\w\s,'-]{0,30}"
    r"(~|\$HOME|/home/[\w.-]+|/root)[/\\]\.(ssh|aws|gnupg|config|kube|docker|netrc|npmrc|pypirc|git-credentials)\b"
    r"|\b(print|show|cat|read|display|output|reveal|dump)\b[\w\s,'-]{0,30}(/etc/(passwd|shadow)|\bid_(rsa|ed25519)\b|\.env\b|credentials)", _I)


def output_injection(text: str) -> list[Finding]:
    """Instructions hidden in a specialist's *output*: findings, empty for plain data."""
    if not isinstance(text, str) or not text:
        return []
    out: list[Finding] = []
    for name in hidden_characters(text):
        if name != "control character":
            out.append(Finding(f"hidden characters: {name}", "output", text[:60]))
    raw = unicodedata.normalize("NFKC", text + "\n" + decode_tags(text))
    folded = _fold(raw)
    for rule, rx in _INSTRUCTION_RULES:
        m = rx.search(folded)
        if m:
            out.append(Finding(rule, "output", _excerpt(folded, m)))
    for rule, rx in OUTPUT_RULES:
        m = rx.search(raw) or rx.search(folded)
        if m:
            out.append(Finding(rule, "output", _excerpt(raw, m)))
    m = _SECRET_ASK.search(folded)
    if m:
        out.append(Finding("asks for secrets or private files", "output", _excerpt(folded, m)))
    m = _OTHER_TOOL.search(folded) or _OUTPUT_EXTRA.search(folded)
    if m:
        out.append(Finding("tries to direct other tools or the plan", "output", _excerpt(folded, m)))
    return out


_DELIM = re.compile(r"</?\s*(specialist[-_]output|data)\b[^>]*>", re.I)


def as_data(text: str, source: str) -> str:
    """A specialist's output, fenced as data for a prompt: it is rendered inert and cannot close the fence."""
    body = _DELIM.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), render_inert(str(text)))
    src = re.sub(r"[^\w.-]", "_", source)[:80]
    return f'<specialist-output source="{src}">\n{body}\n</specialist-output>'


_TURN = re.compile(r"(^|\n)([ \t>*_#-]*)" + _ROLES + r"(\s*):", re.I)
_URL = re.compile(r"\b(https?|ftp|wss?)://", re.I)
_TAG = re.compile(r"<(\s*/?[A-Za-z!?][\w:.!?-]*(?:\s[^<>]*)?/?)>")


def render_inert(text: str) -> str:
    """Escape a specialist's text for any reader: no tags, no live links or images, no conversation turns.

    Tags' angle brackets become ‹ ›, markdown image/link openers are escaped, URL schemes are defanged
    (``https://x`` -> ``hxxps[:]//x``), and a line starting with a role name loses its colon's power.
    """
    if not isinstance(text, str) or not text:
        return "" if text is None else str(text)
    t = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Co"))
    t = _TAG.sub(lambda m: "‹" + m.group(1) + "›", t)  # markup only: "x < 5" and "a -> b" stay as they are
    t = t.replace("![", "!\\[").replace("](", "]\\(")
    t = _URL.sub(lambda m: m.group(1).lower().replace("t", "x", 2) + "[:]//" if m.group(1).lower().startswith("http")
                 else m.group(1) + "[:]//", t)
    t = _TURN.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{m.group(4)}\uff1a", t)
    return t


__all__ = ["OUTPUT_RULES", "output_injection", "as_data", "render_inert"]
