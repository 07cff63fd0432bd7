"""The planner's default split: by what the domain readers read (nodes/planner._reader_split), the rules as fallback."""

from __future__ import annotations

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
