"""The ledger under real concurrency: several processes and several threads on one SQLite file."""

from __future__ import annotations

import multiprocessing as mp
import threading

from micromarket.capability_index.ledger import TrustLedger
import pytest

pytestmark = pytest.mark.integration

N_PROC = 8
N_UPDATES = 500


def _worker(path: str, proc: int, n: int, q) -> None:
    try:
        led = TrustLedger(path)
        for i in range(n):
            led.record_evidence(
                run_id=f"p{proc}-r{i}", subtask_id="0", specialist_id="spec", capability="cap",
                kind="verified", success=(i % 3 != 0),
            )
            # a replay from the same process must count nothing
            if i % 50 == 0:
                assert not led.record_evidence(
                    run_id=f"p{proc}-r{i}", subtask_id="0", specialist_id="spec", capability="cap",
                    kind="verified", success=(i % 3 != 0),
                )
        led.close()
        q.put(("ok", proc))
    except BaseException as e:  # report, do not hang the parent
        q.put(("error", repr(e)))


def _run_workers(target, path: str) -> None:
    """N_PROC spawned processes, each posting N_UPDATES updates at once; all must report ok."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=target, args=(path, p, N_UPDATES, q)) for p in range(N_PROC)]
    for p in procs:
        p.start()
    results = [q.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(r[0] == "ok" for r in results), results


def test_eight_processes_500_updates_each(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    led = TrustLedger(path)
    before = led.posterior("spec", "cap")
    _run_workers(_worker, path)
    after = led.posterior("spec", "cap")
    succ = sum(1 for i in range(N_UPDATES) if i % 3 != 0) * N_PROC
    fail = N_UPDATES * N_PROC - succ
    # verified evidence has weight 1; failures count ×penalty (2): alpha grows by successes, beta by 2×failures
    assert after.alpha - before.alpha == succ
    assert after.beta - before.beta == 2 * fail
    row = [r for r in led.trust_table() if r["specialist_id"] == "spec"][0]
    assert row["verified_ok"] + row["verified_failed"] == N_PROC * N_UPDATES
    led.close()


def test_eight_processes_symmetric_outcomes_exact_alpha_plus_beta(tmp_path):
    """α+β grows by exactly 4000 when every update is a weight-1 success."""
    path = str(tmp_path / "ledger.sqlite")
    led = TrustLedger(path)
    _run_workers(_succ_worker, path)
    post = led.posterior("s2", "c2")
    assert post.alpha + post.beta - 2.0 == N_PROC * N_UPDATES
    led.close()


def _succ_worker(path: str, proc: int, n: int, q) -> None:
    try:
        led = TrustLedger(path)
        for i in range(n):
            led.record_evidence(run_id=f"p{proc}-{i}", subtask_id="s", specialist_id="s2", capability="c2",
                                kind="verified", success=True)
        led.close()
        q.put(("ok", proc))
    except BaseException as e:
        q.put(("error", repr(e)))


def test_threads_share_one_ledger(tmp_path):
    led = TrustLedger(tmp_path / "l.sqlite")
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(200):
                led.record_evidence(run_id=f"t{t}-{i}", subtask_id="0", specialist_id="x", capability="y",
                                    kind="verified", success=True)
                led.posterior("x", "y")
                led.record_routing({"run_id": f"t{t}-{i}", "subtask_id": "0", "chosen": "x.y",
                                    "specialist_id": "x", "capability": "y", "outcome": "ok"})
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert led.posterior("x", "y").n == 1600
    assert sum(r["specialist_id"] == "x" for r in led.routing_records(limit=5000)) == 1600
    led.close()
