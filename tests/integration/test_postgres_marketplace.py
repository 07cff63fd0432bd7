"""A marketplace solve with the trust ledger and the LangGraph checkpointer on a fresh PostgreSQL database,
chosen by the database URL only; the routing records, the run and the checkpoint are then read back
from PostgreSQL by fresh connections. Skips when the server is unreachable."""

from __future__ import annotations

import pytest

from micromarket.checkpoint import aresume, asolve_durable, open_checkpointer
from tests.conftest import INTEGRAL, MILES, inproc_card
from tests.integration.postgres_support import pg_url  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

TASK = "convert 5 miles to km and integrate x^2 from 0 to 1"


@pytest.fixture
def pg_market(tmp_path, monkeypatch, pg_url):  # noqa: F811
    from micromarket import Marketplace
    from tests.fakes import servers

    servers.BEHAVIOUR.update(sleep=0.0, fail=False)
    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    monkeypatch.setenv("MICROMARKET_DATABASE_URL", pg_url)  # what a deployment sets
    mp = Marketplace.open(home=tmp_path / "home", builtins=False, call_timeout_s=10)
    mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES], cost_per_call=0.001))
    mp.register(inproc_card("calculus", "tests.fakes.servers:integral_server", [INTEGRAL]))
    yield mp, pg_url
    mp.close()


async def test_solve_with_ledger_and_checkpointer_on_postgres(pg_market, tmp_path):
    import psycopg

    from micromarket.capability_index.ledger import TrustLedger

    mp, url = pg_market
    assert mp.settings.database_url == url
    assert mp.services.ledger.backend == "postgresql"

    out = await asolve_durable(mp, TASK, thread_id="pg-thread-1", seed=1)
    run_id = out["run_id"]
    answers = {s["specialist"]: s for s in out["subtasks"]}
    assert answers["miles"]["status"] == "ok" and "8.05" in answers["miles"]["answer"]
    assert answers["calculus"]["status"] == "ok"

    # nothing of the ledger went to SQLite: it is all in PostgreSQL
    assert not (tmp_path / "home" / "ledger.sqlite").exists()

    # routing records and the run, read back by a fresh ledger (as another orchestrator process would)
    other = TrustLedger(url)
    try:
        recs = other.routing_records(run_id=run_id)
        chosen = {r["specialist_id"] for r in recs if r.get("chosen") and r.get("outcome") == "ok"}
        assert chosen == {"miles", "calculus"}, recs
        assert all(r["candidates"] for r in recs if r.get("chosen"))
        assert other.get_run(run_id)["result"]["answer"] == out["answer"]
        # feedback through the marketplace lands in the shared ledger
        fb = mp.feedback(run_id, True)
        assert {f["specialist_id"] for f in fb if f["updated"]} == {"miles", "calculus"}
        assert other.posterior("miles", "convert_length").mean > 0.5
    finally:
        other.close()

    # the checkpoint, read back from PostgreSQL with a fresh checkpointer
    async with open_checkpointer(mp.settings) as saver:
        assert type(saver).__name__ == "AsyncPostgresSaver"
        tup = await saver.aget_tuple({"configurable": {"thread_id": "pg-thread-1"}})
        assert tup is not None
        values = tup.checkpoint["channel_values"]
        assert values["run_id"] == run_id and values["answer"] == out["answer"]
        assert tup.metadata.get("step", 0) >= 1
        history = [c async for c in saver.alist({"configurable": {"thread_id": "pg-thread-1"}})]
        assert len(history) >= 3  # one checkpoint per super-step (durability="sync")

    with psycopg.connect(url) as conn:
        n_ckpt = conn.execute("SELECT COUNT(*) FROM checkpoints WHERE thread_id = %s", ("pg-thread-1",)).fetchone()[0]
        n_routing = conn.execute("SELECT COUNT(*) FROM routing WHERE run_id = %s", (run_id,)).fetchone()[0]
    assert n_ckpt == len(history) and n_routing == len(recs)

    # resuming the finished thread reads the checkpoint from PostgreSQL and re-runs nothing
    again = await aresume(mp, "pg-thread-1")
    assert again["resumed"] is False and again["answer"] == out["answer"]
    assert len(mp.routing(run_id=run_id, limit=1000)) == len(recs)


def test_a_second_orchestrator_sees_the_specialists_registered_by_the_first(pg_market, tmp_path, monkeypatch):
    """The card store lives in the shared database too: another home (another machine) sees the same specialists."""
    from micromarket import Marketplace

    mp, url = pg_market
    assert not (tmp_path / "home" / "cards.sqlite").exists()
    other = Marketplace.open(home=tmp_path / "other-home", builtins=False)
    try:
        assert {r["id"] for r in other.specialists()} == {"miles", "calculus"}
        assert other.card("miles") == mp.card("miles")
        rows = other.services.store._db.execute("SELECT event FROM card_history WHERE id=?", ("miles",)).fetchall()
        assert [r[0] for r in rows] == ["add"]
    finally:
        other.close()


def test_status_is_shared_through_postgres(pg_market, tmp_path):
    """A quarantine recorded by one orchestrator (injection found in an output) holds for every orchestrator
    on the same database: listed as quarantined and never nominated or called."""
    from micromarket import Marketplace

    mp, _ = pg_market
    mp.register(inproc_card("injector", "tests.fakes.hostile:injecting_server", [{**MILES, "name": "convert"}]), trusted=True)
    mp.services.ledger.set_status("miles", "disabled", "not in this test")
    out = mp.solve("convert 5 miles to km", seed=1, min_similarity=0.0)
    assert [a["outcome"] for a in out["subtasks"][0]["attempts"] if a["specialist_id"] == "injector"] == ["injection"]
    other = Marketplace.open(home=tmp_path / "other-home", builtins=False)
    try:
        assert {r["id"]: r["status"] for r in other.specialists()}["injector"] == "quarantined"
        again = other.solve("convert 5 miles to km", seed=2, min_similarity=0.0)
        assert all(a["specialist_id"] != "injector" for a in again["subtasks"][0]["attempts"])
    finally:
        other.close()
