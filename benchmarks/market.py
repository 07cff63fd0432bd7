"""Benchmark: a synthetic market with hidden qualities, sybils and an on-off attacker.

    python -m benchmarks.market [--json] [--seeds 3] [--tasks 2000]
    micromarket bench market

Setup (per seed)
----------------
- 10 capabilities, 5 honest specialists each (50). Each has a hidden quality
  (probability of a correct answer): the five levels of a capability are
  0.45, 0.55, 0.65, 0.75, 0.85, each jittered by U(-0.03, 0.03) and shuffled
  (so the best is 0.04–0.16 ahead of the runner-up); they are
  incumbents (status "active") with no evidence yet. All honest candidates
  have retrieval similarity 0.9 and cost 1.
- 20 sybils, 2 per capability, arrive as fresh identities (``TrustLedger.register``
  with their own fingerprints: status "newcomer"). They game retrieval
  (similarity 0.99), are cheaper (cost 0.1), claim confidence 1.0 and answer at
  random (4 options: correct with probability 0.25).
- One on-off attacker on capability 0, an incumbent with quality 0.97 — the
  best there — until task ``switch`` (default half-way), then always wrong.
- Tasks arrive one at a time, capability uniform at random. Selection is
  ``trust.rank`` over candidates filled from the real ``TrustLedger`` (a temp
  SQLite file) with its defaults (Thompson sampling whose spread settles after
  ``settle`` = 5 pieces of evidence), quality_cost 0, newcomer share 0.1; the chosen answer is checked
  by a typed verifier ("verified" evidence) and the self-reported confidence is
  stored for calibration only.
- After the attacker is demoted it tries to whitewash: it re-registers under a
  new id with the same endpoint; we report what the new identity inherits.

Reported
--------
- ``best_share_last500``: share of the last 500 tasks routed to the specialist
  with the highest hidden quality for that capability at that time (target ≥ 0.90).
- ``sybil_share``: share of all tasks routed to sybils (target ≤ 0.05).
- ``onoff_bad_before_demotion``: bad outcomes the attacker served after
  switching, before its status left "active" (target ≤ 10).
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import typer

from micromarket.capability_index.ledger import TrustLedger
from micromarket.capability_index.trust import Candidate, rank

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])

N_CAPS = 10
PER_CAP = 5
SYBILS_PER_CAP = 2


class SimClock:
    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def run_market(seed: int, *, tasks: int = 2000, switch: int | None = None, path: Path | None = None,
               exploration: float = 1.0, settle: float | None = 5.0) -> dict:
    rnd = random.Random(seed)  # world randomness (qualities, task stream, answers)
    policy_rng = random.Random(f"policy-{seed}")  # the selection policy's own stream
    switch = tasks // 2 if switch is None else switch
    clock = SimClock()
    tmp = None
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="mm-market-")
        path = Path(tmp.name) / "ledger.sqlite"
    led = TrustLedger(path, clock=clock)
    caps = [f"cap{i}" for i in range(N_CAPS)]
    specs: dict[str, dict] = {}
    for ci, cap in enumerate(caps):
        levels = [0.45 + 0.1 * j + rnd.uniform(-0.03, 0.03) for j in range(PER_CAP)]
        rnd.shuffle(levels)
        for j in range(PER_CAP):
            sid = f"honest-{ci}-{j}"
            specs[sid] = {"cap": cap, "quality": levels[j], "kind": "honest", "sim": 0.9, "cost": 1.0}
            led.register(sid, f"fp-{sid}", f"stdio:{sid}", status="active")
        for j in range(SYBILS_PER_CAP):
            sid = f"sybil-{ci}-{j}"
            specs[sid] = {"cap": cap, "quality": 0.25, "kind": "sybil", "sim": 0.99, "cost": 0.1}
            led.register(sid, f"fp-{sid}", f"http://sybil.example/{ci}/{j}")  # newcomer
    attacker = "onoff-0"
    specs[attacker] = {"cap": caps[0], "quality": 0.97, "kind": "onoff", "sim": 0.9, "cost": 1.0}
    led.register(attacker, "fp-onoff", "http://onoff.example/mcp", status="active")
    by_cap = {cap: [s for s, v in specs.items() if v["cap"] == cap] for cap in caps}

    def quality(sid: str, t: int) -> float:
        v = specs[sid]
        if v["kind"] == "onoff":
            return v["quality"] if t < switch else 0.0
        return v["quality"]

    def best(cap: str, t: int) -> str:
        return max(by_cap[cap], key=lambda s: quality(s, t))

    chosen_kind = {"honest": 0, "sybil": 0, "onoff": 0}
    best_hits_last = 0
    last_n = min(500, tasks)
    bad_before_demotion = 0
    bad_after_switch = 0
    attacker_calls_before_switch = 0
    demoted_at = None
    demoted_status = None
    for t in range(tasks):
        clock.t += 60.0
        cap = rnd.choice(caps)
        cands = [
            Candidate(key=f"{s}.{cap}", specialist_id=s, capability=cap, similarity=specs[s]["sim"], cost=specs[s]["cost"])
            for s in by_cap[cap]
        ]
        status = led.statuses(c.specialist_id for c in cands)
        posts = led.posteriors((c.specialist_id, c.capability) for c in cands)
        for c in cands:
            c.status = status.get(c.specialist_id, "active")
            c.posterior = posts[(c.specialist_id, c.capability)]
        ranked = rank(cands, rng=policy_rng, quality_cost=0.0, newcomer_share=0.1, exploration=exploration,
                      settle=settle)
        if not ranked:
            continue
        sid = ranked[0].specialist_id
        kind = specs[sid]["kind"]
        chosen_kind[kind] += 1
        if t >= tasks - last_n and sid == best(cap, t):
            best_hits_last += 1
        ok = rnd.random() < quality(sid, t)
        confidence = 1.0 if kind == "sybil" else min(1.0, max(0.0, specs[sid]["quality"] + rnd.gauss(0, 0.05)))
        if sid == attacker:
            if t < switch:
                attacker_calls_before_switch += 1
            elif not ok:
                bad_after_switch += 1
                if demoted_at is None:
                    bad_before_demotion += 1
        led.record_evidence(run_id=f"task-{t}", subtask_id="0", specialist_id=sid, capability=cap,
                            kind="verified", success=ok, confidence=confidence)
        if demoted_at is None and t >= switch:
            st = led.status(attacker)
            if st != "active":
                demoted_at, demoted_status = t, st
            else:  # demoted in the ranking: an honest peer now has a higher posterior mean
                means = led.posteriors([(s, caps[0]) for s in by_cap[caps[0]] if specs[s]["kind"] == "honest"])
                top_peer = max(p.mean for p in means.values())
                if led.posterior(attacker, caps[0]).mean < top_peer:
                    demoted_at, demoted_status = t, "active, ranked below an honest peer"
    # whitewashing attempt: the demoted attacker comes back under a new id, same endpoint
    inherited = led.register("fresh-face", "fp-new", "http://onoff.example/mcp")["inherited_from"]
    whitewash = {
        "inherited_from": inherited,
        "status": led.status("fresh-face"),
        "trust_mean": round(led.posterior("fresh-face", caps[0]).mean, 3),
        "fresh_identity_trust_mean": round(led.posterior("someone-new", caps[0]).mean, 3),
    }
    table = led.trust_table()
    briers = {
        k: [r["calibration"]["brier"] for r in table if r["calibration"] and r["specialist_id"].startswith(k)]
        for k in ("honest", "sybil")
    }
    led.close()
    if tmp is not None:
        tmp.cleanup()
    return {
        "seed": seed,
        "tasks": tasks,
        "best_share_last500": best_hits_last / last_n,
        "sybil_share": chosen_kind["sybil"] / tasks,
        "onoff_calls_before_switch": attacker_calls_before_switch,
        "onoff_bad_before_demotion": bad_before_demotion,
        "onoff_bad_after_switch_total": bad_after_switch,
        "onoff_demoted_after_tasks": None if demoted_at is None else demoted_at - switch + 1,
        "onoff_status": demoted_status,
        "whitewash": whitewash,
        "calibration_brier": {k: round(statistics.fmean(v), 3) if v else None for k, v in briers.items()},
    }


@app.command()
def main(
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    seeds: int = typer.Option(3, "--seeds", min=1, max=100),
    tasks: int = typer.Option(2000, "--tasks", min=10, max=1_000_000),
    exploration: float = typer.Option(1.0, "--exploration", min=0.0, max=10.0,
                                      help="trust.rank exploration (1 = the posterior's own spread)"),
    settle: float = typer.Option(5.0, "--settle", min=0.0,
                                 help="trust.rank settle: evidence after which a posterior's spread shrinks like 1/n "
                                      "(0 = plain Thompson sampling)"),
) -> None:
    """Synthetic market: hidden qualities, 20 sybils, an on-off attacker; real TrustLedger + trust.rank."""
    t0 = time.perf_counter()
    runs = [run_market(s, tasks=tasks, exploration=exploration, settle=settle or None) for s in range(seeds)]

    def agg(k):
        vals = [r[k] for r in runs if r[k] is not None]
        return {"mean": round(statistics.fmean(vals), 4), "min": min(vals), "max": max(vals)} if vals else None

    summary = {
        "best_share_last500": agg("best_share_last500"),
        "sybil_share": agg("sybil_share"),
        "onoff_bad_before_demotion": agg("onoff_bad_before_demotion"),
        "onoff_bad_after_switch_total": agg("onoff_bad_after_switch_total"),
        "targets": {"best_share_last500": ">= 0.90", "sybil_share": "<= 0.05", "onoff_bad_before_demotion": "<= 10"},
        "seeds": seeds,
        "tasks": tasks,
        "exploration": exploration,
        "settle": settle,
        "elapsed_s": round(time.perf_counter() - t0, 1),
        "runs": runs,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(f"synthetic market: 50 honest specialists x 10 capabilities, 20 sybils, 1 on-off attacker; "
               f"{tasks} tasks, {seeds} seeds; real TrustLedger (SQLite) + trust.rank")
    for r in runs:
        typer.echo(
            f"  seed {r['seed']}: best share (last 500) {100 * r['best_share_last500']:.1f}%, "
            f"sybil share {100 * r['sybil_share']:.2f}%, on-off bad outcomes before demotion "
            f"{r['onoff_bad_before_demotion']} (status -> {r['onoff_status']}, {r['onoff_bad_after_switch_total']} "
            f"bad in total after the switch), whitewash inherits from {r['whitewash']['inherited_from']!r} "
            f"(status {r['whitewash']['status']})"
        )
    s = summary
    typer.echo(f"best-per-capability share, last 500: {100 * s['best_share_last500']['mean']:.1f}% (target >= 90%)")
    typer.echo(f"sybil traffic share: {100 * s['sybil_share']['mean']:.2f}% (target <= 5%)")
    typer.echo(f"on-off attacker, bad outcomes before demotion: mean {s['onoff_bad_before_demotion']['mean']:.1f}, "
               f"max {s['onoff_bad_before_demotion']['max']} (target <= 10)")
    typer.echo(f"elapsed {s['elapsed_s']} s")


if __name__ == "__main__":
    app()
