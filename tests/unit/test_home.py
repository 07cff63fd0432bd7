"""The data directory is one the user means: system directories are refused by name, a missing one is created."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from micromarket.errors import InputError
from micromarket.home import check_home, prepare_home


@pytest.mark.parametrize("bad", ["/etc", "/etc/micromarket", "/", "/usr/local/share/mm", "/proc/self", "/tmp", "~"])
def test_system_and_shared_directories_are_refused(bad):
    with pytest.raises(InputError) as ei:
        check_home(bad)
    assert "refusing" in str(ei.value) and str(Path(bad).expanduser().resolve()) in str(ei.value)


@pytest.mark.parametrize("bad", ["", "   ", 42, None])
def test_non_paths_are_refused(bad):
    with pytest.raises(InputError):
        check_home(bad)


def test_a_file_is_not_a_home(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        prepare_home(f)


def test_missing_home_is_created_and_said(tmp_path, caplog):
    target = tmp_path / "a" / "b" / "home"
    with caplog.at_level("WARNING", logger="micromarket.home"):
        assert prepare_home(target) == target.resolve()
    assert target.is_dir() and "created a new micromarket home" in caplog.text


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_home_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(InputError, match="not writable"):
        prepare_home(ro)
