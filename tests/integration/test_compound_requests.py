"""Compound requests of our own (none from a generator or a published set), through the product path: the planner's
split, the built-in specialists, the answers. Each case: the request and, per subtask in order, a piece of its answer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

CASES = [
    # two things asked of one operand: both answered
    ("What are the mean and the median of 4, 8, 15, 16, 23, 42?", ["mean = 18", "median = 15.5"]),
    ("Give me the minimum and maximum of 12, 7, 31 and 19", ["min = 7", "max = 31"]),
    ("What's the variance and the range of 3, 9, 12 and 20?", ["variance (divide by n−1) = 50", "range = 17"]),
    ("How many feet and meters is a mile?", ["5280 ft; 1 mi = 1609.34 m"]),  # units answers both whole
    ("What is 2 gallons in liters and in cups?", ["7.571 L; 2 gal = 32 cup"]),
    # numbered and bulleted lists
    ("1. Convert 10 miles to kilometers\n2. Find the molar mass of CaCO3\n3. What is 12% of 250?", ["16.09 km", "100.086 g/mol", "30"]),
    ("- How many days are between 1 May 2025 and 9 August 2025?\n- What is the square root of 729?", ["100 days", "27"]),
    # chains: "and then", "after that", "next", "use that", "the result"
    ("Work out 48 times 12 and then divide that by 8", ["576", "72"]),
    ("Find the standard deviation of 2, 4, 4, 4, 5, 5, 7, 9. After that, round it to one decimal place", ["= 2.138", "2.1"]),
    ("Convert 72 inches to centimeters, and use that to find what 10% of it is", ["182.88 cm", "18.288"]),
    ("First convert 3 pounds to grams, then tell me how many moles of NaCl that is", ["1360.78 g", "23.29 mol"]),
    ("Differentiate x^3 + 2x and after that evaluate it at x = 2", ["3x² + 2", "14"]),
    ("Compute 15% of 640; next, subtract that from 1000", ["96", "904"]),
    ("Take 3/8 of 96, then multiply the result by 5", ["36", "180"]),
    # questions with their context sentences
    ("My bike trip was 42 kilometers. How far is that in miles? Also, what is the molar mass of glucose?", ["26.1 mi", "180.156 g/mol"]),
    ("We measured 18, 22, 25 and 31 degrees. What was the average temperature, and what is 100 F in Celsius?", ["mean = 24", "37.78 °C"]),
    ("What is 5 factorial? And what day of the week was 4 July 1976?", ["120", "Sunday"]),
    ("I borrow $20,000 at 4% for 5 years. What is the monthly payment? After that, convert 26.2 miles to km", ["$368.33", "42.16 km"]),
]


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    from micromarket import Marketplace

    mp = Marketplace.open(home=tmp_path_factory.mktemp("compound") / "home")  # registers the builtins, builds the index
    yield mp
    mp.close()


@pytest.mark.parametrize("task, answers", CASES, ids=[c[0][:40] for c in CASES])
def test_each_request_of_a_compound_is_answered(market, task, answers):
    out = market.solve(task, seed=1)
    got = [(r["status"], r["answer"]) for r in out["subtasks"]]
    assert len(got) == len(answers), got
    for (status, answer), want in zip(got, answers):
        assert status == "ok" and want in answer, got
