"""Attack scenarios through the product path: output injection, invalid options, a home anywhere, corrupt stores.

Named after the scenarios of `micromarket bench robustness` (test_attack_<scenario>_*).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import MILES, inproc_card
from tests.fakes.stdio_specialist import MARKERS, PAYLOADS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra) -> dict:
    env = dict(os.environ, MICROMARKET_EMBEDDING_MODEL="fake", MICROMARKET_BUILTINS="0", MICROMARKET_NO_DAEMON="1",
               PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    for k in ("MICROMARKET_DEBUG", "MICROMARKET_DATABASE_URL", "MICROMARKET_HOME"):
        env.pop(k, None)
    env.update(extra)
    return env


def mm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "micromarket.cli", *args], cwd=ROOT, env=_env(), capture_output=True,
                       text=True, timeout=240)
    if check:
        assert p.returncode == 0, p.stderr[-3000:]
    return p


def _payload_card(kind: str, log: Path) -> dict:
    return {"id": f"payload-{kind.replace('_', '-')}", "name": kind, "description": "converts miles to kilometers",
            "capabilities": [MILES],
            "transport": {"kind": "stdio", "command": ["{python}", "-m", "tests.fakes.stdio_specialist", f"payload:{kind}", str(log)],
                          "cwd": str(ROOT), "env": {"PYTHONPATH": str(ROOT)}}}


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_attack_output_injection_reaches_no_reader(kind, tmp_path):
    """Each payload kind: not presented as an answer, not verbatim anywhere in the result, the specialist quarantined."""
    from micromarket import Marketplace

    log = tmp_path / "calls.log"
    with Marketplace.open(home=tmp_path / "home", builtins=False, embedding_model="fake") as mp:
        mp.register(_payload_card(kind, log))
        out = mp.solve("convert 5 miles to km", seed=1)
        sub = out["subtasks"][0]
        assert log.read_text().count("\n") == 1  # it was asked once
        assert sub["status"] != "ok" and "8.05" not in (sub.get("answer") or "")
        blob = json.dumps(out, ensure_ascii=False, default=str)
        assert MARKERS[kind] not in blob, f"{kind} payload reached the result verbatim"
        status = {r["id"]: r["status"] for r in mp.specialists()}
        assert status[_payload_card(kind, log)["id"]] == "quarantined"
        mp.solve("convert 7 miles to km", seed=2)
        assert log.read_text().count("\n") == 1  # never called again


@pytest.mark.parametrize("bad", [{"call_timeout_s": -1}, {"call_timeout_s": math.nan}, {"call_timeout_s": math.inf},
                                 {"top_k": 0}, {"max_attempts": -3}, {"budget": -5.0}, {"redundancy": 99}])
def test_attack_invalid_options_charge_no_specialist(bad, fake_market):
    from micromarket.errors import InputError

    before = fake_market.trust()
    with pytest.raises(InputError) as ei:
        fake_market.solve("convert 5 miles to km", **bad)
    assert next(iter(bad)) in str(ei.value)
    assert fake_market.trust() == before  # no evidence recorded against anyone
    assert fake_market.routing() == []  # and no run was started


def test_attack_invalid_options_through_the_cli(tmp_path):
    p = mm("solve", "convert 5 miles to km", "--budget", "-1", "--home", str(tmp_path / "home"), check=False)
    assert p.returncode == 2 and "budget" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("home", ["/etc", "/usr/lib/mm", "/"])
def test_attack_home_system_directory_refused(home):
    before = set(os.listdir(home)) if os.path.isdir(home) else None
    p = mm("specialists", "list", "--home", home, check=False)
    assert p.returncode == 2 and "refusing" in p.stderr and "Traceback" not in p.stderr
    if before is not None:
        assert set(os.listdir(home)) == before  # nothing created there
    assert not Path("/usr/lib/mm").exists()


def test_attack_home_api_refuses_and_new_home_is_announced(tmp_path, caplog):
    from micromarket import Marketplace
    from micromarket.errors import InputError

    with pytest.raises(InputError, match="refusing"):
        Marketplace.open(home="/etc", builtins=False, embedding_model="fake")
    with caplog.at_level("WARNING", logger="micromarket.home"):
        Marketplace.open(home=tmp_path / "fresh" / "home", builtins=False, embedding_model="fake").close()
    assert "created a new micromarket home" in caplog.text


@pytest.fixture
def used_home(tmp_path):
    """A home with a registered specialist and one run's trust history."""
    from micromarket import Marketplace

    home = tmp_path / "home"
    with Marketplace.open(home=home, builtins=False, embedding_model="fake") as mp:
        mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES]), trusted=True)
        out = mp.solve("convert 5 miles to km", seed=1)
        mp.feedback(out["run_id"], True)
    return home


def test_attack_corrupt_ledger_truncated_to_zero_is_named_not_recreated(used_home, tmp_path):
    backup = tmp_path / "backup"
    mm("backup", str(backup), "--home", str(used_home))
    (used_home / "ledger.sqlite").write_bytes(b"")
    p = mm("trust", "show", "--home", str(used_home), check=False)
    assert p.returncode != 0 and "ledger.sqlite" in p.stderr and "0 bytes" in p.stderr and "micromarket restore" in p.stderr
    assert (used_home / "ledger.sqlite").stat().st_size == 0  # not silently re-created
    mm("restore", str(backup), "--home", str(used_home), "--force")
    rows = json.loads(mm("trust", "show", "--json", "--home", str(used_home)).stdout)
    assert any(r["specialist_id"] == "miles" for r in rows)  # the trust history is back


def test_attack_corrupt_ledger_half_truncated_names_the_file(used_home):
    led = used_home / "ledger.sqlite"
    with sqlite3.connect(led) as c:  # make sure the data is in the main file, not only in the WAL
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = led.read_bytes()
    led.write_bytes(data[: len(data) // 2])
    for f in used_home.glob("ledger.sqlite-*"):
        f.unlink()
    p = mm("solve", "convert 5 miles to km", "--home", str(used_home), check=False)
    assert p.returncode != 0 and str(led) in p.stderr.replace("\n", "") and "internal error" not in p.stderr


def test_attack_corrupt_chroma_is_recovered_by_index_rebuild(used_home):
    chroma = used_home / "chroma" / "chroma.sqlite3"
    assert chroma.exists()
    chroma.write_bytes(b"\x00garbage" * 1000)
    p = mm("index", "rebuild", "--home", str(used_home), check=False)
    assert p.returncode == 0, p.stderr[-2000:]
    assert any(d.name.startswith("chroma.damaged") for d in used_home.iterdir())  # moved aside, not deleted
    v = mm("index", "verify", "--home", str(used_home))
    assert '"ok": true' in v.stdout
    out = json.loads(mm("solve", "convert 5 miles to km", "--json", "--home", str(used_home)).stdout.strip().splitlines()[-1])
    assert out["subtasks"][0]["status"] == "ok"


def test_attack_corrupt_chroma_is_named_through_the_api(used_home):
    from micromarket import Marketplace
    from micromarket.errors import MicromarketError

    (used_home / "chroma" / "chroma.sqlite3").write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(MicromarketError) as ei:
        Marketplace.open(home=used_home, builtins=False, embedding_model="fake")
    assert str(used_home / "chroma") in str(ei.value) and "micromarket index rebuild" in str(ei.value)
    mm("index", "rebuild", "--home", str(used_home))
    with Marketplace.open(home=used_home, builtins=False, embedding_model="fake") as mp:
        assert mp.verify_index()["ok"]
        assert mp.rebuild_index() == 1  # and the API's rebuild works on the recovered index
        assert mp.solve("convert 5 miles to km", seed=1)["subtasks"][0]["status"] == "ok"
