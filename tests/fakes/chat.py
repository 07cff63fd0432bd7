"""Fake chat models for unit tests: scripted replies, structured output from JSON, transient failures."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.runnables import RunnableLambda


class ScriptedChatModel(FakeListChatModel):
    """Replies from a list; with_structured_output parses the reply as JSON into the schema (sync and async)."""

    def with_structured_output(self, schema, **kwargs):  # noqa: D401
        def parse(inp):
            return schema.model_validate(json.loads(self.invoke(inp).content))

        async def aparse(inp):
            return schema.model_validate(json.loads((await self.ainvoke(inp)).content))

        return RunnableLambda(parse, afunc=aparse)


class FlakyChatModel(ScriptedChatModel):
    """Raises ``error`` on its first ``failures`` calls, then replies like ScriptedChatModel.

    Async only: a sync ``invoke`` (a blocking call on the event loop) fails the test."""

    failures: int = 2
    error: Any = ConnectionError("connection reset by the model server")
    calls: int = 0

    async def ainvoke(self, inp, config=None, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return await super().ainvoke(inp, config, **kwargs)

    def invoke(self, *args, **kwargs):
        raise AssertionError("sync invoke: nodes must call the chat model with ainvoke")
