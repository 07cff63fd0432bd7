"""The trust ledger on PostgreSQL: the SQLite ledger tests, unchanged, on a fresh database; concurrency across
processes (α+β exact); reconnect after a dropped connection. Skips when the server is unreachable."""

from __future__ import annotations

import multiprocessing as mp
import threading

import pytest

from micromarket.capability_index.ledger import TrustLedger
from micromarket.capability_index.sql import Row, dialect_for, redact_url, translate_placeholders
from micromarket.errors import InputError
from tests.integration.postgres_support import fresh_database
from tests.unit import test_ledger as sqlite_tests
from tests.unit.test_ledger import Clock

pytestmark = pytest.mark.integration

# ---------------------------------------------------------------- the SQLite suite, unchanged, on PostgreSQL
# Every test in tests/unit/test_ledger.py runs here too, against the `led` fixture below, except the
# two that are about SQLite files (WAL mode; a closed ledger on a path: see test_closed_ledger_postgres) and one
# long policy simulation.
SQLITE_ONLY = {"test_wal_mode", "test_closed_ledger_errors_cleanly"}
SQLITE_ONLY.add("test_honest_specialist_not_demoted")  # 2000 sequential updates of engine-independent policy: too slow
SHARED = sorted(n for n, f in vars(sqlite_tests).items() if n.startswith("test_") and callable(f) and n not in SQLITE_ONLY)
globals().update({n: getattr(sqlite_tests, n) for n in SHARED})

TABLES = "posteriors, evidence, runs, routing, identities"


@pytest.fixture(scope="module")
def pg_module_url():
    with fresh_database() as url:
        yield url


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def led(pg_module_url, clock):
    ledger = TrustLedger(pg_module_url, clock=clock)
    yield ledger
    ledger.db.read(lambda c: c.execute(f"TRUNCATE {TABLES} RESTART IDENTITY"))
    ledger.close()


def test_shared_suite_is_collected():
    assert len(SHARED) >= 15 and "test_runs_routing_and_feedback" in SHARED


def test_backend_and_types(led, clock):
    assert led.backend == "postgresql"
    assert led.db.conn.execute("SHOW synchronous_commit").fetchone()[0] == "off"  # SQLite WAL+NORMAL's guarantee
    types = dict(led.db.read(lambda c: c.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name='posteriors'").fetchall()))
    assert types["alpha"] == "double precision" and types["updated_at"] == "double precision"
    led.set_status("a", "quarantined", "x")
    assert led.status_info("a")["status_since"] == clock.t  # 8-byte floats: timestamps exact


def test_closed_ledger_postgres(pg_module_url):
    ledger = TrustLedger(pg_module_url)
    ledger.close()
    with pytest.raises(InputError, match="closed"):
        ledger.posterior("a", "x")


def test_reconnects_after_the_connection_drops(led, pg_module_url):
    import psycopg

    led.record_evidence(run_id="r1", subtask_id="0", specialist_id="a", capability="x", kind="verified", success=True)
    pid = led.db.conn.raw.info.backend_pid
    with psycopg.connect(pg_module_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    # the next call finds the connection gone, reconnects and carries on; nothing lost, nothing doubled
    assert led.record_evidence(run_id="r2", subtask_id="0", specialist_id="a", capability="x", kind="verified",
                               success=True) is True
    assert led.db.conn.raw.info.backend_pid != pid
    assert led.posterior("a", "x").alpha == 3.0


def test_threads_share_one_ledger_postgres(led):
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(50):
                led.record_evidence(run_id=f"t{t}-{i}", subtask_id="0", specialist_id="x", capability="y",
                                    kind="verified", success=True)
                led.record_routing({"run_id": f"t{t}-{i}", "subtask_id": "0", "chosen": "x.y",
                                    "specialist_id": "x", "capability": "y", "outcome": "ok"})
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert led.posterior("x", "y").n == 200
    assert sum(r["specialist_id"] == "x" for r in led.routing_records(limit=5000)) == 200


# ---------------------------------------------------------------- scenario 15 on PostgreSQL: 8 processes × 500

N_PROC = 8
N_UPDATES = 500


def _worker(url: str, proc: int, n: int, q) -> None:
    try:
        led = TrustLedger(url)  # each process also races the others to create the schema
        for i in range(n):
            assert led.record_evidence(run_id=f"p{proc}-{i}", subtask_id="s", specialist_id="s2", capability="c2",
                                       kind="verified", success=True)
            if i % 50 == 0:  # a replay counts nothing
                assert not led.record_evidence(run_id=f"p{proc}-{i}", subtask_id="s", specialist_id="s2",
                                               capability="c2", kind="verified", success=True)
        led.close()
        q.put(("ok", proc))
    except BaseException as e:  # report, do not hang the parent
        q.put(("error", repr(e)))


def test_eight_processes_500_updates_each_postgres():
    with fresh_database() as url:  # an empty database: the workers create the tables concurrently
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(url, p, N_UPDATES, q)) for p in range(N_PROC)]
        for p in procs:
            p.start()
        results = [q.get(timeout=300) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        assert all(r[0] == "ok" for r in results), results
        led = TrustLedger(url)
        post = led.posterior("s2", "c2")
        # weight-1 verified successes from the (1, 1) prior: α+β grows by exactly 8 × 500 = 4000
        assert post.alpha + post.beta - 2.0 == N_PROC * N_UPDATES == 4000
        row = [r for r in led.trust_table() if r["specialist_id"] == "s2"][0]
        assert row["verified_ok"] == N_PROC * N_UPDATES and row["verified_failed"] == 0
        n_ev = led.db.read(lambda c: c.execute("SELECT COUNT(*) FROM evidence").fetchone()[0])
        assert n_ev == N_PROC * N_UPDATES
        led.close()


# ---------------------------------------------------------------- the dialect layer itself (no server needed)

def test_placeholders_translated_outside_quotes():
    assert translate_placeholders("SELECT * FROM t WHERE a=? AND b='?' AND c LIKE '5%' AND d=?") == \
        "SELECT * FROM t WHERE a=%s AND b='?' AND c LIKE '5%%' AND d=%s"


def test_dialect_choice_and_redaction(tmp_path):
    assert dialect_for(tmp_path / "l.sqlite").name == "sqlite"
    assert dialect_for("postgresql://u:secret@h:5432/db").name == "postgresql"
    assert dialect_for("postgres://h/db").name == "postgresql"
    assert "secret" not in redact_url("postgresql://u:secret@h:5432/db")
    assert "secret" not in dialect_for("postgresql://u:secret@h/db").describe()
    assert dialect_for(f"sqlite:///{tmp_path}/x.sqlite").target == f"{tmp_path}/x.sqlite"
    with pytest.raises(InputError, match="unsupported database URL"):
        dialect_for("mysql://h/db")


def test_row_by_index_and_name():
    r = Row((1, "x"), {"n": 0, "s": 1})
    assert r[0] == 1 and r["s"] == "x" and dict(r) == {"n": 1, "s": "x"} and tuple(r) == (1, "x")


def test_unreachable_server_is_a_clear_error():
    from micromarket.errors import MicromarketError

    with pytest.raises(MicromarketError, match="cannot connect to the database") as e:
        TrustLedger("postgresql://someone:s3cret@127.0.0.1:1/nowhere", busy_timeout_s=2)
    assert "s3cret" not in str(e.value) and "MICROMARKET_DATABASE_URL" in str(e.value)
