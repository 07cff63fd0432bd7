"""The built wheel installs one import name, and an app with its own `nodes.py` and `graphs/` embeds the marketplace.

The wheel is built from the working tree and installed with --no-deps into a fresh virtualenv whose
dependencies come from the current environment (a .pth file), so micromarket itself is the wheel's copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

APP_NODES = '''
"""The app's own nodes module: a generic name that micromarket must not shadow."""
def shout(state):
    return {"answer": str(state["answer"]).upper()}
'''

APP_GRAPH = '''
"""The app's own graphs package, embedding the marketplace three ways."""
import asyncio, json, sys
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END
from langchain_core.messages import ToolMessage

import nodes  # the app's module
from micromarket import Marketplace

TASK = "Convert 26.2 miles to kilometers"


class S(TypedDict, total=False):
    task: str
    answer: str
    marketplace: dict


async def main(home):
    mp = Marketplace.open(home=home)
    try:
        out = {}
        # 1. as a node of the app's graph, next to the app's own node
        g = StateGraph(S)
        g.add_node("market", mp.as_node())
        g.add_node("shout", nodes.shout)
        g.add_edge(START, "market"); g.add_edge("market", "shout"); g.add_edge("shout", END)
        r = await g.compile().ainvoke({"task": TASK})
        out["node"] = r["answer"]
        # 2. the compiled marketplace graph as a subgraph (state keys task -> answer)
        p = StateGraph(S)
        p.add_node("micromarket", mp.graph)
        p.add_edge(START, "micromarket"); p.add_edge("micromarket", END)
        r = await p.compile().ainvoke({"task": TASK}, context=mp.context())
        out["subgraph"] = r["answer"]
        # 3. as a LangChain tool
        msg = await mp.as_tool().ainvoke({"type": "tool_call", "name": "micromarket_solve", "id": "c1", "args": {"task": TASK}})
        assert isinstance(msg, ToolMessage)
        out["tool"] = msg.content
        import micromarket
        out["micromarket_file"] = micromarket.__file__
        out["nodes_file"] = nodes.__file__
        print(json.dumps(out))
    finally:
        mp.close()


asyncio.run(main(sys.argv[1]))
'''


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "micromarket"  # build from a copy: setuptools writes build/ into the tree
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", "notebooks"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)], check=True, timeout=600)
    (whl,) = out.glob("micromarket-*.whl")
    return whl


def test_wheel_installs_only_the_micromarket_name(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        top = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        assert z.read(top).decode().split() == ["micromarket"]
        roots = {n.split("/", 1)[0] for n in names}
    assert roots == {"micromarket", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    assert "micromarket/graphs/marketplace.py" in names and "micromarket/specialists/builtin/cards/units.yaml" in names
    # every module of the source tree, as the package-dir mapping lays it out, is in the wheel
    import importlib.util

    spec = importlib.util.spec_from_file_location("mirror_layout", ROOT / ".ci" / "mirror_layout.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with tempfile.TemporaryDirectory() as tmp:
        tree = mod.mirror(Path(tmp))
        expected = {str(p.relative_to(tree)) for p in (tree / "micromarket").rglob("*.py")}
    assert expected - set(names) == set()


def test_app_with_its_own_nodes_and_graphs_embeds_the_marketplace(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    sp = Path(subprocess.check_output([str(py), "-c", "import site; print(site.getsitepackages()[0])"], text=True).strip())
    deps = [p for p in sys.path if p.endswith("site-packages")]  # dependencies from this environment
    (sp / "_deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(sp), str(wheel)], check=True, timeout=300)
    app = tmp_path / "app"
    (app / "graphs").mkdir(parents=True)
    (app / "nodes.py").write_text(textwrap.dedent(APP_NODES))
    (app / "graphs" / "__init__.py").write_text("")
    (app / "graphs" / "agent.py").write_text(textwrap.dedent(APP_GRAPH))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MICROMARKET_HOME")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", MICROMARKET_NO_DAEMON="1")
    proc = subprocess.run([str(py), "-m", "graphs.agent", str(tmp_path / "home")], cwd=app, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["micromarket_file"].startswith(str(sp)), out["micromarket_file"]  # the wheel's copy, not the source tree
    assert out["nodes_file"] == str(app / "nodes.py")
    assert "42.16" in out["node"] and out["node"] == out["node"].upper()  # the app's own node ran after ours
    assert "42.16" in out["subgraph"]
    assert "42.16" in out["tool"] and "units" in out["tool"]
