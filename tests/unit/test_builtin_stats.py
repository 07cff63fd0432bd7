import pytest

from micromarket.specialists.builtin.stats import describe, solve_task


@pytest.mark.parametrize(
    "task, in_answer, value",
    [
        ("mean of 1, 2, 3, 4, 100", "mean = 22", 22.0),
        ("median of 3 1 4 1 5 9 2 6", "median = 3.5", 3.5),
        ("what is the mode of 1,2,2,3,3,3", "mode = 3", 3.0),
        ("population standard deviation of 2, 4, 4, 4, 5, 5, 7, 9", "population standard deviation (divide by n) = 2", 2.0),
        ("range of 4, 8, 15, 16, 23, 42", "range = 38", 38.0),
        ("quartiles of 1 2 3 4 5 6 7 8", "Q1 = 2.75, Q2 (median) = 4.5, Q3 = 6.25", 3.5),
        ("variance of 1,000 and 2,000", "sample variance", 500000.0),
        ("90th percentile of 1 2 3 4 5 6 7 8 9 10", "90th percentile = 9.1", 9.1),
    ],
)
def test_statistics(task, in_answer, value):
    r = solve_task(task)
    assert in_answer in r.answer
    assert r.value == pytest.approx(value)
    assert r.confidence >= 0.9


def test_standard_deviation_says_which():
    r = solve_task("standard deviation of 2, 4, 4, 4, 5, 5, 7, 9")
    assert "sample" in r.answer and "population" in r.answer
    assert r.value == pytest.approx(2.1380899)


def test_correlation():
    r = solve_task("correlation between [1,2,3] and [2,4,7]")
    assert "r = 0.9934" in r.answer
    assert r.value == pytest.approx(0.99339927, abs=1e-7)
    assert solve_task("correlation of x and y", "x: 1 2 3 4\ny: 2 4 6 9").value == pytest.approx(0.99437671, abs=1e-7)


def test_numbers_from_context():
    r = solve_task("average of these numbers", "12, 15, 20")
    assert r.value == pytest.approx(15.6666667) and r.confidence > 0.8


@pytest.mark.parametrize("task", ["what will the weather be in Paris tomorrow", "correlation between [1,2,3] and [1,2]", "1 2 3 4", "mean"])
def test_unparseable_gets_zero(task):
    assert solve_task(task).confidence == 0


def test_scattered_numbers_lower_confidence():
    r = solve_task("the average of the scores is what, if Ann got 7 and Bo got 9")
    assert 0 < r.confidence < 0.5


def test_a_speed_is_no_data_set():
    # the mean of 100 and 2 was answered (unsure); "speed" and "hours" are units' words, and units reads the request
    r = solve_task("what is the average speed if I drive 100 km in 2 hours")
    assert r.confidence == 0 and "speed" in r.explanation


def test_describe_tool():
    assert describe([1, 2, 3, 4], ["mean", "max"]).value == 2.5
