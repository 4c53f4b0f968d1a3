"""Questions chosen for the moment (`facilitator.moves.choose_questions`): the pair's own topic words, the direction
of teaching, never a question asked before, deterministic, with or without an embedder."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest

from facilitator.knowledge.bank import QuestionBank, QuestionEntry
from facilitator.models import AgendaItem, Pair, Participant, Turn
from facilitator.moves import QuestionCandidate, choose_questions
from facilitator.resources import knowledge_dir
from facilitator.understanding import read_conversation
from facilitator.understanding.reading import Reading, SentenceReading, SpeechAct, TurnReading

PAIR = Pair(
    participants=[
        Participant(id="ana", name="Ana Ruiz", role="Director", offers=["board papers"], seeks=["spreadsheets"]),
        Participant(id="ben", name="Ben Carter", role="Analyst", offers=["spreadsheets"], seeks=["board papers"]),
    ]
)
TALK = [
    ("ana", "How do I build a pivot table from the sales export?"),
    ("ben", "Select the sales data, insert a pivot table, and drag the region into rows."),
    ("ana", "And if I want the totals per region and per month?"),
    ("ben", "Drag the month into columns; the pivot table sums the sales for each region and month."),
    ("ana", "So the pivot table does the grouping that I did by hand with filters?"),
    ("ben", "Exactly. Refresh the pivot table when the sales export changes."),
]
TURNS = [Turn(index=i, speaker=s, text=t) for i, (s, t) in enumerate(TALK)]
TEACH_BACK = {"teach_back", "seeks"}  # what the learner may be asked
LEARNED_FROM = {"learned_from", "offers"}  # what the teacher may be asked


class FakeEmbedder:
    """A tiny deterministic bag-of-words embedder (hashed words, 64 dimensions) that counts its calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.document_calls = 0
        self.query_calls = 0

    def _vector(self, text: str) -> list[float]:
        v = [0.0] * 64
        for word in text.lower().replace("?", " ").replace(",", " ").replace(".", " ").split():
            v[int(hashlib.sha256(word.encode()).hexdigest(), 16) % 64] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.document_calls += 1
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.query_calls += 1
        return self._vector(text)


def _turn(index: int, speaker: str, act: SpeechAct, topics: list[str]) -> TurnReading:
    return TurnReading(
        index=index, speaker=speaker, sentences=[SentenceReading(text="x", act=act, confidence=0.9)], topics=topics
    )


def _reading(teacher: str | None = None, learner: str | None = None) -> Reading:
    """A reading of TALK: Ben teaches pivot tables (when `teacher` is given, the reading says so)."""
    turns = [
        _turn(i, s, "teaching" if s == "ben" else "question", ["pivot table", "sales export"] if i % 2 else ["region"])
        for i, (s, _) in enumerate(TALK)
    ]
    return Reading(turns=turns, teacher=teacher, learner=learner)


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return QuestionBank.load()


def _by(candidates: list[QuestionCandidate]) -> dict[str, QuestionCandidate]:
    return {c.addressee: c for c in candidates}


@pytest.mark.parametrize("embedder", [None, FakeEmbedder("fake-fill")], ids=["no-embedder", "fake-embedder"])
def test_the_topic_is_filled_with_the_pairs_own_words(bank: QuestionBank, embedder: FakeEmbedder | None) -> None:
    chosen = choose_questions(bank, PAIR, TURNS, item=None, asked=[], reading=_reading("ben", "ana"), embedder=embedder)
    assert len(chosen) == 3
    assert all(c.entry.needs_topic for c in chosen)  # a topic is known: questions that carry it come first
    assert all("pivot table" in c.text for c in chosen), [c.text for c in chosen]
    assert not any("{" in c.text for c in chosen)


def test_without_a_reading_the_profiles_give_the_topic(bank: QuestionBank) -> None:
    chosen = _by(choose_questions(bank, PAIR, TURNS, item=None, asked=[]))
    assert "spreadsheets" in chosen["ana"].text  # what Ana seeks and Ben offers
    assert chosen["ana"].entry.direction == "seeks" and chosen["ben"].entry.direction == "seeks"


def test_acronyms_and_names_keep_their_case(bank: QuestionBank) -> None:
    turns = [Turn(index=0, speaker="ana", text="I never learned SQL."), *TURNS[1:2]]
    reading = Reading(turns=[_turn(0, "ana", "claim", ["sql"]), _turn(1, "ben", "teaching", [])])
    chosen = choose_questions(bank, PAIR, turns, item=None, asked=[], reading=reading)
    assert all("SQL" in c.text for c in chosen), [c.text for c in chosen]


@pytest.mark.parametrize("embedder", [None, FakeEmbedder("fake-roles")], ids=["no-embedder", "fake-embedder"])
def test_the_learner_teaches_back_and_the_teacher_says_what_they_learned(
    bank: QuestionBank, embedder: FakeEmbedder | None
) -> None:
    reading = _reading("ben", "ana")
    chosen = _by(choose_questions(bank, PAIR, TURNS, item=None, asked=[], reading=reading, embedder=embedder))
    assert chosen["ana"].entry.direction == "teach_back"
    assert chosen["ben"].entry.direction == "learned_from"
    assert "Ana" in chosen["ben"].text  # "... from Ana ..."
    # all the way down the bank, never the reverse
    asked: list[str] = []
    for _ in range(40):
        made = choose_questions(bank, PAIR, TURNS, item=None, asked=asked, reading=reading, embedder=embedder)
        for c in made:
            if c.addressee == "ana":
                assert c.entry.direction in TEACH_BACK, c.entry.id
            elif c.addressee == "ben":
                assert c.entry.direction in LEARNED_FROM, c.entry.id
                assert "explain back" not in c.text and "beginner question" not in c.text
        asked += [c.entry.id for c in made]


def test_roles_swap_with_the_reading(bank: QuestionBank) -> None:
    chosen = _by(choose_questions(bank, PAIR, TURNS, item=None, asked=[], reading=_reading("ana", "ben")))
    assert chosen["ben"].entry.direction == "teach_back"
    assert chosen["ana"].entry.direction == "learned_from"


def test_a_partner_who_keeps_teaching_is_not_asked_to_teach_back(bank: QuestionBank) -> None:
    """The reading names no teacher (too few questions from Ana, say), but Ben taught in every recent turn."""
    turns = [_turn(i, s, "teaching" if s == "ben" else "claim", ["pivot table"]) for i, (s, _) in enumerate(TALK)]
    chosen = _by(choose_questions(bank, PAIR, TURNS, item=None, asked=[], reading=Reading(turns=turns)))
    assert chosen["ben"].entry.direction == "learned_from"
    assert chosen["ana"].entry.direction == "teach_back"


def test_only_for_one_partner(bank: QuestionBank) -> None:
    chosen = choose_questions(bank, PAIR, TURNS, item=None, asked=[], only_for="ana", reading=_reading("ben", "ana"))
    assert [c.addressee for c in chosen] == ["ana"]
    assert chosen[0].entry.direction == "teach_back"


@pytest.mark.parametrize("embedder", [None, FakeEmbedder("fake-asked")], ids=["no-embedder", "fake-embedder"])
def test_nothing_asked_before_comes_back(bank: QuestionBank, embedder: FakeEmbedder | None) -> None:
    left = "q185"  # every teach-back question asked but this one
    asked = [q.id for q in bank.questions if q.direction == "teach_back" and q.id != left]
    chosen = choose_questions(
        bank, PAIR, TURNS, item=None, asked=asked, reading=_reading("ben", "ana"), embedder=embedder
    )
    assert not {c.entry.id for c in chosen} & set(asked)
    assert _by(chosen)["ana"].entry.id == left
    # a pair's many sessions: every id proposed once at most, until the bank runs dry
    seen: list[str] = []
    for _ in range(len(bank.questions)):
        made = choose_questions(bank, PAIR, TURNS, item=None, asked=seen, reading=_reading(), embedder=embedder)
        if not made:
            break
        seen += [c.entry.id for c in made]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("embedder", [None, FakeEmbedder("fake-determinism")], ids=["no-embedder", "fake-embedder"])
def test_deterministic(bank: QuestionBank, embedder: FakeEmbedder | None) -> None:
    item = AgendaItem(title="Ben leads: spreadsheets", minutes=20, purpose="a skill exchange")

    def run() -> list[QuestionCandidate]:
        return choose_questions(bank, PAIR, TURNS, item=item, asked=["q176"], reading=_reading(), embedder=embedder)

    assert run() == run() == run()


def test_the_bank_is_embedded_once_per_embedder(bank: QuestionBank) -> None:
    embedder = FakeEmbedder("fake-cache-once")
    for n in range(3):
        choose_questions(bank, PAIR, TURNS[: n + 4], item=None, asked=[], reading=_reading(), embedder=embedder)
    assert embedder.query_calls == 3  # the moment, once per call
    assert embedder.document_calls == 2  # the whole bank once, then the new topic phrases once (then cached)


def _tiny_bank() -> QuestionBank:
    texts = {
        "t1": "What would you change first about the quarterly budget forecast?",
        "t2": "Which video format would suit your audience on social media?",
    }
    return QuestionBank(
        version=1,
        questions=[
            QuestionEntry(id=qid, phase="exchange", theme="x", direction="seeks", text=text)
            for qid, text in texts.items()
        ],
    )


@pytest.mark.parametrize("embedder", [None, FakeEmbedder("fake-meaning")], ids=["no-embedder", "fake-embedder"])
@pytest.mark.parametrize(("words", "expected"), [("budget forecast", "t1"), ("video format", "t2")])
def test_the_closest_in_meaning_wins(words: str, expected: str, embedder: FakeEmbedder | None) -> None:
    bank = _tiny_bank()
    turns = [
        Turn(index=0, speaker="ana", text=f"I keep struggling with the {words}."),
        Turn(index=1, speaker="ben", text=f"The {words} is hard at first; here is how I do it."),
    ]
    reading = Reading(turns=[_turn(0, "ana", "vulnerable", [words]), _turn(1, "ben", "teaching", [words])])
    chosen = choose_questions(bank, PAIR, turns, item=None, asked=[], reading=reading, embedder=embedder, limit=1)
    assert [c.entry.id for c in chosen] == [expected]


def test_a_real_reading_without_an_embedder(bank: QuestionBank) -> None:
    reading = read_conversation(TURNS, PAIR, embedder=None)
    chosen = choose_questions(bank, PAIR, TURNS, item=None, asked=[], reading=reading)
    assert len(chosen) == 3
    assert sum("pivot table" in c.text.lower() for c in chosen) >= 2, [c.text for c in chosen]


def test_bank_entries_for_the_direction_of_teaching(bank: QuestionBank) -> None:
    for direction in ("teach_back", "learned_from"):
        entries = [q for q in bank.questions if q.direction == direction]
        templated = [q for q in entries if "{topic}" in q.text and "{partner}" in q.text]
        assert len(templated) >= 8, direction
    assert len({q.id for q in bank.questions}) == len(bank.questions)
    for q in bank.questions:
        assert q.source is None or (knowledge_dir() / q.source).is_file(), (q.id, q.source)
    assert Path(knowledge_dir() / "guidance").is_dir()


class _EmbedderOnly:
    """A knowledge base stand-in that only lends its embedder (what `Facilitator.warm` reads)."""

    def __init__(self, embedder: FakeEmbedder) -> None:
        self.embedder = embedder
        self.warmed = 0

    def warm(self) -> None:
        self.warmed += 1


def test_starting_a_session_embeds_the_bank_so_the_first_question_does_not(bank: QuestionBank, tmp_path: Path) -> None:
    from facilitator.engine import Facilitator
    from facilitator.knowledge.bank import ChallengePatterns
    from facilitator.store import Store

    embedder = FakeEmbedder("warm-test")
    knowledge = _EmbedderOnly(embedder)
    fac = Facilitator.offline(Store(f"sqlite:///{tmp_path / 'warm.db'}"))
    fac.knowledge = knowledge  # type: ignore[assignment]
    fac.bank, fac.patterns = bank, ChallengePatterns.load()
    assert embedder.document_calls == 0  # nothing is embedded when the facilitator is built
    live = fac.start(PAIR)
    assert embedder.document_calls == 1 and knowledge.warmed == 1  # the bank, once, and the keyword index
    fac.start(PAIR)
    assert embedder.document_calls == 1 and knowledge.warmed == 1  # once per facilitator
    chosen = choose_questions(bank, PAIR, TURNS, item=None, asked=[], reading=live.reading, embedder=embedder)
    assert chosen and embedder.document_calls == 1  # the first question embeds the moment only, not the bank
