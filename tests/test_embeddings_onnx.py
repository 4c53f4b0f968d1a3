"""The default local embedder (MiniLM on onnxruntime) against the sentence-transformers reference, on real text."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from facilitator.exceptions import ConfigError
from facilitator.knowledge.chunking import chunk_document
from facilitator.knowledge.embeddings import (
    MINILM_NAME,
    OnnxMiniLMEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from facilitator.knowledge.loaders import read_document
from facilitator.settings import Settings
from tests.conftest import GSOC, ROOT


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (math.hypot(*a) * math.hypot(*b))


@pytest.fixture(scope="module")
def real_texts() -> list[str]:
    """Real chunks (GSoC guides, bundled guidance) plus short queries and one text far over 256 tokens."""
    files = sorted(GSOC.glob("*.md"))[:6] + sorted((ROOT / "knowledge" / "guidance").rglob("*.md"))[:4]
    chunks = [
        c.embedding_text() for f in files for c in chunk_document(read_document(f, source=f.name, max_bytes=10_000_000))
    ]
    whole_page = (GSOC / "mentor__07-best_practices.md").read_text(encoding="utf-8")
    return [*chunks, "how often should we meet?", "Mentor", whole_page]


@pytest.mark.slow
def test_onnx_vectors_match_sentence_transformers_on_real_text(embedder: Any, real_texts: list[str]) -> None:
    assert isinstance(embedder, OnnxMiniLMEmbedder)
    reference = SentenceTransformerEmbedder().embed_documents(real_texts)
    ours = embedder.embed_documents(real_texts)
    assert len(ours) == len(reference) == len(real_texts)
    similarities = [_cos(a, b) for a, b in zip(ours, reference, strict=True)]
    assert min(similarities) >= 0.999, min(similarities)
    assert all(abs(math.hypot(*v) - 1.0) < 1e-4 for v in ours)  # normalised like sentence-transformers'


def test_vectors_do_not_depend_on_the_batch(embedder: Any, real_texts: list[str]) -> None:
    """Length-sorted batching and padding must not change a text's vector (alone vs among longer texts)."""
    together = embedder.embed_documents(real_texts)
    for i in (0, len(real_texts) - 3, len(real_texts) - 2, len(real_texts) - 1):
        alone = embedder.embed_documents([real_texts[i]])[0]
        assert _cos(alone, together[i]) >= 0.9999
    assert embedder.embed_query(real_texts[0]) == pytest.approx(together[0], abs=1e-5)


def test_related_texts_are_closer_than_unrelated(embedder: Any) -> None:
    meet, cadence, recipe = embedder.embed_documents(
        [
            "How often should mentor and mentee meet?",
            "Agree on a regular meeting cadence, e.g. every two weeks.",
            "Bake the bread at 220 degrees for forty minutes.",
        ]
    )
    assert _cos(meet, cadence) > _cos(meet, recipe) + 0.2


def test_query_cache_returns_equal_independent_copies(embedder: Any) -> None:
    first = embedder.embed_query("what does a good mentor do?")
    first.append(0.0)  # a caller mutating its vector must not change the cache
    second = embedder.embed_query("what does a good mentor do?")
    assert len(second) == 384
    assert first[:384] == second


def test_embedder_shares_the_vector_space_name_with_the_reference() -> None:
    assert OnnxMiniLMEmbedder.name == SentenceTransformerEmbedder.name == MINILM_NAME


def test_make_embedder_keeps_one_loaded_embedder_per_process(comentor_home: Path) -> None:
    settings = Settings()
    first = make_embedder(settings)
    assert isinstance(first, OnnxMiniLMEmbedder)
    assert make_embedder(Settings()) is first
    assert isinstance(make_embedder(Settings(embedder="sentence-transformers")), SentenceTransformerEmbedder)


def test_damaged_model_file_names_the_fix(tmp_path: Path, embedder: Any) -> None:
    """A truncated cache file is reported with what to do (delete it), not an onnxruntime traceback."""
    broken = OnnxMiniLMEmbedder(tmp_path / "models")
    broken.model_file.parent.mkdir(parents=True)
    broken.model_file.write_bytes(embedder.model_file.read_bytes()[:1000])
    with pytest.raises(ConfigError, match="delete the file"):
        broken.embed_query("anything")
