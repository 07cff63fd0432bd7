"""Scale-out on real servers: the capability index in a Chroma server (`chroma run`, HttpClient), and a remote
specialist over streamable HTTP; two orchestrator processes share the one index."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.integration.server_support import env_for, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

MORSE_SERVER = textwrap.dedent(
    '''
    import sys
    from mcp.server.mcpserver import MCPServer
    from micromarket.specialists.result import SolveResult

    CODE = {"A": ".-", "B": "-...", "C": "-.-.", "D": "-..", "E": ".", "F": "..-.", "G": "--.", "H": "....", "I": "..",
            "J": ".---", "K": "-.-", "L": ".-..", "M": "--", "N": "-.", "O": "---", "P": ".--.", "Q": "--.-", "R": ".-.",
            "S": "...", "T": "-", "U": "..-", "V": "...-", "W": ".--", "X": "-..-", "Y": "-.--", "Z": "--.."}
    mcp = MCPServer("morse", log_level="WARNING")

    @mcp.tool()
    def solve(task: str, context: str = "") -> SolveResult:
        """Encode a word in Morse code."""
        import re
        m = re.search(r"['\\"]([A-Za-z ]+)['\\"]", task) or re.search(r"([A-Za-z]+)\\s+(?:in|to|into)\\s+morse", task, re.I)
        if not m:
            return SolveResult(answer="", confidence=0.0, explanation="no quoted word to encode")
        word = m.group(1).upper()
        return SolveResult(answer=" ".join(CODE[c] for c in word if c in CODE), confidence=0.99,
                           explanation=f"International Morse code of {word}")

    if __name__ == "__main__":
        mcp.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
    '''
)

MORSE_CARD = {
    "id": "morse",
    "name": "Morse code",
    "description": "Encodes text in International Morse code (dots and dashes), served remotely over streamable HTTP",
    "capabilities": [{"name": "encode_morse", "description": "Encode a word or text in Morse code, dots and dashes",
                      "examples": ["Encode 'SOS' in Morse code", "write HELLO in morse"]}],
    "cost_per_call": 0.001,
}


def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path | None = None, timeout: float = 90) -> None:
    t0 = time.monotonic()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() - t0 > timeout:
                raise AssertionError(f"{what} did not start" + (f": {log.read_text()[-2000:]}" if log else "")) from None
            time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    exe = Path(sys.executable).with_name("chroma")
    exe = str(exe) if exe.exists() else shutil.which("chroma")
    if not exe:
        pytest.skip("the chroma CLI is not installed")
    d = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = d / "chroma.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen([exe, "run", "--path", str(d / "data"), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_port(port, proc, "chroma run", log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def remote_specialist(tmp_path_factory):
    d = tmp_path_factory.mktemp("remote-specialist")
    (d / "morse_server.py").write_text(MORSE_SERVER)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, str(d / "morse_server.py"), str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_port(port, proc, "the remote specialist")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        _stop(proc)


def test_index_in_chroma_server_and_remote_http_specialist(chroma, remote_specialist, tmp_path):
    import chromadb

    from micromarket import Marketplace

    home = tmp_path / "home"
    mp = Marketplace.open(home=home, chroma_url=chroma)
    try:
        assert mp.services.index.location == chroma
        mp.register({**MORSE_CARD, "transport": {"kind": "http", "url": remote_specialist}})
        out = mp.solve("Encode 'SOS' in Morse code")
        (sub,) = out["subtasks"]
        assert sub["specialist"] == "morse" and sub["answer"] == "... --- ...", sub
        assert mp.verify_index().get("ok"), mp.verify_index()
        n_caps = sum(len(mp.card(s["id"]).capabilities) for s in mp.specialists() if s["status"] in ("active", "newcomer"))
    finally:
        mp.close()
    assert not (home / "chroma").exists(), "server mode must not create a local Chroma directory"

    # the collection lives in the server
    u = chroma.rsplit(":", 1)
    col = chromadb.HttpClient(host="127.0.0.1", port=int(u[1])).get_collection("capabilities")
    assert col.count() == n_caps and col.get(ids=["morse.encode_morse"])["ids"] == ["morse.encode_morse"]

    # another orchestrator process, same index server (configured through the environment)
    p = subprocess.run([sys.executable, "-m", "micromarket.cli", "solve", "Encode 'SOS' in Morse code", "--json"],
                       env=env_for(home, MICROMARKET_CHROMA_URL=chroma), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert res["subtasks"][0]["specialist"] == "morse" and res["subtasks"][0]["answer"] == "... --- ..."
    assert not (home / "chroma").exists()
