"""A built-in declines a request that names an operation or quantity its reading does not account for
(specialists/reading/vocabulary.py, `_common.unaccounted`), and still answers its own requests."""

from __future__ import annotations

import pytest

from micromarket.specialists.reading import vocabulary


def _declined(mod, text: str, *named: str):
    res = mod.solve_task(text)
    assert res.confidence == 0 and not res.answer, (text, res)
    for word in named:
        assert word in res.explanation, res.explanation
    return res


def test_quickcalc_declines_a_statistic_it_would_read_as_a_sum():
    from micromarket.specialists.builtin import quickcalc

    # the reader tags "," and "and" as PLUS: 18 was answered (issue 22); stats reads a mean there
    _declined(quickcalc, "What is the mean of 3, 5 and 10?", "'mean'")
    sd = _declined(quickcalc, "what is the standard deviation of 2, 4 and 9")
    assert "deviation" in sd.explanation or "standard" in sd.explanation, sd.explanation  # the word it cannot read is named
    _declined(quickcalc, "what is the log of 8 plus 2", "'log'")  # a function of what was read
    assert quickcalc.solve_task("what is 12 plus 5").value == 17
    assert quickcalc.solve_task("add 98% to 212").value == pytest.approx(419.76)


def test_a_date_is_no_arithmetic_for_math_or_quickcalc():
    from micromarket.specialists.builtin import math, quickcalc

    # a chain's step after a dates answer: 1996 - 3 - 30 + 37.3 was answered at 0.95
    _declined(math, "what is 1996-03-30 plus 37.3", "1996-03-30")
    _declined(quickcalc, "what is 1996-03-30 plus 37.3", "1996-03-30")
    _declined(quickcalc, "what is 12:30 plus 15")


def test_math_does_not_read_a_percentage_added_to_a_number():
    from micromarket.specialists.builtin import math

    _declined(math, "add 98% to 212")  # 212.98 at 0.95; quickcalc reads the increase
    assert math.solve_task("what is 15% of 80").value == 12


def test_units_declines_a_statistic_of_amounts():
    from micromarket.specialists.builtin import units

    _declined(units, "what is the mean of 3 kg and 5 kg in pounds", "'mean'")  # "mean" was tagged as a unit
    assert units.solve_task("convert 5 kg to pounds").value == pytest.approx(11.02311311, rel=1e-6)


def test_the_readers_still_answer_their_own_requests():
    from micromarket.specialists.builtin import chemistry, dates, finance, stats

    assert stats.solve_task("What is the mean of 3, 5 and 10?").value == 6
    assert dates.solve_task("what is 14 years before 30 Mar 2010").value == "1996-03-30"
    assert chemistry.solve_task("what is the molar mass of NaCl").value == pytest.approx(58.44, rel=1e-3)
    res = finance.solve_task("car loan of 475000 dollar, 6% APR, 28 yrs: monthly payment?")  # "yrs": a dates word, read as the term
    assert res.confidence > 0.5 and "28" in res.explanation


def test_foreign_words_are_another_domains_and_shapes():
    words = dict((w, applied) for w, _, applied in vocabulary.foreign("quickcalc", "the mean of 3 and 1996-03-30"))
    assert "mean" in words and words["1996-03-30"] is True
    assert vocabulary.foreign("stats", "the mean of 3, 5 and 10") == []  # its own word
    assert vocabulary.foreign("units", "I'm planning a trip: 5 km in miles") == []  # nobody's words are not foreign


def test_chemistry_reads_a_possessive_formula():
    from micromarket.specialists.builtin import chemistry

    assert chemistry.solve_task("what's NaOH's molar mass").value == pytest.approx(39.997, rel=1e-4)


def test_a_compound_is_cut_where_a_reader_declines_the_other_domains_request():
    from micromarket.nodes.planner import split_task

    # dates read the whole text, ignoring the molar mass: now it names chemistry's words, which chemistry reads there
    text = "How many hrs are there between February 28, 1994 and Nov 26 2038? Also, what's NaOH's molar mass"
    assert [s["text"] for s in split_task(text)] == ["How many hrs are there between February 28, 1994 and Nov 26 2038?",
                                                     "what's NaOH's molar mass"]


def test_quickcalc_shows_a_result_beyond_a_float_as_a_decline():
    from micromarket.specialists.builtin import quickcalc

    res = quickcalc.solve_task("99999 to the power of 99")  # was an OverflowError out of the tool
    assert res.confidence == 0 and "too large" in res.explanation


def test_data_after_a_colon_is_no_text_to_work_on():
    from micromarket.nodes.planner import payload_of, split_task

    text = "temperatures this week: 63, 79, 114, 21, 11, 29. what was the median value. Next, what day of the week is Halloween 2011"
    assert payload_of(text) is None
    assert [s["text"] for s in split_task(text)][-1] == "what day of the week is Halloween 2011"
    assert payload_of("summarize this text: The meeting moved to Tuesday because the room was booked.") is not None


def test_a_sure_reading_yields_only_to_a_reader_that_computes_the_request():
    from micromarket.specialists.builtin import finance, quickcalc

    # "deposit" is a finance word, but finance computes nothing here: quickcalc's sure reading stands
    assert not finance.solve_task("a savings deposit of 12% of 900 dollars, how much is it").confidence >= 0.5
    assert quickcalc.solve_task("a savings deposit of 12% of 900 dollars, how much is it").value == pytest.approx(108)
