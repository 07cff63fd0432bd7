"""What one capability-index entry holds: its document text, metadata and fingerprint; the filter vocabulary.

Entries are keyed ``"<specialist_id>.<capability>"``; the document is built by
:func:`capability_text`. Pure functions, no Chroma: the retriever and benchmarks use them too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from micromarket.capability_index.cards import Capability, SpecialistCard, canonical_hash, endpoint_of
from micromarket.errors import InputError

DOMAIN_FLAG = "domain:"  # metadata flag per domain, so that where={"domain": d} is an exact match


@dataclass
class Hit:
    key: str  # "<specialist_id>.<capability>"
    specialist_id: str
    capability: str
    similarity: float  # in [0, 1], higher is better
    metadata: dict = field(default_factory=dict)


# ---------------------------------------------------------------- capability text

_CAMEL1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SEP = re.compile(r"[_\-.:/]+")


def split_identifier(name: str) -> str:
    """``get_weatherForecast`` -> ``get weather Forecast``; ``HTMLParser`` -> ``HTML Parser``."""
    s = _SEP.sub(" ", name)
    s = _CAMEL2.sub(r"\1 \2", s)
    s = _CAMEL1.sub(r"\1 \2", s)
    return " ".join(s.split())


def _norm(s: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", s.lower()))


_GENERIC_PARAMS = {"task", "context"}


def _params(schema: dict[str, Any] | None) -> list[str]:
    out: list[str] = []
    props = (schema or {}).get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return out
    for pname, spec in list(props.items())[:30]:
        desc = spec.get("description") if isinstance(spec, dict) else None
        if pname in _GENERIC_PARAMS and not desc:
            continue  # the default solve(task, context) schema says nothing about the capability
        words = split_identifier(str(pname))
        out.append(f"{words} ({' '.join(str(desc).split())[:300]})" if desc else words)
    return out


def capability_text(card: SpecialistCard, cap: Capability) -> str:
    """The document indexed for one capability: what it is called, what it does, what it takes,
    what it was declared to solve, and who offers it. Most specific first (embedding models
    truncate long inputs)."""
    name = split_identifier(cap.name)
    lines = [f"{name}: {' '.join(cap.description.split())}"]
    spec_name = card.name.strip()
    spec_desc = " ".join(card.description.split())
    same_name = _norm(spec_name) == _norm(name) or _norm(spec_name) == _norm(cap.name)
    same_desc = _norm(spec_desc) == _norm(cap.description) or not spec_desc
    if not (same_name and same_desc):
        bits = []
        if not same_name:
            bits.append(spec_name)
        if not same_desc:
            bits.append(spec_desc)
        lines.append("Provided by " + " - ".join(bits))
    params = _params(cap.input_schema)
    if params:
        lines.append("Parameters: " + "; ".join(params))
    if cap.examples:
        lines.append("Examples: " + " | ".join(" ".join(e.split()) for e in cap.examples[:20]))
    if card.domains:
        lines.append("Domains: " + ", ".join(card.domains))
    return "\n".join(lines)


def entry_fingerprint(card: SpecialistCard, cap: Capability, doc: str) -> str:
    return canonical_hash(
        {
            "doc": doc,
            "capability": cap.model_dump(mode="json"),
            "endpoint": endpoint_of(card.transport),
            "domains": sorted(card.domains),
            "cost": card.cost_per_call,
            "version": card.version,
        }
    )


def entry_metadata(card: SpecialistCard, cap: Capability, fingerprint: str) -> dict[str, Any]:
    md: dict[str, Any] = {
        "specialist_id": card.id,
        "capability": cap.name,
        "name": card.name,
        "domains": ",".join(card.domains),
        "cost": float(card.cost_per_call),
        "latency_ms": float(card.latency_ms),
        "version": card.version,
        "fingerprint": fingerprint,
    }
    for d in card.domains:
        md[DOMAIN_FLAG + d] = True
    return md


def public_metadata(md: Mapping[str, Any] | None) -> dict[str, Any]:
    # "status": written by older versions; status lives with the identity in the ledger, never in the index
    return {k: v for k, v in (md or {}).items() if not k.startswith(DOMAIN_FLAG) and k != "status"}


def build_where(where: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Our filter vocabulary -> a Chroma ``where``: {"domain": str, "max_cost": float, "specialist_id": str}."""
    if not where:
        return None
    clauses: list[dict[str, Any]] = []
    for k, v in where.items():
        if v is None:
            continue
        if k == "domain":
            clauses.append({DOMAIN_FLAG + str(v): True})
        elif k == "max_cost":
            clauses.append({"cost": {"$lte": float(v)}})
        elif k == "specialist_id":
            clauses.append({"specialist_id": str(v)})
        else:
            raise InputError(f"unknown index filter {k!r} (use domain, max_cost or specialist_id)")
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matches_where(md: Mapping[str, Any], where: Mapping[str, Any] | None) -> bool:
    """The same filter evaluated in Python (used by the in-memory retriever)."""
    if not where:
        return True
    for k, v in where.items():
        if v is None:
            continue
        if k == "domain":
            if not md.get(DOMAIN_FLAG + str(v)):
                return False
        elif k == "max_cost":
            if float(md.get("cost", 0.0)) > float(v):
                return False
        elif k == "specialist_id":
            if md.get("specialist_id") != str(v):
                return False
        else:
            raise InputError(f"unknown index filter {k!r} (use domain, max_cost or specialist_id)")
    return True
