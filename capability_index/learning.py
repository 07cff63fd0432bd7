"""``micromarket index learn``: fit the retriever's mix of zero-shot and memory on held-out feedback.

The feedback's distinct positive queries are split (seeded) into a part the memory keeps and a
held-out part. Held-out queries are scored with a memory built only from the kept part; the
fusion weights are fitted on one half of the held-out queries, the memory's neighbourhood size
and similarity floor are chosen on the other half, and the chosen setting is refitted on all of
it. The report says what each step buys on the held-out half: zero-shot alone, the naive kNN
vote, the default mix and the fitted one.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from micromarket.capability_index.fusion import WEIGHTS, Fusion, fit_weights, hit_at, knn_scores
from micromarket.capability_index.head import train_head
from micromarket.capability_index.memory import memory_evidence, prototypes, subview
from micromarket.errors import InputError

GRID = ((5, 0.2), (10, 0.2), (20, 0.2), (10, 0.3), (20, 0.3), (10, 0.4), (30, 0.3))
MIN_QUERIES = 20
MIN_FIT = 100  # held-out queries needed to fit the mix rather than keep the defaults


def learn_fusion(retriever, *, holdout: float = 0.2, max_holdout: int = 2000, seed: int = 0,
                 progress: Callable[[str], None] | None = None) -> Fusion:
    """Fit, install and (if the retriever has a fusion path) save the mix. Returns it."""
    say = progress or (lambda _msg: None)
    retriever._ensure()
    view = retriever.memory_view()
    pos, n = retriever._pos, len(retriever._ids)
    by_query: dict[str, list[int]] = {}
    for j, (q, key, sg) in enumerate(zip(view.queries, view.keys, view.signs)):
        by_query.setdefault(q, []).append(j)
    positive = [q for q, rows in by_query.items() if any(view.signs[j] > 0 and view.keys[j] in pos for j in rows)]
    if len(positive) < MIN_QUERIES:
        raise InputError(
            f"not enough feedback to learn from: {len(positive)} solved queries with a registered capability "
            f"(need {MIN_QUERIES}); record outcomes with `micromarket feedback` first"
        )
    rng = random.Random(seed)
    rng.shuffle(positive)
    held = positive[: max(2, min(max_holdout, int(round(len(positive) * holdout))))]
    held_set = set(held)
    fit_rows = np.asarray([j for j, q in enumerate(view.queries) if q not in held_set], dtype=np.int64)
    fit_view = subview(view, fit_rows)
    say(f"memory: {len(view)} experiences from {len(by_query)} queries; held out {len(held)} queries")

    Q = np.vstack([view.emb[by_query[q][0]] for q in held])
    R = np.zeros((len(held), n), bool)
    for i, q in enumerate(held):
        for j in by_query[q]:
            if view.signs[j] > 0 and view.keys[j] in pos:
                R[i, pos[view.keys[j]]] = True

    # zero-shot of the held-out queries (their clauses embedded in one batch)
    parts = [retriever.split(q) for q in held]
    extra = [t for p in parts for t in p[1:]]
    E = retriever.embed_queries(extra) if extra else np.zeros((0, Q.shape[1]), np.float32)
    Z = np.zeros((len(held), n), np.float32)
    D = (Q @ retriever._emb.T).astype(np.float32)
    e = 0
    for i, p in enumerate(parts):
        cols = np.concatenate([D[i][:, None], (retriever._emb @ E[e : e + len(p) - 1].T)], axis=1)
        e += len(p) - 1
        Z[i] = retriever.zero_shot(p, cols, None)
    say(f"scored {len(held)} held-out queries zero-shot")

    half = len(held) // 2
    A, B = slice(0, half), slice(half, None)
    protos = prototypes(fit_view)
    cols = np.fromiter((pos.get(k, -1) for k in fit_view.keys), dtype=np.int64, count=len(fit_view))
    report = {
        "held_out_queries": len(held),
        "memory_queries": len(by_query) - len(held),
        "zero_shot_hit@5": hit_at(Z[B], R[B]),
        "knn10_hit@5": hit_at(knn_scores(Q[B], fit_view.emb, cols, n, 10), R[B]),
    }
    base = Fusion(model=retriever.query_model)
    mem = memory_evidence(Q, fit_view, pos, n, k=base.k, min_sim=base.min_sim, protos=protos)
    report["default_mix_hit@5"] = hit_at(base.score(Z[B], D[B], mem[B]), R[B])
    if len(held) < MIN_FIT:  # too few to fit five weights honestly: keep the defaults
        say(f"only {len(held)} held-out queries (< {MIN_FIT}): the default mix is kept, no head trained")
        report.update({"head_hit@5": 0.0, "fitted_mix_hit@5": report["default_mix_hit@5"]})
        base.fitted = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in report.items()}
        retriever.set_fusion(base, None)
        if retriever.fusion_path is not None:
            base.save(retriever.fusion_path)
            if retriever.head_path is not None and retriever.head_path.exists():
                retriever.head_path.unlink()
        return base
    say("training the classifier head on the kept part ...")
    head = train_head(fit_view.emb, fit_view.keys, fit_view.signs, retriever.query_model)
    H = head.probabilities(Q, pos, n, None) if head is not None else np.zeros((len(held), n), np.float32)
    report["head_hit@5"] = hit_at(H[B], R[B])
    best: tuple[float, Fusion] | None = None
    for k, min_sim in GRID:
        mem = memory_evidence(Q, fit_view, pos, n, k=k, min_sim=min_sim, protos=protos)
        mem[:, 3, :] = H
        w = fit_weights(Z[A], D[A], mem[A], R[A], start=base)
        cand = replace(base, k=k, min_sim=min_sim, **dict(zip(WEIGHTS, map(float, w))))
        s = cand.score(Z[B], D[B], mem[B])
        h5, h1 = hit_at(s, R[B]), hit_at(s, R[B], 1)
        say(f"  k={k:<3} min_sim={min_sim:.2f}: held-out hit@5 {h5:.1f} top-1 {h1:.1f}")
        if best is None or h5 + 0.01 * h1 > best[0]:
            best = (h5 + 0.01 * h1, cand)
    chosen = best[1]
    mem = memory_evidence(Q, fit_view, pos, n, k=chosen.k, min_sim=chosen.min_sim, protos=protos)
    mem[:, 3, :] = H
    report["fitted_mix_hit@5"] = hit_at(chosen.score(Z[B], D[B], mem[B]), R[B])
    w = fit_weights(Z, D, mem, R, start=chosen)
    final = replace(chosen, **dict(zip(WEIGHTS, map(float, w))))
    final.fitted = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in report.items()}
    if head is not None:
        say("training the classifier head on the whole memory ...")
        head = train_head(view.emb, view.keys, view.signs, retriever.query_model)
    retriever.set_fusion(final, head)
    if retriever.fusion_path is not None:
        final.save(retriever.fusion_path)
        if head is not None:
            head.save(retriever.head_path)
        elif retriever.head_path is not None and retriever.head_path.exists():
            retriever.head_path.unlink()  # a stale head for capabilities that changed
    return final
