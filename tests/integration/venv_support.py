"""Separate virtualenvs for software that must not share micromarket's (older mcp SDKs, clients pinned to mcp<2).

Each is built once from PyPI into a cache directory ($MICROMARKET_TEST_CACHE, default ~/.cache/micromarket-tests)
named after its requirements, and reused by later runs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

CACHE = Path(os.environ.get("MICROMARKET_TEST_CACHE", Path.home() / ".cache" / "micromarket-tests"))

# mcp 1.12 speaks 2025-06-18 at most, mcp 1.26 2025-11-25 (both with the initialize handshake)
MCP_2025_06_18 = ("mcp==1.12.4", "pydantic==2.11.7")  # its FastMCP predates pydantic 2.12
MCP_2025_11_25 = ("mcp==1.26.0", "langchain-mcp-adapters==0.3.2", "langgraph>=1.0,<2", "langchain-core>=1.0,<2")


def venv_python(requirements: tuple[str, ...]) -> Path:
    """The interpreter of a venv with exactly ``requirements`` installed (built on first use)."""
    key = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    root = CACHE / f"venv-{key}"
    py = root / "bin" / "python"
    done = root / ".complete"
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if not done.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements], check=True,
                           timeout=900)
            done.write_text("\n".join(requirements))
    return py
