"""Every robustness scenario, run through the product path, as one table.

    micromarket bench robustness [--json] [--write-docs docs/robustness.md] [--from-json OUT.json]

Each scenario is reproduced by tests named after it (real MCP subprocesses, the CLI, the Python API or the
MCP front door); this program runs exactly those tests with pytest and reports, per scenario: the tests that
reproduce it, held (all of them passed) or broken, and data lost (a test records it with
``record_property("data_lost", n)``; a passing test asserts none). A scenario with no test is reported as
``missing``, never as held. It needs a source checkout (the tests are not part of the wheel).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import typer

app = typer.Typer(add_completion=False)

# (id, scenario, test-name pattern). Issue-7 scenarios are numbered test_<n>_*; later attacks are test_attack_<slug>*.
SCENARIOS: list[tuple[str, str, str]] = [
    ("1", "Tool poisoning in definitions", r"test_1_"),
    ("2", "Rug pull (changed definitions)", r"test_2_"),
    ("3", "Shadowing other tools", r"test_3_"),
    ("4", "Injection through outputs (orchestrator)", r"test_4_"),
    ("5", "Launch: only the configured command, explicit env", r"test_5_"),
    ("6", "Retrieval gaming by newcomers", r"test_6_"),
    ("7", "Hung specialist", r"test_7_"),
    ("8", "One of several parallel specialists raises", r"test_8_"),
    ("9", "Crash and resume", r"test_9_"),
    ("10", "Idempotent trust updates", r"test_10_"),
    ("11", "Error classes (deterministic vs transient)", r"test_11_"),
    ("12", "Second writer of a Chroma directory", r"test_12_"),
    ("13", "SIGKILL during indexing", r"test_13_"),
    ("14", "Embedding model changed", r"test_14_"),
    ("15", "Concurrent feedback from many processes", r"test_15_"),
    ("16", "Fuzzed input surfaces", r"test_16_"),
    ("17", "Bad input through the CLI", r"test_17_"),
    ("A1", "Quarantine stops every later call", r"test_attack_quarantine"),
    ("A2", "On-off demotion stops serving", r"test_attack_demotion"),
    ("A3", "Output injection reaches no reader", r"test_attack_output_injection"),
    ("A4", "A confident liar does not beat an honest peer", r"test_attack_confident_liar"),
    ("A5", "Sybil copies share one identity's traffic", r"test_attack_sybil"),
    ("A6", "Whitewashing by re-adding under a new id", r"test_attack_whitewash"),
    ("A7", "Import shows commands, asks, never replaces silently", r"test_attack_import"),
    ("A8", "In-process targets only from installed plugins", r"test_attack_inprocess_target"),
    ("A9", "Path traversal in a stdio command", r"test_attack_path_traversal"),
    ("A10", "Unauthenticated trust poisoning over HTTP", r"test_attack_http_auth"),
    ("A11", "The orchestrator's own mistakes charge no specialist", r"test_attack_invalid_options"),
    ("A12", "A home anywhere", r"test_attack_home"),
    ("A13", "Corrupt stores", r"test_attack_corrupt"),
    ("A14", "Orphaned specialist processes", r"test_attack_orphans"),
    ("A15", "Errors that hide the cause", r"test_attack_error_cause"),
    ("A16", "Small CLI reports", r"test_attack_cli_reports"),
]

ROOT = Path(__file__).resolve().parents[2] if (Path(__file__).resolve().parents[2] / "tests").is_dir() else Path.cwd()


def _run_pytest(patterns: list[str], timeout: int) -> dict[str, dict]:
    """Run the tests whose names match any pattern; {test name: {"ok": bool, "data_lost": int}}."""
    expr = " or ".join(sorted({p.rstrip("_").replace("test_", "test_", 1) for p in patterns}))
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--junitxml", str(xml),
               "-k", expr, "tests"]
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        subprocess.run(cmd, cwd=ROOT, env=env, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not xml.exists():
            raise typer.Exit(f"pytest wrote no report (is {ROOT} a source checkout with tests/?)")
        out: dict[str, dict] = {}
        for case in ET.parse(xml).getroot().iter("testcase"):
            name = f"{case.get('classname')}::{case.get('name')}"
            bad = any(child.tag in ("failure", "error") for child in case)
            skipped = any(child.tag == "skipped" for child in case)
            lost = sum(int(p.get("value") or 0) for p in case.iter("property") if p.get("name") == "data_lost")
            out[name] = {"ok": not bad and not skipped, "skipped": skipped, "data_lost": lost}
        return out


def run(timeout: int = 3600) -> list[dict]:
    results = _run_pytest([p for _, _, p in SCENARIOS], timeout)
    rows = []
    for sid, title, pat in SCENARIOS:
        rx = re.compile(r"::" + re.escape(pat))
        tests = {n: r for n, r in results.items() if rx.search(n)}
        if not tests:
            status = "missing"
        else:
            status = "held" if all(r["ok"] for r in tests.values()) else "broken"
        rows.append({"id": sid, "scenario": title, "tests": len(tests), "status": status,
                     "data_lost": sum(r["data_lost"] for r in tests.values()),
                     "failed": sorted(n for n, r in tests.items() if not r["ok"])})
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| # | Scenario | Tests | Result | Data lost |", "|---|---|---|---|---|"]
    lines += [f"| {r['id']} | {r['scenario']} | {r['tests']} | {r['status']} | {r['data_lost']} |" for r in rows]
    held = sum(r["status"] == "held" for r in rows)
    lines.append(f"\n{held} of {len(rows)} scenarios held; {sum(r['data_lost'] for r in rows)} data lost.")
    return "\n".join(lines)


BEGIN, END = "<!-- bench robustness: begin -->", "<!-- bench robustness: end -->"


@app.command()
def main(as_json: bool = typer.Option(False, "--json"), write_docs: Path = typer.Option(None, "--write-docs", help="Replace the generated table in this markdown file"),
         timeout: int = typer.Option(3600, "--timeout"),
         from_json: Path = typer.Option(None, "--from-json", help="Render a saved `--json` output instead of running the tests")) -> None:
    rows = json.loads(from_json.read_text())["scenarios"] if from_json else run(timeout)
    if write_docs:
        text = write_docs.read_text() if write_docs.exists() else f"{BEGIN}\n{END}\n"
        if BEGIN not in text:
            text = f"{BEGIN}\n{END}\n\n" + text
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        body = ("Generated by `micromarket bench robustness --json > out.json` and "
                "`micromarket bench robustness --from-json out.json --write-docs docs/robustness.md`; do not edit by hand.\n\n"
                + markdown(rows))
        write_docs.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
    if as_json:
        sys.stdout.write(json.dumps({"scenarios": rows, "held": sum(r["status"] == "held" for r in rows), "total": len(rows),
                                     "data_lost": sum(r["data_lost"] for r in rows)}) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="Robustness scenarios (through the product path)")
    for c in ("#", "scenario", "tests", "result", "data lost"):
        t.add_column(c)
    for r in rows:
        color = {"held": "green", "broken": "red", "missing": "yellow"}[r["status"]]
        t.add_row(r["id"], r["scenario"], str(r["tests"]), f"[{color}]{r['status']}[/{color}]", str(r["data_lost"]))
    Console().print(t)
    for r in rows:
        for f in r["failed"]:
            Console(stderr=True).print(f"[red]{r['id']}[/red] {f}")


if __name__ == "__main__":
    app()
