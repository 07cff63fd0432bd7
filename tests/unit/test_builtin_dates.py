import pytest

from micromarket.specialists.builtin.dates import solve_tool, add_duration, normalize_date, solve_task


@pytest.mark.parametrize(
    "task, in_answer, value",
    [
        ("how many days between 2024-01-01 and 2024-03-01", "60 days", 60.0),
        ("what day of the week was July 4 1776", "Thursday", "Thursday"),
        ("add 45 days to 2024-02-10", "2024-03-26", "2024-03-26"),
        ("what date is 3 weeks after March 3, 2021", "2021-03-24", "2021-03-24"),
        ("subtract 2 months from 2024-03-31", "2024-01-31", "2024-01-31"),
        ("10 days before 2024-01-05", "2023-12-26", "2023-12-26"),
        ("what date is 1 year and 2 months after 2020-01-31", "2021-03-31", "2021-03-31"),
        ("is 2100 a leap year", "No", "no"),
        ("was 2000 a leap year", "Yes", "yes"),
        ("how many business days between 2024-01-01 and 2024-01-31", "22 business days", 22.0),
        ("how many months between 2020-05-15 and 2024-03-01", "45 full months", 45.0),
    ],
)
def test_questions(task, in_answer, value):
    r = solve_task(task)
    assert in_answer in r.answer
    assert r.value == value
    assert r.confidence >= 0.9


@pytest.mark.parametrize(
    "text, iso",
    [("March 3rd, 2021", "2021-03-03"), ("the 5th of July 1999", "1999-07-05"), ("Tue 4 Jan 22", "2022-01-04"),
     ("14.07.2021", "2021-07-14"), ("2024-02-10", "2024-02-10"), ("Dec 25 2023", "2023-12-25")],
)
def test_normalize_date(text, iso):
    r = normalize_date(text)
    assert r.answer == iso and r.value == iso
    assert r.confidence >= 0.75


def test_normalisation_confidence_reflects_assumptions():
    clean = normalize_date("March 3rd, 2021").confidence
    two_digit = normalize_date("4 Jan 22").confidence
    ambiguous = normalize_date("03/04/2021")
    wrong_weekday = normalize_date("Wed 4 Jan 22")
    no_year = normalize_date("March 3")
    assert clean > two_digit > 0
    assert 0 < ambiguous.confidence <= 0.6 and "ambiguous" in ambiguous.explanation
    assert 0 < wrong_weekday.confidence <= 0.5 and "does not match" in wrong_weekday.explanation
    assert 0 < no_year.confidence <= 0.6
    assert normalize_date("Tue 4 Jan 22").confidence > two_digit  # a matching weekday confirms the reading


def test_normalize_via_solve():
    r = solve_task("normalize 03/04/2021 to ISO 8601")
    assert r.value == "2021-03-04"


@pytest.mark.parametrize("task", ["what will the weather be in Paris tomorrow", "normalize banana", "what day of the week is my birthday", ""])
def test_unparseable_gets_zero(task):
    r = solve_task(task)
    assert r.confidence == 0 and r.answer == ""


def test_add_duration_tool():
    assert add_duration("2024-01-31", months=1).value == "2024-02-29"
    assert add_duration("2024-03-01", days=-1).value == "2024-02-29"


@pytest.mark.parametrize("task, weekday", [("What day of the week is New Year's Day 2031?", "Wednesday"),
                                           ("what weekday is christmas 2025", "Thursday"),
                                           ("which day is Thanksgiving 2026", "Thursday")])
def test_named_days_are_read_as_dates(task, weekday):
    r = solve_tool(task)
    assert r.value == weekday and r.confidence >= 0.9


def test_named_days_in_a_difference():
    assert solve_tool("How many days between Valentine's Day 2026 and Halloween 2026?").value == 259
    assert solve_tool("how many days until Christmas 2026 from 2026-11-29").value == 26


def test_times_of_day_are_used_not_dropped():
    r = solve_tool("How many hours from 2026-11-29 09:15 to 2026-11-30 18:45?")
    assert r.value == 33.5 and r.confidence >= 0.9


def test_age_on_a_date():
    r = solve_tool("How old, in years, will someone born 2001-09-09 be on 2026-11-29?")
    assert r.value == 25
