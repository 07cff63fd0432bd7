"""Shared fixtures: isolated homes, fake embeddings, card factories."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# CLI subprocesses of the tests run in process: an auto-started daemon would outlive the test. The daemon's own
# tests (tests/integration/test_cli_daemon.py) unset this and stop every daemon they start by its pid.
os.environ.setdefault("MICROMARKET_NO_DAEMON", "1")

# The fake specialists in tests/fakes (and tests/unit) run in process; a card may name an in-process target only
# when an installed plugin declares it or its module is under this allowance (inherited by CLI subprocesses).
from micromarket.specialists.launchable import allow_inprocess_modules  # noqa: E402

allow_inprocess_modules("tests")


def inproc_card(sid: str, target: str, caps: list[dict], **kw) -> dict:
    """A card for an in-process MCPServer defined in tests/fakes/servers.py."""
    return {
        "id": sid,
        "name": kw.pop("name", sid),
        "description": kw.pop("description", f"test specialist {sid}"),
        "capabilities": caps,
        "transport": {"kind": "inprocess", "target": target},
        **kw,
    }


MILES = {"name": "convert_length", "description": "convert miles to kilometers, length unit conversion of distances", "examples": ["convert 5 miles to km", "how many kilometers is 26.2 miles"]}
INTEGRAL = {"name": "integrate", "description": "integrate a function, definite integral of an expression from a to b", "examples": ["integrate x^2 from 0 to 1", "integrate sin(x) from 0 to pi"]}


@pytest.fixture
def fake_market(tmp_path, monkeypatch):
    """A marketplace with fake embeddings and in-process fake specialists (no model, no subprocess)."""
    from micromarket import Marketplace
    from tests.fakes import servers

    servers.BEHAVIOUR.update(sleep=0.0, fail=False)
    monkeypatch.setenv("MICROMARKET_EMBEDDING_MODEL", "fake")
    mp = Marketplace.open(home=tmp_path / "home", builtins=False, call_timeout_s=5)
    mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES], cost_per_call=0.001))
    mp.register(inproc_card("calculus", "tests.fakes.servers:integral_server", [INTEGRAL]))
    yield mp
    mp.close()


def pytest_collection_modifyitems(config, items):
    """The notebooks (run by nbmake: a Jupyter kernel, the real model, specialist processes) are integration tests:
    the fast subset `-m "not integration"` leaves them out."""
    for item in items:
        if str(getattr(item, "path", "")).endswith(".ipynb"):
            item.add_marker(pytest.mark.integration)
