"""Bad input gets a clear message; nothing stored is lost."""

from __future__ import annotations

import pytest

from micromarket.capability_index.cards import parse_card
from micromarket.errors import CardError, DuplicateSpecialistError, InputError
from tests.conftest import MILES, inproc_card


def test_empty_task_is_a_clear_error(fake_market):
    with pytest.raises(InputError, match="empty"):
        fake_market.solve("   ")


def test_one_megabyte_task_is_refused_with_the_limit(fake_market):
    with pytest.raises(InputError, match="limit"):
        fake_market.solve("x" * 1_000_000)


def test_non_utf8_bytes_are_refused(fake_market):
    with pytest.raises(InputError, match="UTF-8"):
        fake_market.solve(b"convert \xff\xfe miles")


def test_malformed_card_names_the_field():
    bad = inproc_card("ok-id", "x:y", [MILES], cost_per_call=-1)
    with pytest.raises(CardError, match="cost_per_call"):
        parse_card(bad)
    with pytest.raises(CardError, match="capabilities.0.description"):
        parse_card(inproc_card("ok-id", "x:y", [{"name": "c"}]))
    with pytest.raises(CardError, match="transport"):
        parse_card({**inproc_card("ok-id", "x:y", [MILES]), "transport": {"kind": "stdio"}})
    with pytest.raises(CardError, match="id"):
        parse_card(inproc_card("Bad Id!", "x:y", [MILES]))


def test_card_text_that_does_not_parse():
    with pytest.raises(CardError, match="cannot parse yaml"):
        parse_card("id: [unclosed", source="x.yaml")
    with pytest.raises(CardError, match="UTF-8"):
        parse_card(b"\xff\xfe", source="x.yaml")


def test_duplicate_id_is_refused_and_the_original_kept(fake_market):
    before = fake_market.card("miles")
    with pytest.raises(DuplicateSpecialistError, match="already registered"):
        fake_market.register(inproc_card("miles", "tests.fakes.servers:miles_backup_server", [MILES], name="impostor"))
    assert fake_market.card("miles") == before
    assert "miles.convert_length" in fake_market.services.index.snapshot()["ids"]
    out = fake_market.solve("Convert 5 miles to kilometers")
    assert out["subtasks"][0]["specialist"] == "miles"
