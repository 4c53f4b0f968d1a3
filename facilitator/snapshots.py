"""What the engine hands a shell: typed values, never tuples. The web app renders them; the CLI prints them.

`SessionView` is the one snapshot of a session after any call (turns, moves, agenda, balance, items, summary,
history), read once after any call; `Outcome` is what one call changed plus that snapshot; `Event` is one step of a
streamed call (a stored turn, a token, a finished move, a notice, the summary).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from facilitator.models import Agenda, AgendaItem, Balance, Commitment, Move, Pair, Summary, Turn
from facilitator.records import SessionInfo


class ItemView(BaseModel):
    """One accountability item as a shell shows it: the item, who confirmed it, and the line it came from."""

    item: Commitment
    confirmed_by: list[str]
    quotes: list[str]

    @property
    def confirmed_by_both(self) -> bool:
        return self.item.confirmed


class CarriedItem(BaseModel):
    """An item agreed in an earlier session of the pair, as the next sessions show it: the item (its id is what
    `/done`, `/slipped` and `/dropped` take), the date it was agreed, and its history in words, oldest first (e.g.
    "slipped 2026-03-01 → 2026-03-08")."""

    item: Commitment
    agreed: dt.date | None = Field(default=None, description="The date of the session the item was agreed in.")
    history: list[str] = Field(default_factory=list)

    @property
    def open(self) -> bool:
        """Still to do (open or slipped): it can be marked done, slipped or dropped."""
        return self.item.status in ("open", "slipped")


class AgendaStatus(BaseModel):
    """Where the session is on its agenda: the current item and the minutes left in its timebox."""

    position: int
    count: int
    item: AgendaItem | None
    minutes_left: float | None
    over_time: bool = False


class History(BaseModel):
    """A pair's past sessions and open items, for the history view."""

    sessions: list[SessionInfo]
    open_items: list[Commitment]


class MoveAt(BaseModel):
    """A facilitator move and the index of the turn it followed (-1: before any turn)."""

    after: int
    move: Move


class AgendaPlan(BaseModel):
    """A drafted agenda (not started yet) and what the shell should say about it (e.g. the model was unavailable)."""

    agenda: Agenda
    notes: list[str] = Field(default_factory=list)


class Conversation(BaseModel):
    """The conversation alone (turns and quoted moves): what a shell needs before it streams a reply."""

    pair: Pair
    turns: list[Turn]
    moves: list[MoveAt]


class AgendaSnapshot(BaseModel):
    """The agenda alone and where the session is on it: what the agenda clock refreshes."""

    pair: Pair
    agenda: Agenda | None
    agenda_status: AgendaStatus


class SessionView(BaseModel):
    """Everything a shell shows of one session, read once after a call."""

    pair: Pair
    session_id: str
    date: dt.date
    status: str
    turns: list[Turn]
    moves: list[MoveAt]
    agenda: Agenda | None
    agenda_status: AgendaStatus
    balance: Balance
    items: list[ItemView]
    summary: Summary | None
    recap_markdown: str | None = Field(default=None, description="The Markdown recap, once summarized.")
    history: History
    carried: list[CarriedItem] = Field(
        default_factory=list,
        description="Items from the pair's earlier sessions: the open ones and those closed in this session.",
    )
    revision: str = Field(
        default="", description="`SessionRevision.tag`, read before this view: a page compares it to know it is current"
    )
    successor: str | None = Field(default=None, description="The pair's newest open session started after this one.")

    @property
    def ended(self) -> bool:
        """An ended session is read-only: the shell offers the next session instead of the message box."""
        return self.status == "ended"


class Outcome(BaseModel):
    """What one call did: a notice for the shell, the session as it is now, and what only this call produces."""

    view: SessionView
    notice: str = ""
    token: str | None = Field(default=None, description="A grant for the (possibly new) session, for the page.")
    code: str | None = Field(default=None, description="A new pair's access code (shown once).")
    warn: bool = Field(default=False, description="The notice says something did not go as asked (a shell flags it).")
    draft: AgendaPlan | None = None
    summary: Summary | None = Field(default=None, description="The summary this call produced (/end, Summarize).")


class Event(BaseModel):
    """One step of a streamed call: a stored turn, a streamed token, a finished move, a notice, the summary. A shell
    reads `LiveSession.view()` once the call has finished."""

    kind: Literal["turn", "token", "move", "notice", "summary"]
    text: str = ""
    turn: Turn | None = None
    move: Move | None = None
    summary: Summary | None = None


class Enrolment(BaseModel):
    """A pair saved from a pair file: as stored, and its access code when this call created it (shown once: only its
    hash is kept)."""

    pair: Pair
    code: str | None = Field(default=None, description="The new pair's access code; None: the pair existed already.")

    @property
    def created(self) -> bool:
        return self.code is not None


class PairListing(BaseModel):
    """One stored pair as `comentor pairs list` shows it (never its code)."""

    id: str
    names: list[str]
    sessions: int = Field(description="Stored sessions, whether or not anyone spoke in them.")
    last_meeting: dt.date | None = Field(description="The date of the latest session in which anyone spoke.")


class SessionBrief(BaseModel):
    """One session of a pair, in a few figures."""

    id: str
    date: dt.date
    status: str
    turns: int
    items: int = Field(description="Accountability items agreed in it (from its summary; 0 while it is open).")


class PairRecord(BaseModel):
    """A stored pair as `comentor pairs show` shows it: who, their sessions and open items (never the code)."""

    pair: Pair
    sessions: list[SessionBrief]
    open_items: list[Commitment]
    last_meeting: dt.date | None
