"""The planner's default split: by what the domain readers read (nodes/planner._reader_split), the rules as fallback."""

from __future__ import annotations

import pytest

from micromarket.nodes.planner import split_task


def _plan(task: str, **kw) -> list[tuple[str, list[str]]]:
    return [(s["text"], s["depends_on"]) for s in split_task(task, **kw)]


def test_a_joiner_the_rules_do_not_know_becomes_glue():
    task = "what is 15% of 80 plus how many days are between 2024-03-01 and 2024-04-15"
    assert _plan(task) == [("what is 15% of 80", []), ("how many days are between 2024-03-01 and 2024-04-15", [])]
    assert len(_plan(task, learned=False)) == 1  # the rules keep it whole
    assert _plan("How many moles are in 36 g of H2O as well as convert 3 miles to km") == [
        ("How many moles are in 36 g of H2O", []), ("convert 3 miles to km", [])]


def test_a_step_on_the_earlier_result_depends_on_it_and_the_chain_phrase_is_glue():
    assert _plan("Work out the median of 4, 9, 2 and 7; once you have it, multiply it by 3") == [
        ("Work out the median of 4, 9, 2 and 7", []), ("multiply it by 3", ["s1"])]
    plan = _plan("How much are the first 50 cube numbers added together. Once you have that, add 46 to that. "
                 "Then divide it by 34.6")
    assert [d for _, d in plan] == [[], ["s1"], ["s2"]]


def test_a_statement_with_its_question_and_a_list_of_numbers_stay_whole():
    assert _plan("The tank holds 40 gallons. How many litres is that?") == [
        ("The tank holds 40 gallons. How many litres is that?", [])]
    assert _plan("Take the mean of 3, 7 and 11") == [("Take the mean of 3, 7 and 11", [])]
    task = "daily sales were 18.9; 18.2; 92.2; 59.1; find the standard deviation"
    assert _plan(task) == [(task, [])]


def test_a_request_no_reader_reads_is_split_by_the_rules():
    assert _plan("Convert 3 feet to meters and write me a limerick") == [
        ("Convert 3 feet to meters", []), ("write me a limerick", [])]


def test_an_imperative_on_it_depends_on_the_step_before_whatever_its_own_numbers():
    plan = _plan("Take the median of 12, 5 and 9. After that, evaluate it at x = 3")
    assert plan[-1] == ("evaluate it at x = 3", ["s1"])
    assert _plan("is it a leap year in 2028") == [("is it a leap year in 2028", [])]  # a question names its operand


def test_a_statement_and_its_question_inside_a_chain_are_one_request_of_their_own():
    plan = _plan("How many days are between 2020-01-01 and 2020-03-01, then We own 12 kilos of flour. what is that in pounds")
    assert [d for _, d in plan] == [[], []]
    assert plan[1][0].startswith("We own 12 kilos of flour")


def test_an_equation_after_a_colon_is_an_operand_not_a_text_to_work_on():
    from micromarket.nodes.planner import payload_of

    assert payload_of("Solve this equation: 3x - 12 = 0; after that, add that to 7") is None
    plan = _plan("Solve this equation: 3x - 12 = 0; after that, add that to 7")
    assert [d for _, d in plan] == [[], ["s1"]]


def test_a_step_on_the_result_drops_its_closing_please_and_a_bare_expression_is_a_request():
    assert _plan("Take the mean of 2, 4 and 9, then double it please") == [
        ("Take the mean of 2, 4 and 9", []), ("double it", ["s1"])]
    assert _plan("7*6-2; what is it squared?") == [("7*6-2", []), ("what is it squared?", ["s1"])]


def test_a_joiner_no_list_knows_is_a_cut_between_two_requests_read_whole():
    assert _plan("Convert 10 pounds to kg alongside the median of 3, 8 and 1") == [
        ("Convert 10 pounds to kg", []), ("the median of 3, 8 and 1", [])]
    assert _plan("what is 30% of 90 together with the molar mass of KCl") == [
        ("what is 30% of 90", []), ("the molar mass of KCl", [])]


def test_after_that_is_one_chain_phrase():
    # the "that" of "after that" is glue, not a back-reference left at the start of the next step
    assert _plan("Find the middle value of 8; 3; 12, after that subtract that from 40") == [
        ("Find the middle value of 8; 3; 12", []), ("subtract that from 40", ["s1"])]


def test_a_leading_also_with_its_comma_is_glue():
    plan = _plan("what is a light year in kilometres? Also, How much is a $250000 mortgage at 4 percent over 20 years per month")
    assert [t for t, _ in plan] == ["what is a light year in kilometres?", "How much is a $250000 mortgage at 4 percent over 20 years per month"]


def test_then_to_a_unit_converts_the_earlier_result():
    # "..., and then to Kelvin" was read whole as one conversion, and the Celsius asked for was never answered
    assert _plan("Convert 50 degrees F to C and then to Kelvin") == [
        ("Convert 50 degrees F to C", []), ("convert that to Kelvin", ["s1"])]


def test_two_things_asked_of_one_operand_are_two_requests():
    assert _plan("What are the mean and the median of 4, 8, 15, 16, 23, 42?") == [
        ("What is the mean of 4, 8, 15, 16, 23, 42?", []), ("What is the median of 4, 8, 15, 16, 23, 42?", [])]
    assert _plan("Find the minimum and the maximum of 3.5, 9, 1.25 and 7") == [
        ("Find the minimum of 3.5, 9, 1.25 and 7", []), ("Find the maximum of 3.5, 9, 1.25 and 7", [])]
    # a built-in that answers both whole keeps the request whole; an amount said in parts is no coordination
    assert len(_plan("convert 275 teaspoons to tablespoons and millilitres")) == 1
    assert len(_plan("what is 4 and three quarters times 8")) == 1


def test_a_reading_that_leaves_numbers_out_does_not_swallow_the_next_request():
    assert [t for t, _ in _plan("How much simple interest does $4,000 earn at 5% in 3 years plus 60 including 20 percent tax; "
                                "what was the price before tax")] == [
        "How much simple interest does $4,000 earn at 5% in 3 years", "60 including 20 percent tax; what was the price before tax"]


def test_after_before_a_noun_phrase_is_part_of_the_request():
    assert [t for t, _ in _plan("How many days are there between 2024-02-01 and 2024-03-15 as well as after a 20% discount a lamp "
                                "costs 40 dollars; what was the original price")][1] == \
        "after a 20% discount a lamp costs 40 dollars; what was the original price"


def test_a_question_after_a_colon_stays_with_its_statement_and_a_sentence_end_wins_a_tie():
    assert _plan("Put $2,000 in at 3% compounded yearly for 5 years: what is the balance. Then find the median of 3, 8 and 10") == [
        ("Put $2,000 in at 3% compounded yearly for 5 years: what is the balance", []), ("find the median of 3, 8 and 10", [])]


def test_this_before_a_colon_names_the_operand_that_follows():
    assert [d for _, d in _plan("What is 17% of 300. Then factor this: x^2 - 9")] == [[], []]


def test_a_clause_that_asks_is_no_statement_and_any_verb_after_then_may_work_on_the_result():
    assert [t for t, _ in _plan("12 weeks after March 3 2025 is what date plus Show me the derivative of x^3 please")] == [
        "12 weeks after March 3 2025 is what date", "Show me the derivative of x^3 please"]
    assert _plan("Find the mean of 2, 4 and 9, then cube the result") == [("Find the mean of 2, 4 and 9", []), ("cube the result", ["s1"])]
    assert [t for t, _ in _plan("My car is 4.5 meters long, how long is that in feet as well as find the molar mass of ammonia")] == [
        "My car is 4.5 meters long, how long is that in feet", "find the molar mass of ammonia"]


def test_a_colon_before_its_operand_is_no_cut_and_a_piece_no_reader_reads_may_stay_a_request():
    assert [t for t, _ in _plan("What day of the week was 4 July 1976 as well as expand: (x + 3)^2")] == [
        "What day of the week was 4 July 1976", "expand: (x + 3)^2"]
    assert [t for t, _ in _plan("Find the molar mass of NaCl as well as I want to know how many psi make 2,000 mmHg")] == [
        "Find the molar mass of NaCl", "I want to know how many psi make 2,000 mmHg"]
    assert len(_plan("add 3 weeks and 2 days to 2025-05-10")) == 1  # the dates rules read it whole



@pytest.mark.parametrize("text", [
    "What is 100 divided by 7, rounded to 2 decimals?",  # math's rules read it whole though its reader's head says 'none'
    "What's the square root of 144 plus the cube root of 27?",  # one sum (15), not two requests
    "What is 12% of 250 plus 15% of 300?",
])
def test_a_request_a_built_in_computes_whole_is_not_split(text):
    assert [s["text"] for s in split_task(text)] == [text]
