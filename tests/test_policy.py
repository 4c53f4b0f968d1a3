"""The policy over scripted conversations: silence, two-sided challenges, balance nudges, requests, agenda clock."""

from __future__ import annotations

import datetime as dt

import pytest

from facilitator.knowledge.bank import ChallengePatterns
from facilitator.models import Agenda, AgendaItem, Pair, Participant, Turn
from facilitator.policy import (
    Plan,
    PolicyState,
    Request,
    apply,
    decide,
    record_assumptions,
)
from facilitator.signals import detect_assumptions

PAIR = Pair(
    participants=[
        Participant(id="ana", name="Ana Ruiz", role="Senior marketing lead", offers=["strategy"], seeks=["video"]),
        Participant(id="ben", name="Ben Carter", role="Coordinator", offers=["video"], seeks=["stakeholders"]),
    ]
)
T0 = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def patterns() -> ChallengePatterns:
    return ChallengePatterns.load()


class Conversation:
    """Drives the policy turn by turn the way the engine does, and records every move it makes."""

    def __init__(self, patterns: ChallengePatterns, agenda: Agenda | None = None) -> None:
        self.patterns = patterns
        self.state = PolicyState()
        self.turns: list[Turn] = []
        self.moves: list[tuple[int, Plan]] = []
        self.agenda = agenda
        if agenda:
            self.state.item_started_at = T0

    def say(self, speaker: str, text: str, *, minute: int = 0) -> Plan | None:
        turn = Turn(index=len(self.turns), speaker=speaker, text=text)
        self.turns.append(turn)
        record_assumptions(self.state, detect_assumptions(turn, self.patterns))
        now = T0 + dt.timedelta(minutes=minute)
        plan = decide(self.state, PAIR, self.turns, agenda=self.agenda, now=now)
        if plan:
            apply(self.state, plan, turn.index, now)
            self.moves.append((turn.index, plan))
        return plan

    def ask(self, kind: str, by: str | None = None) -> Plan:
        plan = decide(self.state, PAIR, self.turns, request=Request(kind=kind, by=by), agenda=self.agenda, now=T0)  # type: ignore[arg-type]
        assert plan is not None
        apply(self.state, plan, self.turns[-1].index if self.turns else -1, T0)
        return plan


def test_ordinary_balanced_talk_gets_silence(patterns: ChallengePatterns) -> None:
    convo = Conversation(patterns)
    lines = [
        ("ana", "Good to see you. How did the campus campaign go?"),
        ("ben", "Better than expected, the short videos did well with first-years."),
        ("ana", "What made them work, do you think?"),
        ("ben", "Mostly that students filmed them, not us. It felt honest."),
        ("ana", "That is something I want to learn from you."),
        ("ben", "Happy to show you the editing app next time."),
    ]
    assert all(convo.say(s, t) is None for s, t in lines)


def test_assumption_by_the_senior_partner_is_challenged_and_named(patterns: ChallengePatterns) -> None:
    convo = Conversation(patterns)
    convo.say("ben", "I tried a new format for the newsletter this week.")
    plan = convo.say("ana", "Honestly, juniors have nothing to teach me about strategy.")
    assert plan is not None and plan.kind == "challenge"
    assert plan.addressee == "ana" and plan.assumption is not None
    assert plan.assumption.pattern == "one-way-expertise"


def test_challenges_stay_two_sided_over_a_whole_session(patterns: ChallengePatterns) -> None:
    """Ana voices six assumptions, Ben two: Ana is never challenged more than twice as often as Ben."""
    convo = Conversation(patterns)
    script = [
        ("ana", "Juniors have nothing to teach me about campaigns."),
        ("ben", "I see it differently, we learn from each other."),
        ("ana", "Sure, but let me finish the plan first."),
        ("ben", "I'm too young to be taken seriously by the board."),
        ("ana", "I hear you, that's a real worry."),
        ("ben", "It is, but let's keep going."),
        ("ana", "The board will never approve a TikTok budget."),
        ("ben", "We could ask them anyway."),
        ("ana", "Maybe, let me think."),
        ("ana", "I'm too old for TikTok, honestly."),
        ("ben", "I doubt that."),
        ("ana", "Social media is a fad anyway."),
        ("ben", "The numbers say otherwise."),
        ("ana", "We tried that in 2019, it doesn't work."),
        ("ben", "Things change."),
        ("ana", "Nobody reads newsletters anymore."),
        ("ben", "Our open rate is 40 percent."),
    ]
    for speaker, text in script:
        convo.say(speaker, text)
    challenged = [p.assumption.speaker for _, p in convo.moves if p.kind == "challenge" and p.assumption]
    counts = {pid: challenged.count(pid) for pid in PAIR.ids}
    assert counts["ana"] >= 1 and counts["ben"] >= 1
    assert counts["ana"] <= 2 * counts["ben"] and counts["ben"] <= 2 * counts["ana"]


def test_a_partner_who_voices_no_assumption_does_not_shield_the_other(patterns: ChallengePatterns) -> None:
    convo = Conversation(patterns)
    for text in ("I'm just not a numbers person.", "The board will never approve it.", "I'm too old for TikTok."):
        convo.say("ana", text)
        for _ in range(3):
            convo.say("ben", "Tell me more about that.")
    challenged = [p.assumption.speaker for _, p in convo.moves if p.kind == "challenge" and p.assumption]
    assert challenged.count("ana") == 3


def test_nudge_invites_the_quieter_partner_after_a_monologue(patterns: ChallengePatterns) -> None:
    convo = Conversation(patterns)
    long = "Let me walk you through how I structured the stakeholder map for the spring launch and why. " * 3
    plans = []
    for i in range(8):
        plans.append(convo.say("ana", long) if i % 4 else convo.say("ben", "ok"))
    nudges = [p for p in plans if p and p.kind == "nudge"]
    assert len(nudges) == 1, "exactly one nudge, then a cooldown"
    assert nudges[0].addressee == "ben"


def test_requests_always_get_a_move(patterns: ChallengePatterns) -> None:
    convo = Conversation(patterns)
    convo.say("ana", "Welcome back, how was the week?")
    convo.say("ben", "Busy but good, thank you.")
    assert convo.ask("question").kind == "question"
    assert convo.ask("recap").kind == "recap"
    assert convo.ask("commitments").kind == "commitments"
    balanced = convo.ask("balance")
    assert balanced.kind == "nudge" and balanced.addressee is None
    generic = convo.ask("challenge")
    assert generic.kind == "challenge" and generic.addressee == "both"
    assert convo.ask("next").kind == "notice"


def test_agenda_item_timebox_triggers_one_transition(patterns: ChallengePatterns) -> None:
    agenda = Agenda(
        date=dt.date(2026, 3, 4),
        total_minutes=15,
        items=[AgendaItem(title="Check-in", minutes=5), AgendaItem(title="Ben's item", minutes=10)],
    )
    convo = Conversation(patterns, agenda)
    assert convo.say("ana", "Hello!", minute=1) is None
    plan = convo.say("ben", "Hi, busy week.", minute=6)
    assert plan is not None and plan.kind == "transition"
    assert convo.state.agenda_item == 1
    assert convo.say("ana", "Let's start then.", minute=7) is None
