"""Micro-LLM specialists end to end: quick training, card, and serving over real MCP stdio."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from micromarket.capability_index.cards import load_card
from micromarket.specialists.result import SolveResult
from tests.tiny_models import build_tiny_causal_lm

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


async def _call_over_stdio(card_path: Path, tasks: list[str]) -> tuple[list[SolveResult], dict, list]:
    from mcp import Client, StdioServerParameters

    card = load_card(card_path)
    cmd = [sys.executable if a == "{python}" else a for a in card.transport.command]
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=ENV, cwd=card.transport.cwd or str(ROOT))
    async with Client(params) as s:
        tools = (await s.list_tools()).tools
        assert [t.name for t in tools] == ["solve"] and tools[0].output_schema
        res = (await s.read_resource(f"card://{card.id}")).contents[0]
        results = []
        for t in tasks:
            out = await s.call_tool("solve", {"task": t, "context": ""})
            assert not out.is_error, out.content
            results.append(SolveResult.model_validate(out.structured_content))
        return results, json.loads(res.text), tools


async def test_serve_tiny_model_over_mcp_stdio(tmp_path):
    from micromarket.specialists.microllm.cli import card_for_model

    model = build_tiny_causal_lm(tmp_path / "tiny")
    card = card_for_model(model, specialist_id="tiny-lm", capability="chat", description="a tiny random model")
    assert load_card(model / "card.yaml") == card
    (res,), served_card, _ = await _call_over_stdio(model / "card.yaml", ["hello"])
    assert 0.0 <= res.confidence <= 1.0
    assert served_card["id"] == "tiny-lm"


@pytest.fixture(scope="module")
def quick_dates(tmp_path_factory):
    """`train dates --quick` end to end (budget cut to 60 steps to keep the suite fast)."""
    out = tmp_path_factory.mktemp("dates") / "model"
    proc = subprocess.run(
        [sys.executable, "-m", "micromarket.specialists.microllm.train_dates", "--quick", "--steps", "60", "--json", "--out", str(out)],
        capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, json.loads(proc.stdout.strip().splitlines()[-1])


def test_train_dates_quick_outputs(quick_dates):
    out, summary = quick_dates
    assert set(summary) == {"accuracy", "confidence_auroc", "params", "steps", "train_seconds", "size_mb", "gate", "early_exit", "kept_step"}
    assert summary["steps"] == 60
    assert summary["kept_step"] == 60  # no validation checks in --quick: the last weights
    # 60 steps make no usable model: the quality gate says so, naming the split and its threshold
    assert not summary["gate"]["passed"] and not summary["gate"]["registered"]
    assert any(f.startswith("unseen_dates") and "99.5%" in f for f in summary["gate"]["failed"])
    assert set(summary["accuracy"]) == {"unseen_dates", "unseen_combinations", "heldout_templates"}
    assert all(0.0 <= v <= 1.0 for v in summary["accuracy"].values())
    assert 0 < summary["size_mb"] <= 10 and 100_000 < summary["params"] < 2_000_000
    assert (out / "config.json").is_file() and (out / "tokenizer.json").is_file() and (out / "microllm.json").is_file()
    card = load_card(out / "card.yaml")
    assert card.id == "microllm-dates" and card.capabilities[0].name == "normalize_date"


async def test_serve_trained_dates_over_mcp_stdio(quick_dates):
    out, _ = quick_dates
    (good, garbage), served_card, tools = await _call_over_stdio(out / "card.yaml", ["March 3rd, 2021", "zq#x !!~ qq"])
    for r in (good, garbage):
        assert 0.0 <= r.confidence <= 1.0
    assert good.confidence != garbage.confidence
    if good.value is not None:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", good.value)
    assert served_card["capabilities"][0]["name"] == "normalize_date"
