"""Scenario 16, fuzzing (small CI budget; `micromarket bench fuzz` runs >= 10,000 examples): the card parser
(+ poisoning scanner), the mcpServers import, solve input and feedback input never raise anything but a
MicromarketError, whatever the input (empty, huge, non-UTF-8, control characters, deep schemas, SQL/shell)."""

from __future__ import annotations

import logging

import pytest

from micromarket.benchmarks.fuzz import Fixture, run_all


@pytest.fixture(scope="module")
def fuzz_fixture():
    fx = Fixture()
    yield fx
    fx.close()


def test_16_fuzzing_card_import_solve_feedback_small_budget(fuzz_fixture):
    logging.disable(logging.WARNING)
    try:
        counts = run_all(40, full_solves=8, fixture=fuzz_fixture)
    finally:
        logging.disable(logging.NOTSET)
    assert set(counts) == {"card parser + scanner", "mcpServers import", "solve input (clean_text, planner, retrieval)",
                           "solve input (full graph)", "feedback input"}
    assert all(n >= 8 for n in counts.values()), counts


def test_16_fuzzing_known_nasty_inputs(fuzz_fixture):
    from micromarket.benchmarks.fuzz import deep, target_card, target_feedback, target_import, target_solve_full, target_solve_text

    card = {"id": "x", "name": "n", "description": "d", "transport": {"kind": "inprocess", "target": "m:x"},
            "capabilities": [{"name": "c", "description": "d", "input_schema": deep(900)}]}
    target_card(card)
    target_card((b"\xff\xfe\x00garbage", "yaml"))
    target_card(("id: '; DROP TABLE specialists; --", "yaml"))
    target_import({"mcpServers": {"$(rm -rf /)": {"command": "; cat /etc/passwd", "args": ["`reboot`"]}}}, b"\xc3\x28")
    for t in ("", "\x00\x00", b"\xed\xa0\x80", "a" * 60_000, "\u202e\u200b" * 100, "'; DROP TABLE runs; --"):
        target_solve_text(fuzz_fixture, t, None)
    target_solve_full(fuzz_fixture, "convert 5 miles to km; $(rm -rf /); ' OR 1=1 --")
    target_feedback(fuzz_fixture, "'; DROP TABLE evidence; --", True, None, "\x00", False)
    assert fuzz_fixture.mp.services.ledger.trust_table() is not None  # the tables are still there
