"""The facilitator's brain: one narrow protocol, two implementations (LLM and offline).

Everything a brain is handed or returns is a typed value: `BrainInput` for a move, `AgendaPhrasingInput` and
`AgendaPhrasing` for an agenda's wording, `CommitmentReviewInput` and `CommitmentReview` for its verdicts on the
offline extractor's accountability items, `BrainProfile` for what kind of brain it is (callers ask the profile, never
the brain's type). What a brain returns is checked in code before it is used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class CommitmentReviewInput(BaseModel):
    """What a brain may use to review accountability items: the offline extractor's candidates (each with a unique
    `id`), the whole conversation (each candidate's `evidence` indexes it), the participants and the dates."""

    model_config = ConfigDict(frozen=True)

    candidates: list[Commitment]
    turns: list[Turn]
    participants: list[Participant]
    session_date: dt.date
    next_meeting: dt.date | None = Field(default=None, description="From the pair's cadence, when known.")

    @model_validator(mode="after")
    def _unique_ids(self) -> CommitmentReviewInput:
        ids = [c.id for c in self.candidates]
        if None in ids or len(set(ids)) != len(ids):
            raise ValueError("every candidate needs a unique id (facilitator.commitments.commitment_id)")
        return self


RejectReason = Literal["retracted", "hypothetical", "not_a_commitment", "duplicate"]


class CommitmentVerdict(BaseModel):
    """A brain's verdict on one candidate, named by its `id`:

    - `keep`: as extracted;
    - `reword`: `action` is the new wording (self-contained: pronouns resolved); `owner`, when given, must be the
      candidate's;
    - `redate`: `due` is the new date (YYYY-MM-DD), which the evidence turns or their neighbours must state;
    - `reject`: `reason` says why (`duplicate`: `duplicate_of` names the candidate it repeats), `note` in a few words.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    verdict: Literal["keep", "reword", "redate", "reject"]
    action: str | None = None
    owner: str | None = None
    due: str | None = None
    reason: RejectReason | None = None
    duplicate_of: str | None = None
    note: str | None = None


class CommitmentReview(BaseModel):
    """A brain's verdicts on the candidates. It may not add items: a verdict naming an unknown id is ignored, and a
    candidate without a verdict is kept as extracted. Code checks every verdict before it is applied
    (facilitator.commitments.validation.apply_review)."""

    model_config = ConfigDict(extra="forbid")

    verdicts: list[CommitmentVerdict]


class Brain(Protocol):
    """Turns a planned move into words. Raises ModelError when it cannot (the engine then asks the offline brain)."""

    @property
    def name(self) -> str: ...

    @property
    def profile(self) -> BrainProfile: ...

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move: ...

    def review_commitments(self, data: CommitmentReviewInput) -> CommitmentReview: ...

    def phrase_agenda(self, data: AgendaPhrasingInput) -> AgendaPhrasing: ...
