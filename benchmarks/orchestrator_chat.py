"""`micromarket bench orchestrator_chat`: the orchestrator on a chat model, against the offline planner, on a task file.

    micromarket bench orchestrator_chat --tasks natural-dev.jsonl [--chat-model hf:smollm2] [--limit N] [--json]
    micromarket bench orchestrator_chat --tasks natural-dev.jsonl --plans-only     # constrained vs unconstrained plans

Each task is solved through the Python API twice in one home: with the offline planner, then with ``--chat-model``.
For the chat model it counts how often its plan parses (schema-valid JSON), how often the offline planner takes over
(the plan did not parse or was not a DAG), and how often the answers are right; for both, right answers. A task line
is ``{"task", "expect": [{"num", "tol"} | {"text"} | {"text_any"}], "unsupported"}`` as in the shared task files, and
is checked the same way (only answers of subtasks with status ok are read).

``--plans-only`` asks only for plans, twice per task: with the model's structured output (for llama.cpp models,
decoding constrained to the plan's JSON schema) and unconstrained (the schema in the prompt, the reply parsed as
JSON), and counts the plans that parse and the plans that are valid DAGs.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help=__doc__.splitlines()[0], add_completion=False)
NUM = re.compile(r"-?\d[\d,]*\.?\d*(?:[eE][-+]?\d+)?")


def _numbers(text: str) -> list[float]:
    out = []
    for m in NUM.findall(text):
        try:
            out.append(float(m.replace(",", "")))
        except ValueError:
            pass
    return out


def _squash(text: str) -> str:
    text = text.lower().replace("**", "^").replace("−", "-").replace("²", "^2").replace("³", "^3")
    return "".join(ch for ch in text if ch not in " *·")


def right(task: dict, out: dict) -> bool:
    """The shared task files' check: every expectation met by the ok answers; unsupported parts declined."""
    subs = out.get("subtasks") or []
    answers = " | ".join(str(s.get("answer") or "") for s in subs if s.get("status") == "ok")
    declined = bool(out.get("unsupported")) or any(s.get("status") == "unsupported" for s in subs)
    if task.get("unsupported") and not declined:
        return False
    if not task.get("expect") and not task.get("unsupported"):
        return False
    nums = _numbers(answers)
    for e in task.get("expect", []):
        if "num" in e:
            tol = e.get("tol", 0.001)
            if not any(abs(n - e["num"]) <= max(tol * abs(e["num"]), 0.006) for n in nums):
                return False
        elif "text" in e and e["text"].lower() not in answers.lower():
            return False
        elif "text_any" in e and not any(_squash(t) in _squash(answers) for t in e["text_any"]):
            return False
    return True


def _run(home: Path, tasks: list[dict], chat_model: str | None) -> list[dict]:
    from micromarket import Marketplace

    rows = []
    mp = Marketplace.open(home=home, chat_model=chat_model)
    try:
        for i, t in enumerate(tasks):
            t0 = time.perf_counter()
            try:
                out = mp.solve(t["task"])
                err = None
            except Exception as e:  # noqa: BLE001 - a failed task is a row, not the end of the benchmark
                out, err = {"subtasks": [], "warnings": []}, f"{type(e).__name__}: {e}"
            warnings = out.get("warnings") or []
            rows.append({
                "task": t["task"], "right": err is None and right(t, out), "seconds": round(time.perf_counter() - t0, 2),
                "did_not_parse": any("did not parse" in w for w in warnings),
                "fallback": any("used the offline planner" in w for w in warnings),
                "subtasks": len(out.get("subtasks") or []), "error": err,
            })
            typer.echo(f"[{'chat' if chat_model else 'offline'} {i + 1}/{len(tasks)}] {'ok ' if rows[-1]['right'] else 'BAD'} "
                       f"{'fallback ' if rows[-1]['fallback'] else ''}{t['task'][:70]}", err=True)
    finally:
        mp.close()
    return rows


class _Unconstrained:
    """The same model asked for JSON by prompt alone: the schema appended to the request, the reply parsed."""

    def __init__(self, model):
        self.model = model

    def with_structured_output(self, schema):
        from langchain_core.output_parsers import PydanticOutputParser
        from langchain_core.runnables import RunnableLambda

        from micromarket.nodes import prompts

        ask = RunnableLambda(lambda text: text + prompts.JSON_REPLY.format(schema=json.dumps(schema.model_json_schema())))
        return ask | self.model | PydanticOutputParser(pydantic_object=schema)


def _plans(tasks: list[dict], chat_model: str) -> dict:
    import asyncio

    from micromarket.llm import load_chat_model
    from micromarket.nodes.decompose import plan_with_model
    from micromarket.nodes.planner import PlanError

    model = load_chat_model(chat_model)
    out = {}
    for name, m in (("constrained", model), ("unconstrained", _Unconstrained(model))):
        parsed = valid = 0
        secs = []
        for i, t in enumerate(tasks):
            t0 = time.perf_counter()
            try:
                asyncio.run(plan_with_model(m, t["task"]))
                parsed, valid, verdict = parsed + 1, valid + 1, "valid"
            except PlanError:
                parsed, verdict = parsed + 1, "not a DAG"
            except Exception as e:  # noqa: BLE001 - any other failure is a plan that did not parse
                verdict = f"no parse ({type(e).__name__})"
            secs.append(time.perf_counter() - t0)
            typer.echo(f"[{name} {i + 1}/{len(tasks)}] {verdict}: {t['task'][:70]}", err=True)
        n = len(tasks) or 1
        out[name] = {"tasks": len(tasks), "parse_rate": round(parsed / n, 3), "valid_dag_rate": round(valid / n, 3),
                     "seconds_median": round(sorted(secs)[len(secs) // 2], 2) if secs else None}
    return out


def _summary(rows: list[dict]) -> dict:
    n = len(rows) or 1
    return {"tasks": len(rows), "right": sum(r["right"] for r in rows), "right_rate": round(sum(r["right"] for r in rows) / n, 3),
            "plan_parse_rate": round(1 - sum(r["did_not_parse"] for r in rows) / n, 3),
            "fallback_rate": round(sum(r["fallback"] for r in rows) / n, 3),
            "seconds_median": sorted(r["seconds"] for r in rows)[len(rows) // 2] if rows else None}


@app.command()
def main(
    tasks: Annotated[Path, typer.Option(help="JSONL task file (task, expect, unsupported)")],
    chat_model: Annotated[str, typer.Option("--chat-model", help="the orchestrator's chat model spec")] = "hf:smollm2",
    limit: Annotated[int | None, typer.Option(help="only the first N tasks")] = None,
    home: Annotated[Path | None, typer.Option(help="marketplace home (default: a fresh temp dir)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    plans_only: Annotated[bool, typer.Option("--plans-only", help="only plan: constrained vs unconstrained decoding")] = False,
) -> None:
    """Plan parse rate, fallback rate and right answers of the orchestrator on CHAT_MODEL vs the offline planner."""
    from micromarket.errors import InputError

    if not tasks.is_file():
        raise InputError(f"task file not found: {tasks}")
    items = [json.loads(line) for line in tasks.read_text().splitlines() if line.strip()][:limit]
    if plans_only:
        res = {"tasks_file": str(tasks), "chat_model": chat_model, **_plans(items, chat_model), "loadavg": [round(x, 2) for x in os.getloadavg()]}
        print(json.dumps(res))
        return
    with tempfile.TemporaryDirectory(prefix="mm-bench-chat-") as tmp:
        h = home or Path(tmp)
        offline = _run(h, items, None)
        chat = _run(h, items, chat_model)
    out = {"tasks_file": str(tasks), "chat_model": chat_model, "offline": _summary(offline), "chat": _summary(chat),
           "loadavg": [round(x, 2) for x in os.getloadavg()], "rows": {"offline": offline, "chat": chat}}
    if as_json:
        print(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{tasks.name}: orchestrator planning (load {out['loadavg']})")
    for col in ("planner", "right", "plan parses", "offline fallback", "median s/task"):
        table.add_column(col)
    for name, s in (("offline", out["offline"]), (chat_model, out["chat"])):
        table.add_row(name, f"{s['right']}/{s['tasks']}", "-" if name == "offline" else f"{s['plan_parse_rate']:.0%}",
                      "-" if name == "offline" else f"{s['fallback_rate']:.0%}", str(s["seconds_median"]))
    Console().print(table)


if __name__ == "__main__":
    app()
