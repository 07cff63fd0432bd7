"""Competition through trust (issue 5 item 4): a micro-LLM registered for normalize_date competes with the
rule-based `dates` specialist on date tasks; verified feedback moves trust toward the more accurate one.

The micro-LLM here is a tiny untrained model built in the test (no download, seconds to build): it answers
well-formed but wrong dates, so the rule-based specialist is the more accurate one and trust must find that
out after both have been tried. `micromarket bench microllm --compete --model DIR` runs the same loop with a
fully trained model (see docs/microllm.md).
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.integration
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def market_with_microllm(tmp_path_factory):
    from micromarket import Marketplace
    from micromarket.specialists.microllm.train_dates import DatesTask
    from micromarket.specialists.microllm.trainer import ModelSize, build_char_tokenizer, build_model, save, write_card

    root = tmp_path_factory.mktemp("compete")
    task = DatesTask()
    tok = build_char_tokenizer(task.alphabet, "UNKNOWN", 128)
    import torch

    torch.manual_seed(0)
    model = build_model(len(tok), tok, ModelSize(hidden=32, layers=1, heads=2, ffn=64, max_len=128))
    save(model, tok, task, root / "model")
    card = write_card(task, root / "model")
    mp = Marketplace.open(home=root / "home")  # builtins (the rule-based `dates` among them) registered on first open
    mp.register(card, replace=True, trusted=True)  # vouched for by its trainer: competes from the start, not as a newcomer
    yield mp
    mp.close()


def test_both_tried_and_trust_moves_toward_the_more_accurate(market_with_microllm):
    from micromarket.specialists.microllm.compete import accuracy_by_specialist, compete, date_tasks, trust_rows

    mp = market_with_microllm
    # forms the rule-based parser reads (so the comparison is about accuracy, not coverage)
    from micromarket.specialists.builtin.dates import solve_task

    # no commas: the offline planner may split a task at ", " into two subtasks
    tasks = [x for x in date_tasks(80, seed=3, splits=("unseen_dates",)) if "," not in x[0] and str(solve_task(x[0]).value) == x[1]][:12]
    assert len(tasks) >= 10
    rounds = compete(mp, tasks, seed=100)

    tried = {r.chosen for r in rounds}
    assert {"dates", "microllm-dates"} <= tried, [(r.chosen, r.value, r.truth) for r in rounds]
    acc = accuracy_by_specialist(rounds)
    rate = {k: ok / n for k, (ok, n) in acc.items()}
    assert rate["dates"] > rate["microllm-dates"]
    # the routing records list the competitors with their trust at the time
    assert all("dates" in {c["specialist_id"] for c in r.candidates} for r in rounds)
    # before any outcome both compete for the task; later the outcome memory may narrow the shortlist to the better one
    assert {"dates", "microllm-dates"} <= {c["specialist_id"] for c in rounds[0].candidates}
    trust = {row["specialist_id"]: row for row in trust_rows(mp)}
    assert trust["dates"]["mean"] > trust["microllm-dates"]["mean"]
    assert trust["dates"]["verified_ok"] >= 1 and trust["microllm-dates"]["verified_failed"] >= 1
    # and the later rounds go to the more accurate specialist
    late = [r.chosen for r in rounds[len(rounds) // 2 :]]
    assert late.count("dates") > len(late) / 2, late
