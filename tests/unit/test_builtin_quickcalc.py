import pytest

from micromarket.specialists.builtin.quickcalc import solve_task


@pytest.mark.parametrize(
    "task, answer, value",
    [
        ("multiply 42.1648 by 4", "168.6592", 168.6592),
        ("what is 2^10 + 3", "1027", 1027.0),
        ("15% of 80", "12", 12.0),
        ("what is 20 percent of 1,250?", "250", 250.0),
        ("1,234,567 + 1", "1,234,568", 1234568.0),
        ("0.1 + 0.2", "0.3", 0.3),
        ("(2+3)*4", "20", 20.0),
        ("17 mod 5", "2", 2.0),
        ("12 x 3", "36", 36.0),
        ("what is 7 divided by 2", "3.5", 3.5),
        ("sqrt(16)", "4", 4.0),
        ("-3^2", "-9", -9.0),
    ],
)
def test_arithmetic(task, answer, value):
    r = solve_task(task)
    assert r.answer == answer and r.value == value and r.confidence >= 0.9


def test_repeating_decimal_shows_fraction():
    r = solve_task("1/3")
    assert r.answer.startswith("0.3333333333") and "1/3" in r.answer


@pytest.mark.parametrize(
    "task", ["what will the weather be in Paris tomorrow", "__import__('os').system('ls 1')", "2**99999999", "1/0", "x + 1", "open(1)", ""]
)
def test_rejects_unsafe_or_unparseable(task):
    r = solve_task(task)
    assert r.confidence == 0 and r.answer == ""


def test_bare_percentage_is_ambiguous():
    r = solve_task("50 + 10%")
    assert 0 < r.confidence <= 0.6
