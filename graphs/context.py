"""Run-time configuration of the marketplace graph, read by nodes through ``Runtime``."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    max_attempts: int = field(default=3, metadata={"description": "Candidates tried in turn when one fails or declines"})
    quality_cost: float = field(default=0.0, metadata={"description": "0 = best quality, 1 = cheapest acceptable"})
    budget: float | None = field(default=None, metadata={"description": "Cost ceiling per task (sum of declared per-call costs)"})
    call_timeout_s: float = field(default=30.0, metadata={"description": "Hard deadline per specialist call"})
    seed: int | None = field(default=None, metadata={"description": "Seed for Thompson sampling (None = random)"})
    human_review: bool = field(default=False, metadata={"description": "Pause with an interrupt for a human verdict before trust is updated"})
