"""Everyday money and unit requests through the whole solve path (planner, routing, the built-ins' readers, the
checks): the answer's number, not a share of it, a decline or a split into pieces (issue 22, fourth pass)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration

CASES = [
    # percent change, with whose thing it is and a rate after the amounts
    ("My rent went from 1,400 to 1,550 a month, by what percent did it go up?", 10.7142857),
    ("Our water bill jumped from 60 to 84 dollars. What percent increase is that?", 40),
    ("His salary dropped from 52,000 to 46,800; what was the percentage drop?", 10),
    ("The gas price fell from 4.20 to 3.78 per gallon, what's the drop in percent?", 10),
    ("Their house price went from $250,000 to $310,000. By how many percent did it go up?", 24),
    # tips and taxes: the total where the total is asked
    ("A $45 dinner with an 18% tip comes to how much?", 53.1),
    ("We had lunch for $38 and want to leave a 15% tip. What do we pay altogether?", 43.7),
    ("A $220 hotel night plus 14% tax, what's the full cost?", 250.8),
    # discounts
    ("Your order of $64 gets 12.5% off. What's the discounted price?", 56),
    ("The couch is priced at $900 and there's 30% off this week. What will I pay?", 630),
    # shares
    ("Four friends split a $156 restaurant bill evenly. How much does each pay?", 39),
    ("Split 2,250 dollars three ways: how much is each share?", 750),
    # units in everyday words
    ("Her commute is 12 miles each way. How many kilometers is that?", 19.31),
    ("The pan is set to 350 Fahrenheit, what is it in Celsius?", 176.67),
    ("Our fish tank holds 40 gallons. How many liters is that?", 151.42),
    ("My daughter is 4 feet 3 inches tall, how many centimeters is that?", 129.54),
]


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    from micromarket import Marketplace

    with Marketplace.open(home=tmp_path_factory.mktemp("everyday-home"), builtins=True) as mp:
        yield mp


def _value(answer: str) -> float:
    """The answer's number: after "=" for a conversion ("12 mi = 19.31 km"), else the first."""
    tail = re.sub(r"\(.*?\)", "", answer).split("=", 1)[-1]  # "10.71428571 (= 75/7)": the exact form aside
    return float(re.search(r"-?\d[\d,]*(?:\.\d+)?", tail).group(0).replace(",", ""))


@pytest.mark.parametrize("text, value", CASES)
def test_everyday_request_is_answered_with_its_number(market, text, value):
    out = market.solve(text)
    subs = out["subtasks"]
    assert len(subs) == 1 and subs[0]["status"] == "ok", subs
    assert _value(subs[0]["answer"]) == pytest.approx(value, rel=1e-3), subs[0]
