"""Everyday phrasings the built-in specialists must read, and partial readings they must decline (through the
MCP tool functions, which apply the same check as the marketplace)."""

from __future__ import annotations

import pytest

from micromarket.specialists.builtin import chemistry, dates, finance, math, units
from micromarket.specialists.interpretation import stated


@pytest.mark.parametrize("task, value", [
    ("She's 5 foot 6, how tall is that in cm?", 167.64),
    ("I'm 6 feet 2 inches tall, what's that in meters?", 1.8796),
    ("What's 2 pounds 4 ounces in grams?", 1020.583),
    ("my baby weighs 7 pounds 8 ounces, what is that in kg?", 3.4019),
    ("I weigh 150 pounds, what's that in kg?", 68.0389),
    ("I need 2 cups of milk in milliliters", 473.176),
    ("convert a 350F oven temperature to celsius", 176.667),
    ("I drove 300 km, how many miles is that?", 186.411),
    ("I ran a 5K, how many miles is that?", 3.10686),
    ("my car does 35 miles per gallon, what's that in km per liter?", 14.8802),
    ("How many teaspoons in a cup?", 48),
])
def test_units_read_everyday_quantities(task, value):
    r = units.solve_tool(task)
    assert r.confidence >= 0.9 and r.value == pytest.approx(value, rel=1e-3)
    assert stated(r.explanation)  # the reading is stated


def test_units_convert_to_several_targets():
    r = units.solve_tool("convert 5 km to miles and feet")
    assert "3.107 mi" in r.answer and "16,404 ft" in r.answer


@pytest.mark.parametrize("task", [
    "I weigh 150 pounds, what's that in kg?",
    "I need 2 cups of milk in milliliters",
    "convert a 350F oven temperature to celsius",
    "The US has 50 states",
    "CO is where I live, how far is Denver in miles?",
    "How many miles is a 10K run?",
    "molar mass of NaCl in 3 liters of water",  # the 3 liters are not used by a molar mass
])
def test_chemistry_declines_prose_and_partial_readings(task):
    assert chemistry.solve_tool(task).confidence == 0


@pytest.mark.parametrize("task, value", [
    ("molar mass of CO", 28.01), ("molar mass of I", 126.90), ("how many grams are 2.5 moles of CO2", 110.02),
    ("what percent of CaCO3 is calcium", 40.04),
])
def test_chemistry_still_reads_formulas_it_is_asked_about(task, value):
    r = chemistry.solve_tool(task)
    assert r.confidence >= 0.9 and float(r.value) == pytest.approx(value, rel=1e-3)


@pytest.mark.parametrize("task, value", [
    ("monthly payment on a 300k mortgage at 7% for 30 years", 1995.91),
    ("monthly payment for a 25k loan at 6% for 4 years", 587.13),
    ("future value of $100 deposited monthly for 3 years at 6% compounded monthly", 3933.61),  # not a lump sum
    ("I save 150 a month for 20 years at 5% compounded monthly. What will I have?", 61655.05),
])
def test_finance_reads_scaled_amounts_and_periodic_deposits(task, value):
    r = finance.solve_tool(task)
    assert r.confidence >= 0.9 and r.value == pytest.approx(value, abs=0.01)
    assert "%" in stated(r.explanation)


@pytest.mark.parametrize("task, value", [
    ("what's the derivative of cos(x)^2 at x = pi/4", -1), ("what's the second derivative of x^3 at x = 2", 12),
    ("what is 7 factorial", 5040), ("find x if x/4 = 9", None), ("compute the square root of 2 to 4 decimal places", 1.4142),
    ("what's 1/7 as a decimal", 1 / 7), ("what is 10 choose 3", 120), ("what's 2 to the 10th", 1024),
])
def test_math_reads_everyday_phrasings(task, value):
    r = math.solve_tool(task)
    assert r.confidence >= 0.9
    if value is None:
        assert r.answer == "x = 36"
    else:
        assert float(r.value) == pytest.approx(value, rel=1e-6)


def test_dates_decline_what_is_not_a_date():
    assert dates.solve_tool("what's 1/7 as a decimal").confidence == 0


@pytest.mark.parametrize("task, value", [("what is 5 choose 2", 10), ("what is 7 factorial", 5040), ("10!", 3628800),
                                         ("what's 1/7 as a decimal", 1 / 7)])
def test_quickcalc_reads_counts_and_decimals_too(task, value):
    from micromarket.specialists.builtin import quickcalc

    r = quickcalc.solve_tool(task)
    assert r.confidence >= 0.9 and r.value == pytest.approx(value)


def test_quickcalc_bounds_factorials():
    from micromarket.specialists.builtin import quickcalc

    assert quickcalc.solve_tool("factorial(5000)").confidence == 0


@pytest.mark.parametrize("mod, task, value", [
    (units, "My room is 4 meters long, how many feet?", 13.1234),
    (units, "Water boils at 212 degrees F, what's that in Kelvin?", 373.15),  # not an angle, not "a t(on)"
    (units, "How many tablespoons in half a cup?", 8),
    (math, "what's the slope of x^2 at x = 3", 6),
    (finance, "I put away 300 each month for 15 years at 6% compounded monthly, how much will I have?", 87245.61),
])
def test_more_everyday_forms(mod, task, value):
    r = mod.solve_tool(task)
    assert r.confidence >= 0.9 and float(r.value) == pytest.approx(value, rel=1e-4)


def test_weekday_question_with_fall_on():
    assert dates.solve_tool("Which day of the week does Halloween 2027 fall on?").value == "Sunday"


@pytest.mark.parametrize("mod, task, value", [
    (units, "What's 5 ft 10 in in centimeters?", 177.8),  # "in in": a unit, then the target
    (units, "100 degrees fahrenheit in celsius", 37.7778),
    (math, "what is 12 factorial over 10 factorial", 132),
])
def test_words_that_are_both_units_and_prepositions(mod, task, value):
    r = mod.solve_tool(task)
    assert r.confidence >= 0.9 and float(r.value) == pytest.approx(value, rel=1e-4)


@pytest.mark.parametrize("task, value", [("what is 17 mod 5", 2), ("what's 2^10 mod 7", 2), ("round 3.14159 to 2 decimal places", 3.14)])
def test_math_modulo_is_a_remainder_not_a_percentage(task, value):
    r = math.solve_tool(task)
    assert r.confidence >= 0.9 and float(r.value) == pytest.approx(value)


def test_a_list_of_quantities_is_converted_one_by_one_not_added():
    r = units.solve_tool("convert 5 km and 10 miles to feet")
    assert "5 km = 16,404 ft" in r.answer and "10 mi = 52,800 ft" in r.answer
    assert units.solve_tool("how many minutes is 1 hour 45 minutes").value == pytest.approx(105)  # a compound measure
    assert units.solve_tool("convert 5 km and 3 kg to miles").confidence == 0
