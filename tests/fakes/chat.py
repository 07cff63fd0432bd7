"""Fake chat models for unit tests: scripted replies, structured output from JSON."""

from __future__ import annotations

import json

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.runnables import RunnableLambda


class ScriptedChatModel(FakeListChatModel):
    """Replies from a list; with_structured_output parses the reply as JSON into the schema."""

    def with_structured_output(self, schema, **kwargs):  # noqa: D401
        def parse(inp):
            text = self.invoke(inp).content
            return schema.model_validate(json.loads(text))

        return RunnableLambda(parse)
