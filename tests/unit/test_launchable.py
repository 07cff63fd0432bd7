"""What a card may make micromarket launch: resolved stdio programs and declared in-process targets."""

from __future__ import annotations

import sys

import pytest

from micromarket.capability_index.cards import Transport
from micromarket.errors import CardError
from micromarket.specialists.launchable import ALLOW_INPROCESS_ENV, check_inprocess, resolve_program, shown


def test_a_relative_program_needs_an_absolute_cwd_and_is_resolved_against_it(tmp_path):
    tool = tmp_path / "bin" / "server"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    with pytest.raises(CardError, match="relative path"):
        resolve_program(Transport(kind="stdio", command=["bin/server"]))
    assert resolve_program(Transport(kind="stdio", command=["bin/server"], cwd=str(tmp_path))) == str(tool)
    with pytest.raises(CardError, match="'..'"):
        resolve_program(Transport(kind="stdio", command=["bin/../bin/server"], cwd=str(tmp_path)))


def test_a_file_that_is_not_executable_is_refused(tmp_path):
    script = tmp_path / "server.py"
    script.write_text("print('hi')\n")
    with pytest.raises(CardError, match="not an executable file"):
        resolve_program(Transport(kind="stdio", command=[str(script)]))
    assert "cannot launch" in shown(Transport(kind="stdio", command=[str(script)]))
    assert shown(Transport(kind="stdio", command=["{python}", str(script)])) == f"stdio: {sys.executable} {script}"


def test_the_module_allowance_stops_at_a_module_boundary(monkeypatch):
    monkeypatch.setenv(ALLOW_INPROCESS_ENV, "tests")
    assert check_inprocess("tests.fakes.servers:miles_server")
    with pytest.raises(CardError, match="installed plugin"):
        check_inprocess("testsuite_evil:server")
    monkeypatch.setenv(ALLOW_INPROCESS_ENV, "")
    with pytest.raises(CardError, match="tests.fakes.servers:miles_server"):
        check_inprocess("tests.fakes.servers:miles_server")
