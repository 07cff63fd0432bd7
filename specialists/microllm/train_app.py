"""The single-command typer app of each training task (`micromarket train <task> ...`): from scratch (trainer.py)
or, with ``--base``, LoRA fine-tuning of a pretrained model (lora.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Callable

import typer

from micromarket.errors import MicromarketError
from micromarket.settings import Settings
from micromarket.specialists.microllm import trainer
from micromarket.specialists.microllm.trainer import ModelSize, Task, TrainConfig, config_for


def make_app(task_factory: Callable[[], Task], help: str) -> typer.Typer:
    """A single-command typer app: ``[--json] [--quick] [--steps N] [--base MODEL] [--out DIR] [--register [--force]] [--home DIR]``."""
    app = typer.Typer(help=help, add_completion=False)

    @app.command(help=help)
    def train(
        ctx: typer.Context,
        json_out: Annotated[bool, typer.Option("--json", help="print the metrics as JSON on the last stdout line")] = False,
        quick: Annotated[bool, typer.Option("--quick", help="a short run and a small evaluation (CI)")] = False,
        out: Annotated[Path | None, typer.Option("--out", help="model directory (default <home>/models/<specialist id>)")] = None,
        steps: Annotated[int | None, typer.Option("--steps", help="training budget in optimizer steps")] = None,
        max_seconds: Annotated[float | None, typer.Option("--max-seconds", help="wall-clock guard: stop early (and say so) after this long")] = None,
        seed: Annotated[int, typer.Option("--seed")] = 0,
        do_register: Annotated[bool, typer.Option("--register", help="register the trained specialist (if it passes the quality gate)")] = False,
        force: Annotated[bool, typer.Option("--force", help="register even below the task's acceptance thresholds")] = False,
        home: Annotated[Path | None, typer.Option("--home", help="marketplace home (for --register and the default --out)")] = None,
        batch_size: Annotated[int | None, typer.Option("--batch-size", help="examples per step")] = None,
        lr: Annotated[float | None, typer.Option("--lr", help="peak learning rate (warmup, then cosine)")] = None,
        prompt_weight: Annotated[float | None, typer.Option("--prompt-weight", help="loss weight of prompt tokens (answer = 1)")] = None,
        threads: Annotated[int | None, typer.Option("--threads", help="torch threads (default 1; part of what makes a run reproducible)")] = None,
        eval_n: Annotated[int | None, typer.Option("--eval-n", help="examples per evaluation split")] = None,
        check_every: Annotated[int | None, typer.Option("--check-every", help="validate every N steps and stop once the validation splits pass (0: train the whole budget)")] = None,
        hidden: Annotated[int | None, typer.Option("--hidden", help="model width")] = None,
        layers: Annotated[int | None, typer.Option("--layers", help="transformer layers")] = None,
        ffn: Annotated[int | None, typer.Option("--ffn", help="MLP width")] = None,
        base: Annotated[str | None, typer.Option("--base", help="fine-tune this pretrained model (GGUF file or HF directory) with LoRA instead of training from scratch")] = None,
        lora_rank: Annotated[int | None, typer.Option("--lora-rank", help="LoRA rank (with --base)")] = None,
    ) -> None:
        task = task_factory()
        for name, value in (("--steps", steps), ("--max-seconds", max_seconds), ("--lora-rank", lora_rank)):
            if value is not None and value <= 0:
                raise typer.BadParameter("must be positive", param_hint=name)
        target = Path(out or Settings.from_env(home=home).home / "models" / (task.specialist_id + ("-lora" if base else ""))).expanduser()
        register_card = (ctx.obj or {}).get("register_card") if do_register else None
        if do_register and register_card is None:  # run as a module: the marketplace lives in a higher layer
            raise typer.BadParameter(f"register through `micromarket train {task.name} --register`, or afterwards with "
                                     f"`micromarket specialists add {target / 'card.yaml'} --replace`", param_hint="--register")
        over = {"steps": steps, "max_seconds": max_seconds, "batch_size": batch_size, "lr": lr, "eval_n": eval_n}
        try:
            if base is not None:
                from micromarket.specialists.microllm import lora  # deferred: peft / transformers

                lcfg = lora.LoraTrainConfig.for_run(quick=quick, seed=seed, threads=threads, rank=lora_rank, **over)
                summary = lora.run(task, base, lcfg, target, json_out=json_out, register_card=register_card, home=home, force=force)
            else:
                cfg = TrainConfig(**{**config_for(task, quick).__dict__, "seed": seed})
                over.update(prompt_weight=prompt_weight, threads=threads, check_every=check_every)
                cfg = TrainConfig(**{**cfg.__dict__, **{k: v for k, v in over.items() if v is not None}})
                size = {"hidden": hidden, "layers": layers, "ffn": ffn}
                cfg.size = ModelSize(**{**cfg.size.__dict__, **{k: v for k, v in size.items() if v is not None}})
                summary = trainer.run(task, cfg, target, json_out=json_out, register_card=register_card, home=home, force=force)
        except MicromarketError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None
        if register_card is not None and not summary.get("gate", {}).get("registered", True):
            raise typer.Exit(1)  # asked to register, refused by the quality gate

    return app
