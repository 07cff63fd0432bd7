"""What a call attempt can end as, and what each outcome is worth as trust evidence. Defined once.

The run node writes :data:`ATTEMPT_OUTCOMES` on every attempt; the update_trust node
turns them into ledger evidence through :data:`EVIDENCE_FOR`; routing records store
the subtask-level :data:`ROUTING_OUTCOMES`.
"""

from __future__ import annotations

ATTEMPT_OUTCOMES = ("ok", "declined", "error", "timeout", "quarantined", "schema", "injection", "unfilled")

# attempt outcome -> (evidence kind, success). A decline is honest and counts for nothing, nor does a call
# refused because the specialist is quarantined, nor "unfilled" (the orchestrator's chat model could not build the
# call's arguments: its own failure, never charged to the specialist); self-reported confidence is never evidence.
EVIDENCE_FOR: dict[str, tuple[str, bool]] = {
    "ok": ("outcome", True),
    "error": ("error", False),
    "timeout": ("timeout", False),
    "schema": ("error", False),
    "injection": ("injection", False),  # instructions in an output: counts against trust and quarantines
}

ROUTING_OUTCOMES = ("ok", "error", "timeout", "unsupported", "skipped")


def routing_outcome(subtask_status: str) -> str:
    """A subtask result's status (ok | failed | unsupported) as a routing outcome."""
    return "error" if subtask_status == "failed" else subtask_status
