"""Train the reading heads from the generators: ``python -m micromarket.specialists.reading.train [DOMAIN ...]``.

Seeded, with a budget in optimiser steps. Train templates, fragments and words only (the held-out ones are for
the benchmark); 10% of sentences get a typo, a third a lead-in, context or tail, 12% a qualifier the engine cannot
compute (tagged X); the other domains' sentences are the negatives.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from micromarket.specialists.reading.domains import domains
from micromarket.specialists.reading.generate import Example, negatives
from micromarket.specialists.reading.model import WEIGHTS, pool_context

app = typer.Typer(add_completion=False, help=__doc__)


def _heads(n_in_t: int, n_tags: int, n_in_c: int, n_ops: int, hidden: int, torch):
    t = torch.nn.Sequential(torch.nn.Linear(n_in_t, hidden), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(hidden, n_tags))
    c = torch.nn.Sequential(torch.nn.Linear(n_in_c, 192), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(192, n_ops))
    return t, c


def train_domain(name: str, examples: list[Example], *, steps: int, seed: int, out: Path, progress=None) -> dict:
    """Fit the tagger and the operation classifier of one domain; write ``out/<name>.npz``."""
    import torch  # deferred: torch is heavy

    from micromarket.specialists.reading.encoder import features

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # small heads: one thread is faster than two on a shared machine
    dom = domains()[name]
    tags = ["O"] + [f"{k}-{t}" for t in dom.tags for k in ("B", "I")]
    ops = sorted({e.op for e in examples})
    feats = features([e.text for e in examples])
    xs, ys, cs, co = [], [], [], []
    for e, (ws, rows, sent) in zip(examples, feats):
        assert len(ws) == len(e.tags), (e.text, ws, e.tags)
        if e.op != "none":  # other domains' sentences train the operation (none) only: "250 grams of butter" in a
            xs.append(rows)  # units request is a quantity even though "36 g of NaCl" in a chemistry one is not units'
            ys += [tags.index(t) for t in e.tags]
        cs.append(np.concatenate([sent, pool_context(rows, np.array([t == "O" for t in e.tags]))]))
        co.append(ops.index(e.op))
    X, Y = torch.tensor(np.concatenate(xs)), torch.tensor(ys)
    C, CY = torch.tensor(np.stack(cs)), torch.tensor(co)
    th, ch = _heads(X.shape[1], len(tags), C.shape[1], len(ops), 192, torch)
    opt = torch.optim.AdamW([*th.parameters(), *ch.parameters()], lr=2e-3, weight_decay=1e-4)
    g = torch.Generator().manual_seed(seed)
    loss_f = torch.nn.CrossEntropyLoss()
    for step in range(steps):
        i = torch.randint(0, X.shape[0], (256,), generator=g)
        j = torch.randint(0, C.shape[0], (64,), generator=g)
        loss = loss_f(th(X[i]), Y[i]) + loss_f(ch(C[j]), CY[j])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if progress:
            progress(step, loss.item())
    th.eval(), ch.eval()
    w = {"tags": np.array(tags), "ops": np.array(ops), "cpool": np.array(1)}
    for p, net in (("t", th), ("c", ch)):
        w[p + "W1"] = net[0].weight.detach().numpy().T.astype(np.float32)
        w[p + "b1"] = net[0].bias.detach().numpy().astype(np.float32)
        w[p + "W2"] = net[3].weight.detach().numpy().T.astype(np.float32)
        w[p + "b2"] = net[3].bias.detach().numpy().astype(np.float32)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{name}.npz", **{k: (v.astype(np.float16) if v.dtype == np.float32 and v.ndim == 2 else v) for k, v in w.items()})
    return {"examples": len(examples), "steps": steps, "final_loss": float(loss.item())}


def training_set(name: str, n: int, seed: int) -> list[Example]:
    rng = random.Random(seed)
    all_d = {k: d for k, d in domains().items() if k != "planner"}  # compounds of the domains' sentences
    if name == "planner":
        return domains()[name].sample(n, rng, typos=0.1)
    # a third of the sentences wrapped in lead-ins, context or tails; 12% given a qualifier to mark (tag X)
    own = domains()[name].sample(n, rng, typos=0.1, qualified=0.12, wrapped=0.35)
    others = [e for d in all_d.values() if d.name != name for e in d.sample(max(1, n // (4 * max(1, len(all_d) - 1))), rng, typos=0.1)]
    return own + negatives(others)


@app.command()
def main(names: Optional[list[str]] = typer.Argument(None, help="domains (default: all)", show_default=False),
         domain: Optional[list[str]] = typer.Option(None, "--domain", "-d", help="a domain to train (repeatable; default: all)"),
         examples: int = typer.Option(3000, help="generated sentences per domain"),
         steps: int = typer.Option(800, help="optimiser steps per domain"),
         seed: int = typer.Option(0), out: Path = typer.Option(WEIGHTS, help="where the .npz heads go"),
         json_out: bool = typer.Option(False, "--json", help="Print one JSON object per domain (no progress bar)")) -> None:
    """Generate, encode and fit each domain's heads."""
    import json

    from rich.progress import Progress

    known = domains()
    wanted = [*(names or []), *(domain or [])] or list(known)
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise typer.BadParameter(f"unknown domain(s) {', '.join(unknown)}; known: {', '.join(known)}", param_hint="--domain")
    if steps < 1 or examples < 10:
        raise typer.BadParameter("--steps must be >= 1 and --examples >= 10")
    for name in wanted:
        data = training_set(name, examples, seed)
        with Progress(transient=True, disable=json_out) as bar:
            task = bar.add_task(f"{name}: encoding {len(data)} sentences", total=steps)
            info = train_domain(name, data, steps=steps, seed=seed, out=out,
                                progress=lambda s, loss: bar.update(task, completed=s + 1, description=f"{name} loss {loss:.3f}"))
        info.update(domain=name, seed=seed, weights=str(out / f"{name}.npz"))
        typer.echo(json.dumps(info) if json_out else f"{name}: {info}")
    if wanted != ["planner"]:  # the words the heads were trained on (vocabulary.py): from the same generators
        from micromarket.specialists.reading import vocabulary

        vocabulary.save(vocabulary.build(), out / vocabulary.PATH.name)


if __name__ == "__main__":
    app()
