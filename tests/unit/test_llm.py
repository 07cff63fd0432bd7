"""micromarket.llm.load_chat_model with a tiny local model (no hub access)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from micromarket.errors import MicromarketError  # noqa: E402
from micromarket.llm import load_chat_model  # noqa: E402
from tests.tiny_models import build_tiny_causal_lm  # noqa: E402


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "lm")


def test_hf_local_generates_and_is_cached(tiny_dir):
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    chat = load_chat_model(f"hf:{tiny_dir}")
    assert isinstance(chat, BaseChatModel)
    out = chat.invoke([SystemMessage("be brief"), HumanMessage("hello there")])
    assert isinstance(out, AIMessage) and isinstance(out.content, str) and out.content
    assert "<|user|>" not in out.content  # only new text, not the rendered prompt
    assert load_chat_model(f"hf:{tiny_dir}") is chat


def test_hf_without_chat_template_gets_a_fallback(tmp_path, monkeypatch):
    import micromarket.llm

    # this random model never says EOS: without a cap it generates up to its 256 positions (~20 s on a busy machine)
    monkeypatch.setattr(micromarket.llm, "MAX_NEW_TOKENS", 8)
    d = build_tiny_causal_lm(tmp_path / "plain", chat_template=False)
    out = load_chat_model(f"hf:{d}").invoke("hi")
    assert isinstance(out.content, str)


@pytest.mark.parametrize(
    "spec, words",
    [
        ("", "empty"),
        ("nocolon", "expected"),
        ("hf:", "expected"),
        ("hf:/definitely/not/here", "not found"),
        ("hf:./relative-missing", "not found"),
        ("hf:nobody-xyz/no-such-model", "cannot load"),
        ("hf-endpoint:ftp://host", "http"),
        ("hf:/nowhere/model.gguf", "GGUF file not found"),
        ("openai-compatible:127.0.0.1:8080#m", "expected http(s)://"),
        ("openai-compatible:http://127.0.0.1:8080/v1", "expected http(s)://"),
        ("nosuchprovider:model", "chat model"),
    ],
)
def test_bad_specs_raise_clear_errors(spec, words):
    with pytest.raises(MicromarketError) as e:
        load_chat_model(spec)
    assert words in str(e.value)


def test_dir_without_config(tmp_path):
    with pytest.raises(MicromarketError, match="config.json"):
        load_chat_model(f"hf:{tmp_path}")


def test_hf_endpoint_builds_without_network():
    chat = load_chat_model("hf-endpoint:http://127.0.0.1:9/")
    assert chat.llm.endpoint_url == "http://127.0.0.1:9/"


def test_seq2seq_is_refused_clearly(tmp_path):
    from tests.tiny_models import build_tiny_seq2seq

    with pytest.raises(MicromarketError, match="encoder-decoder"):
        load_chat_model(f"hf:{build_tiny_seq2seq(tmp_path / 't5')}")


def test_openai_compatible_builds_without_network():
    chat = load_chat_model("openai-compatible:http://127.0.0.1:9/v1#smollm2")
    assert chat.model_name == "smollm2" and str(chat.openai_api_base) == "http://127.0.0.1:9/v1"


def test_schema_constrained_structured_output_asks_for_the_schema_and_validates():
    """A local model's plan: response_format carries the JSON schema (llama.cpp turns it into a grammar)."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from pydantic import BaseModel

    from micromarket.llm import _SchemaConstrained

    class Answer(BaseModel):
        value: int

    seen = {}

    class Fake(_SchemaConstrained, FakeListChatModel):
        def _call(self, messages, stop=None, run_manager=None, **kwargs):
            seen.update(kwargs)
            return super()._call(messages, stop, run_manager, **kwargs)

    out = Fake(responses=['{"value": 42}']).with_structured_output(Answer).invoke("the answer?")
    assert out == Answer(value=42)
    assert seen["response_format"] == {"type": "json_object", "schema": Answer.model_json_schema()}
    assert Fake(responses=['{"a": 1}']).with_structured_output({"type": "object"}).invoke("x") == {"a": 1}
