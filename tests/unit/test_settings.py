"""Settings from MICROMARKET_* variables and overrides: typed, immutable, bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from micromarket.errors import InputError
from micromarket.settings import Settings


def test_environment_is_read_and_overrides_win(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROMARKET_HOME", str(tmp_path / "env-home"))
    monkeypatch.setenv("MICROMARKET_CALL_TIMEOUT_S", "7.5")
    monkeypatch.setenv("MICROMARKET_BUILTINS", "false")
    monkeypatch.setenv("MICROMARKET_CHROMA_URL", "")  # empty means unset
    s = Settings.from_env()
    assert s.home == tmp_path / "env-home" and s.call_timeout_s == 7.5 and s.builtins is False and s.chroma_url is None
    assert s.chroma_dir == tmp_path / "env-home" / "chroma" and s.ledger_db.name == "ledger.sqlite"
    o = Settings.from_env(home="~/elsewhere", call_timeout_s=3, chat_model=None)
    assert o.home == Path.home() / "elsewhere" and o.call_timeout_s == 3.0 and o.chat_model is None


def test_bad_values_name_the_variable_or_setting(monkeypatch):
    monkeypatch.setenv("MICROMARKET_CALL_TIMEOUT_S", "soon")
    with pytest.raises(InputError, match=r"\$MICROMARKET_CALL_TIMEOUT_S='soon'"):
        Settings.from_env()
    monkeypatch.delenv("MICROMARKET_CALL_TIMEOUT_S")
    monkeypatch.setenv("MICROMARKET_BUILTINS", "maybe")
    with pytest.raises(InputError, match=r"\$MICROMARKET_BUILTINS='maybe'"):
        Settings.from_env()
    monkeypatch.delenv("MICROMARKET_BUILTINS")
    with pytest.raises(InputError, match=r"setting call_timeout_s='x'"):
        Settings.from_env(call_timeout_s="x")


def test_settings_are_immutable_and_copied_with_changes(tmp_path):
    s = Settings.from_env(home=tmp_path)
    with pytest.raises(Exception):
        s.home = tmp_path / "x"  # type: ignore[misc]
    t = s.model_copy(update={"chat_model": "hf:tiny"})
    assert t.chat_model == "hf:tiny" and s.chat_model is None and t.home == s.home and t != s


def test_daemon_client_finds_the_same_home(monkeypatch, tmp_path):
    from micromarket.daemon import home_dir

    monkeypatch.setenv("MICROMARKET_HOME", str(tmp_path / "h"))
    assert home_dir() == Settings.from_env().home
    assert home_dir("~/x") == Settings.from_env(home="~/x").home
