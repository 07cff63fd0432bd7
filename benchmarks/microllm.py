"""`micromarket bench microllm`: full training runs of the trained micro-LLM specialists, one JSON line per task.

    micromarket bench microllm [--task dates --task roman] [--seconds 480] [--out DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help=__doc__.splitlines()[0], add_completion=False)


@app.command()
def main(
    task: Annotated[list[str] | None, typer.Option("--task", help="dates and/or roman (default both)")] = None,
    seconds: Annotated[float, typer.Option(help="training budget per task")] = 480.0,
    out: Annotated[Path, typer.Option(help="directory for the trained models")] = Path("bench-out/microllm"),
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    from specialists.microllm import train_dates, train_roman
    from specialists.microllm.trainer import TrainConfig, run

    tasks = {"dates": train_dates.DatesTask, "roman": train_roman.RomanTask}
    for name in task or list(tasks):
        if name not in tasks:
            raise typer.BadParameter(f"unknown task {name!r}; choose from {', '.join(tasks)}", param_hint="--task")
        t = tasks[name]()
        summary = run(t, TrainConfig(seconds=seconds, seed=seed), out / t.specialist_id, json_out=False)
        sys.stdout.write(json.dumps({"task": name, **summary}) + "\n")


if __name__ == "__main__":
    app()
