import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micromarket.specialists.builtin import units
from micromarket.specialists.builtin.units import convert, solve_task


def test_marathon():
    r = solve_task("Convert 26.2 miles to kilometers")
    assert r.answer == "26.2 mi = 42.16 km"
    assert r.value == pytest.approx(42.1648128)
    assert r.confidence >= 0.9


@pytest.mark.parametrize(
    "task, answer, value",
    [
        ("how many ounces in 3 pounds", "3 lb = 48 oz", 48.0),
        ("convert 100 F to C", "100 °F = 37.78 °C", 37.7777777778),
        ("98.6 degrees fahrenheit in celsius", "98.6 °F = 37 °C", 37.0),
        ("What is 0 °C in Kelvin?", "0 °C = 273.15 K", 273.15),
        ("convert -40 C to F", "-40 °C = -40 °F", -40.0),
        ("60 mph to km/h", "60 mi/h = 96.56 km/h", 96.56064),
        ("how many km/h is 100 mph", "100 mi/h = 160.93 km/h", 160.9344),
        ("how many MB in 2 GB", "2 GB = 2000 MB", 2000.0),
        ("convert 1 GiB to bytes", "1 GiB = 1,073,741,824 B", 1073741824.0),
        ("how many feet in a mile", "1 mi = 5280 ft", 5280.0),
        ("3 square feet in square meters", "3 ft² = 0.2787 m²", 0.27870912),
    ],
)
def test_conversions(task, answer, value):
    r = solve_task(task)
    assert r.answer == answer
    assert r.value == pytest.approx(value)
    assert r.confidence >= 0.9


@pytest.mark.parametrize(
    "task", ["what will the weather be in Paris tomorrow", "convert 10 apples to oranges", "convert 5 kg to meters", "convert 5 GB to degrees", ""]
)
def test_out_of_domain_or_incompatible_gets_zero(task):
    r = solve_task(task)
    assert r.confidence == 0 and r.answer == "" and r.value is None


def test_guessed_unit_or_missing_amount_lowers_confidence():
    guessed = solve_task("convert 5 kilometrs to miles")
    assert 0 < guessed.confidence <= 0.6 and "kilometrs" in guessed.explanation
    assert guessed.value == pytest.approx(3.10685596)
    no_amount = solve_task("convert miles to km")
    assert 0 < no_amount.confidence <= 0.6 and no_amount.value == pytest.approx(1.609344)


def test_typed_convert():
    assert convert(26.2, "mi", "km").value == pytest.approx(42.1648128)
    assert convert(1, "furlongz", "m").confidence == 0


@pytest.mark.parametrize("text, value", [("What's minus 40 Fahrenheit in Celsius?", -40), ("convert negative 10 celsius to fahrenheit", 14)])
def test_a_sign_said_in_words_is_kept(text, value):
    res = units.solve_tool(text)  # was "40 °F = 4.444 °C" at 0.97
    assert res.confidence >= 0.9 and res.value == pytest.approx(value)


def _old_normalise_powers(t: str) -> str:
    # the patterns before the word-start anchor was added (quadratic on one long word)
    t = re.sub(r"(\w+)\s+squared\b", r"\1**2", t, flags=re.I)
    return re.sub(r"(\w+)\s+cubed\b", r"\1**3", t, flags=re.I)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["m", "km", "Foot", "squared", "cubed", "SQUARED", " ", "  ", "-", "é", "2", "_", ".", "\t"]),
                max_size=12).map("".join))
def test_unit_normalising_is_unchanged_by_the_word_start_anchor(text):
    from micromarket.specialists.builtin.units import _normalise

    base = text.strip().strip(".,;:").strip()
    base = re.sub(r"^(?:a|an|one|the|some)\s+", "", base, flags=re.I)
    base = re.sub(r"\s+per\s+", "/", base, flags=re.I)
    base = re.sub(r"\b(?:square|sq\.?)\s+(\w+)", r"\1**2", base, flags=re.I)
    base = re.sub(r"\bcubic\s+(\w+)", r"\1**3", base, flags=re.I)
    assert _normalise(text) == _old_normalise_powers(base).replace("²", "**2").replace("³", "**3")
