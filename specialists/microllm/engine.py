"""Generation with token-probability confidence, shared by the MCP server and the trainers' evaluation.

Confidence of an answer = geometric mean (or minimum, per the model's ``microllm.json``) of the
probabilities the model gave to each generated token, end-of-sequence included, taken from the
unconstrained distribution. The model's "unknown" answer gets 0; an output the validator rejects gets
INVALID_FACTOR times its token confidence and no answer.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Literal

from micromarket.errors import InputError
from micromarket.specialists.microllm.hf import CONFIG_FILE  # the loader reads it too
from micromarket.specialists.result import SolveResult

# Used by the endpoint backend when the server returns no token logprobs.
FALLBACK_CONFIDENCE = 0.5
# An output the validator rejects keeps this fraction of its token confidence (low, but still ranked).
INVALID_FACTOR = 0.1


def _iso_date(text: str) -> str | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _integer(text: str) -> int | None:
    return int(text) if re.fullmatch(r"-?\d{1,15}", text) else None


VALIDATORS: dict[str, Callable[[str], Any]] = {"iso_date": _iso_date, "integer": _integer}

_DAYS_MAX = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def _iso_date_prefix(text: str) -> bool:
    """True when ``text`` can still be completed to a valid YYYY-MM-DD date (year 1000-2999)."""
    pattern = "1111-11-11"  # 1 = digit, '-' literal
    if len(text) > len(pattern):
        return False
    for ch, want in zip(text, pattern):
        if (want == "-") != (ch == "-") or (want == "1" and not ch.isdigit()):
            return False
    n = len(text)
    if n >= 1 and text[0] not in "12":
        return False
    if n == 4 and int(text[:4]) < 1000:
        return False
    if n >= 6 and text[5] not in "01":
        return False
    if n >= 7 and not 1 <= int(text[5:7]) <= 12:
        return False
    if n >= 9:
        month = int(text[5:7])
        top = _DAYS_MAX[month - 1]
        if int(text[8]) > top // 10:
            return False
        if n == 10:
            return _iso_date(text) is not None
    return True


# Constrained decoding: which partial outputs may still grow into a valid answer (validator key -> predicate).
PREFIX_VALIDATORS: dict[str, Callable[[str], bool]] = {"iso_date": _iso_date_prefix}


@dataclass
class ServeConfig:
    """How to prompt a model and read its answer; stored as ``microllm.json`` next to the weights."""

    use_context: bool = True  # prepend the call's context to the task
    system: str | None = None  # system message for chat templates
    max_new_tokens: int = 64
    confidence: Literal["geomean", "min"] = "geomean"
    unknown: str | None = None  # the model's "not my domain" answer
    allowed_chars: str | None = None  # constrained decoding: tokens made only of these chars (+ eos, unknown)
    validator: str | None = None  # key of VALIDATORS; invalid answers get confidence 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, model_dir: str | Path | None) -> ServeConfig:
        p = Path(model_dir) / CONFIG_FILE if model_dir else None
        if p is None or not p.is_file():
            return cls()
        data = json.loads(p.read_text())
        known = {k: data.pop(k) for k in list(data) if k in cls.__dataclass_fields__ and k != "extra"}
        return cls(**known, extra=data)

    def save(self, model_dir: str | Path) -> None:
        d = asdict(self)
        d.update(d.pop("extra"))
        (Path(model_dir) / CONFIG_FILE).write_text(json.dumps(d, indent=2))


@dataclass
class Generation:
    text: str
    probs: list[float] | None  # per generated token (eos included); None when unavailable

    def confidence(self, how: str = "geomean") -> float | None:
        if not self.probs:
            return None
        if how == "min":
            return float(min(self.probs))
        return float(math.exp(sum(math.log(max(p, 1e-12)) for p in self.probs) / len(self.probs)))


def _user_text(task: str, context: str, config: ServeConfig) -> str:
    return f"Context:\n{context}\n\nTask:\n{task}" if (context and config.use_context) else task


class LocalBackend:
    """transformers model (causal or seq2seq) run in-process with greedy, optionally constrained, decoding."""

    kind = "transformers"

    def __init__(self, model: str, config: ServeConfig | None = None):
        import torch
        from micromarket.specialists.microllm.hf import load_pretrained  # deferred: torch / transformers

        self.tok, self.model, self.seq2seq = load_pretrained(model)
        self.config = config or ServeConfig.load(model if Path(model).is_dir() else None)
        self.torch = torch
        self._mask = self._allowed_mask()

    def _allowed_mask(self):
        chars = self.config.allowed_chars
        if not chars:
            return None
        allowed = set(chars)
        vocab_size = self.model.get_output_embeddings().weight.shape[0]
        mask = self.torch.full((vocab_size,), float("-inf"))
        keep = {self.tok.eos_token_id}
        for tid in range(len(self.tok)):
            s = self.tok.convert_tokens_to_string([self.tok.convert_ids_to_tokens(tid)])
            if s and set(s) <= allowed and tid not in self.tok.all_special_ids:
                keep.add(tid)
        keep.update(self.tok.encode(self.config.unknown or "", add_special_tokens=False))
        for tid in keep:
            if tid is not None and tid < vocab_size:
                mask[tid] = 0.0
        return mask

    def _prefix_constraint(self, prefix_ok: Callable[[str], bool], start: int):
        """Logits processor: only tokens that keep the output a viable prefix of a valid answer (or the unknown
        answer, as a whole), and end-of-sequence only once the answer is complete. Confidence still comes from
        the unconstrained logits, so a forced answer keeps the low probability the model gave it."""
        torch = self.torch
        if not hasattr(self, "_token_text"):
            keep = (self._mask == 0).nonzero().flatten().tolist()
            self._token_text = {t: self.tok.convert_tokens_to_string([self.tok.convert_ids_to_tokens(t)]) for t in keep}
            self._unknown_ids = self.tok.encode(self.config.unknown or "", add_special_tokens=False) if self.config.unknown else []
        eos, skip = self.tok.eos_token_id, set(self.tok.all_special_ids)

        def constrain(input_ids, scores):
            bias = torch.full_like(scores, float("-inf"))
            for row, ids in enumerate(input_ids[:, start:].tolist()):
                ids = [i for i in ids if i not in skip]
                if self._unknown_ids and ids[: len(self._unknown_ids)] == self._unknown_ids[: len(ids)] and ids:
                    nxt = self._unknown_ids[len(ids)] if len(ids) < len(self._unknown_ids) else eos
                    bias[row, nxt] = 0.0
                    continue
                text = "".join(self._token_text.get(i, "") for i in ids)
                if not ids and self._unknown_ids:
                    bias[row, self._unknown_ids[0]] = 0.0
                for tid, piece in self._token_text.items():
                    if tid != eos and piece and prefix_ok(text + piece):
                        bias[row, tid] = 0.0
                if text and VALIDATORS[self.config.validator](text) is not None:
                    bias[row, eos] = 0.0
                if not torch.isfinite(bias[row]).any():
                    bias[row, eos] = 0.0
            return scores + bias

        return constrain

    def prompt(self, task: str, context: str = "") -> str:
        from micromarket.specialists.microllm.hf import chat_prompt  # deferred: torch / transformers

        user = _user_text(task, context, self.config)
        return chat_prompt(self.tok, user, self.config.system)

    def generate(self, prompts: list[str], batch_size: int = 128) -> list[Generation]:
        out: list[Generation] = []
        for i in range(0, len(prompts), batch_size):
            out.extend(self._generate_batch(prompts[i : i + batch_size]))
        return out

    def _generate_batch(self, prompts: list[str]) -> list[Generation]:
        torch = self.torch
        add_special = not any(p.startswith(self.tok.bos_token or "\0") for p in prompts)
        enc = self.tok(prompts, return_tensors="pt", padding=True, add_special_tokens=add_special)
        kwargs: dict[str, Any] = dict(
            max_new_tokens=self.config.max_new_tokens,
            do_sample=False,
            num_beams=1,
            return_dict_in_generate=True,
            output_logits=True,
            pad_token_id=self.tok.pad_token_id,
            eos_token_id=self.tok.eos_token_id,
        )
        processors = []
        if self._mask is not None:
            mask = self._mask

            def constrain(input_ids, scores):
                return scores + mask.to(scores.dtype)[: scores.shape[-1]]

            processors.append(constrain)
        prefix_ok = PREFIX_VALIDATORS.get(self.config.validator or "")
        if prefix_ok is not None and self._mask is not None:
            processors.append(self._prefix_constraint(prefix_ok, 0 if self.seq2seq else enc["input_ids"].shape[1]))
        if processors:
            kwargs["logits_processor"] = processors
        with torch.inference_mode():
            res = self.model.generate(**enc, **kwargs)
        new = res.sequences if self.seq2seq else res.sequences[:, enc["input_ids"].shape[1] :]
        if self.seq2seq:
            new = new[:, 1:]  # drop the decoder start token
        logprobs = torch.stack([torch.log_softmax(s.float(), dim=-1) for s in res.logits], dim=1)
        chosen = logprobs.gather(-1, new[:, : logprobs.shape[1]].unsqueeze(-1)).squeeze(-1).exp()
        gens = []
        for row, probs in zip(new.tolist(), chosen.tolist()):
            ids, ps = [], []
            for tid, p in zip(row, probs):
                ps.append(p)
                if tid == self.tok.eos_token_id:
                    break
                ids.append(tid)
            text = self.tok.decode(ids, skip_special_tokens=True).strip()
            gens.append(Generation(text, ps))
        return gens


class EndpointBackend:
    """A TGI/vLLM server reached through langchain's HuggingFaceEndpoint (its InferenceClient).

    Confidence comes from the token logprobs the server returns (TGI ``details``, or OpenAI-style
    ``logprobs`` from chat completion); without them it is FALLBACK_CONFIDENCE. Note that
    huggingface_hub refuses every request, local URLs included, while HF_HUB_OFFLINE=1 is set.
    """

    kind = "endpoint"

    def __init__(self, url: str, config: ServeConfig | None = None, tokenizer_dir: str | None = None):
        from langchain_huggingface import HuggingFaceEndpoint

        self.config = config or ServeConfig.load(tokenizer_dir)
        self.llm = HuggingFaceEndpoint(endpoint_url=url, max_new_tokens=self.config.max_new_tokens, do_sample=False, task="text-generation")
        self.tok = None
        if tokenizer_dir:
            from transformers import AutoTokenizer

            self.tok = AutoTokenizer.from_pretrained(tokenizer_dir)

    def prompt(self, task: str, context: str = "") -> str:
        from micromarket.specialists.microllm.hf import chat_prompt  # deferred: torch / transformers

        user = _user_text(task, context, self.config)
        return chat_prompt(self.tok, user, self.config.system) if self.tok is not None else user

    def generate(self, prompts: list[str], batch_size: int = 1) -> list[Generation]:
        return [self._one(p) for p in prompts]

    def _one(self, prompt: str) -> Generation:
        client = self.llm.client
        try:
            out = client.text_generation(prompt, details=True, max_new_tokens=self.config.max_new_tokens, do_sample=False)
            details = getattr(out, "details", None)
            if details is None:
                return Generation(str(out).strip(), None)
            probs = [math.exp(t.logprob) for t in details.tokens if t.logprob is not None]
            return Generation(out.generated_text.strip(), probs or None)
        except Exception as first:  # noqa: BLE001 - servers without /generate (vLLM): try chat completion
            try:
                res = client.chat_completion(
                    messages=[{"role": "user", "content": prompt}], max_tokens=self.config.max_new_tokens, logprobs=True, temperature=0.0
                )
            except Exception:  # noqa: BLE001
                raise first from None
            choice = res.choices[0]
            content = getattr(choice.logprobs, "content", None) if choice.logprobs else None
            probs = [math.exp(t.logprob) for t in content] if content else None
            return Generation((choice.message.content or "").strip(), probs)


class LlamaCppBackend:
    """A GGUF file run by llama.cpp (quantized kernels, no dequantization), greedy decoding token by token so
    each token's probability comes from the full distribution (llama-cpp-python's logprobs need ``logits_all``,
    a context x vocabulary buffer). ``allowed_chars`` constrains decoding as in LocalBackend."""

    kind = "llama.cpp"

    def __init__(self, gguf: str, config: ServeConfig | None = None, *, n_ctx: int = 4096):
        import numpy as np
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        from micromarket.specialists.microllm.gguf import open_llama  # deferred: native library

        self.np = np
        self.llm = open_llama(gguf, n_ctx=n_ctx)
        self.config = config or ServeConfig()
        meta = self.llm.metadata
        template = meta.get("tokenizer.chat_template")
        tok = lambda key: self.llm.detokenize([int(meta[key])], special=True).decode("utf-8", "replace") if key in meta else ""  # noqa: E731
        self.formatter = Jinja2ChatFormatter(template, eos_token=tok("tokenizer.ggml.eos_token_id"), bos_token=tok("tokenizer.ggml.bos_token_id")) if template else None
        self._bias = self._allowed_bias()
        self._lock = threading.Lock()

    def _allowed_bias(self):
        chars = self.config.allowed_chars
        if not chars:
            return None
        np, n_vocab, allowed = self.np, self.llm.n_vocab(), set(chars)
        bias = np.full(n_vocab, -np.inf)
        for tid in range(n_vocab):
            piece = self.llm.detokenize([tid]).decode("utf-8", "ignore")
            if (piece and set(piece) <= allowed) or self._is_end(tid):
                bias[tid] = 0.0
        if self.config.unknown:
            bias[self.llm.tokenize(self.config.unknown.encode(), add_bos=False)] = 0.0
        return bias

    def _is_end(self, token: int) -> bool:
        import llama_cpp  # deferred: native library

        return bool(llama_cpp.llama_vocab_is_eog(self.llm._model.vocab, token))

    def prompt(self, task: str, context: str = "") -> str:
        user = _user_text(task, context, self.config)
        if self.formatter is None:
            return user if self.config.system is None else f"{self.config.system}\n\n{user}"
        messages = ([{"role": "system", "content": self.config.system}] if self.config.system else []) + [{"role": "user", "content": user}]
        return self.formatter(messages=messages).prompt

    def generate(self, prompts: list[str], batch_size: int = 1) -> list[Generation]:
        with self._lock:  # one llama context: the SDK runs sync tools in worker threads, concurrently
            return [self._one(p) for p in prompts]

    def _one(self, prompt: str) -> Generation:
        import llama_cpp  # deferred: native library

        np, llm = self.np, self.llm
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        llm.reset()
        llm.eval(tokens)
        out: list[int] = []
        probs: list[float] = []
        n_vocab = llm.n_vocab()
        for _ in range(self.config.max_new_tokens):
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(n_vocab,)).astype(np.float64)
            pick = int(np.argmax(logits if self._bias is None else logits + self._bias))
            z = np.exp(logits - logits.max())
            probs.append(float(z[pick] / z.sum()))  # from the unconstrained distribution
            if self._is_end(pick) or llm.n_tokens >= llm.n_ctx():
                break
            out.append(pick)
            llm.eval([pick])
        return Generation(llm.detokenize(out).decode("utf-8", "replace").strip(), probs)


def split_openai(spec: str) -> tuple[str, str]:
    """``URL#MODEL`` -> (base_url, model); InputError naming the problem otherwise."""
    url, sep, model = spec.strip().partition("#")
    if not url.startswith(("http://", "https://")) or not sep or not model.strip():
        raise InputError(f"bad OpenAI-compatible endpoint {spec!r}: expected http(s)://HOST[:PORT]/v1#MODEL")
    return url, model.strip()


class OpenAIBackend:
    """An OpenAI-compatible chat endpoint (vLLM, llama.cpp's server, Ollama, LM Studio) through langchain-openai's
    ChatOpenAI. Confidence comes from the returned token logprobs when the server gives them (it is asked for
    them once; a server that refuses is asked without), else FALLBACK_CONFIDENCE."""

    kind = "openai-compatible"

    def __init__(self, base_url: str, model: str, config: ServeConfig | None = None, *, timeout: float = 120.0):
        from langchain_openai import ChatOpenAI  # deferred: openai client

        self.config = config or ServeConfig()
        self.chat = ChatOpenAI(base_url=base_url, model=model, api_key="not-needed", temperature=0.0,
                               max_tokens=self.config.max_new_tokens, timeout=timeout, max_retries=1)
        self._logprobs: bool | None = None  # unknown until the first call

    def prompt(self, task: str, context: str = "") -> list[tuple[str, str]]:
        user = _user_text(task, context, self.config)
        return ([("system", self.config.system)] if self.config.system else []) + [("user", user)]

    def generate(self, prompts: list, batch_size: int = 1) -> list[Generation]:
        return [self._one(p) for p in prompts]

    def _one(self, messages) -> Generation:
        import openai  # deferred: openai client

        if self._logprobs is not False:
            try:
                msg = self.chat.bind(logprobs=True).invoke(messages)
                self._logprobs = True
            except (openai.BadRequestError, openai.UnprocessableEntityError, openai.InternalServerError):
                if self._logprobs:  # it gave logprobs before: this error is not about them
                    raise
                self._logprobs = False
        if self._logprobs is False:
            msg = self.chat.invoke(messages)
        content = (msg.response_metadata.get("logprobs") or {}).get("content") or []
        probs = [math.exp(t["logprob"]) for t in content if t.get("logprob") is not None]
        return Generation(str(msg.content).strip(), probs or None)


def to_result(gen: Generation, config: ServeConfig, backend: str) -> SolveResult:
    """Turn one generation into a SolveResult: validate, normalise, attach confidence."""
    conf = gen.confidence(config.confidence)
    conf = None if conf is None else min(1.0, max(0.0, conf))
    how = f"{config.confidence} token probability" if conf is not None else "no token logprobs from the server (fallback)"
    if conf is None:
        conf = FALLBACK_CONFIDENCE
    text = gen.text
    if config.unknown and text == config.unknown:
        return SolveResult(answer="", confidence=0.0, explanation=f"the model answered {config.unknown} (outside its domain; p={conf:.3f})")
    value: float | str | None = text
    if config.validator:
        parsed = VALIDATORS[config.validator](text)
        if parsed is None:
            return SolveResult(answer="", confidence=INVALID_FACTOR * conf, explanation=f"model output {text!r} is not a valid {config.validator}")
        value = float(parsed) if isinstance(parsed, int) else parsed
    return SolveResult(answer=text, confidence=conf, explanation=f"{backend} greedy decode; confidence = {how} = {conf:.3f}", value=value)
