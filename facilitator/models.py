"""Pydantic models for everything that crosses a boundary (files, CLI, UI, store, model output)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

MoveKind = Literal["question", "challenge", "nudge", "answer", "transition", "recap", "commitments", "notice"]
Direction = Literal["both", "offers", "seeks"]
Phase = Literal["check-in", "goals", "exchange", "challenge", "feedback", "commitments", "close"]
CommitmentStatus = Literal["open", "done", "slipped", "dropped", "deleted"]  # deleted: removed by a partner, kept


def slug(text: str) -> str:
    """A participant id from a name: lower-case, spaces to dashes, only [a-z0-9_.-]."""
    value = re.sub(r"[^a-z0-9_.-]+", "-", text.strip().lower()).strip("-")
    return value[:64] or "participant"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# Limits on what a pair may describe about itself: every field reaches the model's prompt on every call, and an
# anonymous visitor can create a pair, so each is bounded (and the pair's whole description fits PAIR_TEXT_BUDGET).
NAME_CHARS = 120
ROLE_CHARS = 200
TOPIC_CHARS = 200
TOPICS_MAX = 10
CADENCE_CHARS = 80
Topic = Annotated[str, StringConstraints(max_length=TOPIC_CHARS)]


class Participant(Model):
    """One partner of a pair. Both partners offer something and seek something."""

    id: str
    name: str = Field(min_length=1, max_length=NAME_CHARS)
    role: str = Field(default="", max_length=ROLE_CHARS)
    offers: list[Topic] = Field(default_factory=list, max_length=TOPICS_MAX)
    seeks: list[Topic] = Field(default_factory=list, max_length=TOPICS_MAX)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        value = value.strip().lower()
        if not _ID_RE.match(value):
            raise ValueError("id must be 1-64 characters of a-z, 0-9, '_', '.', '-' (e.g. 'ana')")
        return value

    @field_validator("offers", "seeks", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.id

    @property
    def offer_topics(self) -> list[str]:
        """Offers split on commas: ["TikTok, analytics"] -> ["TikTok", "analytics"]."""
        return _topics(self.offers)

    @property
    def seek_topics(self) -> list[str]:
        return _topics(self.seeks)


def join_names(names: list[str]) -> str:
    """Names in words: "Ana"; "Ana and Ben"; "Ana, Ben and Cleo"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _topics(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        out.extend(part.strip() for part in re.split(r",|;| and ", item) if part.strip())
    return out


MIN_MEMBERS = 2
MAX_MEMBERS = 5


class Pair(Model):
    """Two partners (a pair) or 3-5 members (a circle), their shared goals and how often they meet (the pair file)."""

    participants: list[Participant]
    shared_goals: list[Topic] = Field(default_factory=list, max_length=TOPICS_MAX)
    cadence: str | None = Field(default=None, max_length=CADENCE_CHARS)
    id: str = Field(default="", description="Given in the file, or the participants' ids joined by '-'.")

    @model_validator(mode="after")
    def _two_to_five(self) -> Pair:
        n = len(self.participants)
        if not MIN_MEMBERS <= n <= MAX_MEMBERS:
            fix = (
                "add a second participant (a pair), or more for a circle"
                if n < MIN_MEMBERS
                else f"split them into smaller groups of {MIN_MEMBERS} to {MAX_MEMBERS}, one file each"
            )
            raise ValueError(
                f"participants: a session has {MIN_MEMBERS} to {MAX_MEMBERS} participants (a pair or a circle), "
                f"this one has {n}; {fix}"
            )
        seen: set[str] = set()
        for p in self.participants:
            if p.id in seen:
                who = "both partners have" if n == 2 else "two participants have"
                raise ValueError(f"participants: {who} the id '{p.id}'; give each a different id")
            seen.add(p.id)
        if not self.id:
            self.id = "-".join(self.ids)
        return self

    def participant(self, pid: str) -> Participant:
        for p in self.participants:
            if p.id == pid:
                return p
        raise KeyError(pid)

    def others(self, pid: str) -> list[Participant]:
        """Everyone but `pid`, in file order."""
        return [p for p in self.participants if p.id != pid]

    def other(self, pid: str) -> Participant:
        """The first of the others: for a pair, the partner."""
        others = self.others(pid)
        if not others:
            raise KeyError(pid)
        return others[0]

    def others_names(self, pid: str) -> str:
        """The others' first names in words: "Ben"; "Ben and Cleo"; "Ben, Cleo and Dev"."""
        return join_names([p.first_name for p in self.others(pid)])

    @property
    def is_group(self) -> bool:
        """More than two members (a circle)."""
        return len(self.participants) > MIN_MEMBERS

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.participants]

    def resolve_speaker(self, label: str) -> str | None:
        """Participant id for a label that is an id, a full name or a first name (case-insensitive)."""
        wanted = label.strip().lower()
        for p in self.participants:
            if wanted in (p.id, p.name.lower(), p.first_name.lower()):
                return p.id
        return None


class Turn(Model):
    index: int = Field(ge=0)
    speaker: str
    text: str
    at: dt.datetime | None = None


class Citation(Model):
    source: str
    id: str
    title: str | None = None
    quote: str | None = None


class SuggestedQuestion(Model):
    text: str
    for_: str = Field(alias="for", description="A participant id or 'both'.")
    citation: Citation | None = None


class Move(Model):
    """What the facilitator says, with everything code needs to check it."""

    kind: MoveKind
    text: str
    addressee: str | None = Field(default=None, description="Participant id, 'both' or None.")
    questions: list[SuggestedQuestion] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    brain: str = "offline"
    note: str | None = Field(default=None, description="Visible note, e.g. that the offline facilitator stood in.")
    reason: str | None = Field(default=None, description="Why the policy chose this move (for logs and evals).")


class SearchHit(Model):
    """One ranked chunk of the knowledge base (the `knowledge search` contract)."""

    source: str
    title: str
    section: str
    score: float
    text: str
    id: str


class Commitment(Model):
    owner: str
    action: str
    due: dt.date | None = None
    evidence: list[int] = Field(default_factory=list)
    confirmed: bool = False
    id: str | None = None
    status: CommitmentStatus = "open"
    flags: list[str] = Field(
        default_factory=list,
        description="Validation notes: why a rejected item was rejected, or what was corrected on an accepted one.",
    )


class Assumption(Model):
    turn: int
    speaker: str
    text: str
    pattern: str | None = None


class ParticipantBalance(Model):
    words: int = 0
    turns: int = 0
    word_share: float = 0.0
    turn_share: float = 0.0
    advice_given: int = 0
    advice_received: int = 0
    challenges: int = 0


class Balance(Model):
    participants: dict[str, ParticipantBalance] = Field(default_factory=dict)
    recent_share: dict[str, float] = Field(default_factory=dict, description="Word share over the last stretch.")


class Summary(Model):
    """The `summarize` contract."""

    date: dt.date | None = None
    commitments: list[Commitment] = Field(default_factory=list)
    flagged: list[Commitment] = Field(
        default_factory=list,
        description="Items left out: candidates a model rejected, the reason in `flags`; never shown as fact.",
    )
    summary: str = ""
    decisions: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    assumptions: list[Assumption] = Field(default_factory=list)
    balance: Balance = Field(default_factory=Balance)
    next_meeting: dt.date | None = None
    warnings: list[str] = Field(default_factory=list)


class AgendaQuestion(Model):
    text: str
    for_: str = Field(alias="for")


class AgendaItem(Model):
    title: str
    minutes: int = Field(ge=0)
    lead: str | None = None
    purpose: str = ""
    questions: list[AgendaQuestion] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)


class Agenda(Model):
    date: dt.date
    total_minutes: int = Field(gt=0)
    items: list[AgendaItem]


class Transcript(Model):
    """A finished conversation (the transcript file contract)."""

    date: dt.date | None = None
    participants: list[Participant]
    turns: list[Turn]
