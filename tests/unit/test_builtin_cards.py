import importlib

import pytest

from micromarket.capability_index.cards import SpecialistCard, load_card
from micromarket.specialists.builtin import CARD_DIR, cards

IDS = ["chemistry", "dates", "finance", "math", "quickcalc", "stats", "units"]


def test_cards_load_in_stable_order():
    cs = cards()
    assert [c.id for c in cs] == IDS
    assert all(isinstance(c, SpecialistCard) for c in cs)


@pytest.mark.parametrize("card_id", IDS)
def test_card_file_is_valid_and_complete(card_id):
    c = load_card(CARD_DIR / f"{card_id}.yaml")
    assert c.version == "1.0.0" and c.provider == "micromarket" and c.license == "Apache-2.0"
    assert c.transport.kind == "stdio" and c.transport.command == ["{python}", "-m", f"micromarket.specialists.builtin.{card_id}"]
    assert 0 < c.cost_per_call <= 0.001 and c.context_tokens == 1024
    assert len(c.capabilities) >= 2
    for cap in c.capabilities:
        assert cap.tool_name == "solve"
        assert 3 <= len(cap.examples) <= 6
        assert set(cap.input_schema["properties"]) == {"task", "context"}


@pytest.mark.parametrize("card_id", IDS)
def test_every_card_example_is_answered_confidently(card_id):
    mod = importlib.import_module(f"micromarket.specialists.builtin.{card_id}")
    for cap in load_card(CARD_DIR / f"{card_id}.yaml").capabilities:
        for ex in cap.examples:
            ctx = "12, 15, 20, 31" if card_id == "stats" and ("these" in ex or "this data" in ex) else ""
            r = mod.solve_task(ex, ctx)
            assert r.confidence >= 0.6, (cap.name, ex, r)
            assert r.answer


def test_two_specialists_share_arithmetic():
    holders = {c.id for c in cards() for cap in c.capabilities if cap.name == "arithmetic"}
    assert holders == {"math", "quickcalc"}
    by_id = {c.id: c for c in cards()}
    assert by_id["quickcalc"].cost_per_call < by_id["math"].cost_per_call


def test_normalize_date_capability_name():
    dates = next(c for c in cards() if c.id == "dates")
    assert dates.capability("normalize_date").tool_name == "solve"


@pytest.mark.parametrize("card_id", IDS)
def test_out_of_domain_request_gets_zero_everywhere(card_id):
    mod = importlib.import_module(f"micromarket.specialists.builtin.{card_id}")
    r = mod.solve_task("what will the weather be in Paris tomorrow")
    assert r.confidence == 0 and r.answer == "" and r.value is None
