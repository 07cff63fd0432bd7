"""Registration, identity and redundancy through the Python API (Marketplace)."""

from __future__ import annotations

import pytest

from tests.conftest import INTEGRAL, MILES, inproc_card


def _evidence(mp, sid: str, n: int, ok: bool) -> None:
    for i in range(n):
        mp.services.ledger.record_evidence(run_id=f"hist-{sid}-{i}", subtask_id="0", specialist_id=sid,
                                           capability="convert_length", kind="verified", success=ok)


def _asked(out: dict) -> list[str]:
    return [a["specialist_id"] for a in out["subtasks"][0]["attempts"]]


def test_new_registrations_are_newcomers_unless_trusted(fake_market):
    mp = fake_market
    assert mp.status("miles") == "newcomer"
    mp.register(inproc_card("backup", "tests.fakes.servers:miles_backup_server", [MILES]), trusted=True)
    assert mp.status("backup") == "active"
    assert {r["id"]: r["status"] for r in mp.specialists()}["backup"] == "active"


def test_builtins_are_registered_trusted(tmp_path, monkeypatch):
    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    with Marketplace.open(home=tmp_path / "h", builtins=True) as mp:
        rows = mp.specialists()
        assert rows and all(r["status"] == "active" for r in rows)
        assert {r["specialist_id"] for r in mp.trust()} >= {r["id"] for r in rows}


def test_attack_whitewash_identity_is_what_a_specialist_is_not_its_id(fake_market):
    mp = fake_market
    mp.services.ledger.set_status("miles", "quarantined", "caught injecting")
    mp.remove("miles")
    # the same server under a new id: the same identity, still quarantined, with its history
    mp.register(inproc_card("miles-v2", "tests.fakes.servers:miles_server", [MILES]), trusted=True)
    assert mp.status("miles-v2") == "quarantined"
    out = mp.solve("convert 5 miles to km", seed=1, min_similarity=0.0)
    assert "miles-v2" not in _asked(out)
    # re-adding the removed id itself brings its status back too
    mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES]))
    assert mp.status("miles") == "quarantined"


def test_attack_sybil_copies_share_one_identity_and_its_traffic(fake_market):
    mp = fake_market
    mp.register(inproc_card("copy1", "tests.fakes.servers:miles_server", [MILES]))
    mp.register(inproc_card("copy2", "tests.fakes.servers:miles_server", [MILES]))
    mp.services.ledger.set_status("copy1", "disabled", "operator")
    assert mp.status("copy2") == mp.status("miles") == "disabled"  # one identity, one status
    mp.services.ledger.set_status("copy1", "active", "operator")
    for seed in range(5):
        asked = _asked(mp.solve("convert 5 miles to km", seed=seed, redundancy=3, min_similarity=0.0))
        assert len({"miles", "copy1", "copy2"} & set(asked)) == 1, asked  # never two copies for one subtask


@pytest.fixture
def pair(fake_market):
    mp = fake_market
    mp.register(inproc_card("backup", "tests.fakes.servers:miles_backup_server", [MILES]), trusted=True)
    mp.services.ledger.set_status("miles", "active", "test")
    mp.services.ledger.set_status("calculus", "disabled", "not part of this pair")  # never nominated
    return mp


def test_automatic_redundancy_asks_both_of_an_uncertain_pair(pair):
    out = pair.solve("convert 5 miles to km", seed=1, redundancy=0, min_similarity=0.0)
    assert sorted(_asked(out)) == ["backup", "miles"]
    assert out["subtasks"][0].get("consensus")


def test_automatic_redundancy_asks_one_of_a_settled_pair(pair):
    _evidence(pair, "miles", 40, True)
    _evidence(pair, "backup", 40, False)
    out = pair.solve("convert 5 miles to km", seed=1, redundancy=0, min_similarity=0.0)
    assert _asked(out) == ["miles"]
    # an explicit redundancy still asks as many as requested
    out = pair.solve("convert 5 miles to km", seed=2, redundancy=2, min_similarity=0.0)
    assert len(_asked(out)) == 2


def test_statuses_of_an_older_card_store_are_adopted(tmp_path, monkeypatch):
    """A home written when status lived in the card store keeps each specialist's status."""
    import sqlite3

    from micromarket import Marketplace

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    home = tmp_path / "home"
    with Marketplace.open(home=home, builtins=False) as mp:
        mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES]))
        mp.register(inproc_card("other", "tests.fakes.servers:integral_server", [MILES]))
    for f in home.glob("ledger.sqlite*"):  # the old ledger knew nothing of registrations
        f.unlink()
    (home / "stores.json").unlink()  # nor did an older home keep a manifest of its stores
    with sqlite3.connect(home / "cards.sqlite") as db:
        db.execute("ALTER TABLE specialists ADD COLUMN status TEXT NOT NULL DEFAULT 'active'")
        db.execute("ALTER TABLE specialists ADD COLUMN status_reason TEXT")
        db.execute("UPDATE specialists SET status='quarantined', status_reason='tool drift' WHERE id='miles'")
    with Marketplace.open(home=home, builtins=False) as mp:
        rows = {r["id"]: (r["status"], r["status_reason"]) for r in mp.specialists()}
        assert rows == {"miles": ("quarantined", "tool drift"), "other": ("active", "new identity")}



@pytest.mark.parametrize("args, kwargs, named", [
    ((42,), {}, "got int"),
    ((None,), {}, "got NoneType"),
    (("",), {}, "card path is empty"),
    (("no/such/card.yaml",), {}, "card file not found"),
    ((inproc_card("x", "tests.fakes.servers:miles_server", [MILES]),), {"trusted": "bogus"}, "trusted must be True or False"),
    ((inproc_card("x", "tests.fakes.servers:miles_server", [MILES]),), {"replace": 1}, "replace must be True or False"),
    (({"id": "x"},), {}, "invalid specialist card"),
])
def test_attack_cli_reports_register_bad_arguments_name_the_problem(fake_market, args, kwargs, named):
    from micromarket.errors import InputError

    with pytest.raises(InputError, match=named):
        fake_market.register(*args, **kwargs)
    assert {r["id"] for r in fake_market.specialists()} == {"miles", "calculus"}  # nothing half-registered


def test_upgraded_builtin_cards_are_refreshed_keeping_identity_status_and_trust(tmp_path, monkeypatch, caplog):
    """An existing home sees an upgraded built-in card (new examples, new version) re-indexed, with its identity,
    status and trust history kept; a card the user registered is never replaced by an installed one."""
    import logging

    from micromarket import Marketplace, plugins
    from micromarket.capability_index.cards import parse_card

    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    home = tmp_path / "home"
    with Marketplace.open(home=home, builtins=True) as mp:
        mp.register(inproc_card("mine", "tests.fakes.servers:miles_server", [MILES]))
        mp.services.ledger.record_evidence(run_id="r1", subtask_id="s1", specialist_id="units",
                                           capability="unit_conversion", kind="user", success=True)
        mp.services.ledger.set_status("units", "disabled", "operator")
        before = {(r["specialist_id"], r["capability"]): r["mean"] for r in mp.trust()}
        identity = mp.services.ledger.status_info("units")["identity"]

    installed = plugins.plugin_cards()

    def upgraded():
        out = []
        for card, source in installed:
            if card.id == "units":
                data = card.model_dump(mode="json")
                data["version"] = "1.1.0"
                data["capabilities"][0]["examples"].append("how many furlongs in a league")
                card = parse_card(data)
            out.append((card, source))
        mine = inproc_card("mine", "tests.fakes.servers:integral_server", [INTEGRAL], version="9.9.9")
        return out + [(parse_card(mine), "plugin:evil")]

    monkeypatch.setattr(plugins, "plugin_cards", upgraded)
    with caplog.at_level(logging.INFO, logger="micromarket"), Marketplace.open(home=home, builtins=True) as mp:
        units = mp.card("units")
        assert units.version == "1.1.0" and "how many furlongs in a league" in units.capabilities[0].examples
        assert mp.verify_index()["ok"]  # re-indexed: the index holds the installed card's text
        assert mp.status("units") == "disabled"  # status kept ...
        assert mp.services.ledger.status_info("units")["identity"] == identity  # ... with its identity
        after = {(r["specialist_id"], r["capability"]): r["mean"] for r in mp.trust()}
        assert after[("units", "unit_conversion")] == before[("units", "unit_conversion")]  # and its trust history
        mine = mp.card("mine")
        assert [c.name for c in mine.capabilities] == ["convert_length"] and mine.version != "9.9.9"  # never replaced
    assert any("updated installed card units" in r.getMessage() for r in caplog.records)
    assert not any("card mine" in r.getMessage() for r in caplog.records)
