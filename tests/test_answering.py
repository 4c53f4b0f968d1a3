"""The offline answer to `@facilitator …` (facilitator.brains.answering): a quoted supporting sentence, or a decline
that names what the guidance covers; and `validate_move` keeping a quote found in its passage."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from facilitator.brains.answering import (
    HEADING_WEIGHT,
    SUPPORT_SIMILARITY,
    answer_move,
    as_asked,
    best_sentences,
    passage_sentences,
)
from facilitator.brains.base import BrainInput
from facilitator.knowledge.passages import KEYWORD_WEIGHT
from facilitator.models import Citation, Move, Pair, Participant, SearchHit
from facilitator.moves import quote_in_passage, validate_move
from facilitator.policy import Plan, PolicyState

PAIR = Pair(participants=[Participant(id="ann", name="Ann Lee"), Participant(id="bo", name="Bo Park")])
CADENCE = SearchHit(
    source="knowledge/guidance/meeting-cadence.md",
    title="How often to meet",
    section="Recommended meeting frequency",
    score=1.0,
    id="c-cadence",
    text=(
        "For most pairs, meeting every two to four weeks works best. Meetings closer together leave little time.\n\n"
        "Suggested rhythms by situation:\n\n"
        "- **New pairing:** every two weeks, to build rapport quickly.\n"
        "- **Listen.** Then wait.\n"
    ),
)
FEEDBACK = SearchHit(
    source="knowledge/guidance/feedback-both-ways.md",
    title="Giving and receiving feedback",
    section="How to receive feedback well",
    score=0.9,
    id="c-feedback",
    text="Listen to the end and thank your partner before you answer any criticism of your plan.",
)


class WordEmbedder:
    """A tiny embedder for tests: a vector of counts over a fixed vocabulary (synonyms share a slot)."""

    name = "words"
    SLOTS = (
        ("meet", "meeting", "meetings"),
        ("weeks", "week", "often", "frequency"),
        ("feedback", "criticism"),
        ("listen", "thank"),
        ("salary", "pay"),
    )

    def _vector(self, text: str) -> list[float]:
        words = re.findall(r"[a-z]+", text.lower())
        return [float(sum(w in slot for w in words)) + 1e-3 for slot in self.SLOTS]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def _data(question: str, hits: list[SearchHit], *, covered: bool = True, embedder: Any = None) -> BrainInput:
    plan = Plan(kind="answer", addressee="ann", query=question, reason="a partner asked the facilitator")
    return BrainInput(
        plan=plan,
        pair=PAIR,
        turns=[],
        context="",
        state=PolicyState(),
        guidance=hits,
        covered=covered,
        embedder=embedder,
    )


def test_passage_sentences_drop_markdown_keep_list_items_whole_and_join_fragments() -> None:
    found = passage_sentences(CADENCE.text)
    assert found[0] == "For most pairs, meeting every two to four weeks works best."
    assert "New pairing: every two weeks, to build rapport quickly." in found
    assert "Listen. Then wait." in found  # a list item stays whole, markers and emphasis gone
    assert not any("**" in s or s.startswith("-") for s in found)


def test_the_sentence_that_answers_is_chosen_by_meaning() -> None:
    ranked = best_sentences("how often should we meet?", [FEEDBACK, CADENCE], WordEmbedder())
    assert ranked[0].hit.id == "c-cadence" and "two to four weeks" in ranked[0].sentence
    assert ranked == sorted(ranked, key=lambda s: -s.score)
    top = 1.0 + KEYWORD_WEIGHT + HEADING_WEIGHT + 1e-9
    assert all(s.score <= top and not math.isnan(s.score) for s in ranked)


def test_an_answer_quotes_its_supporting_sentence_found_in_the_passage() -> None:
    move = answer_move(_data("how often should we meet?", [CADENCE, FEEDBACK], embedder=WordEmbedder()))
    assert move.kind == "answer" and move.addressee == "ann" and move.citations
    first = move.citations[0]
    assert first.id == "c-cadence" and first.quote and "two to four weeks" in first.quote
    assert first.quote != CADENCE.text and quote_in_passage(first.quote, CADENCE.text)
    assert "[c-cadence]" in move.text and "doesn't cover" not in move.text


def test_without_an_embedder_word_overlap_chooses_the_sentence() -> None:
    move = answer_move(_data("how do I listen and thank my partner for criticism?", [CADENCE, FEEDBACK]))
    assert [c.id for c in move.citations] == ["c-feedback"]
    assert move.citations[0].quote == FEEDBACK.text


def test_not_covered_or_no_supporting_sentence_is_a_decline_naming_what_is_covered() -> None:
    for data in (
        _data("how often should we meet?", [CADENCE, FEEDBACK], covered=False, embedder=WordEmbedder()),
        _data("what salary should I ask for?", [CADENCE, FEEDBACK], embedder=WordEmbedder()),
    ):
        move = answer_move(data)
        assert move.kind == "answer" and not move.citations
        assert "doesn't cover" in move.text and "decide it together" in move.text
        assert "“How often to meet”" in move.text and "“Giving and receiving feedback”" in move.text
    bare = answer_move(_data("what salary should I ask for?", []))
    assert not bare.citations and "It covers" in bare.text
    assert 0.0 < SUPPORT_SIMILARITY < 1.0


def test_validate_move_keeps_a_quote_found_in_the_passage_and_replaces_any_other() -> None:
    allowed = {"c-cadence": CADENCE.text}
    kept = Citation(source=CADENCE.source, id="c-cadence", quote="New pairing: every two weeks, to build rapport")
    invented = Citation(source=CADENCE.source, id="c-cadence", quote="Meet every day without fail, always.")
    joined = Citation(
        source=CADENCE.source, id="c-cadence", quote="meeting every two to four weeks works best. … Listen. Then wait."
    )
    move = Move(kind="answer", text="From the guidance: …", citations=[kept, invented, joined])
    repaired, problems = validate_move(move, PAIR, allowed)
    quotes = [c.quote for c in repaired.citations]
    assert not problems
    assert quotes[0] == kept.quote and quotes[2] == joined.quote
    assert quotes[1] is not None and quotes[1].startswith("For most pairs")  # not in the passage: the passage itself
    assert not quote_in_passage("the", CADENCE.text) and not quote_in_passage("every two wee", CADENCE.text)


def test_the_engine_quotes_a_guidance_sentence_or_declines(make_facilitator: Any, demo_pair: Any) -> None:
    live = make_facilitator().start(demo_pair, date=dt.date(2026, 3, 2))
    made = [e.move for e in live.say("ben", "@facilitator how often should we meet?") if e.move is not None]
    [answer] = [m for m in made if m.kind == "answer"]
    assert answer.citations
    for citation in answer.citations:
        assert citation.quote and len(citation.quote) < 600
        passage = live.f.knowledge.get([citation.id])[0].text
        assert quote_in_passage(citation.quote, passage)
        assert any(s in citation.quote for s in passage_sentences(passage))
    declined = [e.move for e in live.say("ana", "@facilitator what is the capital gains tax rate on shares?") if e.move]
    [decline] = [m for m in declined if m.kind == "answer"]
    assert not decline.citations and "doesn't cover" in decline.text
    assert "What it does cover" in decline.text and "“" in decline.text


def test_partners_names_are_read_as_my_partner() -> None:
    asked = as_asked("Can Ann teach me what Ann's team does? Annabel asked too.", PAIR)
    assert asked == "Can my partner teach me what my partner's team does? Annabel asked too."
    assert as_asked("how often should we meet?", None) == "how often should we meet?"


def test_an_answer_quotes_one_passage_only() -> None:
    question = "how often should we meet, and how do I listen and thank my partner for feedback?"
    move = answer_move(_data(question, [CADENCE, FEEDBACK], embedder=WordEmbedder()))
    assert move.citations and len({c.id for c in move.citations}) == 1
    ranked = best_sentences(question, [CADENCE, FEEDBACK], WordEmbedder())
    assert {s.hit.id for s in ranked} == {"c-cadence", "c-feedback"}  # both were candidates


def test_a_section_whose_heading_names_what_is_asked_is_quoted_before_a_sibling() -> None:
    text = "Book every meeting of the cycle at the start, at the frequency you agreed, so that each date is kept."
    booking = CADENCE.model_copy(update={"id": "c-booking", "section": "Booking the dates", "text": text})
    frequency = CADENCE.model_copy(update={"id": "c-frequency", "section": "Meeting frequency", "text": text})
    question = "what frequency should we meet at?"
    ranked = best_sentences(question, [booking, frequency], WordEmbedder())
    # the same sentence in both, and both passages hold the question's words: the heading settles it
    assert ranked[0].hit.id == "c-frequency" and ranked[1].hit.id == "c-booking"
    assert ranked[0].score - ranked[1].score >= HEADING_WEIGHT - 0.01
    move = answer_move(_data(question, [booking, frequency], embedder=WordEmbedder()))
    assert [c.id for c in move.citations] == ["c-frequency"]
