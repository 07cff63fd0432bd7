"""Competition through trust: a micro-LLM and the rule-based ``dates`` specialist on the same date tasks.

Each round solves one normalise-date task (seeded Thompson sampling), checks the chosen specialist's
answer against the known ISO date and reports that verdict with ``Marketplace.feedback``; trust then
decides who gets the next task. Used by ``micromarket bench microllm --compete`` and the integration test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

PROMPTS = ["normalise the date {} to ISO 8601", "convert {} to ISO 8601", "normalize {} to yyyy-mm-dd", "iso date for {}"]
CAPABILITY = "normalize_date"


def date_tasks(n: int, seed: int = 0, splits: tuple[str, ...] = ("unseen_dates", "unseen_combinations", "heldout_templates")) -> list[tuple[str, str, str]]:
    """``n`` (task, ISO answer, split) triples on dates never trained on, in the forms of the dates generator's
    evaluation splits (without its wrapper sentences: the task prompt is the wrapper)."""
    from micromarket.specialists.microllm.train_dates import (  # deferred: torch / transformers
        HELDOUT_COMBOS,
        Fmt,
        casing,
        heldout_template,
        random_fmt,
        render,
        sample_date,
    )

    rng = random.Random(seed)
    held = sorted(HELDOUT_COMBOS)
    out = []
    while len(out) < n:
        split = splits[len(out) % len(splits)]
        if split == "heldout_templates":
            d = sample_date(rng, True, False)
            text = casing(heldout_template(d, rng), rng)
        else:
            f = Fmt(*rng.choice(held)) if split == "unseen_combinations" else random_fmt(rng)
            while split == "unseen_dates" and f.key in HELDOUT_COMBOS:
                f = random_fmt(rng)
            d = sample_date(rng, True, f.year != "yyyy")
            text = render(d, f, rng, filler_p=0.0)
        out.append((rng.choice(PROMPTS).format(text), d.isoformat(), split))
    return out


@dataclass
class Round:
    run_id: str
    task: str
    truth: str
    split: str
    chosen: str | None
    value: Any
    correct: bool
    candidates: list[dict] = field(default_factory=list)
    attempts: list[dict] = field(default_factory=list)  # every specialist called for the task, with its outcome


def compete(market, tasks: list[tuple[str, str, str]], *, seed: int = 0, on_round: Callable[[Round], None] | None = None, **solve_options) -> list[Round]:
    """Solve each task (seed + i), verify the chosen answer against the truth, feed the verdict back."""
    rounds = []
    for i, (text, truth, split) in enumerate(tasks):
        out = market.solve(text, seed=seed + i, **solve_options)
        subs = out.get("subtasks") or []
        sub = subs[0] if subs else {}
        chosen = sub.get("specialist") if sub.get("status") == "ok" else None
        value = sub.get("value")
        correct = bool(chosen) and str(value) == truth
        recs = [r for r in market.routing(out["run_id"], limit=100) if r.get("subtask_id") == sub.get("subtask_id")]
        cands = recs[-1].get("candidates", []) if recs else []
        tried = recs[-1].get("attempts", []) if recs else []
        if chosen:
            market.feedback(out["run_id"], correct, note=f"verified against {truth}")
        r = Round(out["run_id"], text, truth, split, chosen, value, correct, cands, tried)
        rounds.append(r)
        if on_round:
            on_round(r)
    return rounds


def trust_rows(market, capability: str = CAPABILITY) -> list[dict]:
    return [r for r in market.trust() if r.get("capability") == capability]


def accuracy_by_specialist(rounds: list[Round]) -> dict[str, tuple[int, int]]:
    """specialist -> (correct, tried) over the rounds where it was chosen."""
    acc: dict[str, tuple[int, int]] = {}
    for r in rounds:
        if r.chosen:
            ok, n = acc.get(r.chosen, (0, 0))
            acc[r.chosen] = (ok + r.correct, n + 1)
    return acc


def direct_accuracy(tasks: list[tuple[str, str, str]], model_dir: str | None = None) -> dict[str, float]:
    """Accuracy of each competitor asked directly on every task (no routing): the ground truth trust should find."""
    from micromarket.specialists.builtin.dates import solve_task  # deferred: torch / transformers

    res = {"dates": sum(str(solve_task(t).value) == a for t, a, _ in tasks) / len(tasks)}
    if model_dir:
        from micromarket.specialists.microllm.engine import LocalBackend, to_result  # deferred: torch / transformers

        b = LocalBackend(str(model_dir))
        gens = b.generate([b.prompt(t) for t, _, _ in tasks])
        res["microllm"] = sum(to_result(g, b.config, "local").value == a for g, (_, a, _) in zip(gens, tasks)) / len(tasks)
    return res
