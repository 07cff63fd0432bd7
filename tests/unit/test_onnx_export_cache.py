"""A failed one-time ONNX export is cached with its reason: later cold processes do not pay torch's import to fail
again, until the exporter's versions change or the file is deleted."""

from __future__ import annotations

import pytest

from micromarket.capability_index import onnx_embeddings as ox


def test_a_failed_export_is_tried_once_and_its_reason_kept(tmp_path, monkeypatch):
    calls: list[str] = []

    def broken(model_dir, dest):
        calls.append(str(dest))
        raise RuntimeError("opset 17 is not supported here")

    monkeypatch.setattr(ox, "_export", broken)
    monkeypatch.setattr(ox, "_exporter_versions", lambda: {"torch": "2.0", "transformers": "4.0", "onnx": None})
    dest = tmp_path / "minilm-x.onnx"
    with pytest.raises(ox.ExportFailed, match="opset 17 is not supported here") as first:
        ox._export_once(tmp_path, dest)
    assert not first.value.cached
    with pytest.raises(ox.ExportFailed, match="opset 17 is not supported here.*delete it to retry") as second:
        ox._export_once(tmp_path, dest)
    assert second.value.cached and len(calls) == 1  # the second process did not export again

    monkeypatch.setattr(ox, "_exporter_versions", lambda: {"torch": "2.1", "transformers": "4.0", "onnx": "1.17"})
    monkeypatch.setattr(ox, "_export", lambda model_dir, d: (calls.append("retry"), d.write_bytes(b"graph")))
    ox._export_once(tmp_path, dest)  # another torch: tried again, and it worked
    assert calls[-1] == "retry" and dest.read_bytes() == b"graph" and not ox._failure_path(dest).exists()


@pytest.mark.parametrize("cached, level", [(False, "WARNING"), (True, "DEBUG")])
def test_load_falls_back_and_says_a_new_failure_once(tmp_path, monkeypatch, caplog, cached, level):
    monkeypatch.delenv("MICROMARKET_EMBEDDING_BACKEND", raising=False)

    def refuse(model_dir):
        raise ox.ExportFailed("ONNX export failed: RuntimeError: no", cached=cached)

    monkeypatch.setattr(ox, "OnnxMiniLM", refuse)
    with caplog.at_level("DEBUG", logger="micromarket"):
        assert ox.load(tmp_path) is None
    assert [r.levelname for r in caplog.records] == [level]
    assert "ONNX export failed: RuntimeError: no" in caplog.text and "using sentence-transformers" in caplog.text
