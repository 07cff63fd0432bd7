"""Chat-model loading for the orchestrator.

Specs:
- ``hf:<local dir or hub id>``  -> ChatHuggingFace over a local transformers text-generation pipeline
- ``hf:<file.gguf>``, ``hf:smollm2`` -> a GGUF model: llama.cpp in-process where llama-cpp-python is installed
                                   (decoding constrained to the JSON schema for structured output), else transformers
- ``hf-endpoint:<url>``        -> ChatHuggingFace over HuggingFaceEndpoint (TGI / vLLM / Inference Endpoints)
- ``openai-compatible:<url>#<model>`` -> ChatOpenAI(base_url=url) (vLLM, llama.cpp's server, Ollama, LM Studio)
- ``<provider>:<model>``       -> langchain's ``init_chat_model`` (e.g. ``openai:gpt-4o-mini``)

Models are loaded once per process and spec.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, ConfigDict, PrivateAttr

from micromarket.errors import MicromarketError

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

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
            f"bad chat model spec {spec!r}: expected 'hf:<path, id or file.gguf>', 'hf-endpoint:<url>', "
            "'openai-compatible:<url>#<model>' or 'provider:model' (e.g. 'openai:gpt-4o-mini')"
        )
    if kind == "hf":
        from micromarket.specialists.microllm.gguf import gguf_runtime, resolve_gguf

        if resolve_gguf(rest) is not None and gguf_runtime() == "llama.cpp":
            return ChatLlamaCpp(gguf=rest)
        return _local_hf(rest)
    if kind == "hf-endpoint":
        return _endpoint(rest)
    if kind == "openai-compatible":
        return _openai_compatible(rest)
    return _init_chat_model(spec)


class _SchemaConstrained:
    """Structured output by JSON-schema-constrained decoding: ``response_format={"type": "json_object", "schema":
    ...}`` (llama.cpp turns the schema into a grammar), the reply parsed and validated. Small local models call no
    tools, so tool-calling structured output is not used."""

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Runnable:
        if include_raw:
            raise NotImplementedError("include_raw is not supported by schema-constrained output")
        pydantic = isinstance(schema, type) and issubclass(schema, BaseModel)
        json_schema = schema.model_json_schema() if pydantic else dict(schema)
        parser = PydanticOutputParser(pydantic_object=schema) if pydantic else JsonOutputParser()
        return self.bind(response_format={"type": "json_object", "schema": json_schema}) | parser  # type: ignore[attr-defined]


class ChatLlamaCpp(_SchemaConstrained, BaseChatModel):
    """A GGUF chat model run in-process by llama.cpp with greedy decoding (one generation at a time)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    gguf: str
    max_tokens: int = MAX_NEW_TOKENS
    _llm: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def model_post_init(self, context: Any) -> None:
        from micromarket.specialists.microllm.gguf import open_llama  # deferred: native library

        self._llm = open_llama(self.gguf)

    @property
    def _llm_type(self) -> str:
        return "llama.cpp"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        roles = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
        msgs = [{"role": roles.get(m.type, "user"), "content": m.text} for m in messages]
        with self._lock:  # one llama.cpp context: one generation at a time
            out = self._llm.create_chat_completion(
                messages=msgs, temperature=0.0, max_tokens=kwargs.get("max_tokens", self.max_tokens), stop=stop,
                response_format=kwargs.get("response_format"),
            )
        choice = out["choices"][0]
        meta = {"finish_reason": choice.get("finish_reason"), "token_usage": out.get("usage", {}), "model_name": self.gguf}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=choice["message"]["content"] or "", response_metadata=meta))])


def _openai_compatible(rest: str) -> BaseChatModel:
    from langchain_openai import ChatOpenAI  # deferred: openai client

    from micromarket.specialists.microllm.engine import split_openai

    url, model = split_openai(rest)

    class OpenAICompatible(_SchemaConstrained, ChatOpenAI):
        """ChatOpenAI for a local server: JSON-object structured output (llama.cpp's server has no json_schema)."""

    return OpenAICompatible(base_url=url, model=model, api_key="not-needed", temperature=0.0, max_tokens=MAX_NEW_TOKENS, max_retries=1)


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
