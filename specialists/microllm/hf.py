"""Loading Hugging Face models and tokenizers (local directory, cached hub id or GGUF file) with user-facing errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from micromarket.errors import MicromarketError

CONFIG_FILE = "microllm.json"  # the serving config next to the weights (engine.ServeConfig)
ADAPTER_CONFIG = "adapter_config.json"  # peft's: marks a LoRA adapter directory

# Used when a tokenizer has no chat template: plain "role: content" turns.
FALLBACK_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)


def resolve_source(spec: str) -> str:
    """A local directory (must hold config.json) or a hub id; a GGUF spec (``file.gguf``, ``smollm2``) becomes its
    cached dense directory. Raises MicromarketError for missing paths."""
    from micromarket.specialists.microllm.gguf import dense_dir, resolve_gguf

    spec = spec.strip()
    if not spec:
        raise MicromarketError("empty model name: give a local model directory, a .gguf file or a Hugging Face model id")
    if resolve_gguf(spec) is not None:
        return str(dense_dir(spec))
    p = Path(spec).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise MicromarketError(f"{p} is not a Hugging Face model directory (no config.json); save one with save_pretrained")
        return str(p.resolve())
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:  # hub ids are "name" or "org/name"
        raise MicromarketError(f"model directory not found: {p}")
    return spec


def load_pretrained(spec: str) -> tuple[Any, Any, bool]:
    """(tokenizer, model, is_seq2seq) in eval mode; the tokenizer always has a pad token."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    if (Path(spec).expanduser() / ADAPTER_CONFIG).is_file():  # a LoRA adapter (`train --base`): base + adapter
        return load_adapted(spec)
    src = resolve_source(spec)
    try:
        config = AutoConfig.from_pretrained(src)
        tok = AutoTokenizer.from_pretrained(src)
        seq2seq = bool(getattr(config, "is_encoder_decoder", False))
        cls = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
        model = cls.from_pretrained(src)
    except (OSError, ValueError, KeyError) as e:
        offline = " (the Hugging Face hub is offline: HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE") else ""
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise MicromarketError(f"cannot load model {spec!r}{offline}: {first}") from None
    model.eval()
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token or tok.unk_token
    if not seq2seq:
        tok.padding_side = "left"  # batched generation appends on the right
    return tok, model, seq2seq


def load_adapted(model_dir: str | Path) -> tuple[Any, Any, bool]:
    """(tokenizer, base + LoRA adapter merged, False) for a `train --base` output; its microllm.json names the base
    (``base_model`` as loaded, ``base_spec`` as given: used when the dense GGUF cache was removed)."""
    import json

    from peft import PeftModel  # deferred: peft / torch

    model_dir = Path(model_dir).expanduser()
    cfg = model_dir / CONFIG_FILE
    extra = json.loads(cfg.read_text()) if cfg.is_file() else {}
    base = extra.get("base_model")
    if base and not Path(base).exists() and extra.get("base_spec"):
        base = extra["base_spec"]
    if not base:
        raise MicromarketError(f"{model_dir} holds a LoRA adapter but its {CONFIG_FILE} names no base_model")
    tok, model, seq2seq = load_pretrained(base)
    model = PeftModel.from_pretrained(model, str(model_dir)).merge_and_unload()  # merged: plain-model inference speed
    model.eval()
    return tok, model, seq2seq


def has_chat_template(tok: Any) -> bool:
    return bool(getattr(tok, "chat_template", None))


def chat_prompt(tok: Any, user: str, system: str | None = None) -> str:
    """The prompt text for one user turn: the chat template when the tokenizer has one, else the raw text."""
    if not has_chat_template(tok):
        return user if system is None else f"{system}\n\n{user}"
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
    return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
