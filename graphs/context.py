"""Run-time configuration of the marketplace graph, read by nodes through ``Runtime``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from micromarket.errors import InputError

# field: (kind, low, high); a run with a value outside these is refused before any specialist is called
_LIMITS: dict[str, tuple[type, float, float]] = {
    "top_k": (int, 1, 200), "redundancy": (int, 0, 10), "max_attempts": (int, 1, 20),
    "min_similarity": (float, -1.0, 1.0), "shortlist_margin": (float, 0.0, 2.0), "quality_cost": (float, 0.0, 1.0),
    "budget": (float, 0.0, 1e12), "call_timeout_s": (float, 0.001, 86_400.0), "seed": (int, -(2**63), 2**63 - 1),
}


@dataclass(kw_only=True)
class Context:
    """Per-run knobs. Every field has a default, so Studio and the API can omit it."""

    home: str | None = field(default=None, metadata={"description": "Data directory (default: $MICROMARKET_HOME or ~/.micromarket)"})
    chat_model: str | None = field(
        default=None,
        metadata={"description": "Orchestrator model: 'provider:model', 'hf:<id or path>' or 'hf-endpoint:<url>'. "
                                "It plans, writes the answer and fills typed tools' arguments. None = offline planner, "
                                "deterministic answer, typed tools unavailable"},
    )
    top_k: int = field(default=5, metadata={"description": "Candidates retrieved per subtask"})
    min_similarity: float = field(default=0.3, metadata={"description": "Below this retrieval similarity a candidate is not considered"})
    shortlist_margin: float = field(
        default=0.1, metadata={"description": "Candidates within this similarity of the best match compete on trust; the rest are fallbacks"}
    )
    redundancy: int = field(default=1, metadata={"description": "Specialists asked per subtask; 0 = choose automatically from trust uncertainty"})
    max_attempts: int = field(default=3, metadata={"description": "Candidates tried in turn when one fails (declines do not count: every candidate may decline)"})
    quality_cost: float = field(default=0.0, metadata={"description": "0 = best quality, 1 = cheapest acceptable"})
    budget: float | None = field(default=None, metadata={"description": "Cost ceiling per task (sum of declared per-call costs)"})
    call_timeout_s: float = field(default=30.0, metadata={"description": "Hard deadline per specialist call"})
    seed: int | None = field(default=None, metadata={"description": "Seed for Thompson sampling (None = random)"})
    human_review: bool = field(default=False, metadata={"description": "Pause with an interrupt for a human verdict before trust is updated"})

    def __post_init__(self) -> None:
        """Refuse invalid knobs by name: the orchestrator's own mistakes must never be charged to a specialist."""
        for name, (kind, low, high) in _LIMITS.items():
            value = getattr(self, name)
            if value is None and name in ("budget", "seed"):
                continue
            ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
            if kind is int and ok_type and float(value).is_integer():
                value = int(value)
            elif kind is int:
                ok_type = False
            if not ok_type or (kind is float and not math.isfinite(value)) or not low <= value <= high:
                raise InputError(f"option {name}={getattr(self, name)!r} is invalid: expected "
                                 f"{'an integer' if kind is int else 'a finite number'} in [{low:g}, {high:g}]")
            object.__setattr__(self, name, float(value) if kind is float else value)
        if self.budget is not None and self.budget <= 0:
            raise InputError(f"option budget={self.budget!r} is invalid: expected a positive cost ceiling")
        for name in ("home", "chat_model"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"option {name}={value!r} is invalid: expected a non-empty string")
        if not isinstance(self.human_review, bool):
            raise InputError(f"option human_review={self.human_review!r} is invalid: expected true or false")
