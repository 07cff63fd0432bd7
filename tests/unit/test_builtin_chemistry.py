import pytest

from micromarket.specialists.builtin.chemistry import ATOMIC_WEIGHTS, molar_mass, parse_formula, solve_task


@pytest.mark.parametrize(
    "task, in_answer, value",
    [
        ("molar mass of Ca(OH)2", "74.092 g/mol", 74.092),
        ("What is the molar mass of CuSO4·5H2O?", "249.677 g/mol", 249.677),
        ("molar mass of CuSO4.5H2O", "249.677 g/mol", 249.677),
        ("molar mass of Al2(SO4)3", "342.132 g/mol", 342.132),
        ("molar mass of K4[Fe(CN)6]", "368.345 g/mol", 368.345),
        ("mass percentage of oxygen in H2SO4", "65.25%", 65.254099),
        ("how many moles in 10 g of NaCl", "0.1711 mol", 0.171115674),
        ("mass of 2 mol of H2O", "36.03 g", 36.03),
    ],
)
def test_examples(task, in_answer, value):
    r = solve_task(task)
    assert in_answer in r.answer
    assert r.value == pytest.approx(value, rel=1e-6)
    assert r.confidence >= 0.9


def test_composition_lists_every_element():
    r = solve_task("percent composition of H2O")
    assert "H 11.19%" in r.answer and "O 88.81%" in r.answer


def test_common_name_is_slightly_less_certain():
    named, formula = solve_task("molar mass of water"), solve_task("molar mass of H2O")
    assert named.value == formula.value
    assert 0.6 < named.confidence < formula.confidence


def test_periodic_table_is_complete():
    assert len(ATOMIC_WEIGHTS) == 118
    assert parse_formula("CuSO4·5H2O") == {"Cu": 1, "S": 1, "O": 9, "H": 10}


@pytest.mark.parametrize("task", ["what will the weather be in Paris tomorrow", "molar mass of Xy2", ""])
def test_unparseable_gets_zero(task):
    r = solve_task(task)
    assert r.confidence == 0 and r.answer == ""


def test_bad_formula_tool():
    assert molar_mass("Ca(OH").confidence == 0


def test_no_quantity_named_lowers_confidence():
    assert 0 < solve_task("NaCl").confidence <= 0.6
