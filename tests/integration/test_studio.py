"""LangGraph Studio: `langgraph dev` serves the marketplace graph; langgraph-sdk drives it as Studio does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.server_support import env_for, free_port, prepare_home

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
TASK = "Convert 5 miles to kilometers, then integrate x^2 from 0 to 1"


def _langgraph() -> str | None:
    exe = Path(sys.executable).with_name("langgraph")
    return str(exe) if exe.exists() else shutil.which("langgraph")


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    if _langgraph() is None:
        pytest.skip("langgraph-cli[inmem] is not installed")
    home = prepare_home(tmp_path_factory.mktemp("studio") / "home")
    port = free_port()
    env = env_for(home, LANGGRAPH_CLI_NO_ANALYTICS="1", LANGGRAPH_NO_VERSION_CHECK="1", LANGSMITH_TRACING="false")
    log = open(home.parent / "langgraph-dev.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [_langgraph(), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    t0 = time.monotonic()
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"langgraph dev exited: {Path(log.name).read_text()[-3000:]}")
            try:
                if httpx.get(url + "/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - t0 > 180:
                raise AssertionError(f"langgraph dev did not start: {Path(log.name).read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"url": url, "home": home, "log": Path(log.name)}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


async def test_studio_streams_each_specialist_branch(studio):
    from langgraph_sdk import get_client

    client = get_client(url=studio["url"])
    assistants = await client.assistants.search(graph_id="micromarket")
    assert assistants, "the graph 'micromarket' from langgraph.json is registered"
    aid = assistants[0]["assistant_id"]

    schemas = await client.assistants.get_schemas(aid)
    assert schemas["input_schema"] and "task" in schemas["input_schema"]["properties"]
    assert schemas["output_schema"] and {"answer", "run_id", "subtasks"} <= set(schemas["output_schema"]["properties"])
    assert schemas.get("context_schema") and "redundancy" in schemas["context_schema"]["properties"]

    g = await client.assistants.get_graph(aid)
    node_ids = {n["id"] for n in g["nodes"]}
    assert {"decompose", "discover", "select", "run_specialist", "integrate", "update_trust"} <= node_ids

    thread = await client.threads.create()
    branches, tasks_started, final, events, updates = [], [], None, [], 0
    async for chunk in client.runs.stream(
        thread["thread_id"], aid, input={"task": TASK}, stream_mode=["updates", "tasks", "values"],
        context={"home": str(studio["home"]), "seed": 7, "call_timeout_s": 90},
    ):
        events.append((chunk.event, chunk.data))
        data = chunk.data if isinstance(chunk.data, dict) else {}
        if chunk.event == "error":
            raise AssertionError(f"run failed: {chunk.data}\n{studio['log'].read_text()[-3000:]}")
        if chunk.event == "updates" and "run_specialist" in data:
            updates += 1  # one update per branch (its `results` channel is internal, so the payload is empty)
        if chunk.event == "tasks" and data.get("name") == "run_specialist":
            if isinstance(data.get("input"), dict):  # a branch starts: its subtask and ranked candidates
                tasks_started.append(data["input"]["subtask"]["id"])
            if "result" in data:  # a branch ends: what it wrote
                res = data["result"]
                if isinstance(res, dict):
                    branches += res.get("results") or []
                else:  # [[channel, value], ...]
                    branches += [r for item in res if item[0] == "results" for r in item[1]]
        if chunk.event == "values":
            final = chunk.data
    # one visible update per Send branch, one per subtask, each naming its specialist
    assert sorted(b["subtask_id"] for b in branches) == ["s1", "s2"], branches
    assert sorted(tasks_started) == ["s1", "s2"] and updates == 2
    by_id = {b["subtask_id"]: b for b in branches}
    assert by_id["s1"]["specialist"] == "units" and ("8.05" in by_id["s1"]["answer"] or "8.047" in by_id["s1"]["answer"]), (by_id["s1"].get("reason"), by_id["s1"].get("attempts"))
    assert by_id["s2"]["specialist"] in ("math", "quickcalc") and by_id["s2"]["status"] == "ok"
    assert final and final["answer"] and final["run_id"]

    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["answer"] == final["answer"]
