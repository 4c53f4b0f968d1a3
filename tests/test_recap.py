"""The end-of-session recap: TextRank lines by speaker, decisions, open questions; nothing taken back appears."""

from __future__ import annotations

import datetime as dt

import pytest

from facilitator.export import summary_markdown
from facilitator.knowledge import ChallengePatterns
from facilitator.models import Participant, Summary, Turn
from facilitator.summary import decisions, open_questions, read_sentences, recap_text, summarize_turns

PEOPLE = [Participant(id="ana", name="Ana Ruiz"), Participant(id="ben", name="Ben Carter")]
NAMES = {p.id: p.name for p in PEOPLE}
DATE = dt.date(2026, 3, 4)

SESSION = [
    ("ana", "Hi Ben! Last week I presented the quarterly retention numbers to the leadership team."),
    ("ben", "Leadership audiences want one headline chart first. Keep the retention detail in an appendix."),
    ("ana", "That makes sense, the retention slides had far too much detail for the leadership team."),
    ("ana", "I'll send you the confidential pricing deck by Friday so you can review the slides."),
    ("ben", "Great. Let's go with the headline chart format for the next leadership review."),
    ("ana", "Actually no, scratch that, I won't be able to send the confidential pricing deck."),
    ("ben", "No worries. If the numbers get cleared, we'll go with a shared folder instead."),
    ("ana", "Let's go with the purple Canva template for every slide... actually no, scratch that."),
    ("ben", "How do you prepare the speaker notes for a leadership review?"),
    ("ana", "I write three bullets per slide and rehearse twice with a timer before every review."),
    ("ana", "@facilitator what should we talk about next for the leadership review?"),
    ("ben", "Should we invite your manager to the next co-mentoring session?"),
    ("ana", "Let's come back to that next time. The retention chart needs a clearer headline, right?"),
    ("ben", "It's settled: we agreed that the appendix holds the retention detail."),
    ("ben", "Do the enterprise churn numbers include the pilot accounts from March?"),
]


def turns_of(lines: list[tuple[str, str]]) -> list[Turn]:
    return [Turn(index=i, speaker=s, text=t) for i, (s, t) in enumerate(lines)]


@pytest.fixture(scope="module")
def summary() -> Summary:
    return summarize_turns(turns_of(SESSION), PEOPLE, DATE, ChallengePatterns.load())


def test_retracted_items_and_retractions_never_appear(summary: Summary) -> None:
    shown = " ".join([summary.summary, *summary.decisions, *summary.open_questions]).lower()
    assert "pricing deck" not in shown and "scratch that" not in shown
    assert "canva" not in shown
    assert not any("pricing deck" in c.action for c in summary.commitments)


def test_recap_lines_are_one_attributed_sentence_each_in_order(summary: Summary) -> None:
    lines = summary.summary.splitlines()
    assert 2 <= len(lines) <= 5
    turns = turns_of(SESSION)
    positions = []
    for line in lines:
        name, _, sentence = line.partition(": ")
        assert name in NAMES.values()
        speaker = next(pid for pid, n in NAMES.items() if n == name)
        owner = [t for t in turns if t.speaker == speaker and sentence.rstrip("…") in t.text]
        assert len(owner) == 1, line  # the sentence is said by that speaker, in one turn
        positions.append(owner[0].index)
        assert sentence.count(". ") == 0 and not sentence.endswith("?"), line  # one statement, no two glued
    assert positions == sorted(positions)
    assert "@facilitator" not in summary.summary and "what should we talk about" not in summary.summary


def test_recap_is_deterministic() -> None:
    turns = turns_of(SESSION)
    first = recap_text(turns, NAMES)
    assert first and all(recap_text(turns, NAMES) == first for _ in range(3))
    said = read_sentences(turns, PEOPLE, DATE)
    assert recap_text(turns, NAMES, said=said) == first


def test_recap_keeps_one_line_per_point() -> None:
    turns = turns_of(
        [
            ("ana", "The onboarding checklist for new hires is far too long and confusing."),
            ("ben", "The onboarding checklist for new hires is far too long and really confusing."),
            ("ana", "The onboarding checklist for new hires is too long and rather confusing, honestly."),
            ("ben", "Budget approvals for conference travel take three weeks in finance."),
            ("ana", "Mentoring circles helped our junior engineers ask better questions."),
            ("ben", "Quarterly planning sessions run late because priorities keep shifting."),
            ("ana", "Our design reviews improved once every reviewer wrote comments beforehand."),
        ]
    )
    lines = recap_text(turns, NAMES, n=4).splitlines()
    assert len(lines) == 4
    assert sum("onboarding checklist" in line for line in lines) == 1


def test_decisions_found_and_conditional_or_retracted_ones_not(summary: Summary) -> None:
    assert "Let's go with the headline chart format for the next leadership review." in summary.decisions
    assert any("appendix holds the retention detail" in d for d in summary.decisions)
    assert not any("shared folder" in d for d in summary.decisions)  # "if the numbers get cleared"
    assert not any("canva" in d.lower() for d in summary.decisions)  # taken back in the same turn


@pytest.mark.parametrize(
    "line",
    [
        "If the budget comes through, let's go with the bigger venue.",
        "Maybe we'll go with the bigger venue.",
        "Should we say it's settled with the bigger venue?",
        "We agreed last time to book the bigger venue.",
    ],
)
def test_hedged_conditional_past_or_asked_decisions_are_not_decisions(line: str) -> None:
    assert decisions(turns_of([("ana", line), ("ben", "Okay, noted.")])) == []


def test_a_decision_taken_back_by_the_partner_is_dropped() -> None:
    turns = turns_of(
        [
            ("ana", "We agreed to meet every second Tuesday at the library."),
            ("ben", "Let's go with the downtown café for our sessions."),
            ("ana", "Actually no, scratch that, the café is far too loud for us."),
        ]
    )
    assert decisions(turns) == ["We agreed to meet every second Tuesday at the library."]


def test_open_questions_unanswered_or_left_open_but_not_answered_ones(summary: Summary) -> None:
    assert "Should we invite your manager to the next co-mentoring session?" in summary.open_questions
    assert "Do the enterprise churn numbers include the pilot accounts from March?" in summary.open_questions
    assert not any("speaker notes" in q for q in summary.open_questions)  # Ana answered it
    assert not any("right?" in q for q in summary.open_questions)  # a rhetorical tag
    assert not any("@facilitator" in q or "talk about next" in q for q in summary.open_questions)
    assert len(summary.open_questions) <= 5


def test_open_questions_skip_short_tags_and_count_a_yes_as_an_answer() -> None:
    turns = turns_of(
        [
            ("ana", "Did you finish the grant draft for the foundation?"),
            ("ben", "Yes."),
            ("ana", "It was hard, you know? Okay?"),
            ("ben", "What would you change about the grant budget section?"),
            ("ana", "Hmm, what about you?"),
        ]
    )
    assert open_questions(turns) == ["What would you change about the grant budget section?"]


def test_open_questions_are_at_most_five_latest_first_kept_in_order() -> None:
    asked = [("ana", f"Question number {i}: how should we handle case {i} in the survey?") for i in range(8)]
    found = open_questions(turns_of(asked))
    assert found == [f"Question number {i}: how should we handle case {i} in the survey?" for i in range(3, 8)]


def test_markdown_export_lists_recap_points_decisions_and_open_questions(summary: Summary) -> None:
    md = summary_markdown(summary, PEOPLE, turns_of(SESSION))
    recap = md.split("## Summary")[1].split("##")[0]
    assert recap.count("\n- ") == len(summary.summary.splitlines())
    assert "## Decisions" in md and "## Open questions" in md
    assert "- Should we invite your manager to the next co-mentoring session?" in md


def test_a_decision_confirmed_with_a_question_mark_still_counts() -> None:
    turns = turns_of([("ana", "We have decided we wanted to use the rubber casing?"), ("ben", "Yes, rubber.")])
    assert decisions(turns) == ["We have decided we wanted to use the rubber casing?"]
