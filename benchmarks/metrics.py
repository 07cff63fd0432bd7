"""Retrieval metrics over ranked id lists (binary relevance). Percentages are 0-100."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median


def top1(ranked: Sequence[str], relevant: set[str]) -> float:
    return 1.0 if ranked and ranked[0] in relevant else 0.0


def hit_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if any(r in relevant for r in ranked[:k]) else 0.0


def recall_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def complete_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if relevant and relevant <= set(ranked[:k]) else 0.0


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for i, r in enumerate(ranked[:k]):
        if r in relevant and r not in seen:
            dcg += 1.0 / math.log2(i + 2)
        seen.add(r)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / idcg


def summarize(rankings: Sequence[Sequence[str]], relevants: Sequence[set[str]], latencies_ms: Sequence[float]) -> dict:
    """Mean metrics (percent) and the median latency over a query set."""
    n = len(rankings)
    if n == 0:
        return {"top1": 0.0, "hit@5": 0.0, "recall@5": 0.0, "ndcg@10": 0.0, "complete@5": 0.0, "p50_ms": 0.0, "n": 0}

    def mean(f) -> float:
        return round(100.0 * sum(f(r, rel) for r, rel in zip(rankings, relevants)) / n, 1)

    return {
        "top1": mean(top1),
        "hit@5": mean(lambda r, rel: hit_at(r, rel, 5)),
        "recall@5": mean(lambda r, rel: recall_at(r, rel, 5)),
        "ndcg@10": mean(lambda r, rel: ndcg_at(r, rel, 10)),
        "complete@5": mean(lambda r, rel: complete_at(r, rel, 5)),
        "p50_ms": round(float(median(latencies_ms)), 2) if latencies_ms else 0.0,
        "n": n,
    }
