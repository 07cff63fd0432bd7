"""The learned readers: generators split honestly, amounts read as people write them, and the built-ins read
everyday requests through the model path (their stated reading names the reader)."""

from __future__ import annotations

import random

import pytest

from micromarket.specialists.reading.domains import domains
from micromarket.specialists.reading.numbers import amount, per_year
from micromarket.specialists.reading.words import words


@pytest.mark.parametrize("name", sorted(domains()))
def test_generator_splits_templates_and_words(name):
    dom = domains()[name]
    if name != "planner":  # the planner composes the other domains' sentences
        train = {t for _, t in dom.split_templates(False)}
        test = {t for _, t in dom.split_templates(True)}
        assert train and test and not train & test
    rng = random.Random(0)
    for e in dom.sample(60, rng, typos=0.3) + dom.sample(60, rng, heldout_templates=True, heldout_words=True):
        assert len(words(e.text)) == len(e.tags)
        assert any(t != "O" for t in e.tags)


def test_amounts_as_written():
    assert amount("300k") == 300_000
    assert amount("$5,000") == 5000
    assert amount("1.5 million") == 1_500_000
    assert amount("two") == 2
    assert amount("an") == 1
    assert amount("banana") is None
    assert per_year("compounded every quarter") == 4 and per_year("monthly") == 12 and per_year("twice a year") == 2


def _model(mod, text):
    res = mod.read_by_model(text)
    assert res is not None and res.confidence, text
    assert "read by minilm+heads" in res.explanation
    return mod.checked(text, res)


def test_units_reader_reads_everyday_requests():
    from micromarket.specialists.builtin import units

    res = _model(units, "A recipe needs 250 grams of butter; how many ounces is that?")
    assert abs(res.value - 8.8185) < 1e-3
    res = _model(units, "What's 2 pounds 4 ounces in grams?")
    assert abs(res.value - 1020.58) < 0.01
    res = _model(units, "I drove 300 km, how many miles is that?")
    assert abs(res.value - 186.411) < 1e-2


def test_dates_reader_reads_everyday_requests():
    from micromarket.specialists.builtin import dates

    res = _model(dates, "How many weeks are between March 3 2025 and August 18 2025?")
    assert res.value == 24
    res = _model(dates, "How many days old is someone born on 1990-06-15 on 2026-11-29?")
    assert res.value == 13316
    assert _model(dates, "What day of the week is New Year's Day 2031?").value == "Wednesday"


def test_finance_reader_reads_everyday_requests():
    from micromarket.specialists.builtin import finance

    res = _model(finance, "I invest $5,000 at 3.5% interest compounded monthly. How much do I have after 7 years?")
    assert abs(res.value - 6385.83) < 0.01
    res = _model(finance, "How much is a 200,000 dollar mortgage at 5% over 15 years per month?")
    assert abs(res.value - 1581.59) < 0.01
    res = _model(finance, "monthly payment on a 300k mortgage at 7% for 30 years")
    assert abs(res.value - 1995.91) < 0.01


def test_other_domains_are_not_read():
    from micromarket.specialists.builtin import units

    assert units.read_by_model("What day of the week is Christmas 2030?") is None


def test_chemistry_reader_reads_names_and_formulas():
    from micromarket.specialists.builtin import chemistry

    res = _model(chemistry, "How many grams per mole is caffeine, C8H10N4O2?")
    assert abs(res.value - 194.19) < 0.01
    res = _model(chemistry, "How many moles are in 36 g of NaCl?")
    assert abs(res.value - 0.616) < 0.001
    res = _model(chemistry, "How many grams is 2 moles of H2SO4?")
    assert abs(res.value - 196.14) < 0.01


def test_stats_reader_reads_the_numbers_and_the_statistic():
    from micromarket.specialists.builtin import stats

    assert _model(stats, "Take the mean of 3, 7 and 11").value == 7
    assert _model(stats, "what is the median of 4 9 1 7 3").value == 4
    # where the reader's reading is incomplete (here it tags a word as a number) the rules still answer
    assert stats.solve_task("my test scores were 70, 85 and 91; what's the average?").value == 82


def test_planner_splits_verb_lists_and_keeps_statements_with_their_question():
    from micromarket.nodes.planner import split_task

    texts = [s["text"] for s in split_task("convert 60 mph into km/h, 20 celsius into fahrenheit, and 1 atm into psi")]
    assert len(texts) == 3
    assert len(split_task("The pool holds 50,000 litres. What is that in gallons?")) == 1
    chain = split_task("Convert 5 kg to pounds, then add 10 pounds to that")
    assert len(chain) == 2 and chain[1]["depends_on"] == ["s1"]


def test_a_qualifier_the_engine_cannot_compute_is_not_read_past():
    """A condition the engine's call cannot express ("excluding weekends") is tagged by the reader; the answer
    that ignored it is not given confidently, through the built-in's solve path."""
    from micromarket.specialists.builtin import dates

    plain = "days between 2026-01-01 and 2026-03-01"
    res = dates.checked(plain, dates.solve_task(plain))
    assert res.value == 59 and res.confidence >= 0.9
    for text in (plain + " excluding weekends", "How many days from 2026-01-01 to 2026-03-01, not counting Sundays?"):
        res = dates.checked(text, dates.solve_task(text))
        assert res.confidence < 0.8, (text, res)
        assert "weekends" in res.explanation or "Sundays" in res.explanation
    reading = dates.read_by_model(plain + " excluding weekends")
    assert reading is not None and not reading.confidence and "excluding weekends" in reading.explanation


def test_finance_qualifiers_decline_and_plain_requests_stay_confident():
    from micromarket.specialists.builtin import finance

    plain = "What is the monthly payment on a $300,000 mortgage at 6% over 30 years?"
    res = finance.checked(plain, finance.solve_task(plain))
    assert abs(res.value - 1798.65) < 0.01 and res.confidence >= 0.9
    text = "What is the monthly payment on a $300,000 mortgage at 6% over 30 years including insurance?"
    res = finance.checked(text, finance.solve_task(text))
    assert res.confidence < 0.8 and "insurance" in res.explanation
