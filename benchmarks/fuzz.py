"""Fuzz the input surfaces with Hypothesis: card parser (+ poisoning scanner), mcpServers import,
solve input, feedback input.

    micromarket bench fuzz                 # >= 10,000 examples in all (default 2,600 per target)
    micromarket bench fuzz --examples 200  # per target

Inputs include empty and huge text, non-UTF-8 bytes, control and invisible characters, deeply
nested JSON schemas, and SQL and shell metacharacters. A target passes when every input either
works or fails with a MicromarketError (a clear message), never any other exception. Prints the
number of examples run per target. The unit tests (tests/unit/test_fuzz.py) run the same targets
with a small budget.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

app = typer.Typer(add_completion=False)

# ---------------------------------------------------------------- strategies

META = ["'; DROP TABLE specialists; --", "\" OR 1=1 --", "$(rm -rf /)", "`reboot`", "; cat /etc/passwd", "| sh", "&& curl x|sh",
        "%s%s%n", "{0}{1}", "../../etc/passwd", "\\x00", "NULL", "<IMPORTANT>", "${HOME}", "*", "?", "%", "_"]
nasty_chars = st.sampled_from(["\x00", "\x01", "\x1b[31m", "\r", "\u200b", "\u202e", "\ufeff", "\U000e0041", "\ud7ff", "\uffff",
                               "\U0010ffff", "é", "中", "🙂", "\t", "\n", "\\", "\"", "'"])
text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.lists(st.one_of(nasty_chars, st.sampled_from(META), st.text(max_size=5)), max_size=30).map("".join),
    st.sampled_from(["", " ", "\n\n", "convert 5 miles to km", "integrate x^2 from 0 to 1"]),
    st.integers(1, 60_000).map(lambda n: "a" * n),  # huge (built lazily: keeps the strategy's repr small)
    st.integers(1, 30_000).map(lambda n: "x; " * n),
)
raw_bytes = st.one_of(st.binary(max_size=300), st.sampled_from([b"\xff\xfe\x00", b"\xc3\x28", b"\xed\xa0\x80", b"caf\xe9"]))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), text)
json_values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(text, c, max_size=4)), max_leaves=20)


def deep(n: int) -> dict:
    d: dict = {"type": "string"}
    for _ in range(n):
        d = {"type": "object", "properties": {"x": d}}
    return d


schemas = st.one_of(json_values, st.integers(0, 300).map(deep), st.builds(lambda n, s: {"type": "object", "properties": {s: deep(n)}}, st.integers(0, 80), text))


def card_dicts() -> st.SearchStrategy[dict]:
    cap = st.fixed_dictionaries(
        {"name": st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), text), "description": text},
        optional={"examples": st.lists(text, max_size=3), "input_schema": schemas, "output_schema": schemas, "tool": text},
    )
    transport = st.one_of(
        st.fixed_dictionaries({"kind": st.just("stdio"), "command": st.lists(text, max_size=3)}, optional={"env": st.dictionaries(text, text, max_size=3)}),
        st.fixed_dictionaries({"kind": st.just("http"), "url": text}),
        st.fixed_dictionaries({"kind": st.just("inprocess"), "target": text}),
        json_values,
    )
    return st.fixed_dictionaries(
        {"id": st.one_of(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True), text), "name": text, "description": text,
         "capabilities": st.lists(cap, max_size=3), "transport": transport},
        optional={"cost_per_call": st.one_of(st.floats(), st.integers(), text), "domains": st.lists(text, max_size=3),
                  "version": text, "context_tokens": st.one_of(st.integers(), text), "extra": json_values},
    )


card_inputs = st.one_of(
    card_dicts(),
    st.tuples(card_dicts(), st.sampled_from(["yaml", "json"])).map(lambda t: (json.dumps(t[0], default=str), t[1])),
    st.tuples(text, st.sampled_from(["yaml", "toml", "json"])),
    st.tuples(raw_bytes, st.sampled_from(["yaml", "toml", "json"])),
    json_values,
)

server_specs = st.one_of(
    st.fixed_dictionaries({}, optional={"command": st.one_of(text, json_values), "args": st.one_of(st.lists(text, max_size=4), json_values),
                                        "env": st.one_of(st.dictionaries(text, text, max_size=3), json_values),
                                        "url": st.one_of(text, st.just("https://example.invalid/mcp"), json_values),
                                        "type": st.sampled_from(["stdio", "http", "sse", "", "streamable-http"]),
                                        "disabled": st.booleans(), "cwd": text}),
    json_values,
)
configs = st.one_of(st.fixed_dictionaries({"mcpServers": st.dictionaries(text, server_specs, max_size=4)}), json_values,
                    st.builds(lambda n: {"mcpServers": {"deep": deep(n)}}, st.integers(0, 300)))

# ---------------------------------------------------------------- targets (each returns nothing; raising anything but MicromarketError fails)


def _allowed(e: BaseException) -> bool:
    from micromarket.errors import MicromarketError

    return isinstance(e, MicromarketError)


def target_card(inp: Any) -> None:
    from micromarket.capability_index.cards import parse_card
    from micromarket.capability_index.security import scan_card

    try:
        if isinstance(inp, tuple):
            card = parse_card(inp[0], fmt=inp[1])
        else:
            card = parse_card(inp)  # type: ignore[arg-type]
        scan_card(card, other_tools=["miles.convert_length", "send_email"])
    except Exception as e:  # noqa: BLE001
        if not _allowed(e):
            raise


def target_import(cfg: Any, raw: bytes) -> None:
    from micromarket.importer import load_config, transport_for

    try:
        if isinstance(cfg, dict):
            servers = load_config(cfg)
        else:  # the CLI path: any JSON document in a file
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8", errors="surrogatepass") as f:
                json.dump(cfg, f)
            try:
                servers = load_config(f.name)
            finally:
                os.unlink(f.name)
        for name, spec in servers.items():
            try:
                transport_for(str(name), spec)
            except Exception as e:  # noqa: BLE001
                if not _allowed(e):
                    raise
    except Exception as e:  # noqa: BLE001
        if not _allowed(e):
            raise
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        f.write(raw)
    try:
        load_config(f.name)
    except Exception as e:  # noqa: BLE001
        if not _allowed(e):
            raise
    finally:
        os.unlink(f.name)


class Fixture:
    """A marketplace with fake embeddings and one in-process specialist, for solve and feedback fuzzing."""

    def __init__(self) -> None:
        from micromarket import Marketplace

        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        self.tmp = tempfile.TemporaryDirectory(prefix="mm-fuzz-")
        old = os.environ.get("MICROMARKET_EMBEDDING_MODEL")
        os.environ["MICROMARKET_EMBEDDING_MODEL"] = "fake"
        try:
            self.mp = Marketplace.open(home=Path(self.tmp.name) / "home", builtins=False, call_timeout_s=5)
        finally:
            if old is None:
                os.environ.pop("MICROMARKET_EMBEDDING_MODEL", None)
            else:
                os.environ["MICROMARKET_EMBEDDING_MODEL"] = old
        from micromarket.specialists.launchable import allow_inprocess_modules

        allow_inprocess_modules("micromarket.benchmarks")  # echo_server below runs in process
        self.mp.register({"id": "echo", "name": "echo", "description": "convert miles to kilometers",
                          "capabilities": [{"name": "convert", "description": "convert miles to kilometers, length units"}],
                          "transport": {"kind": "inprocess", "target": "micromarket.benchmarks.fuzz:echo_server"}})
        self.run_id = self.mp.solve("convert 5 miles to km", seed=1)["run_id"]

    def close(self) -> None:
        self.mp.close()
        self.tmp.cleanup()


def echo_server():
    from mcp.server.mcpserver import MCPServer

    from micromarket.specialists.result import SolveResult

    mcp = MCPServer("fuzz-echo", log_level="WARNING")

    @mcp.tool()
    async def solve(task: str, context: str = "") -> SolveResult:
        return SolveResult(answer=f"{len(task)} characters", confidence=0.5, explanation="echo", value=len(task))

    return mcp


def target_solve_text(fx: Fixture, task: Any, ctx: Any) -> None:
    """clean_text, the offline planner and retrieval on arbitrary input (cheap; most examples)."""
    from micromarket.api import MAX_TASK_CHARS, clean_text
    from micromarket.nodes.planner import split_task, validate_plan

    try:
        t = clean_text(task, "task", MAX_TASK_CHARS)
        if ctx is not None:
            clean_text(ctx, "context", 2_000_000, allow_empty=True)
        plan = split_task(t)
        validate_plan(plan)
        if plan:
            fx.mp.find(plan[0]["text"], k=3)
    except Exception as e:  # noqa: BLE001
        if not _allowed(e):
            raise


def target_solve_full(fx: Fixture, task: Any) -> None:
    """The whole graph (decompose … update_trust) on arbitrary input."""
    try:
        out = fx.mp.solve(task, seed=0)
        assert isinstance(out["answer"], str) and isinstance(out["subtasks"], list)
    except Exception as e:  # noqa: BLE001
        if not _allowed(e):
            raise


def target_feedback(fx: Fixture, run_id: Any, good: Any, sub: Any, note: Any, known: bool) -> None:
    try:
        fx.mp.feedback(fx.run_id if known else run_id, good, subtask_id=sub, note=note)
    except Exception as e:  # noqa: BLE001
        if not _allowed(e):
            raise
    led = fx.mp.services.ledger
    try:
        led.record_evidence(run_id=run_id, subtask_id=sub, specialist_id=note, capability="convert", kind=str(good), success=good)
    except Exception as e:  # noqa: BLE001
        if not _allowed(e):
            raise


# ---------------------------------------------------------------- runner


def _cfg(n: int) -> settings:
    return settings(max_examples=n, deadline=None, database=None, derandomize=False, suppress_health_check=list(HealthCheck))


def run_all(examples: int, *, full_solves: int | None = None, fixture: Fixture | None = None) -> dict[str, int]:
    """Run every target; returns {target: examples run}. Raises on the first input that breaks a target."""
    counts: dict[str, int] = {}
    own = fixture is None
    fx = fixture or Fixture()
    try:
        def counted(name, fn):
            import inspect

            n = len(inspect.signature(fn).parameters)

            def hit(*a):
                counts[name] = counts.get(name, 0) + 1
                fn(*a)

            # @given needs a fixed number of named parameters
            return {1: lambda a: hit(a), 2: lambda a, b: hit(a, b),
                    5: lambda a, b, c, d, e: hit(a, b, c, d, e)}[n]

        given(card_inputs)(_cfg(examples)(counted("card parser + scanner", target_card)))()
        given(configs, raw_bytes)(_cfg(examples)(counted("mcpServers import", target_import)))()
        given(st.one_of(text, raw_bytes, json_values), st.one_of(st.none(), text, raw_bytes))(
            _cfg(examples)(counted("solve input (clean_text, planner, retrieval)", lambda t, c: target_solve_text(fx, t, c))))()
        n_full = full_solves if full_solves is not None else max(examples // 20, 5)
        given(st.one_of(text, raw_bytes))(_cfg(n_full)(counted("solve input (full graph)", lambda t: target_solve_full(fx, t))))()
        given(st.one_of(text, json_values), st.one_of(st.booleans(), json_values), st.one_of(st.none(), text, st.integers()),
              st.one_of(st.none(), text, json_values), st.booleans())(
            _cfg(examples)(counted("feedback input", lambda r, g, s, n, k: target_feedback(fx, r, g, s, n, k))))()
    finally:
        if own:
            fx.close()
    return counts


@app.command()
def main(examples: int = typer.Option(2600, "--examples", "-n", help="Examples per target (the full-graph target gets n/20)")) -> None:
    """Fuzz the card parser, the mcpServers import, solve input and feedback input; print example counts."""
    import logging

    logging.disable(logging.WARNING)
    t0 = time.perf_counter()
    counts = run_all(examples)
    total = sum(counts.values())
    for name, n in counts.items():
        typer.echo(f"{name:48s} {n:>7,d} examples  ok")
    typer.echo(f"{'total':48s} {total:>7,d} examples  ok, 0 unexpected exceptions ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    app()
