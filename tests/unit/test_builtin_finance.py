import pytest

from micromarket.specialists.builtin.finance import compound_interest, loan_payment, solve_task


@pytest.mark.parametrize(
    "task, in_answer, value",
    [
        ("monthly payment on a $300,000 loan at 6% for 30 years", "$1,798.65", 1798.65157546),
        ("$1000 at 5% compounded monthly for 10 years", "$1,647.01", 1647.00949769),
        ("compound interest on $5,000 at 4% compounded annually for 3 years", "$624.32", 624.32),
        ("simple interest on $5000 at 4% for 3 years", "$600.00", 600.0),
        ("future value of $200 per month at 5% for 20 years", "$82,206.73", 82206.7337031),
        ("present value of $1000 per year for 10 years at 6%", "$7,360.09", 7360.08705141),
        ("present value of $10,000 in 5 years at 4%", "$8,219.27", 8219.27106759),
        ("$10k invested at 7% compounded continuously for 10 years", "$20,137.53", 20137.5270747),
        ("car loan of 20000 dollars at 3.9% for 60 months", "$367.43", 367.42857883),
        ("invest €5,000 at 3% compounded quarterly for 8 years", "€6,350.56", 6350.55612159),
    ],
)
def test_examples(task, in_answer, value):
    r = solve_task(task)
    assert in_answer in r.answer
    assert r.value == pytest.approx(value, rel=1e-9)
    assert r.confidence >= 0.9


def test_assumptions_lower_confidence():
    r = solve_task("compound interest on $5,000 at 4% for 3 years")
    assert 0.5 <= r.confidence < 0.9 and "assumed annual" in r.explanation
    m = solve_task("30-year mortgage of $250k at 6.5%")
    assert m.value == pytest.approx(1580.17005873) and m.confidence < 0.9


@pytest.mark.parametrize("task", ["what will the weather be in Paris tomorrow", "monthly payment on a loan at 6% for 30 years", ""])
def test_incomplete_or_out_of_domain_gets_zero(task):
    r = solve_task(task)
    assert r.confidence == 0 and r.answer == ""


def test_zero_rate_and_tools():
    assert loan_payment(1200, 0, 1).value == pytest.approx(100)
    assert compound_interest(100, 10, 2).value == pytest.approx(121)
