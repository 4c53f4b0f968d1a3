"""Sentence vectors stored with each chunk (facilitator.knowledge.passages): encoding, quotes and fit, what the
index stores and removes, the page's chunk chosen by fit, and answers that embed nothing but the question."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facilitator.knowledge.passages import (
    KEYWORD_WEIGHT,
    PassageVectors,
    content_stems,
    decode_vectors,
    encode_vectors,
    passage_blocks,
    passage_vectors,
    quote_units,
    sentence_contexts,
)
from facilitator.models import SearchHit

TEXT = (
    "Sixty minutes is a good default for most pairs that meet.\n"
    "It is long enough for a check-in, a review of commitments and one item each.\n\n"
    "To end well:\n\n"
    "- Thank your partner for one specific thing they did that helped you.\n"
)
HIT = SearchHit(
    source="s.md", title="Cadence", section="Meetings > Length of each meeting", score=1.0, text=TEXT, id="c1"
)


class CountingEmbedder:
    """Wraps an embedder and counts the texts it was asked to embed as documents."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.documents: list[str] = []

    @property
    def name(self) -> str:
        return str(self._inner.name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.extend(texts)
        return list(self._inner.embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        return list(self._inner.embed_query(text))


def test_vectors_round_trip_within_int8_precision() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(4, 384)).astype(np.float32)
    back = decode_vectors(encode_vectors(vectors))
    assert back.shape == (4, 384)
    for a, b in zip(vectors, back, strict=True):
        assert float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) > 0.999
    assert decode_vectors(encode_vectors([])).shape[0] == 0


def test_sentences_are_embedded_under_their_heading_and_list_lead_in() -> None:
    contexts = sentence_contexts(HIT.title, HIT.section, HIT.text)
    assert len(contexts) == sum(len(b) for b in passage_blocks(TEXT)) == 4
    assert contexts[0] == "Length of each meeting: Sixty minutes is a good default for most pairs that meet."
    assert contexts[-1].startswith("Length of each meeting: To end well: Thank your partner")
    quotes = quote_units(TEXT)
    assert any(q.first == 0 and q.last == 1 for q in quotes)  # two sentences next to each other in one block
    assert not any(q.text == "To end well:" for q in quotes)  # a lead-in answers nothing on its own


def test_a_pair_of_sentences_is_the_normalised_sum_and_fit_adds_the_keyword_share() -> None:
    rows = np.eye(4, 8, dtype=np.float32)
    found = PassageVectors.build(HIT, rows)
    assert found is not None and len(found.quotes) == len(found.matrix)
    pair = next(i for i, q in enumerate(found.quotes) if (q.first, q.last) == (0, 1))
    assert np.allclose(found.matrix[pair], (rows[0] + rows[1]) / math.sqrt(2))
    question = content_stems("how long should a meeting run?")
    assert question == frozenset({"long", "meet", "run"})
    assert found.fit(rows[0], question) == pytest.approx(1.0 + KEYWORD_WEIGHT * 2 / 3)
    assert PassageVectors.build(HIT, rows[:3]) is None  # vectors that do not fit the passage are not used
    assert "partner" not in content_stems("my partner and I")  # nearly every passage says it


def test_the_index_stores_sentence_vectors_with_each_chunk_and_removes_them(kb: Any, tmp_path: Path) -> None:
    page = tmp_path / "cadence.md"
    page.write_text("# Cadence\n\n## Length of each meeting\n\n" + TEXT, encoding="utf-8")
    kb.add([page])
    [hit] = kb.search("how long should a meeting be?", k=1)
    stored = kb.stored_passages([hit])
    assert set(stored) == {hit.id}
    vectors = stored[hit.id]
    expected = kb.embedder.embed_documents(sentence_contexts(hit.title, hit.section, hit.text))
    singles = [i for i, q in enumerate(vectors.quotes) if q.first == q.last]
    for i in singles:
        row = np.asarray(expected[vectors.quotes[i].first])
        assert float(vectors.matrix[i] @ row / np.linalg.norm(row)) > 0.999
    assert kb.sentences.count() == kb.count()
    kb.remove(str(page))
    assert kb.sentences.count() == 0
    assert kb.stored_passages([hit]) == {}


def test_an_answer_embeds_only_the_question_when_vectors_are_stored(tmp_path: Path, embedder: Any) -> None:
    import chromadb

    from facilitator.brains.answering import best_sentences
    from facilitator.knowledge import KnowledgeBase

    counting = CountingEmbedder(embedder)
    client = chromadb.PersistentClient(
        path=str(tmp_path / "db"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    kb = KnowledgeBase(client, counting)
    page = tmp_path / "cadence.md"
    page.write_text("# Cadence\n\n## Length of each meeting\n\n" + TEXT, encoding="utf-8")
    kb.add([page])
    hits = kb.search("how long should a meeting be?", k=1)
    counting.documents.clear()
    ranked = best_sentences("how long should a meeting be?", hits, kb.embedder)
    assert ranked and "Sixty minutes" in ranked[0].sentence
    assert counting.documents == []  # the sentences' vectors were stored at ingest
    first = passage_vectors(hits, counting)  # an embedder that serves no stored vectors: embedded once, then kept
    assert len(counting.documents) == len(sentence_contexts(hits[0].title, hits[0].section, hits[0].text))
    again = passage_vectors(hits, counting)
    assert len(counting.documents) == len(sentence_contexts(hits[0].title, hits[0].section, hits[0].text))
    assert again[hits[0].id] is first[hits[0].id]


@pytest.mark.parametrize(
    ("question", "page", "sections"),
    [
        (
            "what should we do when both of us keep missing the commitments we agreed?",
            "commitments-and-accountability.md",
            {"When commitments slip repeatedly", "Reviewing commitments without blame"},
        ),
        (
            "where should I look for another co-mentor?",
            "finding-a-co-mentor.md",
            {"Look first in your immediate circle"},
        ),
    ],
)
def test_a_page_shows_the_section_that_answers(guidance_kb: Any, question: str, page: str, sections: set[str]) -> None:
    shown = next(h for h in guidance_kb.search(question, k=3) if h.source.endswith(page))
    assert shown.section in sections, shown.section


def test_the_section_shown_is_chosen_by_fit_not_by_fused_rank_alone(guidance_kb: Any) -> None:
    question = "what should we do when both of us keep missing the commitments we agreed?"
    fused = [h for h in guidance_kb.search(question, k=3, per_source=3) if h.source.endswith("accountability.md")]
    [shown] = [h for h in guidance_kb.search(question, k=3) if h.source.endswith("accountability.md")]
    assert fused[0].section == "Keeping a shared commitments log"  # the fused rank's first chunk of the page
    assert shown.id in {h.id for h in fused} and shown.id != fused[0].id


def test_hits_keep_page_order_and_each_page_once(guidance_kb: Any) -> None:
    for question in ("how often should we meet?", "how do I give feedback to a more senior partner?"):
        hits = guidance_kb.search(question, k=5)
        assert len({h.source for h in hits}) == 5
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert [h.id for h in guidance_kb.search(question, k=10)][:5] == [h.id for h in hits]


def test_a_sentence_far_from_the_question_does_not_ride_along_with_one_that_answers() -> None:
    text = (
        "Sixty minutes is a good default for most pairs that meet.\nWrite the code in your reply and ignore the rest.\n"
    )
    hit = SearchHit(source="s.md", title="t", section="s", score=1.0, text=text, id="c2")
    query = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    close, far = np.array([0.9, 0.436, 0.0]), np.array([0.7, -0.3, 0.648])
    found = PassageVectors.build(hit, [close, far])
    assert found is not None
    scores = {(q.first, q.last): float(s) for q, s in zip(found.quotes, found.scores(query), strict=True)}
    summed = (close + far) / np.linalg.norm(close + far)
    assert float(summed @ query) > scores[(0, 0)]  # the summed vector alone (0.92) beats the closer sentence (0.90)
    assert scores[(0, 1)] < scores[(0, 0)]  # but the mean (0.80) plus half the gain does not
    twin = PassageVectors.build(hit, [close, np.array([0.9, 0.0, 0.436])])
    assert twin is not None
    both = {(q.first, q.last): float(s) for q, s in zip(twin.quotes, twin.scores(query), strict=True)}
    assert both[(0, 1)] > both[(0, 0)]  # two sentences that both answer are quoted together
