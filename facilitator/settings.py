"""Settings from `COMENTOR_*` environment variables (and a `.env` file); all state lives under `COMENTOR_HOME`.

A value that cannot be used is a `ConfigError` naming the variable, what it was and what it accepts (never pydantic's
field name and traceback); `COMENTOR_FACILITATOR=llm` without a model server is one too.
"""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import annotated_types
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from facilitator.exceptions import ConfigError

DEFAULT_PORT = 7860


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
    llm_profile: Literal["server", "local"] = Field(
        default="server",
        description="Defaults for the model's speed: server (a GPU or hosted model) or local (a small model on this "
        "CPU: `make local-model`): longer timeout, one retry, shorter replies; a COMENTOR_LLM_* variable you set wins.",
    )
    llm_timeout: float = Field(default=30.0, gt=0, description="Seconds before one model call is abandoned.")
    llm_max_tokens: int = Field(
        default=1024, ge=16, le=32768, description="Most tokens one model reply may have (a runaway reply stops there)."
    )
    llm_seed: int | None = Field(default=7, description="Sampling seed sent with every call (repeatable runs).")
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
    coordinator_code: SecretStr | None = Field(
        default=None,
        description="Opens the program report page (counts and scores only); a code, or its `s1$...` hash. Unset: "
        "the page stays locked.",
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
    port: int = Field(
        default=DEFAULT_PORT, ge=1, le=65535, description="The web app's port (`comentor ui --port` overrides it)."
    )

    data_dir: Path = Field(
        default=Path("../shared/data"),
        description="The shared data folder the evals read (real transcripts, guides); relative to the working folder.",
    )

    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))

    if not TYPE_CHECKING:  # type checkers keep the keyword signature pydantic gives Settings

        def __init__(self, **values: Any) -> None:
            """Read the environment (and `.env`); keywords override it. Raises ConfigError, never ValidationError."""
            try:
                super().__init__(**values)
            except ValidationError as e:
                raise ConfigError(describe_errors(e, given=values)) from e
            except SettingsError as e:
                raise ConfigError(f"cannot read the COMENTOR_* settings ({e}); check the environment and ./.env") from e
            if self.facilitator == "llm" and self.openai_api_key is None and not self.openai_base_url:
                raise ConfigError(
                    "COMENTOR_FACILITATOR=llm needs a model server: set OPENAI_BASE_URL to an OpenAI-compatible server "
                    "(e.g. http://127.0.0.1:11434/v1 for Ollama, http://127.0.0.1:8001/v1 for vLLM) and/or "
                    "OPENAI_API_KEY for OpenAI itself; or set COMENTOR_FACILITATOR=offline (or auto) to run without one"
                )

    @model_validator(mode="after")
    def _local_profile(self) -> Settings:
        """COMENTOR_LLM_PROFILE=local: a CPU model's defaults for what was not set (measured on llama-server with
        SmolLM2-135M, 1 thread: calls of 10-150 s; a 1024-token reply at 55 tokens/s is 19 s)."""
        if self.llm_profile == "local":
            for name, value in LOCAL_PROFILE.items():
                if name not in self.model_fields_set:
                    object.__setattr__(self, name, value)
        return self

    @field_validator("openai_api_key", "openai_base_url", "coordinator_code", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        """`OPENAI_API_KEY=` (empty) means no key, not an empty one that would turn the LLM facilitator on."""
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("coordinator_code")
    @classmethod
    def _usable_coordinator_code(cls, value: SecretStr | None) -> SecretStr | None:
        from facilitator.codehash import coordinator_code_problem

        problem = coordinator_code_problem(value.get_secret_value().strip()) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("openai_base_url", "chroma_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.strip().lower().startswith(("http://", "https://")):
            raise ValueError("not an http:// or https:// URL")
        return value

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


# ------------------------------------------------------------------------------------------------ messages
_ACCEPTED = {  # what a field takes, where its type alone does not say it
    "openai_base_url": "an http:// or https:// URL of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1",
    "chroma_url": "an http:// or https:// URL of a Chroma server, e.g. http://127.0.0.1:8000",
    "port": "a port number from 1 to 65535",
}
# their values are never repeated
# COMENTOR_LLM_PROFILE=local: a small model on this CPU (`make local-model`)
LOCAL_PROFILE: dict[str, Any] = {
    "llm_timeout": 180.0,
    "llm_max_retries": 1,
    "llm_max_tokens": 384,
    "llm_budget": 240.0,
    "llm_cooldown": 60.0,
}
_SECRET_FIELDS = frozenset({"openai_api_key", "secret_key", "auth", "coordinator_code"})
_OWN_SENTENCE = frozenset({"coordinator_code"})  # fields whose validator says what is wrong and the fix


def env_var(field: str) -> str:
    """The environment variable a Settings field is read from (`llm_timeout` -> `COMENTOR_LLM_TIMEOUT`)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    if isinstance(alias, str):
        return alias
    return f"COMENTOR_{field.upper()}"


def accepted_values(field: str) -> str:
    """What a Settings field accepts, in words: `a number greater than 0`, `one of auto, offline, llm`, ..."""
    info = Settings.model_fields.get(field)
    if info is None:
        return "a valid value"
    if field in _ACCEPTED:
        return _ACCEPTED[field]
    kind = info.annotation
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(str(v) for v in typing.get_args(kind))
    if kind is bool:
        return "true or false"
    noun = "a whole number" if kind is int else "a number" if kind is float else None
    if noun is None:
        return "a path" if kind is Path else "text"
    return noun + _bounds(info)


def _bounds(info: FieldInfo) -> str:
    """` from 0 to 10`, ` greater than 0 and at most 720`, ` 1 or more`: a number field's limits."""
    limits: dict[str, Any] = {}
    for item in info.metadata:
        for name in ("gt", "ge", "lt", "le"):
            if isinstance(item, getattr(annotated_types, name.capitalize())):
                limits[name] = getattr(item, name)
    words = []
    if "ge" in limits and "le" in limits:
        words.append(f"from {limits.pop('ge')} to {limits.pop('le')}")
    phrases = {"gt": "greater than {}", "ge": "{} or more", "lt": "less than {}", "le": "at most {}"}
    words += [phrases[name].format(value) for name, value in limits.items()]
    return " " + " and ".join(words) if words else ""


def _first_sentence(text: str) -> str:
    """A field description's first clause, to follow the variable's name: `seconds before one model call ...`."""
    sentence = text.split(". ")[0].split("; ")[0].split(" (")[0].rstrip(".")
    return sentence[:1].lower() + sentence[1:] if sentence[1:2].islower() else sentence


def _shown(value: Any) -> str:
    text = str(value)
    shown = text if text.isprintable() and " " not in text and text else repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def describe_errors(error: ValidationError, *, given: dict[str, Any] | None = None) -> str:
    """One sentence per invalid setting: the variable, the value it had, what it accepts and its default."""
    given = given or {}
    lines = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        field = next((name for name in Settings.model_fields if env_var(name) == field), field)  # an alias
        info = Settings.model_fields.get(field)
        name = field if field in given else env_var(field)
        value = "" if field in _SECRET_FIELDS else f"={_shown(item.get('input'))}"
        default = f"; default {info.default}" if info is not None and info.default is not None else ""
        what = f" ({_first_sentence(info.description)})" if info is not None and info.description else ""
        if item["type"] == "value_error" and field in _OWN_SENTENCE:  # the validator's sentence names the fix
            lines.append(f"{name}{value} {str(item['msg']).removeprefix('Value error, ')}")
            continue
        lines.append(f"{name}{value} is not valid: use {accepted_values(field)}{what}{default}")
    from_env = not all(str(i["loc"][0]) in given for i in error.errors() if i["loc"])
    where = " (set in the environment or in ./.env; unset it for the default)" if from_env else ""
    return "; ".join(lines) + where


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
