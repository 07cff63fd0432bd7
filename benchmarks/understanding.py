"""``micromarket bench understanding``: the learned readers against the rules, on generated requests.

For each domain with a reader, two generated test sets that training never saw: ``heldout_templates``
(phrasings held out, training words) and ``heldout_words`` (training phrasings, held-out units, holidays,
number and frequency spellings). A reading counts as right when the engine's answer from it equals the answer
of the gold structured call. The same requests go through the rule-based reading (``solve_by_rules``) as the
baseline. Latency is the reader's (encoder + heads) per request, warm, median.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import time

import typer

from micromarket.specialists.builtin import chemistry as chemistry_sp
from micromarket.specialists.builtin import dates as dates_sp
from micromarket.specialists.builtin import finance as finance_sp
from micromarket.specialists.builtin import math as math_sp
from micromarket.specialists.builtin import quickcalc as quickcalc_sp
from micromarket.specialists.builtin import stats as stats_sp
from micromarket.specialists.builtin import units as units_sp
from micromarket.specialists.builtin._common import QUALIFIED
from micromarket.specialists.reading import read
from micromarket.specialists.reading.domains import domains
from micromarket.specialists.reading.model import available, model_name

WRAPPED = 0.35  # the share of requests given a lead-in, a context sentence or a tail (held out like templates)

app = typer.Typer(add_completion=False, help="Learned readers vs rules on held-out templates and words.")


def _expected_units(g: dict):
    ureg = units_sp.registry()
    base = g["quantities"][0][1]
    total = sum(ureg.Quantity(v, u).to(base).magnitude for v, u in g["quantities"])
    return float(ureg.Quantity(total, base).to(g["targets"][0]).magnitude)


def _expected_dates(g: dict):
    if g["op"] == "between":
        return dates_sp.difference(g["dates"][0], g["dates"][1], g["unit"]).value
    if g["op"] == "weekday":
        return dates_sp.day_of_week(g["dates"][0]).value
    kw = {"days": 0, "weeks": 0, "months": 0, "years": 0}
    kw[g["unit"]] = g["n"]
    return dates_sp.add_duration(g["dates"][0], **kw).value


def _expected_finance(g: dict):
    op, a, r, y = g["op"], g["amount"], g["rate"], g["years"]
    if op == "simple":
        return finance_sp.simple_interest(a, r, y).value
    if op == "loan":
        return finance_sp.loan_payment(a, r, y, g["per_year"]).value
    if op == "annuity":
        return finance_sp.annuity_value(a, r, y, g["per_year"]).value
    return finance_sp.compound_interest(a, r, y, g["per_year"]).value


def _expected_chemistry(g: dict):
    if g["op"] == "molar_mass":
        return chemistry_sp.molar_mass(g["formula"]).value
    if g["op"] == "composition":
        return chemistry_sp.composition(g["formula"], g.get("element")).value
    return chemistry_sp.grams_moles(g["amount"], g["unit"], g["formula"]).value


def _expected_stats(g: dict):
    return stats_sp.describe(g["numbers"], [g["op"]]).value


def _expected_math(g: dict):
    from micromarket.specialists.builtin import _symbolic as sym

    op, e, v = g["op"], g.get("expr", ""), g.get("var", "x")
    if op == "series":
        return math_sp.series_sum(g["kind"], g["n"]).value
    if op == "derivative":
        return (sym.derivative_at(e, v, g["point"]) if "point" in g else sym.differentiate(e, v)).value
    if op == "integral":
        return sym.integrate(e, v, g.get("lo", ""), g.get("hi", "")).value
    if op == "solve":
        return sym.solve_equations(e, v).value
    if op == "evaluate":
        return sym.substitute(e, v, g["point"]).value
    if op == "limit":
        return sym.limit(e, v, g["point"]).value
    return sym.transform(e, op).value


def _expected_quickcalc(g: dict):
    import ast

    try:
        return quickcalc_sp._show(quickcalc_sp._eval(ast.parse(g["expr"], mode="eval")))[1]
    except quickcalc_sp.CalcError:  # beyond a float: no gold value to compare
        return None


# domain -> (specialist module, expected value of a gold call)
TARGETS = {"units": (units_sp, _expected_units), "dates": (dates_sp, _expected_dates), "finance": (finance_sp, _expected_finance),
           "chemistry": (chemistry_sp, _expected_chemistry), "stats": (stats_sp, _expected_stats), "math": (math_sp, _expected_math),
           "quickcalc": (quickcalc_sp, _expected_quickcalc)}


def _right(res, want) -> bool:
    """A confident answer whose value is the gold call's (relative 1e-6: the engines round to 12 digits)."""
    if res is None or not res.confidence or res.value is None or want is None:
        return False
    try:
        return abs(float(res.value) - float(want)) <= 1e-6 * max(1.0, abs(float(want)))
    except (TypeError, ValueError):
        return str(res.value).lower() == str(want).lower()


def evaluate(name: str, n: int, seed: int, outcomes: list | None = None, show_misses: bool = False) -> dict:
    dom = domains()[name]
    mod, expected = TARGETS[name]
    rng = random.Random(seed)
    sets = {"heldout_templates": dom.sample(n, rng, heldout_templates=True, wrapped=WRAPPED),
            "heldout_words": dom.sample(n, rng, heldout_words=True, wrapped=WRAPPED)}
    out: dict = {"model": model_name(name) if available(name) else "none (no heads shipped)"}
    times = []
    for key, exs in sets.items():
        ok_m = ok_r = 0
        misses = []
        for e in exs:
            want = expected(e.gold)
            t0 = time.perf_counter()
            read(name, e.text)
            times.append((time.perf_counter() - t0) * 1000)
            m = mod.read_by_model(e.text)
            m = mod.checked(e.text, m) if m is not None else None  # the solve tool's check of the stated reading
            if _right(m, want):
                ok_m += 1
            else:
                if len(misses) < 5:
                    misses.append(e.text)
                if show_misses:  # every miss: the request, the gold answer and what the model read
                    typer.echo(f"MISS {name} {key} want={want!r} got={getattr(m, 'value', None)!r} "
                               f"conf={getattr(m, 'confidence', None)} | {e.text} | {getattr(m, 'explanation', '') if m else 'no reading'}",
                               err=True)
            ok_r += _right(mod.checked(e.text, mod.solve_by_rules(e.text)), want)
            if outcomes is not None:  # the product's answer (model and rules competing) and its self-reported confidence
                p = mod.checked(e.text, mod.solve_task(e.text))
                outcomes.append((name, key, p.confidence, _right(p, want)))
        out[key] = round(ok_m / len(exs), 3)
        out[f"rules_{key}"] = round(ok_r / len(exs), 3)
        out[f"misses_{key}"] = misses
    out["latency_ms_p50"] = round(statistics.median(times), 1) if times else None
    if dom.qualifiers:
        out["qualified"] = _qualified(dom, mod, n // 2, rng)
    return out


def _qualified(dom, mod, n: int, rng: random.Random) -> dict:
    """Held-out requests given a held-out qualifier the engine cannot compute ("excluding weekends", "before
    tax"): how often the model's reading flags it, and how often the product still answers confidently (>= 0.8),
    which would read past it."""
    flagged = confident = 0
    for e in dom.sample(n, rng, heldout_templates=True, heldout_words=True, qualified=1.0, wrapped=WRAPPED):
        m = mod.read_by_model(e.text)
        flagged += m is not None and QUALIFIED in m.explanation
        confident += mod.checked(e.text, mod.solve_task(e.text)).confidence >= 0.8
    return {"n": n, "model_flagged": round(flagged / n, 3), "product_confident": round(confident / n, 3)}


def _norm(t: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", t.lower()).strip()


def evaluate_planner(n: int, seed: int, show_misses: bool = False) -> dict:
    """The planner's split of compound requests (specialists/reading/domains_planner.py): two or three of the
    domains' held-out requests joined by held-out joiners (heldout_templates) or by training joiners
    (heldout_words: the requests' phrasings are held out), some a follow-up on the previous result. Right when
    the subtasks are exactly the requests and each depends on exactly what it works on. `show_misses` prints
    every miss (the request, the gold subtasks and the planner's) to stderr."""
    from micromarket.nodes.planner import split_task

    dom = domains()["planner"]
    rng = random.Random(seed)
    out: dict = {"model": "readers' acceptance (the seven domain readers; split_task's default)"}
    times = []
    for key, kw in (("heldout_templates", {"heldout_templates": True}), ("heldout_words", {"heldout_words": True})):
        exs = dom.sample(n, rng, **kw)
        ok_m = ok_r = 0
        misses = []
        kinds: dict[str, list[int]] = {}  # kind of compound -> [n, model right, rules right]
        for e in exs:
            want = [(_norm(p), d) for p, d in zip(e.gold["parts"], e.gold["deps"])]
            t0 = time.perf_counter()
            got = [(_norm(s["text"]), s["depends_on"]) for s in split_task(e.text, learned=True)]
            times.append((time.perf_counter() - t0) * 1000)
            ok_m += got == want
            if got != want and len(misses) < 5:
                misses.append(e.text)
            if got != want and show_misses:
                typer.echo(f"planner miss ({key}, {'/'.join(_kinds(e))}): {e.text!r}\n  want {want}\n  got  {got}", err=True)
            right_r = [(_norm(s["text"]), s["depends_on"]) for s in split_task(e.text, learned=False)] == want
            ok_r += right_r
            for kind in _kinds(e):
                k = kinds.setdefault(kind, [0, 0, 0])
                k[0], k[1], k[2] = k[0] + 1, k[1] + (got == want), k[2] + right_r
        out[f"by_kind_{key}"] = {k: {"n": v[0], "model": round(v[1] / v[0], 3), "rules": round(v[2] / v[0], 3)} for k, v in sorted(kinds.items())}
        out[key] = round(ok_m / n, 3)
        out[f"rules_{key}"] = round(ok_r / n, 3)
        out[f"misses_{key}"] = misses
    out["latency_ms_p50"] = round(statistics.median(times), 1)
    return out


def _kinds(e) -> list[str]:
    """What a generated compound is: one request, a chain, joined by an ambiguous word ("plus", "and", "&", a comma,
    "as well as"), a list, or other joiners."""
    t = e.template
    kinds = []
    if "{PB}" not in t:
        kinds.append("one request")
    if any(e.gold["deps"]):
        kinds.append("chain")
    if re.search(r"\} (?:plus|as well as|&|and) \{|\}, \{", t):
        kinds.append("ambiguous joiner")
    if "\n" in t:
        kinds.append("list")
    return kinds or ["other joiners"]


def _calibration(outcomes: list[tuple[str, str, float, bool]]) -> dict:
    """How well the confidence shown separates right from wrong answers (AUROC; a decline counts as 0), over the
    product-path answers of every domain. The shown confidence is the self-report passed through the isotonic
    calibrator of its specialist (capability_index.calibration), cross-fitted: each domain's calibrator is fitted
    on its answers of the other test set, as the ledger fits it on verified outcomes of earlier runs."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from micromarket.capability_index.calibration import calibrator, shown_confidence

    fits = {(d, k): calibrator([(c, ok) for d2, k2, c, ok in outcomes if d2 == d and k2 != k and c]) for d, k, _, _ in outcomes}
    shown = [shown_confidence(c, fits[(d, k)]) or 0.0 for d, k, c, _ in outcomes]
    raw = [c or 0.0 for _, _, c, _ in outcomes]
    ys = [int(ok) for *_, ok in outcomes]
    out = {"n": len(ys), "right": sum(ys), "confidently_wrong": sum(1 for c, y in zip(shown, ys) if c >= 0.8 and not y),
           "confidently_wrong_raw": sum(1 for c, y in zip(raw, ys) if c >= 0.8 and not y)}
    if 0 < sum(ys) < len(ys):
        out.update(auroc=round(float(roc_auc_score(ys, shown)), 3), auroc_raw=round(float(roc_auc_score(ys, raw)), 3),
                   brier=round(float(brier_score_loss(ys, shown)), 4), brier_raw=round(float(brier_score_loss(ys, raw)), 4))
    else:
        out["auroc"] = None
    return out


@app.command()
def main(json_out: bool = typer.Option(False, "--json", help="Print the report as one JSON object (last line)"),
         n: int = typer.Option(200, "--n", help="Requests per domain and test set"),
         seed: int = typer.Option(20261207, help="Seed of the test sets (training uses others)"),
         only: str = typer.Option("", help="Comma-separated domains (default: all with a generator)"),
         show_misses: bool = typer.Option(False, "--show-misses", help="Print every miss (a reader's: request, gold, reading; the planner's: gold vs split) to stderr")) -> None:
    """Accuracy of each reader and of the rules on held-out templates and held-out words, and latency."""
    names = [d for d in domains() if d in TARGETS and (not only or d in only.split(","))]
    with_planner = not only or "planner" in only.split(",")
    read("units", "warm up the encoder")
    outcomes: list[tuple[str, str, float, bool]] = []
    rep: dict = {"domains": {d: evaluate(d, n, seed, outcomes, show_misses) for d in names}}
    if with_planner:
        rep["planner"] = evaluate_planner(n, seed, show_misses)
    rep["calibration"] = _calibration(outcomes)
    if json_out:
        typer.echo(json.dumps(rep))
        return
    typer.echo(f"{'domain':10} {'model':22} {'tmpl':>6} {'words':>6} {'rules tmpl':>10} {'rules words':>11} {'p50 ms':>7}")
    for d, r in rep["domains"].items():
        typer.echo(f"{d:10} {r['model']:22} {r['heldout_templates']:6.3f} {r['heldout_words']:6.3f} "
                   f"{r['rules_heldout_templates']:10.3f} {r['rules_heldout_words']:11.3f} {r['latency_ms_p50']:7.1f}")
    p = rep.get("planner")
    if p:
        typer.echo(f"{'planner':10} {p['model']:22} {p['heldout_templates']:6.3f} {p['heldout_words']:6.3f} "
                   f"{p['rules_heldout_templates']:10.3f} {p['rules_heldout_words']:11.3f} {p['latency_ms_p50']:7.1f}")
    typer.echo(f"calibration of the shown confidence (product path, model and rules competing): {rep['calibration']}")


if __name__ == "__main__":
    app()
