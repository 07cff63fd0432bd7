"""Generic trainer for tiny from-scratch micro-LLMs (char-level Llama causal LM), shared by train_dates/train_roman.

A task supplies an example generator (with its own held-out splits), an alphabet and serving config;
this module builds the tokenizer and model, trains for a budget in optimizer steps (a wall-clock limit
is only a guard, reported when hit) with loss on the answer only, seeded and deterministic, saves with
save_pretrained, evaluates through the same engine the MCP server uses, applies the task's quality gate
(a model below its acceptance thresholds is not registered without ``--force``), writes the card and
train_app.py builds the command.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence

from micromarket.specialists.microllm.engine import LocalBackend, ServeConfig, to_result


SPECIALS = ["<pad>", "<s>", "</s>", "<unk>", "<sep>"]
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<sep>{% endif %}"
)
Example = tuple[str, str]  # (input text, expected answer)


class Task(Protocol):
    name: str  # e.g. "dates" -> `micromarket train dates`
    specialist_id: str
    capability: str
    description: str
    examples: list[str]
    domains: list[str]
    alphabet: str  # input characters the tokenizer knows (after lowercasing)
    serve: ServeConfig  # unknown answer, allowed output chars, validator
    split_names: tuple[str, str, str]  # metric names of the three in-domain evaluation splits
    max_chars: int
    acceptance: dict[str, float]  # quality gate: minimum accuracy per evaluation split

    def train_example(self, rng: random.Random, progress: float = 1.0) -> Example:
        """One example; ``progress`` (0..1, fraction of the budget spent) lets a task run a curriculum."""
        ...

    def eval_sets(self, rng: random.Random, n: int) -> dict[str, list[Example]]:
        """The three in-domain splits (``split_names``) plus ``"ood"`` (answer = serve.unknown)."""
        ...

    # Optional (early exit): ``val_sets(rng, n)`` gives validation splits drawn from data that is neither trained on
    # nor in ``eval_sets`` (own numbers/dates, own wrapper sentences), and ``val_acceptance`` their thresholds.


@dataclass
class ModelSize:
    # measured (docs/microllm.md): at equal wall-clock, 0.34M params (96 x 3 layers) reached 63% where 0.86M
    # (128 x 4) reached 23% -- more steps beat more width at this budget
    hidden: int = 96
    layers: int = 3
    heads: int = 4
    ffn: int = 256
    max_len: int = 128


@dataclass
class TrainConfig:
    steps: int = 4000  # the budget: optimizer steps (batch_size examples each), whatever the machine's load
    max_seconds: float | None = 3 * 3600.0  # guard only; hitting it ends training early and is reported
    batch_size: int = 64
    lr: float = 6e-3
    warmup_frac: float = 0.03
    prompt_weight: float = 0.05  # loss weight of prompt tokens (answer tokens weigh 1)
    # fixed, not load-dependent (the thread count changes float reductions, hence the model); 1 because 2 threads
    # stall on torch's barrier when the machine is oversubscribed (measured at load 8: 4.5 s vs 0.5-0.7 s a step)
    threads: int = 1
    seed: int = 0
    eval_n: int = 1000
    # early exit: every ``check_every`` steps the weight average (EMA) is scored on the task's validation splits
    # (never the test splits); training stops once it meets the task's ``val_acceptance`` (0: never check)
    check_every: int = 250
    val_n: int = 500
    # the saved model is the checked weight average with the fewest validation errors (in units of each split's allowed
    # error, 1 - val_acceptance), not necessarily the last one; False: the last
    keep_best: bool = True
    ema_decay: float = 0.995  # the saved model is this exponential moving average of the weights
    size: ModelSize = field(default_factory=ModelSize)


QUICK = TrainConfig(steps=400, eval_n=200, check_every=0)


def config_for(task: Task, quick: bool = False) -> TrainConfig:
    """The default recipe of ``task``: TrainConfig (or QUICK) with the task's optional ``train_defaults`` on top.

    ``--quick`` keeps its short budget and small evaluation and takes the task's other settings (e.g. its lr).
    """
    base = QUICK if quick else TrainConfig()
    over = dict(getattr(task, "train_defaults", None) or {})
    if quick:
        for k in ("steps", "eval_n", "check_every"):
            over.pop(k, None)
    return TrainConfig(**{**base.__dict__, **over})


def build_char_tokenizer(alphabet: str, unknown: str, max_len: int, words: Sequence[str] = ()):
    """Character-level tokenizer (lowercasing, NFKC) with the task's 'unknown' answer as one token and a chat template.

    ``words`` (the task's domain words, e.g. month names) are single tokens wherever they occur; everything else,
    digits included, stays one token per character, so unknown words are still read and numbers copied digit by digit.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for ch in sorted(set(alphabet.lower())):
        vocab.setdefault(ch, len(vocab))
    known = sorted({w.lower() for w in words if len(w) > 1}, key=lambda w: (-len(w), w))  # longest first
    for w in known:
        vocab.setdefault(w, len(vocab))
    pattern = "".join(f"{re.escape(w)}|" for w in known) + r"[\s\S]"
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tk.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    tk.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        sep_token="<sep>",
        model_max_length=max_len,
        clean_up_tokenization_spaces=False,
    )
    tok.add_tokens([AddedToken(unknown, normalized=False)])
    tok.chat_template = CHAT_TEMPLATE
    return tok


def build_model(vocab_size: int, tok, size: ModelSize):
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=size.hidden,
        intermediate_size=size.ffn,
        num_hidden_layers=size.layers,
        num_attention_heads=size.heads,
        num_key_value_heads=size.heads,
        max_position_embeddings=size.max_len,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return LlamaForCausalLM(cfg)


def _encode(tok, batch: list[Example], max_len: int):
    """input_ids / attention_mask / labels (right-padded); labels: answer + eos ids, prompt as -2-id, none -1 (see _loss)."""
    import torch

    texts = tok([t for t, _ in batch], add_special_tokens=False)["input_ids"]
    answers = tok([a for _, a in batch], add_special_tokens=False)["input_ids"]
    rows, labs = [], []
    for t, a in zip(texts, answers):
        prompt = [tok.bos_token_id] + t[: max_len - len(a) - 3] + [tok.sep_token_id]
        tail = a + [tok.eos_token_id]
        rows.append(prompt + tail)
        labs.append([-1] + [-2 - t for t in prompt[1:]] + tail)  # -1: no target; prompt targets encoded as -2-id
    width = max(len(r) for r in rows)
    pad = tok.pad_token_id
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    labels = torch.tensor([r + [-1] * (width - len(r)) for r in labs])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    return ids, mask, labels


def _loss(model, ids, mask, labels, prompt_weight: float):
    """Next-token cross-entropy: answer tokens weigh 1, prompt tokens ``prompt_weight``, padding 0."""
    import torch

    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    target = labels[:, 1:]
    answer = target >= 0
    prompt = (target <= -2) & (prompt_weight > 0)
    tgt = torch.where(answer, target, torch.where(target <= -2, -2 - target, torch.zeros_like(target)))
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none").view_as(tgt)
    w = answer.float() + prompt_weight * prompt.float()
    return (ce * w).sum() / answer.float().sum().clamp(min=1)


def _lr_factor(frac: float, warmup: float) -> float:
    if frac < warmup:
        return frac / warmup
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - warmup) / (1 - warmup))))


def seed_everything(seed: int, threads: int) -> None:
    """Same seed, threads and hardware -> the same model: seeded generators and torch's deterministic kernels."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def train_model(task: Task, cfg: TrainConfig, console) -> tuple[object, object, float, int]:
    """Train for ``cfg.steps`` optimizer steps; returns (model, tokenizer, train_seconds, steps done).

    Everything that shapes the model (curriculum, learning rate) follows the step count, never the clock.
    ``cfg.max_seconds`` only stops a run that would otherwise not end; ``model.guard_hit`` records it.
    """
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    seed_everything(cfg.seed, cfg.threads)
    rng = random.Random(cfg.seed)
    tok = build_char_tokenizer(task.alphabet, task.serve.unknown or "UNKNOWN", cfg.size.max_len, getattr(task, "words", ()))
    model = build_model(len(tok), tok, cfg.size)
    model.train()
    ema = copy.deepcopy(model).eval().requires_grad_(False)  # the averaged weights: what is validated and saved
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), weight_decay=0.01)
    validate = _validator(task, tok, cfg)
    val_log: list[dict] = []
    best: tuple[float, int, dict] | None = None  # (validation error score, step, weights)
    bucket = 8  # draw 8 batches at once and group by length to cut padding
    queue: list[list[Example]] = []
    step, loss_ema, guard_hit, early = 0, None, False, False
    start = time.monotonic()
    cols = [TextColumn("[bold]train {task.fields[name]}"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn()]
    with Progress(*cols, console=console, transient=False) as progress:
        bar = progress.add_task("train", total=cfg.steps, name=task.name, loss="-")
        while step < cfg.steps:
            if cfg.max_seconds is not None and time.monotonic() - start > cfg.max_seconds:
                guard_hit = True
                break
            frac = step / cfg.steps
            if not queue:
                pool = sorted((task.train_example(rng, frac) for _ in range(bucket * cfg.batch_size)), key=lambda e: len(e[0]))
                queue = [pool[i : i + cfg.batch_size] for i in range(0, len(pool), cfg.batch_size)]
                rng.shuffle(queue)
            ids, mask, labels = _encode(tok, queue.pop(), cfg.size.max_len)
            for g in opt.param_groups:
                g["lr"] = cfg.lr * _lr_factor(frac, cfg.warmup_frac)
            loss = _loss(model, ids, mask, labels, cfg.prompt_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            with torch.no_grad():  # warm-started average: early on it follows the weights closely
                d = min(cfg.ema_decay, (1 + step) / (10 + step))
                for pe, p in zip(ema.parameters(), model.parameters()):
                    pe.lerp_(p, 1.0 - d)
            loss_ema = loss.item() if loss_ema is None else 0.98 * loss_ema + 0.02 * loss.item()
            progress.update(bar, completed=step, loss=f"{loss_ema:.4f}")
            if validate is not None and (step % cfg.check_every == 0 or step == cfg.steps):  # the last: the saved model's
                acc = validate(ema)
                val_log.append({"step": step, **acc})
                console.print(f"step {step}: validation " + ", ".join(f"{k} {v:.2%}" for k, v in acc.items()))
                score = val_error(acc, task.val_acceptance)
                if cfg.keep_best and (best is None or score <= best[0]):  # ties: the later, longer-trained one
                    best = (score, step, copy.deepcopy(ema.state_dict()))
                if not quality_gate(acc, task.val_acceptance):
                    early = step < cfg.steps
                    break
    kept = step
    if best is not None and best[1] != step:
        ema.load_state_dict(best[2])
        kept = best[1]
        console.print(f"keeping the step-{kept} weights: fewest validation errors")
    model = ema
    model.kept_step = kept
    model.final_loss = loss_ema  # for metrics.json
    model.guard_hit = guard_hit
    model.early_exit = early
    model.val_log = val_log
    seconds = time.monotonic() - start
    if guard_hit:
        console.print(f"[yellow]wall-clock guard hit after {seconds:.0f} s: {step} of {cfg.steps} steps done")
    if early:
        console.print(f"early exit at step {step} of {cfg.steps}: the validation splits meet {task.val_acceptance}")
    console.print(f"{step} steps, {cfg.threads} thread(s), final loss (EMA) {loss_ema if loss_ema is None else round(loss_ema, 4)}")
    return model, tok, seconds, step


def _validator(task: Task, tok, cfg: TrainConfig):
    """``validate(model) -> accuracy per validation split``, through the serving engine, or None (no early exit)."""
    if cfg.check_every <= 0 or not hasattr(task, "val_sets") or not getattr(task, "val_acceptance", None):
        return None
    sets = task.val_sets(random.Random(cfg.seed + 7919), cfg.val_n)

    def validate(model) -> dict[str, float]:
        with tempfile.TemporaryDirectory(prefix="microllm-val-") as tmp:  # scored exactly as it will be served
            save(model, tok, task, Path(tmp))
            backend = LocalBackend(tmp)
            return {name: _accuracy(backend, examples) for name, examples in sets.items()}

    return validate


def val_error(accuracy: dict[str, float], acceptance: dict[str, float]) -> float:
    """Validation errors in units of what each split may miss: sum of (1 - acc) / (1 - threshold); lower is better."""
    return sum((1.0 - accuracy.get(k, 0.0)) / max(1.0 - need, 1e-6) for k, need in acceptance.items())


def _accuracy(backend, examples: list[Example]) -> float:
    gens = backend.generate([backend.prompt(t) for t, _ in examples], batch_size=256)
    return sum(g.text == want for (_, want), g in zip(examples, gens)) / max(len(examples), 1)


def save(model, tok, task: Task, out: Path) -> float:
    """save_pretrained model + tokenizer + microllm.json; returns the directory size in MB."""
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config.max_new_tokens = task.serve.max_new_tokens
    model.save_pretrained(out)
    tok.save_pretrained(out)
    task.serve.save(out)
    return sum(p.stat().st_size for p in out.iterdir() if p.is_file()) / 1e6


def auroc(scores: list[float], labels: list[int]) -> float:
    """Area under the ROC curve (ties count half); nan if only one class is present."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return float("nan")
    order = sorted(set(scores))
    rank = {}
    seen = 0
    counts: dict[float, int] = {}
    for s in scores:
        counts[s] = counts.get(s, 0) + 1
    for s in order:  # average rank for ties
        rank[s] = seen + (counts[s] + 1) / 2
        seen += counts[s]
    r_pos = sum(rank[s] for s in pos)
    return (r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def evaluate(out: Path, task: Task, n: int, seed: int = 12345, batch_size: int = 256) -> dict:
    """Accuracy per split and confidence AUROC (correct in-domain vs wrong or out-of-domain), via the serving engine."""
    backend = LocalBackend(str(out))
    sets = task.eval_sets(random.Random(seed), n)
    acc: dict[str, float] = {}
    scores, labels = [], []
    ood_rejected = 0.0
    failures: dict[str, list] = {}
    for name, examples in sets.items():
        gens = backend.generate([backend.prompt(t) for t, _ in examples], batch_size=batch_size)
        right = 0
        for (text, want), g in zip(examples, gens):
            res = to_result(g, backend.config, "local")
            ok = name != "ood" and res.answer == want
            right += ok if name != "ood" else (g.text == task.serve.unknown)
            scores.append(res.confidence)
            labels.append(int(ok))
            if name != "ood" and not ok and len(failures.setdefault(name, [])) < 5:
                failures[name].append((text, want, g.text))
        if name == "ood":
            ood_rejected = right / len(examples)
        else:
            acc[name] = right / len(examples)
    return {"accuracy": acc, "confidence_auroc": auroc(scores, labels), "ood_rejected": ood_rejected, "failures": failures}


def write_card(task: Task, out: Path, *, lora: bool = False):
    from micromarket.specialists.microllm.cli import card_for_model  # deferred: torch / transformers

    return card_for_model(
        out,
        specialist_id=task.specialist_id + ("-lora" if lora else ""),
        name=f"{task.specialist_id} ({'LoRA fine-tuned' if lora else 'trained'} micro-LLM)",
        capability=task.capability,
        description=task.description,
        examples=task.examples,
        domains=task.domains,
        latency_ms=300.0 if lora else 50.0,
        license="Apache-2.0",
    )


RegisterCard = Callable[[object, "Path | None"], None]
"""``register_card(card, home)``: supplied by the application layer (``micromarket train ... --register``)."""


def quality_gate(accuracy: dict[str, float], acceptance: dict[str, float]) -> list[str]:
    """Why the model falls short of its task's acceptance thresholds (empty: it passes)."""
    return [f"{split} {accuracy.get(split, 0.0):.2%} < {need:.1%}" for split, need in acceptance.items() if accuracy.get(split, 0.0) < need]


def finish(summary: dict, card, *, force: bool, register_card: RegisterCard | None, home: Path | None, console) -> dict:
    """Apply the quality gate to an evaluated model, register it when asked and allowed; adds ``gate`` to ``summary``."""
    reasons = summary["gate"]["failed"]
    registered = False
    if register_card is not None:
        if reasons and not force:
            console.print(f"[red]not registered: below the acceptance thresholds ({'; '.join(reasons)}); "
                          "keep it with --force, or train longer (--steps)")
        else:
            register_card(card, home)
            registered = True
            console.print(f"registered {card.id} with the marketplace" + (" (--force: below the thresholds)" if reasons else ""))
    elif reasons:
        console.print(f"[yellow]below the acceptance thresholds: {'; '.join(reasons)}")
    summary["gate"]["registered"] = registered
    return summary


def run(task: Task, cfg: TrainConfig, out: Path, *, json_out: bool, register_card: RegisterCard | None = None,
        home: Path | None = None, force: bool = False) -> dict:
    from rich.console import Console

    console = Console(stderr=True)  # progress on stderr: with --json, stdout's last line is the JSON
    model, tok, seconds, steps = train_model(task, cfg, console)
    params = sum(p.numel() for p in model.parameters())
    size_mb = save(model, tok, task, out)
    console.print(f"saved {out} ({size_mb:.2f} MB, {params:,} params, {steps} steps in {seconds:.0f} s); evaluating...")
    ev = evaluate(out, task, cfg.eval_n)
    card = write_card(task, out)
    reasons = quality_gate(ev["accuracy"], task.acceptance)
    if model.guard_hit:
        reasons.append(f"wall-clock guard (--max-seconds {cfg.max_seconds:g}) hit after {steps} of {cfg.steps} steps")
    summary = {
        "accuracy": {k: round(v, 4) for k, v in ev["accuracy"].items()},
        "confidence_auroc": None if math.isnan(ev["confidence_auroc"]) else round(ev["confidence_auroc"], 4),  # None: no correct answers
        "params": params,
        "steps": steps,
        "early_exit": model.early_exit,
        "kept_step": getattr(model, "kept_step", steps),
        "train_seconds": round(seconds, 1),
        "size_mb": round(size_mb, 2),
        "gate": {"passed": not reasons, "failed": reasons, "acceptance": task.acceptance},
    }
    finish(summary, card, force=force, register_card=register_card, home=home, console=console)
    (out / "metrics.json").write_text(json.dumps({**summary, "final_loss": getattr(model, "final_loss", None), "config": {k: v for k, v in cfg.__dict__.items() if k != "size"},
                                                  "size": cfg.size.__dict__, "load_avg": _load(), "validation": model.val_log, "ood_rejected": ev["ood_rejected"], "eval_n": cfg.eval_n, "failures": ev["failures"]}, indent=2))
    report(summary, ev["ood_rejected"], f"micro-LLM {task.name}: {out}", out, json_out)
    return summary


def report(summary: dict, ood_rejected: float | None, title: str, out: Path, json_out: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    if json_out:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    t = Table(title=title)
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in summary["accuracy"].items():
        need = summary["gate"]["acceptance"].get(k)
        t.add_row(f"accuracy {k}", f"{v:.2%}" + (f" (need {need:.1%})" if need else ""))
    if ood_rejected is not None:
        t.add_row("out-of-domain rejected", f"{ood_rejected:.2%}")
    t.add_row("confidence AUROC", "n/a" if summary["confidence_auroc"] is None else f"{summary['confidence_auroc']:.4f}")
    t.add_row("params", f"{summary['params']:,}")
    t.add_row("steps / train seconds", f"{summary['steps']} / {summary['train_seconds']:.0f}")
    t.add_row("size MB", f"{summary['size_mb']:.2f}")
    gate = summary["gate"]
    t.add_row("quality gate", "passed" if gate["passed"] else "failed: " + "; ".join(gate["failed"]))
    t.add_row("registered", "yes" if gate["registered"] else "no")
    t.add_row("card", str(out / "card.yaml"))
    Console().print(t)


def _load() -> list[float] | None:
    import os

    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
