import pytest

from micromarket.specialists.builtin.math import differentiate, integrate, solve_task


def test_definite_integral_exact_and_decimal():
    r = solve_task("integrate x^2*sin(x) from 0 to pi")
    assert "π² − 4 ≈ 5.87" in r.answer
    assert r.value == pytest.approx(5.8696044, abs=1e-6)
    assert r.confidence >= 0.9


@pytest.mark.parametrize(
    "task, expected, value",
    [
        ("derivative of x^3 + 2x", "3x² + 2", "3*x**2 + 2"),
        ("solve x^2 - 5x + 6 = 0", "x = 2 or x = 3", "x=2; x=3"),
        ("solve x + y = 10 and x - y = 2", "x = 6, y = 4", "x=6, y=4"),
        ("factor x^2 - 1", "(x − 1)·(x + 1)", "(x - 1)*(x + 1)"),
        ("limit of sin(x)/x as x -> 0", "= 1", 1.0),
        ("multiply 42.1648 by 4", "168.6592", 168.6592),
        ("what is 2^10 + 3", "1027", 1027.0),
        ("integral of x^2 dx", "x³/3 + C", "x**3/3"),
        ("expand (x+1)^3", "x³ + 3x² + 3x + 1", "x**3 + 3*x**2 + 3*x + 1"),
        ("simplify (x^2-1)/(x-1)", "x + 1", "x + 1"),
        ("what is 15% of 80", "12", 12.0),
        ("limit of (1+1/n)^n as n -> infinity", "e ≈ 2.718", pytest.approx(2.718281828)),
    ],
)
def test_examples(task, expected, value):
    r = solve_task(task)
    assert expected in r.answer
    assert r.value == value
    assert r.confidence >= 0.9


def test_single_root_value_is_a_float():
    assert solve_task("solve for x: 3x + 7 = 22").value == 5.0


def test_two_sided_limit_that_does_not_exist():
    r = solve_task("limit of 1/x as x -> 0")
    assert "does not exist" in r.answer and r.value is None


def test_typed_tools():
    assert integrate("x^2", "x", "0", "3").value == pytest.approx(9.0)
    assert differentiate("sin(x)", "x", 2).value == "-sin(x)"


@pytest.mark.parametrize("task", ["what will the weather be in Paris tomorrow", "__import__('os').system('ls')", "10^10^10", "solve banana = 3", ""])
def test_unparseable_or_out_of_domain_gets_zero(task):
    r = solve_task(task)
    assert r.confidence == 0 and r.answer == ""
    assert r.explanation


def test_partial_understanding_lowers_confidence():
    under_determined = solve_task("solve x + y = 3")
    assert 0 < under_determined.confidence < 0.9
    no_operation = solve_task("x + x")
    assert 0 < no_operation.confidence <= 0.6
