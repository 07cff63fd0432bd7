"""A tool-search gateway: every registered server's tools behind two meta-tools, ``search_tools`` and ``call_tool``.

Agent clients load every tool schema of every configured server into the model's context. With micromarket as
their one server they see two tools instead: ``search_tools(query, k)`` finds tools by meaning (the capability
index's hybrid retrieval, re-ranked with trust) and returns their real names and input schemas; ``call_tool(name,
arguments)`` runs one through the pool with the same checks as a routed call: status (quarantined or disabled
specialists are refused), tool pins and the poisoning scan (PinGuard), the call deadline, the SDK's output-schema
validation and the output-injection check (an injection is the one outcome recorded as trust evidence: a caller
chooses the arguments, so nothing else a direct call shows is evidence about the tool).

A tool's gateway name is its capability key ``<specialist_id>.<capability>``; the result names the real tool and
its server.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from micromarket.capability_index.cards import SpecialistCard
from micromarket.capability_index.identities import CALLABLE
from micromarket.capability_index.outcomes import EVIDENCE_FOR
from micromarket.capability_index.output_guard import output_injection
from micromarket.capability_index.pins import guard_for
from micromarket.errors import InputError, QuarantinedError, SpecialistCallError, UnknownSpecialistError

MAX_K = 50
TRUST_WEIGHT = 0.5  # score = similarity x (1 - w + w x trust mean): trust re-orders near ties, never hides a strong match


def search_tools(mp, query: str, k: int = 5) -> list[dict[str, Any]]:
    """The ``k`` tools that best match ``query``, best first, with their real names, servers and input schemas."""
    k = max(1, min(int(k), MAX_K))
    hits = mp.find(query, min(MAX_K, 3 * k))  # trust re-ranks a wider pool
    svc = mp.services
    statuses = svc.ledger.statuses({h["specialist_id"] for h in hits})
    hits = [h for h in hits if statuses.get(h["specialist_id"]) in CALLABLE]  # never offer a quarantined tool
    posts = svc.ledger.posteriors([(h["specialist_id"], h["capability"]) for h in hits])
    cards: dict[str, SpecialistCard] = {}
    out = []
    for h in hits:
        sid, cap_name = h["specialist_id"], h["capability"]
        try:
            card = cards.get(sid) or cards.setdefault(sid, svc.store.get(sid))
            cap = card.capability(cap_name)
        except (KeyError, UnknownSpecialistError):  # removed since the index was read
            continue
        trust = posts[(sid, cap_name)].mean if (sid, cap_name) in posts else 0.5
        score = h["similarity"] * (1 - TRUST_WEIGHT + TRUST_WEIGHT * trust)
        out.append({"name": h["key"], "tool": cap.tool_name, "server": sid, "server_name": card.name,
                    "description": cap.description, "input_schema": cap.input_schema, "similarity": h["similarity"],
                    "trust": round(trust, 4), "score": round(score, 4)})
    out.sort(key=lambda r: -r["score"])
    return out[:k]


def resolve(mp, name: str) -> tuple[SpecialistCard, Any]:
    """The card and capability behind a gateway name (``server.capability``, or a tool name only one server offers)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("call_tool needs a tool name (from search_tools)")
    name = name.strip()
    store = mp.services.store
    sid, dot, cap_name = name.partition(".")
    if dot and store.has(sid):
        card = store.get(sid)
        for cap in card.capabilities:
            if cap_name in (cap.name, cap.tool_name):
                return card, cap
    owners = [(c, cap) for c in mp.callable_cards() for cap in c.capabilities if name in (cap.tool_name, cap.name)]
    if len(owners) == 1:
        return owners[0]
    if owners:
        raise InputError(f"tool {name!r} is offered by {', '.join(sorted(c.id for c, _ in owners))}: "
                         f"name it as server.tool (e.g. {owners[0][0].id}.{owners[0][1].name})")
    raise InputError(f"no tool named {name!r}; find one with search_tools")


async def acall_tool(mp, name: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None) -> dict[str, Any]:
    """Call a tool found by :func:`search_tools`. Raises InputError for a bad name or arguments, QuarantinedError
    for a refused specialist, SpecialistCallError when the call fails."""
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise InputError(f"call_tool arguments must be an object, got {type(arguments).__name__}")
    svc = mp.services
    card, cap = await asyncio.to_thread(resolve, mp, name)
    status = await asyncio.to_thread(svc.ledger.status, card.id)
    if status not in CALLABLE:
        raise QuarantinedError(f"specialist {card.id!r} is {status}; `micromarket specialists approve {card.id}` after review")
    guard = await asyncio.to_thread(guard_for, svc)
    call_id = f"gw-{uuid.uuid4().hex[:12]}"
    t0 = time.perf_counter()
    try:
        out = await svc.pool.call(card, cap.tool_name, arguments, timeout=timeout or svc.settings.call_timeout_s, guard=guard)
        # error text too: it reaches the calling model
        findings = output_injection("\n".join([out.text, *_strings(out.structured)]))
        if findings:
            raise SpecialistCallError(f"{card.id}.{cap.tool_name} returned instructions instead of data "
                                      f"({'; '.join(sorted({f.rule for f in findings}))}); output discarded unread", kind="injection")
        if out.is_error:
            raise SpecialistCallError(f"{card.id}.{cap.tool_name} reported an error: {out.text[:300]}", kind="error")
    except QuarantinedError:
        raise
    except SpecialistCallError as e:
        await asyncio.to_thread(_record, svc, call_id, card.id, cap.name, e.kind)
        raise
    await asyncio.to_thread(_record, svc, call_id, card.id, cap.name, "ok")
    return {"tool": cap.tool_name, "server": card.id, "server_name": card.name, "name": f"{card.id}.{cap.name}",
            "version": card.version, "structured": out.structured, "text": out.text,
            "latency_ms": round((time.perf_counter() - t0) * 1000, 1), "call_id": call_id}


def _strings(value: Any) -> list[str]:
    """Every string inside a structured result, with its real newlines (a fake turn starts a line)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _record(svc, call_id: str, specialist_id: str, capability: str, outcome: str) -> None:
    # a caller chooses the arguments: only what the tool itself did wrong (an injection) is evidence about it;
    # errors and successes of direct calls would let any caller move trust that routes everyone's tasks
    if outcome != "injection":
        return
    kind = EVIDENCE_FOR.get(outcome)
    if kind:
        svc.ledger.record_evidence(run_id=call_id, subtask_id="call", specialist_id=specialist_id, capability=capability,
                                   kind=kind[0], success=kind[1])
