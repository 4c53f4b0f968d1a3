"""The policy: plain, deterministic code that turns signals into one move or silence.

The brain only words the move; the policy decides whether to speak, to whom, and why.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from facilitator.models import Agenda, Assumption, Move, MoveKind, Pair, Turn
from facilitator.signals import RECENT_TURNS, talk_shares
from facilitator.understanding.read import is_to_facilitator
from facilitator.understanding.reading import Reading

RequestKind = Literal["question", "challenge", "balance", "recap", "commitments", "answer", "next"]

NUDGE_SHARE = 0.65  # a partner holding more than this share of the recent words gets the other one invited in
# (in a group of n, the quietest member is invited in below (1 - NUDGE_SHARE) * 2 / n of the words: 23% of 3, 14% of 5)
MIN_TURNS_BEFORE_NUDGE = 6
NUDGE_COOLDOWN = 8  # partner turns between two nudges
PROACTIVE_COOLDOWN = 3  # partner turns after any move before the facilitator speaks unasked
LULL_TURNS = 14  # unasked question after this many partner turns without a move
CHALLENGE_RATIO = 2  # nobody is challenged more than twice as often as the least-challenged member who voiced one
FRESH_TURNS = 3  # an assumption can still be probed unasked this many turns after it was voiced
LEDGER_WINDOW = 8  # turns: an open assumption this close to the latest one may be preferred to keep the ledger even
PERSONAL_WORDS = 60  # a turn this long, mostly about the speaker, is a personal story: no nudge right after it
PERSONAL_SHARE = 0.08  # first-person words ("I", "my", "me") per word above which a long turn is personal


class PolicyState(BaseModel):
    """What the policy remembers across turns; stored with the session so it survives restarts."""

    challenges: dict[str, int] = Field(default_factory=dict)
    voiced: dict[str, int] = Field(default_factory=dict)
    pending: list[Assumption] = Field(default_factory=list)
    challenged: list[str] = Field(default_factory=list, description="Assumptions challenged ('turn:sentence').")
    last_move_turn: int = -1
    last_nudge_turn: int = -100
    agenda_item: int = 0
    item_started_at: dt.datetime | None = None
    asked: list[str] = Field(default_factory=list, description="Question-bank ids already proposed.")
    probes_used: list[str] = Field(default_factory=list)
    model_calls: int = Field(default=0, description="Moves worded by the model so far (capped: max_model_calls).")


class Request(BaseModel):
    """A partner asked for a move (a button, a slash command or @facilitator)."""

    kind: RequestKind
    text: str = ""
    by: str | None = None


TIMED_OUT = "the current agenda item's timebox ran out"


class Plan(BaseModel):
    """The policy's decision: which move, for whom, and on what."""

    kind: MoveKind
    addressee: str | None = None
    assumption: Assumption | None = None
    query: str = ""
    reason: str
    overdue: bool = False  # a transition: the current item's timebox ran out (else a partner moved on early)


def record_assumptions(state: PolicyState, found: list[Assumption]) -> None:
    """Count and keep the assumptions voiced in a turn (one per turn and sentence)."""
    known = {(a.turn, a.text) for a in state.pending}
    for assumption in found:
        if (assumption.turn, assumption.text) in known:
            continue
        known.add((assumption.turn, assumption.text))
        if not any(a.turn == assumption.turn for a in state.pending):
            state.voiced[assumption.speaker] = state.voiced.get(assumption.speaker, 0) + 1
        state.pending.append(assumption)


def _may_challenge(state: PolicyState, pid: str, others: list[str]) -> bool:
    """Challenging `pid` keeps the ledger even with the least-challenged of the `others` who voiced something to
    challenge (always, when none of them did)."""
    mine = state.challenges.get(pid, 0) + 1
    voiced = [o for o in others if state.voiced.get(o, 0) > 0]
    if not voiced:
        return True
    theirs = min(state.challenges.get(o, 0) for o in voiced)
    return mine <= CHALLENGE_RATIO * max(theirs, 1) or mine <= theirs + 1


def _order(state: PolicyState, a: Assumption) -> tuple[int, bool, int]:
    """Later turns first; within a turn, one a challenge pattern names, then the later sentence."""
    return (a.turn, a.pattern is not None, state.pending.index(a))


def _key(a: Assumption) -> str:
    return f"{a.turn}:{a.text}"


def open_assumptions(state: PolicyState) -> list[Assumption]:
    return [a for a in state.pending if _key(a) not in state.challenged]


def choose_challenge(state: PolicyState, pair: Pair) -> Assumption | None:
    """The assumption to probe: the latest one not yet challenged; but when another member has an open one voiced
    close to it (LEDGER_WINDOW) and has been challenged less, theirs (the least-challenged member's latest), so that
    every side gets challenged."""
    open_ = open_assumptions(state)
    if not open_:
        return None
    latest = max(open_, key=lambda a: _order(state, a))
    mine = state.challenges.get(latest.speaker, 0)
    others = [
        a
        for a in open_
        if a.speaker != latest.speaker
        and a.turn >= latest.turn - LEDGER_WINDOW
        and state.challenges.get(a.speaker, 0) < mine
    ]
    if not others:
        return latest
    return max(others, key=lambda a: (-state.challenges.get(a.speaker, 0), _order(state, a)))


def recently_challenged(state: PolicyState, last_turn: int) -> Assumption | None:
    """The latest assumption already challenged, if voiced within LEDGER_WINDOW turns (to probe again when a
    partner asks for a challenge and every assumption heard has had one)."""
    recent = [a for a in state.pending if _key(a) in state.challenged and a.turn >= last_turn - LEDGER_WINDOW]
    return max(recent, key=lambda a: _order(state, a)) if recent else None


def may_challenge_unasked(state: PolicyState, pair: Pair, target: Assumption) -> bool:
    """An unasked challenge keeps the ledger within CHALLENGE_RATIO (an asked-for one is always made)."""
    return _may_challenge(state, target.speaker, [p.id for p in pair.others(target.speaker)])


def apply(state: PolicyState, plan: Plan, turn_index: int, now: dt.datetime) -> None:
    """Update the state once a planned move has been delivered."""
    state.last_move_turn = turn_index
    # probing an assumption again does not count twice in the ledger
    if plan.kind == "challenge" and plan.assumption is not None and _key(plan.assumption) not in state.challenged:
        who = plan.assumption.speaker
        state.challenges[who] = state.challenges.get(who, 0) + 1
        state.challenged.append(_key(plan.assumption))
    if plan.kind == "nudge":
        state.last_nudge_turn = turn_index
    if plan.kind == "transition":
        state.agenda_item += 1
        state.item_started_at = now


def record_move(state: PolicyState, move: Move) -> None:
    for question in move.questions:
        cited = question.citation
        if cited and cited.source == "question_bank" and cited.id not in state.asked:
            state.asked.append(cited.id)


def quieter_partner(turns: list[Turn], pair: Pair) -> tuple[str, str, float] | None:
    """(quietest id, dominant id, dominant share) when the talk is lopsided: in a pair, one partner held more than
    NUDGE_SHARE of the recent words; in a group of n, the quietest member had less than their part of what a quiet
    partner has in a pair ((1 - NUDGE_SHARE) * 2 / n). Ties go to the member listed first."""
    recent = partner_talk(turns)[-RECENT_TURNS:]
    shares = talk_shares(recent, pair.ids)
    loud = max(shares, key=lambda pid: shares[pid])
    quiet = min(shares, key=lambda pid: shares[pid])
    if quiet != loud and _lopsided(shares[loud], shares[quiet], len(shares)):
        return quiet, loud, shares[loud]
    return None


def _lopsided(loud: float, quiet: float, members: int) -> bool:
    if members <= 2:
        return loud > NUDGE_SHARE
    return quiet < (1 - NUDGE_SHARE) * 2 / members


def partner_talk(turns: list[Turn]) -> list[Turn]:
    """The partners' own turns: a request to the facilitator ("@facilitator ...") is not talk."""
    return [t for t in turns if not is_to_facilitator(t.text)]


def personal_moment(reading: Reading | None) -> bool:
    """The last partner turn admits a fear, a mistake or a struggle, or is a long story about the speaker: a nudge
    right after it would cut them off."""
    if reading is None or not reading.partner_turns(1):
        return False
    last = reading.partner_turns(1)[0]
    if "vulnerable" in last.acts():
        return True
    if last.words < PERSONAL_WORDS:
        return False
    text = " ".join(s.text for s in last.sentences).lower().replace("\u2019", "'")
    mine = sum(text.split().count(w) for w in ("i", "i'm", "i've", "i'd", "my", "me", "myself"))
    return mine / max(last.words, 1) >= PERSONAL_SHARE


def agenda_overdue(state: PolicyState, agenda: Agenda | None, now: dt.datetime) -> bool:
    if agenda is None or state.item_started_at is None or state.agenda_item >= len(agenda.items) - 1:
        return False
    item = agenda.items[state.agenda_item]
    return now - state.item_started_at >= dt.timedelta(minutes=item.minutes)


def decide(
    state: PolicyState,
    pair: Pair,
    turns: list[Turn],
    *,
    request: Request | None = None,
    agenda: Agenda | None = None,
    now: dt.datetime | None = None,
    reading: Reading | None = None,
) -> Plan | None:
    """One move or None (silence). Explicit requests always get an answer; unasked moves need a reason."""
    now = now or dt.datetime.now(dt.UTC)
    last = turns[-1].index if turns else -1
    if request is not None:
        return _answer_request(state, pair, turns, request, agenda, now)
    if agenda_overdue(state, agenda, now):
        return Plan(kind="transition", addressee="both", reason=TIMED_OUT, overdue=True)
    since_move = last - state.last_move_turn
    if since_move < PROACTIVE_COOLDOWN and state.last_move_turn >= 0:
        return None
    target = choose_challenge(state, pair)
    if target is not None and target.turn >= last - FRESH_TURNS and may_challenge_unasked(state, pair, target):
        what = f" ({target.pattern})" if target.pattern else ""
        return Plan(
            kind="challenge",
            addressee=target.speaker,
            assumption=target,
            query=target.text,
            reason=f"{target.speaker} voiced an untested assumption{what}",
        )
    talk = partner_talk(turns)
    nudge_due = len(talk) >= MIN_TURNS_BEFORE_NUDGE and last - state.last_nudge_turn >= NUDGE_COOLDOWN
    if nudge_due and not personal_moment(reading):
        quiet = quieter_partner(turns, pair)
        if quiet is not None:
            quiet_id, loud_id, share = quiet
            return Plan(
                kind="nudge",
                addressee=quiet_id,
                query=" ".join(pair.participant(quiet_id).seeks) or "balance talk time",
                reason=f"{loud_id} held {share:.0%} of the last {RECENT_TURNS} turns' words",
            )
    if since_move >= LULL_TURNS:
        return Plan(kind="question", addressee="both", reason=f"{since_move} turns without a facilitator move")
    return None


def _answer_request(
    state: PolicyState, pair: Pair, turns: list[Turn], request: Request, agenda: Agenda | None, now: dt.datetime
) -> Plan:
    if request.kind == "challenge":
        target = choose_challenge(state, pair)
        if target is not None:
            return Plan(
                kind="challenge",
                addressee=target.speaker,
                assumption=target,
                query=target.text,
                reason=f"asked to challenge; probing {target.speaker}'s latest unchallenged assumption",
            )
        again = recently_challenged(state, turns[-1].index if turns else -1)
        if again is not None:
            return Plan(
                kind="challenge",
                addressee=again.speaker,
                assumption=again,
                query=again.text,
                reason=f"asked to challenge; every assumption heard was probed, so {again.speaker}'s latest again",
            )
        return Plan(kind="challenge", addressee="both", reason="asked to challenge; no assumption voiced yet")
    if request.kind == "balance":
        quiet = quieter_partner(turns, pair)
        if quiet is not None:
            return Plan(kind="nudge", addressee=quiet[0], reason=f"asked for a balance check; {quiet[1]} dominates")
        return Plan(kind="nudge", addressee=None, reason="asked for a balance check; talk is balanced")
    if request.kind == "answer":
        return Plan(kind="answer", addressee=request.by, query=request.text, reason="a partner asked the facilitator")
    if request.kind == "next":
        if agenda is None:
            return Plan(kind="notice", reason="There is no agenda yet: generate one and start it to move through it.")
        if state.agenda_item >= len(agenda.items) - 1:
            return Plan(kind="notice", reason="This is the last agenda item. Summarize your commitments to close.")
        overdue = agenda_overdue(state, agenda, now)
        why = TIMED_OUT if overdue else "a partner moved on before the item's time ran out"
        return Plan(kind="transition", addressee="both", reason=why, overdue=overdue)
    if request.kind == "question":
        return Plan(kind="question", addressee="both", query=request.text, reason="asked for a question")
    return Plan(kind=request.kind, addressee="both", reason=f"asked for {request.kind}")
