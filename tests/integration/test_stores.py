"""Store scenarios 12-15 of docs/robustness.md (issue 7): a second Chroma writer, SIGKILL during indexing,
a changed embedding model, and 8 processes × 500 concurrent trust updates. Real processes, real Chroma dirs."""

from __future__ import annotations

import multiprocessing as mp_
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import MILES, inproc_card

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra) -> dict:
    env = dict(os.environ)
    env.update(MICROMARKET_EMBEDDING_MODEL="fake", MICROMARKET_BUILTINS="0", PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False")
    env.update(extra)
    return env


def _cli(home: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "micromarket.cli", *args, "--home", str(home)], cwd=ROOT,
                          env=env or _env(), capture_output=True, text=True, timeout=timeout)


def _market(home: Path, n_cards: int = 2, caps_per_card: int = 1):
    from micromarket import Marketplace

    mp = Marketplace.open(home=home, builtins=False)
    for i in range(n_cards):
        caps = [{"name": f"cap{j}", "description": f"capability {j} of specialist {i}: convert unit {j} {i}"} for j in range(caps_per_card)]
        mp.register(inproc_card(f"spec{i:03d}", "tests.fakes.servers:miles_server", caps))
    return mp


# ---------------------------------------------------------------- 12 second writer


HOLDER = textwrap.dedent("""
    import sys, time
    from micromarket.capability_index.lock import WriterLock
    with WriterLock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
""")


def test_12_second_process_writing_same_chroma_dir_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    home = tmp_path / "home"
    mp = _market(home)
    mp.close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home / "chroma")], cwd=ROOT, env=_env(),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        from micromarket.capability_index.index import CapabilityIndex
        from micromarket.errors import IndexLockedError
        from micromarket.settings import Settings

        idx = CapabilityIndex(Settings(home=home, embedding_model="fake"))
        from micromarket.capability_index.cards import parse_card

        card = parse_card(inproc_card("late", "tests.fakes.servers:miles_server", [MILES]))
        with pytest.raises(IndexLockedError) as ei:
            idx.upsert([card])
        assert holder.poll() is None  # refused while the holder still writes: it did not wait for the lock
        msg = str(ei.value)
        assert f"pid {holder.pid}" in msg and "server mode" in msg and "MICROMARKET_CHROMA_URL" in msg
        idx.close()
        # through the CLI: a clear message, a non-zero exit, no traceback, and nothing half-registered
        card_file = tmp_path / "late.yaml"
        from micromarket.capability_index.cards import dump_card

        card_file.write_text(dump_card(card))
        res = _cli(home, "specialists", "add", str(card_file))
        assert res.returncode != 0 and "server mode" in res.stderr and "Traceback" not in res.stderr
        from micromarket.capability_index.store import CardStore

        assert not CardStore(home / "cards.sqlite").has("late")
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------- 13 SIGKILL during indexing


INDEXER = textwrap.dedent("""
    import sys, time
    from micromarket.capability_index.index import CapabilityIndex
    from micromarket import Marketplace
    orig = CapabilityIndex.embed
    def slow(self, texts):
        out = orig(self, texts)
        print("batch", len(texts), flush=True)
        time.sleep(0.5)
        return out
    CapabilityIndex.embed = slow
    mp = Marketplace.open(home=sys.argv[1], builtins=False)
    mp.rebuild_index()
    print("done", flush=True)
""")


def test_13_sigkill_during_indexing_verify_detects_rebuild_restores(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    home = tmp_path / "home"
    mp = _market(home, n_cards=40, caps_per_card=10)  # 400 capabilities: several embedding batches
    ids = {c.id for c in mp.services.store.cards()}
    mp.close()
    proc = subprocess.Popen([sys.executable, "-c", INDEXER, str(home)], cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        line = ""
        while not line.startswith("batch"):
            line = proc.stdout.readline()
            assert line, "indexer exited early"
        time.sleep(0.7)  # killed after the first batch was written, in the middle of the rebuild
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    res = _cli(home, "index", "verify")
    assert res.returncode != 0 and "index rebuild" in res.stderr and "Traceback" not in res.stderr, res.stderr
    res = _cli(home, "index", "rebuild")
    assert res.returncode == 0, res.stderr
    assert "indexed 400 capabilities" in res.stdout
    res = _cli(home, "index", "verify")
    assert res.returncode == 0, res.stderr
    from micromarket.capability_index.store import CardStore

    store = CardStore(home / "cards.sqlite")
    assert {c.id for c in store.cards()} == ids  # no specialist lost
    store.close()


# ---------------------------------------------------------------- 14 embedding model changed


def test_14_embedding_model_changed_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    home = tmp_path / "home"
    _market(home).close()
    from micromarket import Marketplace
    from micromarket.errors import IndexMismatchError

    with pytest.raises(IndexMismatchError, match="index rebuild") as ei:
        Marketplace.open(home=home, builtins=False, embedding_model="another-embedding-model")
    assert "'fake'" in str(ei.value) and "another-embedding-model" in str(ei.value)
    res = _cli(home, "specialists", "list", env=_env(MICROMARKET_EMBEDDING_MODEL="another-embedding-model"))
    assert res.returncode != 0 and "index rebuild" in res.stderr and "Traceback" not in res.stderr


# ---------------------------------------------------------------- 15 concurrent feedback


N_PROC, N_UPDATES = 8, 500


def _feedback_worker(path: str, proc: int, q) -> None:
    try:
        from micromarket.capability_index.ledger import TrustLedger

        led = TrustLedger(path)
        for i in range(N_UPDATES):
            led.record_evidence(run_id=f"run-{proc}-{i}", subtask_id="s1", specialist_id="miles", capability="convert_length",
                                kind="verified", success=True)
        led.close()
        q.put(("ok", proc))
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        q.put(("error", f"{type(e).__name__}: {e}"))


def test_15_concurrent_feedback_8x500_exact_counts_no_busy(tmp_path):
    from micromarket.capability_index.ledger import TrustLedger

    path = str(tmp_path / "ledger.sqlite")
    led = TrustLedger(path)
    before = led.posterior("miles", "convert_length")
    ctx = mp_.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_feedback_worker, args=(path, p, q)) for p in range(N_PROC)]
    for p in procs:  # all at once
        p.start()
    results = [q.get(timeout=150) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert all(r[0] == "ok" for r in results), results  # no SQLITE_BUSY (or anything else) escaped
    after = led.posterior("miles", "convert_length")
    assert (after.alpha + after.beta) - (before.alpha + before.beta) == pytest.approx(N_PROC * N_UPDATES, abs=1e-9)
    led.close()
