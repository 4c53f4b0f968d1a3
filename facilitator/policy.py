"""The policy: plain, deterministic code that turns signals into one move or silence.

The brain only words the move; the policy decides whether to speak, to whom, and why.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from facilitator.models import Agenda, Assumption, Move, MoveKind, Pair, Turn
from facilitator.signals import RECENT_TURNS, talk_shares

RequestKind = Literal["question", "challenge", "balance", "recap", "commitments", "answer", "next"]

NUDGE_SHARE = 0.65  # a partner holding more than this share of the recent words gets the other one invited in
MIN_TURNS_BEFORE_NUDGE = 6
NUDGE_COOLDOWN = 8  # partner turns between two nudges
PROACTIVE_COOLDOWN = 3  # partner turns after any move before the facilitator speaks unasked
LULL_TURNS = 14  # unasked question after this many partner turns without a move
CHALLENGE_RATIO = 2  # neither partner is challenged more than twice as often as the other
FRESH_TURNS = 3  # an assumption can still be probed unasked this many turns after it was voiced


class PolicyState(BaseModel):
    """What the policy remembers across turns; stored with the session so it survives restarts."""

    challenges: dict[str, int] = Field(default_factory=dict)
    voiced: dict[str, int] = Field(default_factory=dict)
    pending: list[Assumption] = Field(default_factory=list)
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


class Plan(BaseModel):
    """The policy's decision: which move, for whom, and on what."""

    kind: MoveKind
    addressee: str | None = None
    assumption: Assumption | None = None
    query: str = ""
    reason: str


def record_assumptions(state: PolicyState, found: list[Assumption]) -> None:
    for assumption in found:
        state.voiced[assumption.speaker] = state.voiced.get(assumption.speaker, 0) + 1
        state.pending.append(assumption)


def _may_challenge(state: PolicyState, pid: str, other: str) -> bool:
    """Challenging `pid` keeps the ledger two-sided, or `other` has voiced nothing to challenge."""
    mine = state.challenges.get(pid, 0) + 1
    theirs = state.challenges.get(other, 0)
    if state.voiced.get(other, 0) == 0:
        return True
    return mine <= CHALLENGE_RATIO * max(theirs, 1) or mine <= theirs + 1


def choose_challenge(state: PolicyState, pair: Pair) -> Assumption | None:
    """The pending assumption to probe: the less-challenged partner first, then the most recent."""
    ordered = sorted(state.pending, key=lambda a: (state.challenges.get(a.speaker, 0), -a.turn))
    for assumption in ordered:
        if _may_challenge(state, assumption.speaker, pair.other(assumption.speaker).id):
            return assumption
    return None


def apply(state: PolicyState, plan: Plan, turn_index: int, now: dt.datetime) -> None:
    """Update the state once a planned move has been delivered."""
    state.last_move_turn = turn_index
    if plan.kind == "challenge" and plan.assumption is not None:
        who = plan.assumption.speaker
        state.challenges[who] = state.challenges.get(who, 0) + 1
        state.pending = [a for a in state.pending if a.speaker != who or a.turn > plan.assumption.turn]
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
    """(quiet id, dominant id, dominant share) when one partner held more than NUDGE_SHARE of the recent words."""
    recent = turns[-RECENT_TURNS:]
    shares = talk_shares(recent, pair.ids)
    loud = max(shares, key=lambda pid: shares[pid])
    if shares[loud] > NUDGE_SHARE:
        return pair.other(loud).id, loud, shares[loud]
    return None


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
) -> Plan | None:
    """One move or None (silence). Explicit requests always get an answer; unasked moves need a reason."""
    now = now or dt.datetime.now(dt.UTC)
    last = turns[-1].index if turns else -1
    if request is not None:
        return _answer_request(state, pair, turns, request, agenda)
    if agenda_overdue(state, agenda, now):
        return Plan(kind="transition", addressee="both", reason="the current agenda item's timebox ran out")
    since_move = last - state.last_move_turn
    if since_move < PROACTIVE_COOLDOWN and state.last_move_turn >= 0:
        return None
    if any(a.turn >= last - FRESH_TURNS for a in state.pending):
        target = choose_challenge(state, pair)
        if target is not None and target.turn >= last - FRESH_TURNS:
            return Plan(
                kind="challenge",
                addressee=target.speaker,
                assumption=target,
                query=target.text,
                reason=f"{target.speaker} voiced an untested assumption ({target.pattern})",
            )
    if len(turns) >= MIN_TURNS_BEFORE_NUDGE and last - state.last_nudge_turn >= NUDGE_COOLDOWN:
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


def _answer_request(state: PolicyState, pair: Pair, turns: list[Turn], request: Request, agenda: Agenda | None) -> Plan:
    if request.kind == "challenge":
        target = choose_challenge(state, pair)
        if target is not None:
            return Plan(
                kind="challenge",
                addressee=target.speaker,
                assumption=target,
                query=target.text,
                reason="asked to challenge; probing the latest unchallenged assumption",
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
        if agenda is None or state.agenda_item >= len(agenda.items) - 1:
            return Plan(kind="notice", reason="asked for the next item, but there is none")
        return Plan(kind="transition", addressee="both", reason="a partner moved to the next agenda item")
    if request.kind == "question":
        return Plan(kind="question", addressee="both", query=request.text, reason="asked for a question")
    return Plan(kind=request.kind, addressee="both", reason=f"asked for {request.kind}")
