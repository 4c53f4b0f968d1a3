"""Settings from `COMENTOR_*` environment variables (and a `.env` file); all state lives under `COMENTOR_HOME`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable. Read once per process with `Settings()`; pass it down, never read env vars elsewhere."""

    model_config = SettingsConfigDict(env_prefix="COMENTOR_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("~/.comentor"), description="Folder for the database and the knowledge index.")
    facilitator: Literal["auto", "offline", "llm"] = Field(
        default="auto", description="auto: the LLM facilitator when OPENAI_API_KEY or OPENAI_BASE_URL is set."
    )
    model: str = Field(default="gpt-4o-mini", description="Chat model name on the OpenAI-compatible server.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under home.")
    chroma_url: str | None = Field(default=None, description="http://host:port of a Chroma server; default embedded.")
    collection: str = Field(default="guidance", description="Chroma collection name prefix.")
    embedder: Literal["local", "sentence-transformers", "openai"] = Field(
        default="local",
        description="local MiniLM on onnxruntime, the same model on sentence-transformers (torch), or OpenAI.",
    )
    embedding_model: str = Field(default="all-MiniLM-L6-v2", description="Embedding model name.")
    llm_timeout: float = Field(default=30.0, gt=0, description="Seconds before one model call is abandoned.")
    llm_max_retries: int = Field(
        default=3, ge=0, le=10, description="Retries of a failed model call (3 keep >= 99% of moves at 30% faults)."
    )
    llm_budget: float | None = Field(
        default=None,
        gt=0,
        description="Seconds one move or one summary may wait for the model in all, retries included, before the "
        "offline facilitator answers; default timeout x (retries + 1) + 5.",
    )
    llm_cooldown: float = Field(
        default=30.0,
        ge=0,
        description="Seconds the model is left alone after a call found it unavailable (unreachable, timed out, 429, "
        "5xx): meanwhile the offline facilitator answers at once; then one call probes it (each failed probe doubles "
        "the wait, up to 10 minutes). 0 turns this circuit breaker off.",
    )
    max_model_calls: int = Field(
        default=400, ge=0, description="Model calls one session may make; past it the offline facilitator answers."
    )
    max_message_chars: int = Field(default=8000, gt=0)
    max_file_mb: float = Field(default=20.0, gt=0, description="Largest file accepted by ingest or summarize.")
    auth: str | None = Field(default=None, description="user:password[,user:password] for the UI's launch auth.")
    secret_key: SecretStr | None = Field(
        default=None, description="Signs the web app's access grants; the same on every replica. Default: a key file."
    )
    access_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description="Hours a browser keeps access to a pair before its code is asked again.",
    )
    access_attempts: int = Field(
        default=10, ge=1, description="Wrong access codes one client may try per access_window_minutes, then waits."
    )
    access_attempts_per_pair: int = Field(
        default=30, ge=1, description="Wrong access codes all clients together may try on one pair per window."
    )
    access_window_minutes: float = Field(default=15.0, gt=0, description="The window of the attempt limits.")
    ui_concurrency: int = Field(default=8, ge=1, le=256, description="UI events processed at once.")
    ui_queue_size: int = Field(default=100, ge=1, description="UI events waiting at most; more are told to retry.")

    data_dir: Path = Field(
        default=Path("../shared/data"),
        description="The shared data folder the evals read (real transcripts, guides); relative to the working folder.",
    )

    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))

    @property
    def home_dir(self) -> Path:
        """The expanded home folder, owner-only (0700): created so if missing, tightened if group or others could
        read it (it holds every transcript and the pairs' codes). Everything under home is reached through here."""
        return private_dir(self.home.expanduser())

    @property
    def chroma_path(self) -> Path:
        return self.home_dir / "chroma"

    @property
    def gradio_cache_dir(self) -> Path:
        """Where the web app's Gradio keeps the files it serves when GRADIO_TEMP_DIR is not set: under home,
        owner-only, rather than a /tmp/gradio folder every local user can read."""
        return self.home_dir / "gradio-cache"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'comentor.db'}"

    @property
    def model_budget(self) -> float:
        """Seconds a move or a summary waits for the model in all (COMENTOR_LLM_BUDGET, or derived)."""
        return self.llm_budget or self.llm_timeout * (self.llm_max_retries + 1) + 5.0

    @property
    def use_llm(self) -> bool:
        """Whether the LLM facilitator runs (the offline one otherwise)."""
        if self.facilitator == "offline":
            return False
        if self.facilitator == "llm":
            return True
        return self.openai_api_key is not None or bool(self.openai_base_url)


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner can enter: made with mode 0700 when missing, and an existing one of this
    user's that group or others can open is set to 0700. Returns `path`; a folder that cannot be made or changed is
    left for the writer's own error to name."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
        if info.st_mode & 0o077 and info.st_uid == os.getuid():
            path.chmod(0o700)
    except OSError:
        pass
    return path
