"""The packaged MiniLM through ONNX Runtime: the same vectors as sentence-transformers, without importing torch.

Importing sentence-transformers (torch, transformers, sklearn, ...) costs 4-5 CPU-seconds, most of a cold
``micromarket solve``. ONNX Runtime and the Rust ``tokenizers`` load in ~0.3 s. The ONNX graph is exported
once per machine from the packaged safetensors weights with ``torch.onnx`` (~6 s, the only time torch is
imported) into ``$MICROMARKET_CACHE`` (default ``$XDG_CACHE_HOME/micromarket`` or ``~/.cache/micromarket``),
keyed by a hash of the weights; later processes only load it. Pooling and normalisation are those of
all-MiniLM-L6-v2's sentence-transformers config (mean over the attention mask, L2). Vectors agree with
sentence-transformers to ~1e-7 (checked by tests/integration/test_index_minilm.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from pathlib import Path

from langchain_core.embeddings import Embeddings

BATCH = 32
_export_lock = threading.Lock()


def cache_dir() -> Path:
    base = os.environ.get("MICROMARKET_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "micromarket"
    return Path(base).expanduser()


def _onnx_path(model_dir: Path) -> Path:
    st = (model_dir / "model.safetensors").stat()
    key = hashlib.sha256(f"{model_dir.resolve()}|{st.st_size}|{st.st_mtime_ns}|opset17".encode()).hexdigest()[:16]
    return cache_dir() / f"minilm-{key}.onnx"


def _export(model_dir: Path, dest: Path) -> None:
    """Export the BERT encoder (last hidden state) to ONNX; written atomically (other processes may race)."""
    import torch  # deferred: torch, only for the one-time export
    from transformers import AutoModel  # deferred: transformers

    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class Encoder(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    x = torch.ones(2, 8, dtype=torch.long)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about constant shape checks; the graph is checked by the tests
        torch.onnx.export(Encoder(model), (x, x, torch.zeros_like(x)), str(tmp), input_names=names,
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]})
    os.replace(tmp, dest)


class ExportFailed(RuntimeError):
    """The one-time ONNX export failed on this machine (the reason is cached next to where the graph would be)."""

    def __init__(self, reason: str, cached: bool = False):
        super().__init__(reason)
        self.cached = cached


def _exporter_versions() -> dict[str, str | None]:
    """The packages the export depends on (their metadata only: importing torch is what the cache avoids)."""
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in ("torch", "transformers", "onnx"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _failure_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".failed.json")


def _export_once(model_dir: Path, dest: Path) -> None:
    """Export, unless an export with the same weights and exporter versions already failed: every cold process
    would otherwise pay several seconds of torch import to fail again. The failure is cached with its reason;
    deleting the file, or another torch/transformers/onnx version, retries."""
    failed, versions = _failure_path(dest), _exporter_versions()
    try:
        cached = json.loads(failed.read_text())
    except (OSError, ValueError):
        cached = None
    if isinstance(cached, dict) and cached.get("versions") == versions:
        raise ExportFailed(f"{cached.get('reason')} (cached in {failed}; delete it to retry)", cached=True)
    try:
        _export(model_dir, dest)
    except Exception as e:
        reason = f"ONNX export failed: {type(e).__name__}: {e}"
        try:
            failed.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(json.dumps({"reason": reason, "versions": versions}))
        except OSError:
            pass
        raise ExportFailed(reason) from e
    failed.unlink(missing_ok=True)


class OnnxMiniLM(Embeddings):
    """A sentence-transformers BERT model (mean pooling, normalised) run by ONNX Runtime."""

    def __init__(self, model_dir: str | Path):
        import onnxruntime as ort  # deferred: onnxruntime
        from tokenizers import Tokenizer  # deferred: tokenizers

        model_dir = Path(model_dir)
        max_len = int(json.loads((model_dir / "sentence_bert_config.json").read_text()).get("max_seq_length", 256))
        self.dim = int(json.loads((model_dir / "config.json").read_text())["hidden_size"])
        path = _onnx_path(model_dir)
        if not path.exists():
            with _export_lock:
                if not path.exists():
                    _export_once(model_dir, path)
        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tok.enable_truncation(max_len)
        self._tok.enable_padding()
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.enable_cpu_mem_arena = False  # after an index build a warm daemon keeps no peak-sized arena
        # ONNX Runtime's worker threads busy-wait for work by default: half the CPU of a single query and a quarter
        # of a batch's went to spinning (docs/performance.md, round 3), and faster without it on a busy machine
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def token_states(self, texts: list[str]):
        """(encodings, last hidden states [batch, tokens, dim], attention mask) of one batch of texts."""
        import numpy as np  # deferred: numpy

        enc = self._tok.encode_batch(list(texts))
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        types = np.array([e.type_ids for e in enc], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        return enc, hidden, mask

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np  # deferred: numpy

        out: list[list[float]] = []
        for i in range(0, len(texts), BATCH):
            _, hidden, mask = self.token_states(texts[i:i + BATCH])
            m = mask[..., None].astype(np.float32)
            vec = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            vec /= np.clip(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12, None)
            out.extend(vec.tolist())
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]


def load(model_dir: str | Path) -> Embeddings | None:
    """The ONNX model, or None when ONNX Runtime (or the one-time export) is not available."""
    if os.environ.get("MICROMARKET_EMBEDDING_BACKEND", "").lower() == "torch":
        return None
    try:
        return OnnxMiniLM(model_dir)
    except Exception as e:  # noqa: BLE001 - no onnxruntime/onnx, or an export failure: sentence-transformers instead
        import logging

        fresh = isinstance(e, ExportFailed) and not e.cached  # said once, when it fails; later processes log it quietly
        level = logging.WARNING if fresh else logging.DEBUG
        logging.getLogger("micromarket").log(level, "ONNX MiniLM unavailable (%s); using sentence-transformers", e)
        return None
