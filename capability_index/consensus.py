"""Consensus over redundant answers to one subtask, and the trust evidence it yields. Pure, no I/O."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

from micromarket.capability_index.calibration import calibrated_confidence
from micromarket.capability_index.posterior import EVIDENCE_WEIGHTS, check_unit
from micromarket.capability_index.ranking import accuracy_of
from micromarket.errors import InputError

_NUM_RE = re.compile(r"^[-+]?(?:\d+(?:[.,]\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")


def _as_number(x: object) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, str):
        s = x.strip().replace("\u2212", "-").replace(" ", "").replace("_", "")
        if s.count(",") and s.count("."):  # 1,234.5
            s = s.replace(",", "")
        elif s.count(",") == 1 and len(s.split(",")[1]) != 3:  # 3,14 (decimal comma)
            s = s.replace(",", ".")
        else:
            s = s.replace(",", "")
        if _NUM_RE.match(s):
            v = float(s)
            return v if math.isfinite(v) else None
    return None


def normalize_text(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold().strip()
    s = re.sub(r"[\s]+", " ", s)
    s = re.sub(r"[^\w\s.\-+/^*=()]", "", s)
    return s.strip(" .")


def _answer_value(a: dict) -> object:
    v = a.get("value")
    if v is None:
        v = a.get("answer")
    return v


def consensus(answers: Sequence[dict], *, rel_tol: float = 1e-3, abs_tol: float = 1e-9) -> dict:
    """Compare redundant answers to one subtask; surface disagreement, never average.

    Each answer is a dict with ``key`` (who answered), ``answer`` and/or
    ``value`` (``value`` wins when both are present), ``confidence`` in [0,1]
    (default 0.5) and optionally ``trust`` in [0,1] (default 1). Numbers are
    grouped by relative tolerance, strings after normalisation (case, width,
    whitespace, punctuation). A group's weight is the sum of confidence × trust.

    Returns ``{"value", "agreed", "disagreement", "support", "groups"}``:
    ``value`` is the heaviest group's representative answer (None on a tie or
    no answers), ``agreed`` is true when every answer falls in one group and
    there are at least two, ``disagreement`` is true when there are two or more
    groups, ``support`` is the winning group's share of the total weight.
    """
    groups: list[dict] = []
    for a in answers:
        if not isinstance(a, dict):
            raise InputError(f"consensus: each answer must be a mapping, got {type(a).__name__}")
        raw = _answer_value(a)
        if raw is None:
            continue
        conf = a.get("confidence", 0.5)
        conf = 0.5 if conf is None else check_unit("confidence", conf)
        trust = a.get("trust", 1.0)
        trust = 1.0 if trust is None else check_unit("trust", trust)
        w = conf * trust
        num = _as_number(raw)
        norm: object = num if num is not None else normalize_text(str(raw))
        for g in groups:
            if num is not None and g["numeric"]:
                if math.isclose(num, g["norm"], rel_tol=rel_tol, abs_tol=abs_tol):
                    break
            elif num is None and not g["numeric"] and norm == g["norm"]:
                break
        else:
            g = {"norm": norm, "numeric": num is not None, "value": raw, "members": [], "weight": 0.0}
            groups.append(g)
        g["members"].append(a.get("key"))
        g["weight"] += w
    groups.sort(key=lambda g: (-g["weight"], -len(g["members"])))
    total = sum(g["weight"] for g in groups)
    value = None
    support = 0.0
    if groups:
        tie = len(groups) > 1 and math.isclose(groups[0]["weight"], groups[1]["weight"]) and len(groups[0]["members"]) == len(groups[1]["members"])
        if not tie:
            value = groups[0]["value"]
            support = groups[0]["weight"] / total if total > 0 else 1.0 / len(groups)
    n_answers = sum(len(g["members"]) for g in groups)
    out_groups = [{"value": g["value"], "members": g["members"], "weight": round(g["weight"], 6)} for g in groups]
    return {
        "value": value,
        "agreed": len(groups) == 1 and n_answers >= 2,
        "disagreement": len(groups) > 1,
        "support": support,
        "groups": out_groups,
    }


def choose(answers: Sequence[dict]) -> tuple[int | None, dict]:
    """Pick one of redundant answers: ``(index of the chosen answer or None, consensus result)``.

    Each answer has ``key``, ``answer``/``value``, the raw self-reported ``confidence``, its specialist's
    ``trust`` (posterior mean) and ``calibration`` (:func:`calibration.bucket_counts` of its verified record).
    A side weighs the sum of trust × *calibrated* confidence of its members: a self-report counts only as far
    as the specialist's record at that confidence bears it out, so a confident newcomer cannot outshout an
    established peer. The chosen answer is the heaviest member of the winning group; on a tie (or nothing
    to go on) the first answer, i.e. the selection order, never the loudest claim.
    """
    weighed = []
    for a in answers:
        t = a.get("trust")
        t = 0.5 if t is None else check_unit("trust", t)
        conf = calibrated_confidence(a.get("confidence"), a.get("calibration"), accuracy_of(t))
        weighed.append({"key": a.get("key"), "answer": a.get("answer"), "value": a.get("value"),
                        "confidence": conf, "trust": t})
    cons = consensus(weighed)
    if cons["value"] is None or not answers:
        return (0 if answers else None), cons
    winners = set(cons["groups"][0]["members"])
    best = max((i for i, a in enumerate(weighed) if a["key"] in winners),
               key=lambda i: (weighed[i]["confidence"] * weighed[i]["trust"], -i))
    cons["calibrated"] = {a["key"]: round(a["confidence"], 4) for a in weighed}
    return best, cons


def consensus_evidence(result: dict, trust: dict[str, float] | None = None) -> list[tuple[str, str, bool, float]]:
    """Turn a consensus result into ledger evidence ``(key, kind, success, weight)``.

    Agreement counts for a specialist in proportion to the *other* agreeing
    specialists' own trust (a clique of untrusted sybils earns little).
    A specialist on a losing side gets "disagreement" weighted by the winning
    side's trust and by the decision's margin ``(W_win - W_lose) / (W_win + W_lose)``
    over the groups' weights: a clear loss against trusted peers costs up to
    the kind's weight, a near tie almost nothing; one disagreement never
    costs more than :data:`EVIDENCE_WEIGHTS` ``["disagreement"]``.
    Nothing is produced on a tie or a single answer. Self-reported confidence
    plays no part here.
    """
    trust = trust or {}
    groups = result.get("groups") or []
    if result.get("value") is None or sum(len(g["members"]) for g in groups) < 2:
        return []
    base_a = EVIDENCE_WEIGHTS["agreement"]
    base_d = EVIDENCE_WEIGHTS["disagreement"]
    top = groups[0]
    out: list[tuple[str, str, bool, float]] = []
    top_trust = [float(trust.get(k, 0.5)) for k in top["members"]]
    for i, k in enumerate(top["members"]):
        peers = top_trust[:i] + top_trust[i + 1 :]
        if peers:
            w = base_a * min(1.0, sum(peers))
            if w > 0:
                out.append((k, "agreement", True, w))
    win = float(top.get("weight") or 0.0)
    vouch = min(1.0, sum(top_trust) / len(top_trust))
    for g in groups[1:]:
        lose = float(g.get("weight") or 0.0)
        margin = (win - lose) / (win + lose) if win + lose > 0 else 0.0
        w = base_d * vouch * min(1.0, max(0.0, margin))
        for k in g["members"]:
            if w > 1e-6:
                out.append((k, "disagreement", False, w))
    return out
