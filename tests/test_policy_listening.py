"""The listening policy: the latest unchallenged assumption, a two-sided ledger, no nudge after a personal turn,
requests to the facilitator not counted as talk; and the same through the engine with the real reading."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from facilitator.brains.base import BrainInput
from facilitator.brains.offline import OfflineBrain
from facilitator.context import understanding_text
from facilitator.knowledge.bank import ChallengePatterns
from facilitator.models import Assumption, Pair, Participant, Turn
from facilitator.policy import (
    Plan,
    PolicyState,
    Request,
    apply,
    choose_challenge,
    decide,
    partner_talk,
    personal_moment,
    quieter_partner,
    record_assumptions,
)
from facilitator.understanding.reading import Reading, SentenceReading, TurnReading
from facilitator.understanding.sentences import clauses

PAIR = Pair(
    participants=[
        Participant(id="ana", name="Ana Ruiz", role="Director", offers=["strategy"], seeks=["video"]),
        Participant(id="ben", name="Ben Carter", role="Coordinator", offers=["video"], seeks=["stakeholders"]),
    ]
)
T0 = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


def assumption(turn: int, speaker: str, text: str, pattern: str | None = None) -> Assumption:
    return Assumption(turn=turn, speaker=speaker, text=text, pattern=pattern)


def challenge(state: PolicyState, turns: list[Turn]) -> Plan:
    plan = decide(state, PAIR, turns, request=Request(kind="challenge"), now=T0)
    assert plan is not None
    return plan


def turns_of(n: int) -> list[Turn]:
    return [Turn(index=i, speaker="ana" if i % 2 == 0 else "ben", text="We talked about the plan.") for i in range(n)]


# ------------------------------------------------------------------------------------------------- challenges


def test_the_latest_unchallenged_assumption_is_challenged_not_the_oldest() -> None:
    state = PolicyState()
    record_assumptions(state, [assumption(1, "ana", "Juniors never read the brief.")])
    record_assumptions(state, [assumption(5, "ana", "Nobody opens newsletters any more.")])
    plan = challenge(state, turns_of(6))
    assert plan.assumption is not None and plan.assumption.turn == 5 and plan.addressee == "ana"
    apply(state, plan, 5, T0)
    again = challenge(state, turns_of(6))
    assert again.assumption is not None and again.assumption.turn == 1  # then the older one, still open


def test_the_less_challenged_partner_is_challenged_when_both_have_open_assumptions() -> None:
    state = PolicyState(challenges={"ben": 2})
    record_assumptions(state, [assumption(3, "ana", "Directors don't need to learn video.")])
    record_assumptions(state, [assumption(4, "ben", "Older people can't learn editing software.")])
    plan = challenge(state, turns_of(5))
    assert plan.addressee == "ana"  # Ben's is later, but Ana has not been challenged yet


def test_an_old_open_assumption_does_not_override_the_latest_one() -> None:
    state = PolicyState(challenges={"ben": 1})
    record_assumptions(state, [assumption(1, "ana", "Directors don't need to learn video.")])
    record_assumptions(state, [assumption(20, "ben", "Older people can't learn editing software.")])
    assert choose_challenge(state, PAIR) is not None
    assert choose_challenge(state, PAIR).speaker == "ben"  # type: ignore[union-attr]


def test_two_assumptions_in_one_turn_are_challenged_one_at_a_time() -> None:
    state = PolicyState()
    record_assumptions(
        state,
        [assumption(2, "ana", "Interns never stay long."), assumption(2, "ana", "Screens ruin attention.", "p")],
    )
    assert state.voiced == {"ana": 1}  # one turn voicing two counts once
    first = challenge(state, turns_of(3))
    apply(state, first, 2, T0)
    second = challenge(state, turns_of(3))
    assert {first.query, second.query} == {"Interns never stay long.", "Screens ruin attention."}


def test_when_every_assumption_was_probed_a_request_probes_the_latest_again() -> None:
    state = PolicyState()
    record_assumptions(state, [assumption(2, "ben", "Managers never listen.")])
    apply(state, challenge(state, turns_of(3)), 2, T0)
    again = challenge(state, turns_of(4))
    assert again.assumption is not None and again.addressee == "ben"


def test_with_nothing_voiced_a_challenge_is_for_both() -> None:
    plan = challenge(PolicyState(), turns_of(4))
    assert plan.assumption is None and plan.addressee == "both"


# ----------------------------------------------------------------------------------------------------- nudges


def reading_of(turns: list[Turn], act: str = "claim") -> Reading:
    readings = [
        TurnReading(
            index=t.index,
            speaker=t.speaker,
            sentences=[SentenceReading(text=t.text, act=act if t is turns[-1] else "claim", confidence=0.9)],  # type: ignore[arg-type]
            words=len(t.text.split()),
        )
        for t in turns
    ]
    return Reading(turns=readings)


def dominated(last: str) -> list[Turn]:
    long = "I think the campaign needs a clearer message and a better plan for the launch next month. " * 3
    turns = [
        Turn(index=i, speaker="ana" if i % 2 == 0 else "ben", text=long if i % 2 == 0 else "Mm.") for i in range(9)
    ]
    turns.append(Turn(index=9, speaker="ben", text=last))
    turns.append(Turn(index=10, speaker="ana", text=long))
    return turns


def test_a_dominated_stretch_gets_the_quiet_partner_invited() -> None:
    turns = dominated("Okay.")
    plan = decide(PolicyState(), PAIR, turns, now=T0, reading=reading_of(turns))
    assert plan is not None and plan.kind == "nudge" and plan.addressee == "ben"


def test_no_nudge_right_after_a_vulnerable_turn() -> None:
    turns = dominated("Okay.")
    turns[-1] = Turn(index=10, speaker="ana", text="Honestly I'm scared I'll fail at this and lose the team.")
    plan = decide(PolicyState(), PAIR, turns, now=T0, reading=reading_of(turns, "vulnerable"))
    assert plan is None or plan.kind != "nudge"


def test_a_long_personal_story_is_a_personal_moment_but_a_long_lecture_is_not() -> None:
    story = "I remember when I started and I was lost and my manager ignored me and I nearly quit my job. " * 4
    lecture = "The campaign needs a clear message, the budget must be agreed, and the launch follows the plan. " * 4
    assert personal_moment(reading_of([Turn(index=0, speaker="ana", text=story)]))
    assert not personal_moment(reading_of([Turn(index=0, speaker="ana", text=lecture)]))


def test_requests_to_the_facilitator_are_not_talk() -> None:
    turns = [
        Turn(index=i, speaker="ana", text="@facilitator " + "what does the guidance say about feedback? " * 5)
        for i in range(6)
    ]
    turns += [Turn(index=6 + i, speaker="ben" if i % 2 else "ana", text="We agreed on the plan.") for i in range(4)]
    assert len(partner_talk(turns)) == 4
    assert quieter_partner(turns, PAIR) is None


# ------------------------------------------------------------------------------------------ wording, offline


def brain_input(plan: Plan, state: PolicyState, reading: Reading | None = None) -> BrainInput:
    patterns = ChallengePatterns.load()
    pattern = patterns.by_id(plan.assumption.pattern or "overgeneralisation") if plan.assumption else None
    return BrainInput(
        plan=plan, pair=PAIR, turns=[], context="", state=state, pattern=pattern, reading=reading or Reading()
    )


def test_a_challenge_quotes_names_the_speaker_and_invites_the_other() -> None:
    state = PolicyState()
    said = assumption(3, "ben", "Older people just can't learn editing software.")
    plan = Plan(kind="challenge", addressee="ben", assumption=said, query=said.text, reason="r")
    texts = [OfflineBrain().render(brain_input(plan, state)).text for _ in range(3)]
    for text in texts:
        assert said.text.rstrip(".") in text and text.index("Ben") < text.index("Ana")
    assert len(set(texts)) == 3  # the wording varies from one challenge to the next


def test_nothing_assumed_says_so_and_asks_about_the_topic_never_the_same_twice() -> None:
    state = PolicyState()
    reading = Reading(
        turns=[TurnReading(index=0, speaker="ana", sentences=[], topics=["launch video"], words=8)],
    )
    plan = Plan(kind="challenge", addressee="both", reason="asked; nothing voiced")
    texts = [OfflineBrain().render(brain_input(plan, state, reading)).text for _ in range(3)]
    assert all("launch video" in t for t in texts)
    assert len(set(texts)) == 3
    assert "one belief each of you holds" not in " ".join(texts)


def test_nudges_vary_and_name_a_goal_once() -> None:
    state = PolicyState()
    plan = Plan(kind="nudge", addressee="ben", reason="ana dominates")
    texts = [OfflineBrain().render(brain_input(plan, state)).text for _ in range(4)]
    assert len(set(texts)) == 4 and all("Ben" in t for t in texts)
    assert sum("You came wanting to work on" in t for t in texts) == 1


def test_a_long_spoken_sentence_is_split_into_clauses() -> None:
    parts = clauses("One venue lost our sheet, the one in Hull, so basically regional theatres are all disorganised.")
    assert "basically regional theatres are all disorganised" in parts
    assert clauses("Short and simple sentence here.") == []


def test_the_model_is_given_the_same_understanding() -> None:
    reading = Reading(
        turns=[
            TurnReading(
                index=4,
                speaker="ben",
                sentences=[SentenceReading(text="Directors never read reports.", act="assumption", confidence=0.8)],
                topics=["show report"],
                words=4,
            )
        ]
    )
    text = understanding_text(reading, PAIR)
    assert "show report" in text and '"Directors never read reports."' in text and "Ben" in text


# ------------------------------------------------------------------------------------------ through the engine


@pytest.fixture
def fac(make_facilitator: Any) -> Any:
    return make_facilitator()


def test_the_engine_challenges_a_generalisation_no_pattern_names(fac: Any) -> None:
    live = fac.start(PAIR)
    for speaker, text in [
        ("ana", "Thanks for coming. Shall we start with the launch video?"),
        ("ben", "Sure. I storyboarded it on Sunday, three scenes, about forty seconds in all."),
        ("ana", "Good. Anyway, the trustees are all over seventy, so they'll never approve a video on social media."),
    ]:
        list(live.say(speaker, text))
    move = [e.move for e in live.ask("challenge") if e.kind == "move"][-1]
    assert move.kind == "challenge" and move.addressee == "ana"
    assert "trustees are all over seventy" in move.text and "Ben" in move.text


def test_the_engine_does_not_count_the_facilitator_question_as_talk(fac: Any) -> None:
    live = fac.start(PAIR)
    list(live.say("ana", "@facilitator " + "how should we structure feedback between us this month? " * 6))
    assert live.balance().participants["ana"].words > 0  # the stored balance still shows it
    assert quieter_partner(live.turns, PAIR) is None


def test_no_bank_question_is_proposed_twice_to_a_pair_across_sessions(fac: Any) -> None:
    first = fac.start(PAIR)
    list(first.say("ana", "Let's talk about the launch video and the stakeholders."))
    asked = {q.citation.id for e in first.ask("question") if e.move for q in e.move.questions if q.citation}
    assert asked
    second = fac.start(PAIR)
    assert asked <= set(second.state.asked)
    again = {q.citation.id for e in second.ask("question") if e.move for q in e.move.questions if q.citation}
    assert not asked & again
