"""What the extractor tracks: sentences, cues, items being built, requests waiting for an answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class Sentence:
    turn: int
    speaker: str
    text: str
    low: str
    position: int  # index of the sentence within its turn


@dataclass(frozen=True)
class Cue:
    """A first-person cue in a sentence: its text, the words it governs and the clause around it."""

    text: str  # "i'll", "let me", "will" (subjectless) or "present" ("I send it tomorrow")
    segment: str  # original text from the cue to the next cue or the end of the sentence
    clause: str  # lower-cased clause holding the cue
    offset: int  # where the cue starts in `clause`


@dataclass
class Draft:
    """An item being built; `alive` is False once retracted."""

    owner: str
    action: str
    due: dt.date | None
    evidence: list[int]
    turn: int
    kind: str  # how it was made: "simple" | "request" | "joint" | "same" | "offer"
    group: int | None = None
    alive: bool = True
    retracted_at: int | None = None


@dataclass
class Undated:
    """An act that is an item only with a date ("let me chase the broker"), waiting for a "When?" and its answer."""

    owner: str
    turn: int
    action: str
    asked: bool = False
    proposed: dt.date | None = None  # the date the partner asked about ("By Monday?")
    draft: Draft | None = None  # an item already made without a date ("Who does the invite?" "Me." "When?")


@dataclass
class Pending:
    """A request, joint proposal or offer waiting for an answer."""

    kind: str  # "request" | "imperative" | "joint" | "offer" | "revision" | "who"
    turn: int
    speaker: str
    action: str
    due: dt.date | None
    verb: str
    sentence: Sentence
    gerund: bool = False
    answered: int = 0
    target: Draft | None = None
    everyone: bool = False  # a proposal to the whole group ("all three of us will...")
    pre: str = ""  # the sentence before the request's cue ("i need the costs" in "i need the costs can u send them")
    addressee: str | None = None  # in a group: the member the request named ("Sam, could you ..."); only they answer


@dataclass
class TurnState:
    """What the current turn has done so far."""

    absorber: Draft | None = None
    absorbed: bool = False
    keep_wording: bool = False  # the absorber is a re-dated item: a restatement neither rewords nor re-dates it
    answered_request: bool = False
    same_done: bool = False
    consumed: set[int] = field(default_factory=set)
    withdrawn: bool = False  # a named retraction withdrew an item in this turn
    rest_from: int | None = None  # a retraction's sentence goes on with a statement from this offset
    ready: Draft | None = None  # an item made by "X will be ready on <day>" in this turn (a next "it" continues it)
    ready_from_it: bool = False  # ... from "it'll be ready": a later "the spec will be ready" the same day names it
    unrecorded: str | None = None  # the action a retraction took back before it was recorded ("get Tom to ...")
    created: list[Draft] = field(default_factory=list)
