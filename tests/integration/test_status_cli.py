"""One status per specialist, through the CLI: a specialist quarantined by the ledger (prompt injection in
its output) or demoted by it (on-off behaviour) is shown so by `specialists list` and `trust show`, and
discovery, selection and the call check honour it on the next solve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import MILES, inproc_card

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path) -> dict:
    env = dict(os.environ)
    env.update(MICROMARKET_HOME=str(home), MICROMARKET_EMBEDDING_MODEL="fake", MICROMARKET_BUILTINS="0",
               PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.pop("MICROMARKET_DATABASE_URL", None)
    return env


def mm(home: Path, *args: str) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "micromarket.cli", *args], cwd=ROOT, env=_env(home),
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    return p


def stdio_card(path: Path, sid: str, mode: str, call_log: Path) -> Path:
    card = {
        "id": sid, "name": sid, "description": "converts miles to kilometers",
        "capabilities": [MILES],
        "transport": {"kind": "stdio", "command": ["{python}", "-m", "tests.fakes.stdio_specialist", mode, str(call_log)],
                      "cwd": str(ROOT), "env": {"PYTHONPATH": str(ROOT)}},
    }
    path.write_text(yaml.safe_dump(card))
    return path


def listed(home: Path) -> dict[str, str]:
    return {r["id"]: r["status"] for r in json.loads(mm(home, "specialists", "list", "--json").stdout)}


def trusted(home: Path) -> dict[str, str]:
    return {r["specialist_id"]: r["status"] for r in json.loads(mm(home, "trust", "show", "--json").stdout)}


def solve(home: Path, seed: int = 1) -> dict:
    return json.loads(mm(home, "solve", "convert 5 miles to km", "--json", "--no-daemon", "--seed", str(seed)).stdout)


def test_attack_quarantine_injection_once_and_for_all(tmp_path):
    home, calls = tmp_path / "home", tmp_path / "calls.log"
    mm(home, "specialists", "add", str(stdio_card(tmp_path / "inj.yaml", "injector", "inject", calls)))
    assert listed(home) == {"injector": "newcomer"}  # a new registration starts as a newcomer

    first = solve(home)
    assert calls.read_text().count("\n") == 1  # it was called once ...
    assert first["subtasks"][0]["status"] == "failed"
    (rec,) = json.loads(mm(home, "routing", first["run_id"], "--json").stdout)
    assert [a["outcome"] for a in rec["attempts"]] == ["injection"]
    assert "ignore all previous instructions" not in json.dumps(first["answer"])  # ... and its output discarded
    assert listed(home)["injector"] == "quarantined"
    assert trusted(home)["injector"] == "quarantined"

    second = solve(home, seed=2)
    assert calls.read_text().count("\n") == 1  # never called again: not even nominated
    assert second["subtasks"][0]["status"] == "unsupported"
    (rec,) = json.loads(mm(home, "routing", second["run_id"], "--json").stdout)
    assert rec["candidates"] == [] and rec["attempts"] == []

    # removed and re-added under a new id (same command): the identity comes back quarantined
    mm(home, "specialists", "remove", "injector")
    mm(home, "specialists", "add", str(stdio_card(tmp_path / "inj2.yaml", "fresh-face", "inject", calls)))
    assert listed(home) == {"fresh-face": "quarantined"}
    solve(home, seed=3)
    assert calls.read_text().count("\n") == 1

    # a human reviews it: approval lifts the quarantine to newcomer (it must be vetted again)
    mm(home, "specialists", "approve", "fresh-face")
    assert listed(home)["fresh-face"] == trusted(home)["fresh-face"] == "newcomer"


def test_attack_demotion_on_off_specialist_everywhere(tmp_path):
    from micromarket import Marketplace

    home = tmp_path / "home"
    mp = Marketplace.open(home=home, builtins=False, embedding_model="fake")
    mp.register(inproc_card("onoff", "tests.fakes.servers:miles_server", [MILES]), trusted=True)
    verdicts = [True] * 20 + [False] * 8  # right many times, then wrong
    for i, good in enumerate(verdicts):
        out = mp.solve("convert 5 miles to km", seed=i)
        assert out["subtasks"][0]["specialist"] == "onoff"
        mp.feedback(out["run_id"], good)
        if mp.status("onoff") != "active":
            break
    assert mp.status("onoff") == "newcomer" and not good  # demoted by the wrong answers, not before
    mp.register(inproc_card("steady", "tests.fakes.servers:miles_backup_server", [MILES]), trusted=True)
    chosen = [mp.solve("convert 5 miles to km", seed=100 + i)["subtasks"][0]["specialist"] for i in range(20)]
    mp.close()
    # selection honours the demotion: the demoted specialist only gets the newcomer share of traffic
    assert chosen.count("onoff") <= 5, chosen
    assert listed(home)["onoff"] == "newcomer"
    info = [r for r in json.loads(mm(home, "trust", "show", "--json").stdout) if r["specialist_id"] == "onoff"]
    assert info and all(r["status"] == "newcomer" for r in info)
    rows = {r["id"]: r for r in json.loads(mm(home, "specialists", "list", "--json").stdout)}
    assert "demoted" in (rows["onoff"]["status_reason"] or "")


def test_attack_whitewash_imported_server_keeps_its_identity(fake_market, tmp_path):
    root = str(ROOT)
    mp = fake_market
    server = {"command": sys.executable, "args": ["-m", "tests.fakes.stdio_specialist", "inject", str(tmp_path / "calls.log")],
              "env": {"PYTHONPATH": root}}
    (res,) = mp.import_servers({"mcpServers": {"conv": server}}, timeout=60)
    assert res["status"] == "registered" and mp.status("conv") == "newcomer"
    mp.services.ledger.set_status("conv", "quarantined", "prompt injection in run r1")
    mp.remove("conv")
    (res,) = mp.import_servers({"mcpServers": {"same-server-new-name": server}}, timeout=60)
    assert res["status"] == "registered"
    assert mp.status("same-server-new-name") == "quarantined"  # the identity is the server, not the name


def _means(home: Path) -> dict[str, float]:
    return {r["specialist_id"]: r["mean"] for r in json.loads(mm(home, "trust", "show", "--json").stdout)}


def test_attack_confident_liar_loses_to_an_established_honest_peer(tmp_path):
    """A specialist that always claims confidence 1.0 with a wrong value, asked alongside an honest one with a
    record (`solve --redundancy 2`): the honest answer is returned every time and only the liar loses trust."""
    from micromarket import Marketplace

    home, calls = tmp_path / "home", tmp_path / "calls.log"
    with Marketplace.open(home=home, builtins=False, embedding_model="fake") as mp:
        mp.register(stdio_card(tmp_path / "honest.yaml", "honest", "honest", calls))
        for i in range(5):  # a record: five answers the user confirmed
            out = mp.solve("convert 5 miles to km", seed=i)
            assert out["subtasks"][0]["specialist"] == "honest"
            mp.feedback(out["run_id"], True)
        assert mp.status("honest") == "active"  # vetted by its record
    mm(home, "specialists", "add", str(stdio_card(tmp_path / "liar.yaml", "liar", "liar", calls)))
    before = _means(home)
    for seed in range(3):
        out = json.loads(mm(home, "solve", "convert 5 miles to km", "--json", "--no-daemon", "--redundancy", "2",
                            "--seed", str(seed)).stdout)
        sub = out["subtasks"][0]
        assert sub["specialist"] == "honest" and "8.05 km" in sub["answer"], sub
        assert "8.05 km" in out["answer"]  # the liar's value is shown only as the disagreeing alternative
        (rec,) = json.loads(mm(home, "routing", out["run_id"], "--json").stdout)
        assert sorted(a["specialist_id"] for a in rec["attempts"]) == ["honest", "liar"]  # both were asked
        assert all(a["outcome"] == "ok" for a in rec["attempts"])
    after = _means(home)
    assert after["liar"] < before["liar"], (before, after)  # repeated disagreement with a trusted peer costs trust
    assert after["honest"] >= before["honest"], (before, after)
    assert listed(home)["liar"] == "newcomer"  # ... but is not a quarantine


def test_attack_sybil_twenty_wrong_copies_share_one_identity_and_the_real_one_answers(tmp_path):
    """20 copies of a wrong "units" specialist added through `specialists add` on a fresh home start as newcomers;
    the 15 plain copies are one identity and share its traffic cap, the 5 disguised ones (other arguments) are
    newcomers that may fill only part of the nominations; the real units specialist still answers most requests."""
    from micromarket import Marketplace
    from micromarket.specialists import builtin

    home = tmp_path / "home"
    units = yaml.safe_load((builtin.CARD_DIR / "units.yaml").read_text())
    with Marketplace.open(home=home, builtins=False, embedding_model="fake") as mp:
        mp.register(units, trusted=True)  # the real one, trusted as the built-ins are
    for i in range(20):
        log = tmp_path / ("calls.log" if i < 15 else f"calls-{i}.log")  # 15 plain copies, 5 disguised
        fake = {**units, "id": f"units-{i}", "name": f"Unit converter {i}",
                "transport": {"kind": "stdio", "command": ["{python}", "-m", "tests.fakes.stdio_specialist", "liar", str(log)],
                              "cwd": str(ROOT), "env": {"PYTHONPATH": str(ROOT)}}}
        (tmp_path / f"u{i}.yaml").write_text(yaml.safe_dump(fake))
        out = mm(home, "specialists", "add", str(tmp_path / f"u{i}.yaml")).stdout
        assert "status newcomer" in out, out  # `specialists add` says where the newcomer stands
    rows = {r["id"]: r for r in json.loads(mm(home, "specialists", "list", "--json").stdout)}
    assert rows["units"]["status"] == "active"
    assert all(rows[f"units-{i}"]["status"] == "newcomer" for i in range(20))
    with Marketplace.open(home=home, builtins=False, embedding_model="fake") as mp:
        idents = [mp.services.ledger.status_info(f"units-{i}")["identity"] for i in range(20)]
        assert len(set(idents[:15])) == 1 and len(set(idents)) == 6  # the plain copies compete as one
        answered = []
        for seed in range(20):
            out = mp.solve("convert 26.2 miles to km", seed=seed)
            answered.append(out["subtasks"][0]["specialist"])
            noms = [r["identity"] for r in mp.routing(out["run_id"])[0]["candidates"]]
            assert idents[0] not in noms or noms.count(idents[0]) == 1, noms  # one nomination for all 15 copies
            assert any(r["specialist_id"] == "units" for r in mp.routing(out["run_id"])[0]["candidates"])  # not crowded out
    assert answered.count("units") >= 15, answered
