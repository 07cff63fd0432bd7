"""The package's shape: declared layers hold (import-linter) and no project module is part of an import cycle."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    """The package laid out as the wheel installs it (grimp walks one directory per package)."""
    spec = importlib.util.spec_from_file_location("mirror_layout", ROOT / ".ci" / "mirror_layout.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.mirror(tmp_path_factory.mktemp("layout"))


def _in_mirror(mirror: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=mirror, env={"PYTHONPATH": str(mirror), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)


def test_layers_contract_holds(mirror):
    proc = _in_mirror(mirror, "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "BROKEN" not in proc.stdout and "1 kept, 0 broken" in proc.stdout


def test_no_import_cycles_between_project_modules(mirror):
    code = (
        "import grimp, json, networkx as nx\n"
        "g = grimp.build_graph('micromarket', cache_dir=None)\n"
        "d = nx.DiGraph()\n"
        "for m in g.modules:\n"
        "    for i in g.find_modules_directly_imported_by(m):\n"
        "        if m != 'micromarket' and i != 'micromarket': d.add_edge(m, i)\n"
        "print(json.dumps([sorted(c) for c in nx.strongly_connected_components(d) if len(c) > 1]))\n"
    )
    proc = _in_mirror(mirror, code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]", f"import cycles: {proc.stdout}"
