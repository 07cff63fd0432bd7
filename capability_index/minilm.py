"""all-MiniLM-L6-v2 inference in NumPy: the same weights, the same maths, no torch.

Why: a cold ``micromarket solve`` spent most of its time importing torch,
transformers and sentence-transformers (5-15 s on 2 shared cores) to run a
6-layer, 384-wide BERT on a handful of short texts. This module loads the
packaged safetensors weights with ``safetensors.numpy`` and the fast ``tokenizers``
tokenizer (together ~0.3 s) and runs the forward pass with NumPy/BLAS.

It reproduces sentence-transformers' pipeline for this model exactly:
newlines replaced by spaces (as langchain's HuggingFaceEmbeddings does),
WordPiece with [CLS]/[SEP], truncation at 256 tokens, BERT encoder (exact erf
GELU, LayerNorm eps 1e-12), attention-masked mean pooling, L2 normalisation.
Vectors agree with the torch path to cosine > 0.99999 (tested by
tests/unit/test_perf_minilm.py when torch is installed).

Texts are encoded in length-sorted batches (like sentence-transformers) so
that padding stays small; ``batch_size`` bounds the attention tensor.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

try:  # exact GELU as in BERT; scipy ships with sentence-transformers' deps
    from scipy.special import erf as _erf
except Exception:  # noqa: BLE001  pragma: no cover
    _erf = None


def _gelu(x: np.ndarray) -> np.ndarray:
    if _erf is not None:
        return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))
    return 0.5 * x * (1.0 + np.tanh(np.float32(0.7978845608028654) * (x + np.float32(0.044715) * x * x * x)))


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(-1, keepdims=True)
    return xc / np.sqrt(var + eps) * w + b


class _Layer:
    __slots__ = ("qkv_w", "qkv_b", "o_w", "o_b", "ln1_w", "ln1_b", "i_w", "i_b", "out_w", "out_b", "ln2_w", "ln2_b")


class NumpyMiniLM(Embeddings):
    """A BERT sentence encoder (mean pooling, normalised) from a sentence-transformers folder."""

    def __init__(self, path: str | Path, *, batch_size: int = 64, max_seq_length: int | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        path = Path(path)
        cfg = json.loads((path / "config.json").read_text())
        st_cfg_path = path / "sentence_bert_config.json"
        st_cfg = json.loads(st_cfg_path.read_text()) if st_cfg_path.exists() else {}
        self.max_len = int(max_seq_length or st_cfg.get("max_seq_length") or cfg.get("max_position_embeddings", 512))
        self.heads = int(cfg["num_attention_heads"])
        self.hidden = int(cfg["hidden_size"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.batch_size = batch_size
        w = load_file(str(path / "model.safetensors"))
        w = {k.removeprefix("bert."): v for k, v in w.items()}
        f32 = lambda k: np.ascontiguousarray(w[k], dtype=np.float32)  # noqa: E731
        self.word = f32("embeddings.word_embeddings.weight")
        self.pos = f32("embeddings.position_embeddings.weight")
        self.tok_type0 = f32("embeddings.token_type_embeddings.weight")[0]
        self.emb_ln = (f32("embeddings.LayerNorm.weight"), f32("embeddings.LayerNorm.bias"))
        self.layers: list[_Layer] = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            L = _Layer()
            # one fused (H, 3H) projection for q, k, v: one GEMM instead of three
            L.qkv_w = np.ascontiguousarray(
                np.concatenate([f32(p + f"attention.self.{n}.weight").T for n in ("query", "key", "value")], axis=1)
            )
            L.qkv_b = np.concatenate([f32(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")])
            L.o_w, L.o_b = np.ascontiguousarray(f32(p + "attention.output.dense.weight").T), f32(p + "attention.output.dense.bias")
            L.ln1_w, L.ln1_b = f32(p + "attention.output.LayerNorm.weight"), f32(p + "attention.output.LayerNorm.bias")
            L.i_w, L.i_b = np.ascontiguousarray(f32(p + "intermediate.dense.weight").T), f32(p + "intermediate.dense.bias")
            L.out_w, L.out_b = np.ascontiguousarray(f32(p + "output.dense.weight").T), f32(p + "output.dense.bias")
            L.ln2_w, L.ln2_b = f32(p + "output.LayerNorm.weight"), f32(p + "output.LayerNorm.bias")
            self.layers.append(L)
        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        tok.enable_truncation(max_length=self.max_len)
        tok.no_padding()
        self.tokenizer = tok
        self._lock = threading.Lock()  # the tokenizer and BLAS are shared; one forward at a time
        self.dim = self.hidden

    # -- the forward pass

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """ids, mask: (B, T) int -> (B, H) L2-normalised mean-pooled embeddings."""
        B, T = ids.shape
        H, nh = self.hidden, self.heads
        hd = H // nh
        x = self.word[ids] + self.pos[:T][None, :, :] + self.tok_type0
        x = _layer_norm(x, *self.emb_ln, self.eps).reshape(B * T, H)
        bias = ((1.0 - mask.astype(np.float32)) * np.float32(np.finfo(np.float32).min))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(hd))
        for L in self.layers:
            qkv = x @ L.qkv_w + L.qkv_b  # (B*T, 3H)
            qkv = qkv.reshape(B, T, 3, nh, hd).transpose(2, 0, 3, 1, 4)  # (3, B, nh, T, hd)
            q, k, v = qkv[0], qkv[1], qkv[2]
            s = (q * scale) @ k.transpose(0, 1, 3, 2) + bias  # (B, nh, T, T)
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(B * T, H)
            x = _layer_norm(ctx @ L.o_w + L.o_b + x, L.ln1_w, L.ln1_b, self.eps)
            h = _gelu(x @ L.i_w + L.i_b)
            x = _layer_norm(h @ L.out_w + L.out_b + x, L.ln2_w, L.ln2_b, self.eps)
        x = x.reshape(B, T, H)
        m = mask.astype(np.float32)[:, :, None]
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        n = np.linalg.norm(pooled, axis=1, keepdims=True)
        n[n == 0] = 1.0
        return pooled / n

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised; one call however many texts."""
        if not texts:
            return np.zeros((0, self.hidden), np.float32)
        texts = [t.replace("\n", " ") for t in texts]
        with self._lock:
            encs = self.tokenizer.encode_batch(texts, add_special_tokens=True)
            lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
            order = np.argsort(-lengths, kind="stable")  # longest first, like sentence-transformers
            out = np.empty((len(texts), self.hidden), np.float32)
            for off in range(0, len(texts), self.batch_size):
                idx = order[off : off + self.batch_size]
                T = int(lengths[idx].max())
                ids = np.zeros((len(idx), T), np.int64)
                mask = np.zeros((len(idx), T), np.int64)
                for r, j in enumerate(idx):
                    e = encs[j].ids
                    ids[r, : len(e)] = e
                    mask[r, : len(e)] = 1
                out[idx] = self._forward(ids, mask)
        return out

    # -- langchain Embeddings interface

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()
