"""Attack A10: unauthenticated trust poisoning through the HTTP front door (`micromarket serve --transport http`).

A real server process on a free loopback port; clients are the mcp SDK's streamable HTTP client, raw httpx
(to send what a hostile page or process would) and the `micromarket solve` CLI."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.server_support import free_port, http_server

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

TASK = "convert 5 miles to km"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "attacker", "version": "0"}}}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, MICROMARKET_EMBEDDING_MODEL="fake", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False", PYTHONUNBUFFERED="1")
    env.pop("MICROMARKET_NO_DAEMON", None)
    env.update(extra)
    return env


def _serve_argv(home: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "micromarket.cli", "serve", "--transport", "http", "--home", str(home), *more]


def _make_home(home: Path) -> Path:
    from micromarket import Marketplace
    from tests.conftest import MILES, inproc_card

    mp = Marketplace.open(home=home, builtins=False, embedding_model="fake")
    mp.register(inproc_card("miles", "tests.fakes.servers:miles_server", [MILES]))
    mp.close()
    return home


def _server(home: Path, *more: str):
    """The real front door on a free loopback port (fake embeddings, as the home was made with)."""
    return http_server(home, *more, env=_env())


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = _make_home(tmp_path_factory.mktemp("a10") / "home")
    with _server(home) as info:
        info["home"] = home
        info["token"] = (home / "token").read_text().strip()
        yield info


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def _session(url: str, headers: dict[str, str] | None):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers=headers or {}, timeout=httpx2.Timeout(60, read=300)) as client:
        async with Client(streamable_http_client(url, http_client=client)) as s:
            yield s


async def _trust(session) -> dict[str, float]:
    rows = json.loads((await session.read_resource("micromarket://trust")).contents[0].text)
    return {f"{r['specialist_id']}.{r['capability']}": r["mean"] for r in rows}


def test_attack_http_auth_token_file_is_private(served):
    path = served["home"] / "token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(served["token"]) >= 32 and served["token"] not in (served["home"] / "daemon.json").read_text()


async def test_attack_http_auth_no_token_is_refused_and_trust_unchanged(served):
    url = served["url"]
    async with _session(url, _auth(served["token"])) as s:
        run_id = (await s.call_tool("solve", {"task": TASK})).structured_content["run_id"]
        before = await _trust(s)
    # what the attack session did: feedback without credentials, several times
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "feedback", "arguments": {"run_id": run_id, "verdict": "bad"}}}
    async with httpx.AsyncClient(timeout=30) as raw:
        for _ in range(4):
            for body in (INIT, call):
                r = await raw.post(url, json=body, headers=MCP_HEADERS)
                assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert (await raw.get(url.replace("/mcp", "/healthz"))).status_code == 401
    with pytest.raises(BaseException):  # noqa: B017 - the SDK client surfaces the 401 as an (exception group) error
        async with _session(url, None):
            pass
    async with _session(url, _auth(served["token"])) as s:
        assert await _trust(s) == before


async def test_attack_http_auth_wrong_token_is_refused(served):
    async with httpx.AsyncClient(timeout=30) as raw:
        for bad in ("x" * 43, served["token"][:-1], served["token"] + "x", served["token"].upper()):
            r = await raw.post(served["url"], json=INIT, headers={**MCP_HEADERS, **_auth(bad)})
            assert r.status_code == 401, bad
        r = await raw.post(served["url"], json=INIT, headers={**MCP_HEADERS, "Authorization": served["token"]})
        assert r.status_code == 401  # no "Bearer " scheme


async def test_attack_http_auth_right_token_works(served):
    async with _session(served["url"], _auth(served["token"])) as s:
        res = await s.call_tool("solve", {"task": TASK})
        assert not res.is_error and "8.05" in res.structured_content["answer"]
        assert res.structured_content["subtasks"][0]["specialist"] == "miles"


async def test_attack_http_auth_bad_host_and_foreign_origin_are_rejected(served):
    port = served["port"]
    hdrs = {**MCP_HEADERS, **_auth(served["token"])}
    async with httpx.AsyncClient(timeout=30) as raw:
        r = await raw.post(served["url"], json=INIT, headers={**hdrs, "Host": f"attacker.example:{port}"})
        assert r.status_code == 421  # DNS rebinding: a name that resolves here but is not ours
        r = await raw.post(served["url"], json=INIT, headers={**hdrs, "Origin": "http://attacker.example"})
        assert r.status_code == 403
        r = await raw.post(served["url"], json=INIT, headers={**hdrs, "Origin": f"http://localhost:{port + 1}"})
        assert r.status_code == 403
        ok = await raw.post(served["url"], json=INIT, headers={**hdrs, "Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"})
        assert ok.status_code == 200


def test_attack_http_auth_cli_solve_through_daemon_reads_the_token(served):
    home = served["home"]
    argv = [sys.executable, "-m", "micromarket.cli", "solve", "--json", "--home", str(home), TASK]
    p = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "8.05" in json.loads(p.stdout)["answer"]
    # proof that it went through the daemon: with a token that is not the daemon's, the CLI reports the refusal
    tok = home / "token"
    good = tok.read_text()
    try:
        tok.write_text("not-the-daemons-token-" + "y" * 30)
        p = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=180)
        assert p.returncode != 0 and "refused" in p.stderr and "token" in p.stderr
    finally:
        tok.write_text(good)
        tok.chmod(0o600)


async def test_attack_http_auth_repeated_feedback_moves_trust_once(served):
    # after the solves above: a bad rating also teaches retrieval to avoid the specialist
    async with _session(served["url"], _auth(served["token"])) as s:
        run_id = (await s.call_tool("solve", {"task": TASK})).structured_content["run_id"]
        t0 = await _trust(s)
        first = await s.call_tool("feedback", {"run_id": run_id, "verdict": "bad"})
        assert not first.is_error and all(u["updated"] for u in first.structured_content["updated"])
        t1 = await _trust(s)
        key = next(k for k in t1 if k.startswith("miles."))
        assert t1[key] < t0[key]
        for verdict in ("bad", "bad", "good", "bad"):
            again = await s.call_tool("feedback", {"run_id": run_id, "verdict": verdict})
            assert not again.is_error and not any(u["updated"] for u in again.structured_content["updated"])
        sub = first.structured_content["updated"][0]["subtask_id"]
        per_sub = await s.call_tool("feedback", {"run_id": run_id, "verdict": "bad", "subtask_id": sub})
        assert not any(u["updated"] for u in per_sub.structured_content["updated"])
        assert await _trust(s) == t1


@pytest.mark.parametrize("more, says", [
    (["--host", "0.0.0.0", "--no-auth"], "--no-auth is allowed on a loopback address only"),
    (["--host", "0.0.0.0", "--no-auth", "--allow-remote"], "--no-auth is allowed on a loopback address only"),
    (["--host", "0.0.0.0"], "--allow-remote"),
    (["--host", "::"], "--allow-remote"),
])
def test_attack_http_auth_unsafe_binds_are_refused(tmp_path, more, says):
    home = tmp_path / "home"
    p = subprocess.run(_serve_argv(home, "--port", str(free_port()), *more), env=_env(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode != 0
    assert says in " ".join(p.stderr.split()), p.stderr[-2000:]
    assert not (home / "daemon.json").exists()


def test_attack_http_auth_token_readable_by_others_is_refused(tmp_path):
    home = _make_home(tmp_path / "home")
    tok = home / "token"
    tok.write_text("z" * 43 + "\n")
    tok.chmod(0o644)
    p = subprocess.run(_serve_argv(home, "--port", str(free_port())), env=_env(), capture_output=True, text=True, timeout=180)
    assert p.returncode != 0 and "readable by others" in " ".join(p.stderr.split()), p.stderr[-2000:]
    assert not (home / "daemon.json").exists()


async def test_attack_http_auth_no_auth_on_loopback_serves(tmp_path):
    """`--no-auth` exists for the MCP conformance suite: allowed on loopback, Host checks still hold."""
    home = _make_home(tmp_path / "home")
    with _server(home, "--no-auth") as info:
        assert info["auth"] == "none"
        async with _session(info["url"], None) as s:
            assert "solve" in {t.name for t in (await s.list_tools()).tools}
        async with httpx.AsyncClient(timeout=30) as raw:
            r = await raw.post(info["url"], json=INIT, headers={**MCP_HEADERS, "Host": "attacker.example"})
            assert r.status_code == 421


async def test_attack_http_auth_feedback_budget_per_caller(fake_market):
    """A caller's ratings are bounded per window: fresh runs do not buy more trust movement."""
    from mcp import Client

    from micromarket import server
    from micromarket.server.app import FeedbackBudget

    mcp = server.build_server(fake_market, feedback_budget=FeedbackBudget(limit=2, window_s=3600))
    async with Client(mcp) as s:
        runs = [(await s.call_tool("solve", {"task": TASK})).structured_content["run_id"] for _ in range(4)]
        first = await s.call_tool("feedback", {"run_id": runs[0], "verdict": "bad"})
        for _ in range(3):  # a repeat moves nothing and costs nothing
            again = await s.call_tool("feedback", {"run_id": runs[0], "verdict": "bad"})
            assert not again.is_error and not any(u["updated"] for u in again.structured_content["updated"])
        second = await s.call_tool("feedback", {"run_id": runs[1], "verdict": "bad"})
        assert not first.is_error and not second.is_error and second.structured_content["updated"][0]["updated"]
        mean = {t["capability"]: t["mean"] for t in fake_market.trust() if t["specialist_id"] == "miles"}
        spent = await s.call_tool("feedback", {"run_id": runs[2], "verdict": "bad"})
        assert spent.is_error and "budget" in spent.content[0].text
        assert {t["capability"]: t["mean"] for t in fake_market.trust() if t["specialist_id"] == "miles"} == mean
