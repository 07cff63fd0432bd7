"""`micromarket bench microllm_runtime`: llama.cpp against transformers on one GGUF model, in one run.

    micromarket bench microllm_runtime [--model smollm2] [--tokens 64] [--json]

Each measurement runs in a fresh process (so memory is that runtime's alone):
- load cold: transformers with an empty dense cache (dequantize and save), llama.cpp's first load;
- load warm: transformers from the dense cache, llama.cpp again;
- decode: greedy generation of up to ``--tokens`` tokens for a few fixed prompts through the specialists' backends
  (LocalBackend, LlamaCppBackend), tokens per second of wall time and per CPU-second;
- memory: peak RSS of the process.
The machine's load average is printed with the results: a shared machine slows both runtimes.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help=__doc__.splitlines()[0], add_completion=False)

PROMPTS = ["What is the capital of France?", "Write one sentence about the sea.", "List three primary colours."]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _child(runtime: str, model: str, tokens: int) -> dict:
    """One measurement in this process: load, decode, peak RSS."""
    from micromarket.specialists.microllm.engine import LlamaCppBackend, LocalBackend, ServeConfig

    t0, c0 = time.perf_counter(), _cpu()
    if runtime == "llama.cpp":
        backend = LlamaCppBackend(model, ServeConfig(max_new_tokens=tokens))
    else:
        import torch

        from micromarket.specialists.microllm.gguf import threads

        torch.set_num_threads(threads())
        backend = LocalBackend(model, ServeConfig(max_new_tokens=tokens))
    load_s, load_cpu = time.perf_counter() - t0, _cpu() - c0
    n, t1, c1 = 0, time.perf_counter(), _cpu()
    texts = []
    for p in PROMPTS:
        gen = backend.generate([backend.prompt(p)])[0]
        n += len(gen.probs or [])
        texts.append(gen.text)
    dec_s, dec_cpu = time.perf_counter() - t1, _cpu() - c1
    return {"runtime": runtime, "load_s": round(load_s, 2), "load_cpu_s": round(load_cpu, 2), "tokens": n,
            "tokens_per_s": round(n / dec_s, 1), "tokens_per_cpu_s": round(n / max(dec_cpu, 1e-9), 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "first_answer": texts[0][:80]}


def _run_child(runtime: str, model: str, tokens: int, home: Path) -> dict:
    env = {**os.environ, "MICROMARKET_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    p = subprocess.run([sys.executable, "-m", "micromarket.benchmarks.microllm_runtime", "--child", runtime, "--model", model,
                        "--tokens", str(tokens)], env=env, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        return {"runtime": runtime, "error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


@app.command()
def main(
    model: Annotated[str, typer.Option(help="a .gguf file or a packaged name (smollm2)")] = "smollm2",
    tokens: Annotated[int, typer.Option(help="max new tokens per prompt")] = 64,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    child: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Load time (cold, warm), tokens/s and peak RSS of llama.cpp and transformers on the same GGUF."""
    if child:
        print(json.dumps(_child(child, model, tokens)))
        return
    from micromarket.specialists.microllm.gguf import llama_cpp_installed, resolve_gguf, threads

    if resolve_gguf(model) is None:
        raise typer.BadParameter(f"{model!r} is not a GGUF file", param_hint="--model")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mm-bench-runtime-") as tmp:
        for runtime in (["llama.cpp"] if llama_cpp_installed() else []) + ["transformers"]:
            for phase in ("cold", "warm"):  # the same home: the second transformers load reads the dense cache
                row = _run_child(runtime, model, tokens, Path(tmp))
                rows.append({"phase": phase, **row})
                if not as_json:
                    typer.echo(json.dumps({"phase": phase, **row}), err=True)
    out = {"model": model, "tokens": tokens, "threads": threads(), "loadavg": [round(x, 2) for x in os.getloadavg()], "rows": rows}
    if as_json:
        print(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{model}: llama.cpp vs transformers ({threads()} thread(s), load {out['loadavg']})")
    for col in ("runtime", "phase", "load s", "load CPU s", "tokens/s", "tokens/CPU-s", "peak RSS MB"):
        table.add_column(col)
    for r in rows:
        if "error" in r:
            table.add_row(r["runtime"], r["phase"], r["error"], "", "", "", "")
            continue
        table.add_row(r["runtime"], r["phase"], str(r["load_s"]), str(r["load_cpu_s"]), str(r["tokens_per_s"]), str(r["tokens_per_cpu_s"]), str(r["peak_rss_mb"]))
    Console().print(table)


if __name__ == "__main__":
    app()
