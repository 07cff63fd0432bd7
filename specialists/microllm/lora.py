"""`micromarket train <task> --base <gguf | HF dir> [--lora-rank R]`: LoRA fine-tuning of a pretrained model on CPU.

The base loads through ``hf.load_pretrained`` (a GGUF file or the packaged ``smollm2`` goes through the dense-weight
cache of ``gguf.py``), peft adds rank-R adapters to the attention projections, and training follows the from-scratch
trainer's rules: a budget in optimizer steps (wall clock only a guard), seeded deterministic kernels on a fixed thread
count, loss on the answer only. To keep a step cheap on CPU the prompt is the task text under a one-line system
instruction, batches are left-padded and only the answer positions are projected onto the vocabulary
(``logits_to_keep``), never the prompt. The adapter is saved with ``save_pretrained`` next to the serving config
(``microllm.json``, which names the base); ``hf.load_adapted`` is how the serving engine loads base + adapter. The model
is evaluated through that engine on the task's held-out splits, gated like a from-scratch model, and registered.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from micromarket.errors import MicromarketError
from micromarket.specialists.microllm.engine import ServeConfig
from micromarket.specialists.microllm.trainer import (
    Example,
    RegisterCard,
    Task,
    _load,
    _lr_factor,
    evaluate,
    finish,
    quality_gate,
    report,
    seed_everything,
    write_card,
)

TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj"]


@dataclass
class LoraTrainConfig:
    steps: int = 150
    max_seconds: float | None = 3 * 3600.0  # guard only, reported when hit
    batch_size: int = 8
    lr: float = 2e-3
    warmup_frac: float = 0.05
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0  # 0 keeps a step deterministic without extra generator state
    threads: int = 1  # as in TrainConfig: fixed for reproducibility
    seed: int = 0
    eval_n: int = 200  # generation with a 135M model is ~100x dearer than with the char model

    @classmethod
    def for_run(cls, *, quick: bool, seed: int, threads: int | None, rank: int | None, **over: Any) -> LoraTrainConfig:
        cfg = cls(steps=20, eval_n=40) if quick else cls()
        values = {"seed": seed, "threads": threads, "rank": rank, **over}
        cfg = replace(cfg, **{k: v for k, v in values.items() if v is not None})
        if rank is not None:
            cfg.alpha = 2 * rank
        return cfg


def instruction(task: Task) -> str:
    return getattr(task, "instruction", None) or f"{task.capability}: answer {task.serve.unknown or 'UNKNOWN'} if it does not apply."


def serve_config(task: Task, base: str) -> ServeConfig:
    """The task's serving config for a chat model: its instruction as the system message, and the base: as given
    (``base_spec``) and as loaded (``base_model``: for a GGUF, its dense cache directory, so a served specialist,
    which gets no MICROMARKET_HOME, loads it without converting again)."""
    from micromarket.specialists.microllm.hf import resolve_source  # deferred: torch / transformers

    return replace(task.serve, system=instruction(task), extra={**task.serve.extra, "base_model": resolve_source(base), "base_spec": base})


def load_base(base: str):
    from micromarket.specialists.microllm.hf import load_pretrained  # deferred: torch / transformers

    tok, model, seq2seq = load_pretrained(base)
    if seq2seq:
        raise MicromarketError(f"--base {base!r} is an encoder-decoder model; LoRA training here needs a causal LM")
    return tok, model


def _batch(tok, prompts: list[str], answers: list[str]):
    """Left-padded ids/mask and labels for the last K positions (K = longest answer + eos + 1)."""
    import torch

    p_ids = tok(prompts, add_special_tokens=False)["input_ids"]
    a_ids = [a + [tok.eos_token_id] for a in tok(answers, add_special_tokens=False)["input_ids"]]
    rows = [p + a for p, a in zip(p_ids, a_ids)]
    width = max(map(len, rows))
    keep = max(map(len, a_ids)) + 1
    pad = tok.pad_token_id
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    labels = torch.full((len(rows), keep - 1), -100)
    for i, a in enumerate(a_ids):
        labels[i, keep - 1 - len(a):] = torch.tensor(a)
    return ids, mask, labels, keep


def train(task: Task, base: str, cfg: LoraTrainConfig, console):
    """(peft model, tokenizer, seconds, steps, guard_hit, final loss)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from micromarket.specialists.microllm.hf import chat_prompt  # deferred: torch / transformers

    seed_everything(cfg.seed, cfg.threads)
    rng = random.Random(cfg.seed)
    with console.status(f"loading base {base}"):
        tok, model = load_base(base)
    model = get_peft_model(model, LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                                             target_modules=TARGET_MODULES, task_type="CAUSAL_LM"))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    system = instruction(task)
    step, ema, guard_hit = 0, None, False
    start = time.monotonic()
    cols = [TextColumn(f"[bold]LoRA {task.name}"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn()]
    with Progress(*cols, console=console) as progress:
        bar = progress.add_task("lora", total=cfg.steps, loss="-")
        while step < cfg.steps:
            if cfg.max_seconds is not None and time.monotonic() - start > cfg.max_seconds:
                guard_hit = True
                break
            frac = step / cfg.steps
            batch: list[Example] = [task.train_example(rng, 1.0) for _ in range(cfg.batch_size)]
            ids, mask, labels, keep = _batch(tok, [chat_prompt(tok, t, system) for t, _ in batch], [a for _, a in batch])
            for g in opt.param_groups:
                g["lr"] = cfg.lr * _lr_factor(frac, cfg.warmup_frac)
            logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits[:, :-1].float()
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            ema = loss.item() if ema is None else 0.9 * ema + 0.1 * loss.item()
            progress.update(bar, completed=step, loss=f"{ema:.4f}")
    model.eval()
    return model, tok, time.monotonic() - start, step, guard_hit, ema


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def run(task: Task, base: str, cfg: LoraTrainConfig, out: Path, *, json_out: bool, register_card: RegisterCard | None = None,
        home: Path | None = None, force: bool = False) -> dict:
    from rich.console import Console

    console = Console(stderr=True)
    model, tok, seconds, steps, guard_hit, loss = train(task, base, cfg, console)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)  # the adapter only
    serve_config(task, base).save(out)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    size_mb = _dir_mb(out)
    console.print(f"saved adapter {out} ({size_mb:.2f} MB, {trainable:,} trainable params, {steps} steps in {seconds:.0f} s); evaluating...")
    del model
    ev = evaluate(out, task, cfg.eval_n, batch_size=32)
    card = write_card(task, out, lora=True)
    reasons = quality_gate(ev["accuracy"], task.acceptance)
    if guard_hit:
        reasons.append(f"wall-clock guard (--max-seconds {cfg.max_seconds:g}) hit after {steps} of {cfg.steps} steps")
    summary = {
        "accuracy": {k: round(v, 4) for k, v in ev["accuracy"].items()},
        "confidence_auroc": None if math.isnan(ev["confidence_auroc"]) else round(ev["confidence_auroc"], 4),
        "params": trainable,
        "steps": steps,
        "train_seconds": round(seconds, 1),
        "size_mb": round(size_mb, 2),
        "base": base,
        "gate": {"passed": not reasons, "failed": reasons, "acceptance": task.acceptance},
    }
    finish(summary, card, force=force, register_card=register_card, home=home, console=console)
    (out / "metrics.json").write_text(json.dumps({**summary, "final_loss": loss, "config": cfg.__dict__, "load_avg": _load(),
                                                  "ood_rejected": ev["ood_rejected"], "failures": ev["failures"]}, indent=2))
    report(summary, ev["ood_rejected"], f"LoRA {task.name} on {base}: {out}", out, json_out)
    return summary
