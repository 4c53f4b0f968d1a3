"""The conversation-understanding layer: sentences, topics, the speech-act classifier, incremental reading."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from facilitator.models import Pair, Turn
from facilitator.understanding import (
    LABELS,
    ReadingCache,
    extract_topics,
    is_to_facilitator,
    read_conversation,
    read_turn,
    split_sentences,
)
from facilitator.understanding.acts import load_model
from facilitator.understanding.train import DATA_DIR, evaluate, load_examples
from tests.conftest import ROOT

PAIR = Pair.model_validate(
    {
        "participants": [
            {"id": "mona", "name": "Mona Haddad", "role": "Finance director"},
            {"id": "tyler", "name": "Tyler Brooks", "role": "Finance apprentice"},
        ]
    }
)


def _turns(*lines: tuple[str, str]) -> list[Turn]:
    return [Turn(index=i, speaker=speaker, text=text) for i, (speaker, text) in enumerate(lines)]


class CountingEmbedder:
    """Wraps an embedder and records every `embed_documents` call."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []

    @property
    def name(self) -> str:
        return self.inner.name

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    @property
    def texts(self) -> int:
        return sum(len(c) for c in self.calls)


class HashEmbedder:
    """Deterministic vectors in the classifier's space by name, without loading a model (cost tests only)."""

    name = "minilm-l6-v2"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        out = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(384)
            out.append((v / np.linalg.norm(v)).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


# ------------------------------------------------------------------------------------------------ sentences
def test_abbreviations_do_not_split_sentences() -> None:
    text = "I met Dr. Patel at the clinic, e.g. on the ward round. Then we talked about the rota!"
    assert split_sentences(text) == [
        "I met Dr. Patel at the clinic, e.g. on the ward round.",
        "Then we talked about the rota!",
    ]
    assert split_sentences("Mr. Obi paid £3.50 at 9 a.m. and left. Did you see him?") == [
        "Mr. Obi paid £3.50 at 9 a.m. and left.",
        "Did you see him?",
    ]


def test_short_fragments_stay_attached() -> None:
    assert split_sentences("Hmm. So I tried the new rota. It failed badly.") == [
        "Hmm. So I tried the new rota.",
        "It failed badly.",
    ]
    assert split_sentences("I can show you the dashboard on Friday. Thanks!") == [
        "I can show you the dashboard on Friday. Thanks!"
    ]
    assert split_sentences("Thanks!") == ["Thanks!"]
    assert split_sentences("  ") == []


# ------------------------------------------------------------------------------------------------ topics
def test_topics_are_the_turns_content() -> None:
    text = (
        "Tyler showed me the retention graph on TikTok. The retention graph is where people stop watching, "
        "and honestly the pivot tables for the month-end close still confuse me."
    )
    topics = extract_topics(text, ["Tyler Brooks", "tyler"])
    assert topics == extract_topics(text, ["Tyler Brooks", "tyler"])  # deterministic
    assert "retention graph" in topics
    assert any("pivot tables" in t for t in topics)
    words = set(text.lower().replace(",", " ").replace(".", " ").split())
    for topic in topics:
        assert topic == topic.lower()
        assert set(topic.split()) <= words, topic  # every word comes from the turn
        assert "tyler" not in topic
        assert topic not in {"honestly", "the", "and", "still"}
    assert len(topics) <= 5


def test_no_topics_in_small_talk() -> None:
    assert extract_topics("") == []
    assert extract_topics("ok lol, yeah") == []


# ------------------------------------------------------------------------------------------------ the classifier
def test_training_data_covers_every_act() -> None:
    train = load_examples(DATA_DIR / "acts.train.jsonl")
    heldout = load_examples(DATA_DIR / "acts.heldout.jsonl")
    train_counts, heldout_counts = Counter(r["act"] for r in train), Counter(r["act"] for r in heldout)
    assert all(train_counts[label] >= 40 for label in LABELS), train_counts
    assert all(heldout_counts[label] >= 12 for label in LABELS), heldout_counts
    assert not {r["text"].lower() for r in train} & {r["text"].lower() for r in heldout}
    report = json.loads((DATA_DIR / "acts.report.json").read_text(encoding="utf-8"))
    assert report["train_per_label"] == dict(sorted(train_counts.items()))
    assert report["heldout_size"] == len(heldout)


def test_shipped_weights_are_plain_arrays() -> None:
    import numpy as np

    with np.load(DATA_DIR / "acts.npz", allow_pickle=False) as arrays:
        assert set(arrays.files) == {"coef", "intercept", "classes", "embedder", "question_mark_prior"}
        assert all(arrays[name].dtype != object for name in arrays.files)
        assert tuple(arrays["classes"].tolist()) == LABELS
        assert arrays["coef"].shape == (len(LABELS), 384)
    model = load_model()
    assert model.embedder == "minilm-l6-v2"
    prior = dict(zip(model.classes, model.question_mark_prior.tolist(), strict=True))
    assert prior["question"] > 1.0 > prior["claim"]  # a "?" makes a question likelier and a claim less likely


@pytest.mark.slow
def test_shipped_classifier_reaches_its_reported_heldout_accuracy(embedder: Any) -> None:
    report = json.loads((DATA_DIR / "acts.report.json").read_text(encoding="utf-8"))
    rows = load_examples(DATA_DIR / "acts.heldout.jsonl")
    result = evaluate(rows, load_model(), embedder=embedder)
    one_sentence = 1 / len(rows) + 1e-9  # onnxruntime's float results may differ in the last bits on another CPU
    assert abs(result["accuracy"] - report["heldout"]["accuracy"]) <= one_sentence
    assert abs(result["macro_f1"] - report["heldout"]["macro_f1"]) <= 0.02
    assert result["accuracy"] >= 0.80
    assert result["macro_f1"] >= 0.80
    assert report["embedder"] == embedder.name


def test_without_embedder_only_the_question_cue_is_read() -> None:
    reading = read_turn(
        Turn(index=0, speaker="mona", text="Nobody reads newsletters. What do you think?"), PAIR, embedder=None
    )
    assert [(s.act, s.confidence) for s in reading.sentences] == [("other", 0.0), ("question", 0.5)]


# ------------------------------------------------------------------------------------------------ reading
@pytest.mark.slow
def test_assumptions_of_the_senior_and_the_junior_are_found(embedder: Any) -> None:
    turns = _turns(
        ("mona", "Thanks for making time today. How did the month-end close go?"),
        ("tyler", "It went fine. I reconciled four accounts and sent the report on Monday."),
        ("mona", "Good. Juniors never read the policy documents properly, so I was worried."),
        ("tyler", "I read all of it. But I'm too young for the directors to take me seriously."),
        ("mona", "Could you show me the dashboard you built?"),
    )
    reading = read_conversation(turns, PAIR, embedder=embedder, cache=ReadingCache())
    found = {(a.turn, a.speaker): a.text for a in reading.assumptions()}
    assert set(found) == {(2, "mona"), (3, "tyler")}, found
    assert "Juniors never read" in found[(2, "mona")]
    assert "too young" in found[(3, "tyler")]
    assert reading.turns[4].first("request") is not None or reading.turns[4].first("question") is not None


@pytest.mark.slow
def test_teacher_and_learner_on_a_clear_exchange(embedder: Any) -> None:
    exchange = _turns(
        ("mona", "How do you decide when to post a reel?"),
        ("tyler", "The trick on TikTok is to hook people in the first two seconds, so start with the result."),
        ("mona", "What does the retention graph tell me?"),
        ("tyler", "It shows where people stop watching, so you cut the slow part just before the dip."),
        ("mona", "Could you show me where the insights tab is?"),
        ("tyler", "First you open your profile, then you tap the menu and choose insights."),
    )
    reading = read_conversation(exchange, PAIR, embedder=embedder, cache=ReadingCache())
    assert (reading.teacher, reading.learner) == ("tyler", "mona")
    both_ask = _turns(
        ("mona", "How was the audit?"),
        ("tyler", "Long. How was your week?"),
        ("mona", "Busy. What are you working on next?"),
        ("tyler", "The forecast. Have you seen the new template?"),
    )
    unclear = read_conversation(both_ask, PAIR, embedder=embedder, cache=ReadingCache())
    assert (unclear.teacher, unclear.learner) == (None, None)


def test_requests_to_the_facilitator_are_marked_and_left_out() -> None:
    turns = _turns(
        ("mona", "I showed Tyler the budget spreadsheet and the variance column."),
        ("tyler", "@facilitator, what should we talk about next? Nobody here ever plans the agenda."),
        ("mona", "What did you think of the variance column?"),
    )
    assert is_to_facilitator(turns[1].text) and not is_to_facilitator("ask @facilitator later")
    reading = read_conversation(turns, PAIR, embedder=None, cache=ReadingCache())
    marked = reading.turns[1]
    assert marked.to_facilitator and not reading.turns[0].to_facilitator
    assert marked.sentences[0].text == "what should we talk about next?"  # the mention is not part of the talk
    assert [t.index for t in reading.partner_turns()] == [0, 2]
    assert "agenda" in marked.topics  # read like any turn, so a move can answer it ...
    assert "agenda" not in reading.recent_topics()  # ... but not the partners' talk
    assert "variance column" in reading.recent_topics()
    assert all(a.turn != 1 for a in reading.assumptions())


def test_a_second_read_of_a_long_conversation_embeds_nothing_new() -> None:
    embedder = CountingEmbedder(HashEmbedder())
    lines = [
        ("mona" if i % 2 == 0 else "tyler", f"Point {i} about the budget review. What about item {i}?")
        for i in range(120)
    ]
    cache = ReadingCache()
    first = read_conversation(_turns(*lines), PAIR, embedder=embedder, cache=cache)
    assert len(embedder.calls) == 1 and embedder.texts == 240  # every sentence, in one call
    again = read_conversation(_turns(*lines), PAIR, embedder=embedder, cache=cache)  # new Turn objects, same talk
    assert len(embedder.calls) == 1
    assert again.turns == first.turns
    grown = _turns(*lines, ("mona", "One more thing about the audit. Shall we stop there?"))
    read_conversation(grown, PAIR, embedder=embedder, cache=cache)
    assert embedder.calls[1:] == [["One more thing about the audit.", "Shall we stop there?"]]


def test_the_cache_is_bounded_and_keyed_by_what_was_said() -> None:
    embedder = CountingEmbedder(HashEmbedder())
    cache = ReadingCache(size=3)
    turns = _turns(*[("mona", f"Line number {i} of the talk.") for i in range(5)])
    read_conversation(turns, PAIR, embedder=embedder, cache=cache)
    assert len(cache) == 3
    edited = [turns[0].model_copy(update={"text": "A different first line."}), *turns[1:]]
    read_conversation(edited[-2:], PAIR, embedder=embedder, cache=cache)
    assert len(embedder.calls) == 1  # the last turns were cached
    read_conversation(edited[:1], PAIR, embedder=embedder, cache=cache)
    assert embedder.calls[-1] == ["A different first line."]
    read_conversation(turns[-1:], PAIR, embedder=None, cache=cache)  # another reader: not served from the cache
    assert len(cache) == 3


def test_importing_the_layer_is_light() -> None:
    heavy = ("numpy", "yake", "pysbd", "sklearn")
    code = f"import facilitator.understanding, sys; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
