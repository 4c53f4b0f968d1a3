"""The facilitator's brain: one narrow protocol, two implementations (LLM and offline).

Everything a brain is handed or returns is a typed value: `BrainInput` for a move, `AgendaPhrasingInput` and
`AgendaPhrasing` for an agenda's wording, `BrainProfile` for what kind of brain it is (callers ask the profile, never
the brain's type).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from facilitator.knowledge.bank import ChallengePattern
from facilitator.models import Agenda, AgendaItem, Commitment, Move, Pair, Participant, SearchHit, Turn
from facilitator.moves import QuestionCandidate
from facilitator.policy import Plan, PolicyState
from facilitator.understanding.reading import Reading

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder

TokenSink = Callable[[str], None]


class BrainProfile(BaseModel):
    """What a brain is, for callers that must treat brains differently (banners, streaming, model-call caps)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["offline", "llm"]
    model: str = Field(description="The model's name ('offline' for the offline brain).")
    server: str | None = Field(default=None, description="The model server's base URL, when one is configured.")
    streams: bool = Field(description="Whether moves arrive token by token (and each one is a model call).")


@dataclass
class BrainInput:
    """Everything a brain may use to word a move. Built by the engine; the same for both brains."""

    plan: Plan
    pair: Pair
    turns: list[Turn]
    context: str
    state: PolicyState
    guidance: list[SearchHit] = field(default_factory=list)  # retrieved passages, best first
    covered: bool = True
    candidates: list[QuestionCandidate] = field(default_factory=list)  # bank questions fitted to this move
    pattern: ChallengePattern | None = None
    agenda_item: AgendaItem | None = None
    next_item: AgendaItem | None = None
    commitments: list[Commitment] = field(default_factory=list)
    state_text: str = ""
    reading: Reading = field(default_factory=Reading)  # the conversation understood (facilitator.understanding)
    embedder: Embedder | None = None  # the guidance's embedder, for meaning-based choices (None: word overlap)


class AgendaPhrasingInput(BaseModel):
    """What a brain may use to reword an agenda that code has built: the agenda, the pair, and the guidance
    passages the agenda cites (reference material for the wording)."""

    agenda: Agenda
    pair: Pair
    references: list[SearchHit] = Field(default_factory=list)


class PhrasedItem(BaseModel):
    """The new wording of one agenda item: `index` is its position in the agenda, `questions` its question texts."""

    model_config = ConfigDict(extra="forbid")

    index: int
    title: str
    purpose: str
    questions: list[str]


class AgendaPhrasing(BaseModel):
    """A brain's rewording of an agenda: one entry per item, same order, same number of questions.

    No items: no rewording (what the offline brain returns; the agenda stays as built). Code checks any other
    phrasing before it is used (facilitator.agenda.phrase)."""

    model_config = ConfigDict(extra="forbid")

    items: list[PhrasedItem]


class Brain(Protocol):
    """Turns a planned move into words. Raises ModelError when it cannot (the engine then asks the offline brain)."""

    @property
    def name(self) -> str: ...

    @property
    def profile(self) -> BrainProfile: ...

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move: ...

    def extract_commitments(
        self, turns: list[Turn], participants: list[Participant], session_date: dt.date
    ) -> list[Commitment]: ...

    def phrase_agenda(self, data: AgendaPhrasingInput) -> AgendaPhrasing: ...
