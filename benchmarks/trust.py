"""Benchmark: online trust-based routing replayed on RouteLLM's MMLU (and GSM8K) judgements.

    python -m benchmarks.trust --data ../shared/bench/routellm/routing.jsonl [--json] [--seeds 5] [--plot FILE]
    micromarket bench trust --data ...

Setup
-----
- Each decontaminated MMLU subject is a capability; the two models are two
  specialists. GSM8K (decontaminated) is one more capability, reported separately.
- Costs per call, from public per-token list prices (input tokens, which
  dominate MMLU prompts): GPT-4 Turbo (gpt-4-1106-preview) $10 per million input
  tokens ($30 output); Mixtral-8x7B-Instruct $0.60 per million (Together /
  Anyscale serverless list price, input and output). Ratio used: 10 / 0.6 ≈ 16.7.
- Bandit feedback: after each prompt only the *chosen* model's recorded
  correctness is revealed, as "verified" evidence for that specialist ×
  capability. Nothing else is learned.
- One online pass over the prompts in shuffled order per seed. The policy is
  ``capability_index.trust.rank`` — the product's own selection code — with its
  Thompson sampling, and posteriors updated by ``benchmarks.trust_research.update``
  with the ledger's default weights and penalty (the same deltas the SQLite
  ledger applies).
- The quality/cost knob (``quality_cost``) is swept. For each value we measure,
  *during the pass*, the accuracy of the routed answers and the share of calls
  sent to GPT-4 (means over seeds). ``strong_share_at_95`` is the smallest
  GPT-4 share at which the policy's curve reaches 95% of GPT-4's accuracy
  (linear interpolation between adjacent knob settings, which is achievable by
  mixing the two settings at random).

References from the same data: random mixing (a straight line between the two
models), and the hindsight per-subject oracle that knows every subject's
accuracies in advance and sends whole subjects to GPT-4 in order of gain.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import typer

from micromarket.benchmarks.trust_research import empirical_priors, update, with_family
from micromarket.capability_index.trust import Candidate, prior, rank

STRONG = "gpt-4-1106-preview"
WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
SPECIALISTS = {STRONG: "gpt-4-turbo", WEAK: "mixtral-8x7b"}
# US$ per million input tokens (list prices): GPT-4 Turbo 1106 $10 (output $30); Mixtral-8x7B $0.60.
COST = {STRONG: 10.0, WEAK: 0.6}
DEFAULT_KNOBS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18,
                 0.2, 0.22, 0.25, 0.3, 0.4, 1.0)
TARGET = 0.95

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


# --------------------------------------------------------------------------- data


def load(path: Path) -> dict[str, list[tuple[str, bool, bool]]]:
    """Rows by benchmark: (capability, strong correct, weak correct), decontaminated only."""
    out: dict[str, list[tuple[str, bool, bool]]] = {"mmlu": [], "gsm8k": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("contaminated"):
                continue
            bench = r.get("benchmark")
            if bench not in out:
                continue
            cap = r.get("subject") or bench
            out[bench].append((cap, bool(r["correct"][STRONG]), bool(r["correct"][WEAK])))
    return out


# --------------------------------------------------------------------------- references


def reference_curves(rows: list[tuple[str, bool, bool]]) -> dict:
    n = len(rows)
    acc_s = sum(r[1] for r in rows) / n
    acc_w = sum(r[2] for r in rows) / n
    target = TARGET * acc_s
    random_share = (target - acc_w) / (acc_s - acc_w) if acc_s > acc_w else 0.0
    # hindsight per-subject oracle: send whole subjects to the strong model, best gain per prompt first
    by: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for cap, s, w in rows:
        b = by[cap]
        b[0] += 1
        b[1] += s
        b[2] += w
    subjects = sorted(by, key=lambda c: -(by[c][1] - by[c][2]) / by[c][0])
    pts = [(0.0, acc_w)]
    share = acc_w * n
    calls = 0
    for c in subjects:
        cnt, s, w = by[c]
        if s - w <= 0:
            break
        calls += cnt
        share += s - w
        pts.append((calls / n, share / n))
    return {
        "n": n,
        "strong_accuracy": acc_s,
        "weak_accuracy": acc_w,
        "target_accuracy": target,
        "random_share_at_95": 100 * random_share,
        "oracle_share_at_95": 100 * share_at(pts, target, hull=False),  # whole subjects
        "oracle_share_at_95_mixed": 100 * share_at(pts, target),  # last subject split at random
        "oracle_curve": pts,
    }


def upper_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Upper concave hull of (share, accuracy) points, left to right.

    Any point on a segment between two knob settings is achievable by choosing
    one setting or the other at random per task, so the hull is the policy's
    reachable frontier.
    """
    pts = sorted(set(points))
    hull: list[tuple[float, float]] = []
    for p in pts:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:  # hull[-1] under the chord
                hull.pop()
            else:
                break
        hull.append(p)
    # keep the rising part only
    out = []
    for p in hull:
        if not out or p[1] > out[-1][1]:
            out.append(p)
    return out


def share_at(points: list[tuple[float, float]], target: float, *, hull: bool = True) -> float:
    """Smallest strong share at which the (share, accuracy) frontier reaches ``target``.

    With ``hull`` the frontier is the upper concave hull (random mixing of two
    settings); without it, the first point that reaches the target (no mixing).
    """
    if not hull:
        ok = [s for s, a in points if a >= target]
        return min(ok) if ok else math.nan
    best = upper_hull(points)
    if best and best[0][1] >= target:
        return best[0][0]
    for (s0, a0), (s1, a1) in zip(best, best[1:]):
        if a1 >= target:
            return s0 + (s1 - s0) * (target - a0) / (a1 - a0)
    return math.nan


# --------------------------------------------------------------------------- the online pass


def online_pass(rows, knob: float, seed: int, *, family: bool = True, gated: bool = False, settle: float | None = 5.0,
                penalty: float | None = None, exploration: float = 1.0, refresh: int = 25) -> dict:
    """One shuffled online pass with bandit feedback; returns routed accuracy and strong share.

    With ``family`` each candidate carries the empirical-Bayes prior of its
    specialist (``trust_research.empirical_priors`` over all per-capability records,
    corrected for capability difficulty, refreshed every ``refresh``
    decisions), so a subject seen for the first time starts from the model's
    record on the other subjects, shifted by how hard the other model found
    this subject (``trust_research.share_difficulty``); then ``trust.rank`` ranks.
    """
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)  # same order for every knob at a given seed
    rng = random.Random(f"rank-{seed}-{knob}")
    post: dict[tuple[str, str], object] = {}
    fam: dict[str, tuple[float, float] | None] = {m: None for m in SPECIALISTS}
    kw = {} if penalty is None else {"penalty": penalty}
    strong_calls = correct = 0
    for step, i in enumerate(order):
        if family and step % refresh == 0:
            fam = {m: None for m in SPECIALISTS} | empirical_priors(post)
        cap, s_ok, w_ok = rows[i]
        cands = [
            Candidate(key=f"{sid}.{cap}", specialist_id=m, capability=cap, similarity=1.0, cost=COST[m],
                      posterior=post.get((m, cap)) or prior())
            for m, sid in SPECIALISTS.items()
        ]
        if family:
            cands = with_family(cands, fam)
        chosen = rank(cands, rng=rng, quality_cost=knob, exploration=exploration, gated=gated,
                      settle=settle)[0].specialist_id
        ok = s_ok if chosen == STRONG else w_ok
        strong_calls += chosen == STRONG
        correct += ok
        post[(chosen, cap)] = update(post.get((chosen, cap)) or prior(), "verified", ok, **kw)
    n = len(rows)
    return {"knob": knob, "seed": seed, "accuracy": correct / n, "strong_share": strong_calls / n}


def _job(args):
    rows, knob, seed, opts = args
    return online_pass(rows, knob, seed, **opts)


def sweep(rows, knobs, seeds: int, workers: int, opts: dict) -> list[dict]:
    jobs = [(rows, k, s, opts) for s in range(seeds) for k in knobs]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as ex:
            res = list(ex.map(_job, jobs, chunksize=1))
    else:
        res = [_job(j) for j in jobs]
    curve = []
    for k in knobs:
        rs = [r for r in res if r["knob"] == k]
        accs = [r["accuracy"] for r in rs]
        shares = [r["strong_share"] for r in rs]
        curve.append({
            "quality_cost": k,
            "accuracy": sum(accs) / len(accs),
            "strong_share": sum(shares) / len(shares),
            "accuracy_min": min(accs), "accuracy_max": max(accs),
        })
    return curve


def evaluate(rows, knobs, seeds, workers, opts) -> dict:
    ref = reference_curves(rows)
    curve = sweep(rows, knobs, seeds, workers, opts)
    pts = [(c["strong_share"], c["accuracy"]) for c in curve]
    # per-seed figure, for the spread
    ref_out = {k: v for k, v in ref.items() if k != "oracle_curve"}
    return {
        **ref_out,
        "strong_share_at_95": 100 * share_at(pts, ref["target_accuracy"]),
        "strong_share_at_95_no_mixing": 100 * share_at(pts, ref["target_accuracy"], hull=False),
        "curve": curve,
        "_oracle_curve": ref["oracle_curve"],
    }


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = [b for b in ("mmlu", "gsm8k") if b in results]
    fig, axes = plt.subplots(1, len(benches), figsize=(6.2 * len(benches), 4.8), squeeze=False)
    for ax, b in zip(axes[0], benches):
        r = results[b]
        xs = [100 * c["strong_share"] for c in r["curve"]]
        ys = [100 * c["accuracy"] for c in r["curve"]]
        ax.plot(xs, ys, "o-", color="C0", ms=4, label=f"trust.rank online (needs {r['strong_share_at_95']:.1f}%)")
        ax.plot([0, 100], [100 * r["weak_accuracy"], 100 * r["strong_accuracy"]], "--", color="C1",
                label=f"random mixing (needs {r['random_share_at_95']:.1f}%)")
        ox = [100 * s for s, _ in r["_oracle_curve"]]
        oy = [100 * a for _, a in r["_oracle_curve"]]
        ax.plot(ox, oy, "-", color="C2", label=f"hindsight per-subject oracle (needs {r['oracle_share_at_95']:.1f}% whole subjects, "
                f"{r['oracle_share_at_95_mixed']:.1f}% splitting one)")
        ax.axhline(100 * r["target_accuracy"], color="grey", lw=0.8, ls=":", label="95% of GPT-4 accuracy")
        ax.set_xlabel("GPT-4 calls (%)")
        ax.set_ylabel("accuracy of routed answers (%)")
        ax.set_title(f"RouteLLM {b.upper()} (n={r['n']}, {r['seeds']} seeds, bandit feedback)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


@app.command()
def main(
    data: Path = typer.Option(..., "--data", help="routing.jsonl from RouteLLM (../shared/bench/routellm/routing.jsonl)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    seeds: int = typer.Option(5, "--seeds", min=1, max=100, help="shuffled online passes per knob value"),
    plot_path: Path | None = typer.Option(None, "--plot", help="write accuracy vs GPT-4 share to this PNG"),
    gsm8k: bool = typer.Option(True, "--gsm8k/--no-gsm8k", help="also report GSM8K separately"),
    workers: int = typer.Option(2, "--workers", min=1, max=64),
    family: bool = typer.Option(True, "--family/--no-family",
                                help="empirical-Bayes prior per model from its record on the other subjects"),
    policy: str = typer.Option("ts", "--policy",
                               help="ts (Thompson sampling, the product default) or gated (explore only while posteriors overlap)"),
    settle: float = typer.Option(5.0, "--settle", min=0.0,
                                 help="evidence after which a posterior's spread shrinks like 1/n (0: off)"),
    exploration: float = typer.Option(1.0, "--exploration", min=0.0, max=10.0),
) -> None:
    """Replay RouteLLM judgements through trust.rank with bandit feedback; report strong_share_at_95."""
    if not data.is_file():
        typer.echo(f"error: data file not found: {data}", err=True)
        raise typer.Exit(2)
    t0 = time.perf_counter()
    rows = load(data)
    if not rows["mmlu"]:
        typer.echo(f"error: no decontaminated MMLU rows in {data}", err=True)
        raise typer.Exit(2)
    if policy not in ("gated", "ts"):
        typer.echo(f"error: --policy must be gated or ts, got {policy!r}", err=True)
        raise typer.Exit(2)
    opts = {"family": family, "gated": policy == "gated", "settle": settle or None, "exploration": exploration}
    results: dict = {}
    for b in ("mmlu", "gsm8k") if gsm8k else ("mmlu",):
        if rows[b]:
            results[b] = evaluate(rows[b], DEFAULT_KNOBS, seeds, workers, opts)
            results[b]["seeds"] = seeds
    if plot_path:
        plot(results, plot_path)
    summary = {
        "strong_share_at_95": round(results["mmlu"]["strong_share_at_95"], 2),
        "target": 48.0,
        "random_share_at_95": round(results["mmlu"]["random_share_at_95"], 2),
        "oracle_share_at_95": round(results["mmlu"]["oracle_share_at_95"], 2),
        "seeds": seeds,
        "cost_per_million_input_tokens": {SPECIALISTS[m]: c for m, c in COST.items()},
        "cost_ratio": round(COST[STRONG] / COST[WEAK], 2),
        "policy": "micromarket.capability_index.trust.rank (Thompson sampling over Beta posteriors whose spread settles "
                  "with evidence; empirical-Bayes family priors; quality_cost knob in expected accuracy)",
        "feedback": "bandit: the chosen model's recorded correctness only, as 'verified' evidence",
        "options": opts,
        "elapsed_s": round(time.perf_counter() - t0, 1),
        "benchmarks": {
            b: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items() if not k.startswith("_")}
            for b, r in results.items()
        },
    }
    if plot_path:
        summary["plot"] = str(plot_path)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    m = results["mmlu"]
    typer.echo(f"RouteLLM MMLU, decontaminated: n={m['n']}, GPT-4 {100 * m['strong_accuracy']:.1f}%, "
               f"Mixtral {100 * m['weak_accuracy']:.1f}%, target {100 * m['target_accuracy']:.1f}%")
    typer.echo(f"cost ratio GPT-4 : Mixtral = {COST[STRONG]:g} : {COST[WEAK]:g} $/M input tokens "
               f"({COST[STRONG] / COST[WEAK]:.1f}x); {seeds} seeds, one online pass each, bandit feedback")
    typer.echo(f"{'quality_cost':>12} {'GPT-4 share':>12} {'accuracy':>9}")
    for c in m["curve"]:
        typer.echo(f"{c['quality_cost']:>12.2f} {100 * c['strong_share']:>11.1f}% {100 * c['accuracy']:>8.2f}%")
    typer.echo(f"strong_share_at_95: {m['strong_share_at_95']:.1f}%  (target <= 48; random mixing "
               f"{m['random_share_at_95']:.1f}%; hindsight per-subject oracle {m['oracle_share_at_95']:.1f}%)")
    if "gsm8k" in results:
        g = results["gsm8k"]
        typer.echo(f"GSM8K (one capability, n={g['n']}): strong_share_at_95 {g['strong_share_at_95']:.1f}% "
                   f"(random mixing {g['random_share_at_95']:.1f}%; oracle {g['oracle_share_at_95']:.1f}%)")
    if plot_path:
        typer.echo(f"plot: {plot_path}")
    typer.echo(f"elapsed {summary['elapsed_s']} s")


if __name__ == "__main__":
    app()
    sys.exit(0)
