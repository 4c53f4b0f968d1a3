"""The facilitator's brain: one narrow protocol, two implementations (LLM and offline)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from facilitator.knowledge.bank import ChallengePattern, QuestionEntry
from facilitator.models import AgendaItem, Commitment, Move, Pair, Participant, Turn
from facilitator.policy import Plan, PolicyState

TokenSink = Callable[[str], None]


@dataclass
class BrainInput:
    """Everything a brain may use to word a move. Built by the engine; the same for both brains."""

    plan: Plan
    pair: Pair
    turns: list[Turn]
    context: str
    state: PolicyState
    guidance: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, source, title, text)
    covered: bool = True
    candidates: list[tuple[QuestionEntry, str, str]] = field(default_factory=list)  # (entry, for, rendered text)
    pattern: ChallengePattern | None = None
    agenda_item: AgendaItem | None = None
    next_item: AgendaItem | None = None
    commitments: list[Commitment] = field(default_factory=list)
    state_text: str = ""


class Brain(Protocol):
    """Turns a planned move into words. Raises ModelError when it cannot (the engine then asks the offline brain)."""

    @property
    def name(self) -> str: ...

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move: ...

    def extract_commitments(
        self, turns: list[Turn], participants: list[Participant], session_date: dt.date
    ) -> list[Commitment]: ...
