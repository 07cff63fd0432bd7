"""Copy the package as the wheel lays it out (pyproject's package-dir mapping) into DIR.

import-linter and grimp walk one directory per package, so the layer and cycle checks run on this mirror.
Usage: python .ci/mirror_layout.py DIR
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def mirror(dest: Path) -> Path:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = cfg.get("package-dir", {})
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "out")
    shutil.copytree(ROOT / "micromarket", dest / "micromarket", ignore=ignore, dirs_exist_ok=True)
    for name, src in mapping.items():
        shutil.copytree(ROOT / src, dest.joinpath(*name.split(".")), ignore=ignore, dirs_exist_ok=True)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


if __name__ == "__main__":
    print(mirror(Path(sys.argv[1])))
