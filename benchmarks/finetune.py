"""The general / fine-tuned / from-scratch / rule-based table on held-out phrasings (issue 21, item 5).

    micromarket bench finetune --lora DIR --scratch DIR [--base smollm2] [--n 200] [--latency-n 30] [--no-prompted]

Every competitor answers the same examples of the dates task's ``heldout_templates`` split (phrasings never generated
for training) plus its out-of-domain split, in-process:
  base SmolLM2, prompted   the base model with the fine-tuned model's serving config (system instruction,
                           constrained decoding to an ISO date or UNKNOWN), no adapter
  SmolLM2 + LoRA           ``micromarket train dates --base smollm2`` (base + adapter, merged)
  from scratch             ``micromarket train dates`` (the char-level model)
  rule-based               the built-in ``dates`` specialist (python-dateutil)
Columns: accuracy on the held-out templates, AUROC of the confidence (right in-domain answers against wrong ones
and out-of-domain inputs, as the trainers' evaluation), latency p50 of one query at a time, size on disk.
Prints one JSON line per row and a table.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Annotated, Callable

import typer

app = typer.Typer(add_completion=False, help=__doc__.split("\n")[0])


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _model_row(name: str, answer: Callable[[list[str]], list[tuple[object, float]]], examples, latency_n: int, size_mb: float) -> dict:
    from micromarket.specialists.microllm.trainer import auroc

    held = examples["heldout_templates"]
    ood = examples["ood"]
    got = answer([t for t, _ in held] + [t for t, _ in ood])
    right = [str(v) == want for (v, _), (_, want) in zip(got[: len(held)], held)]
    scores = [c for _, c in got]
    labels = [int(r) for r in right] + [0] * len(ood)
    lat = []
    for text, _ in held[:latency_n]:
        t0 = time.perf_counter()
        answer([text])
        lat.append((time.perf_counter() - t0) * 1000)
    au = auroc(scores, labels)
    return {"model": name, "accuracy": round(sum(right) / len(held), 4), "auroc": None if au != au else round(au, 4),
            "latency_p50_ms": round(statistics.median(lat), 1), "size_mb": round(size_mb, 2), "n": len(held)}


def _backend_answer(backend) -> Callable[[list[str]], list[tuple[object, float]]]:
    from micromarket.specialists.microllm.engine import to_result  # deferred: torch / transformers

    def answer(texts: list[str]) -> list[tuple[object, float]]:
        gens = backend.generate([backend.prompt(t) for t in texts], batch_size=32)
        return [(r.value, r.confidence) for r in (to_result(g, backend.config, "local") for g in gens)]

    return answer


@app.command()
def main(
    lora: Annotated[Path | None, typer.Option(help="a `train dates --base` output directory")] = None,
    scratch: Annotated[Path | None, typer.Option(help="a `train dates` output directory")] = None,
    base: Annotated[str, typer.Option(help="the base model the LoRA was trained on (GGUF file, smollm2 or HF dir)")] = "smollm2",
    n: Annotated[int, typer.Option(help="held-out examples (and as many out-of-domain ones)")] = 200,
    latency_n: Annotated[int, typer.Option("--latency-n", help="single queries timed for the p50")] = 30,
    seed: Annotated[int, typer.Option(help="evaluation seed (the trainers use 12345)")] = 12345,
    prompted: Annotated[bool, typer.Option("--prompted/--no-prompted", help="include the base model, prompted (the costliest row)")] = True,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from micromarket.specialists.builtin.dates import solve_task
    from micromarket.specialists.microllm import lora as lora_mod
    from micromarket.specialists.microllm.engine import LocalBackend
    from micromarket.specialists.microllm.gguf import resolve_gguf
    from micromarket.specialists.microllm.hf import resolve_source
    from micromarket.specialists.microllm.train_dates import DatesTask

    task = DatesTask()
    sets = task.eval_sets(random.Random(seed), n)
    examples = {"heldout_templates": sets["heldout_templates"], "ood": sets["ood"]}
    gguf = resolve_gguf(base)
    base_mb = gguf.stat().st_size / 1e6 if gguf else _dir_mb(Path(resolve_source(base)))
    rows = []
    console = Console(stderr=True)
    if prompted:
        with console.status("base, prompted"):
            rows.append(_model_row(f"{base} prompted", _backend_answer(LocalBackend(base, lora_mod.serve_config(task, base))), examples, latency_n, base_mb))
    if lora:
        with console.status("base + LoRA"):
            rows.append(_model_row(f"{base} + LoRA", _backend_answer(LocalBackend(str(lora))), examples, latency_n, base_mb + _dir_mb(lora)))
    if scratch:
        with console.status("from scratch"):
            rows.append(_model_row("from scratch (char model)", _backend_answer(LocalBackend(str(scratch))), examples, latency_n, _dir_mb(scratch)))

    def rules(texts: list[str]) -> list[tuple[object, float]]:
        out = []
        for t in texts:
            r = solve_task(t)
            out.append((r.value, r.confidence))
        return out

    import micromarket.specialists.builtin.dates as dates_mod

    rows.append(_model_row("rule-based (dates)", rules, examples, latency_n, Path(dates_mod.__file__).stat().st_size / 1e6))  # its module; dateutil not counted
    for r in rows:
        sys.stdout.write(json.dumps(r) + "\n")
    t = Table(title=f"dates, held-out templates (n={n}) + {n} out-of-domain for AUROC")
    for c in ("model", "accuracy", "AUROC", "latency p50 ms", "size MB"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["model"], f"{r['accuracy']:.1%}", "n/a" if r["auroc"] is None else f"{r['auroc']:.3f}", f"{r['latency_p50_ms']:.1f}", f"{r['size_mb']:.2f}")
    Console().print(t)


if __name__ == "__main__":
    app()
