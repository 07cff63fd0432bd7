"""Chat-model loading for the orchestrator.

Specs:
- ``hf:<local dir or hub id>``  -> ChatHuggingFace over a local transformers text-generation pipeline
- ``hf-endpoint:<url>``        -> ChatHuggingFace over HuggingFaceEndpoint (TGI / vLLM / Inference Endpoints)
- ``<provider>:<model>``       -> langchain's ``init_chat_model`` (e.g. ``openai:gpt-4o-mini``)

Models are loaded once per process and spec.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from micromarket.errors import MicromarketError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

_cache: dict[str, BaseChatModel] = {}
_lock = threading.Lock()
MAX_NEW_TOKENS = 512


def load_chat_model(spec: str) -> BaseChatModel:
    """The chat model for ``spec`` (cached per process). Raises MicromarketError for bad specs or missing models."""
    if not isinstance(spec, str) or not spec.strip():
        raise MicromarketError("empty chat model spec: use 'hf:<path or id>', 'hf-endpoint:<url>' or 'provider:model'")
    spec = spec.strip()
    with _lock:
        if spec not in _cache:
            _cache[spec] = _load(spec)
        return _cache[spec]


def _load(spec: str) -> BaseChatModel:
    kind, sep, rest = spec.partition(":")
    rest = rest.strip()
    if not sep or not kind or not rest:
        raise MicromarketError(
            f"bad chat model spec {spec!r}: expected 'hf:<path or id>', 'hf-endpoint:<url>' or 'provider:model' (e.g. 'openai:gpt-4o-mini')"
        )
    if kind == "hf":
        return _local_hf(rest)
    if kind == "hf-endpoint":
        return _endpoint(rest)
    return _init_chat_model(spec)


def _local_hf(source: str) -> BaseChatModel:
    from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
    from transformers import pipeline

    from micromarket.specialists.microllm.hf import (  # deferred: torch / transformers
        FALLBACK_CHAT_TEMPLATE,
        has_chat_template,
        load_pretrained,
    )

    tok, model, seq2seq = load_pretrained(source)
    if seq2seq:  # transformers 5 has no text2text-generation pipeline
        raise MicromarketError(f"{source!r} is an encoder-decoder model; the chat model needs a causal LM (serve seq2seq models as specialists instead)")
    if not has_chat_template(tok):
        tok.chat_template = FALLBACK_CHAT_TEMPLATE  # ChatHuggingFace always renders a chat prompt
    pipe = pipeline("text-generation", model=model, tokenizer=tok, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, return_full_text=False)
    llm = HuggingFacePipeline(pipeline=pipe, model_id=source)
    return ChatHuggingFace(llm=llm, tokenizer=tok, model_id=source)


def _endpoint(url: str) -> BaseChatModel:
    from langchain_huggingface import ChatHuggingFace, HuggingFaceEndpoint

    if not url.startswith(("http://", "https://")):
        raise MicromarketError(f"hf-endpoint needs an http(s) URL, got {url!r}")
    llm = HuggingFaceEndpoint(endpoint_url=url, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, task="text-generation")
    return ChatHuggingFace(llm=llm, model_id=url)


def _init_chat_model(spec: str) -> BaseChatModel:
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(spec)
    except ImportError as e:
        raise MicromarketError(f"chat model {spec!r} needs a provider package that is not installed: {e}") from None
    except ValueError as e:
        raise MicromarketError(f"bad chat model spec {spec!r}: {str(e).splitlines()[0]}") from None
    except Exception as e:  # noqa: BLE001 - provider clients raise their own types (e.g. missing API key)
        raise MicromarketError(f"cannot create chat model {spec!r}: {type(e).__name__}: {e}") from None
