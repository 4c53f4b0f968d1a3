"""What the store hands back: stored items, sessions and how far a session has got (pydantic records). Kept apart
from `facilitator.store` so the modules that only read these records do not import SQLAlchemy (a use case that
needs no store, such as `comentor summarize`, then never loads it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from facilitator.models import Agenda, Commitment, Summary

__all__ = ["ENDED", "CommitmentEvent", "SessionInfo", "SessionRevision", "StoredItem"]


class StoredItem(BaseModel):
    """One stored accountability item of a session and who confirmed it (a deleted item keeps its row)."""

    item: Commitment
    confirmed_by: list[str] = Field(default_factory=list)
    session_id: str = Field(default="", description="The session the item was agreed in.")

    @property
    def deleted(self) -> bool:
        return self.item.status == "deleted"

    @property
    def id(self) -> str:
        return self.item.id or ""


class SessionInfo(BaseModel):
    id: str
    pair_id: str
    date: dt.date
    status: str
    agenda: Agenda | None = None
    state: dict[str, Any] = Field(default_factory=dict)
    summary: Summary | None = None


ENDED = (
    "This session has ended and is read-only; start the next session (the “Start the next session” button in the "
    "web app, or `comentor chat PAIR_FILE` without --session)"
)


class SessionRevision(BaseModel):
    """How far a session (and its pair's history) has got, read in a few indexed queries: the newest turn, move and
    item event, the pair's session count and the session's status. Any change a page shows moves one of them, so a
    page that last saw `tag` needs a refresh only when the tag differs; read from the store, it holds across replicas.
    """

    session_id: str
    pair_id: str
    status: str
    turns: int = Field(description="The newest turn's row id (0: none yet).")
    moves: int = Field(description="The newest move's row id (0: none yet).")
    events: int = Field(description="The newest event of any of the pair's items (created, edited, confirmed...).")
    sessions: int = Field(description="How many sessions the pair has.")
    successor: str | None = Field(default=None, description="The pair's newest open session started after this one.")

    @property
    def ended(self) -> bool:
        return self.status == "ended"

    @property
    def tag(self) -> str:
        return f"{self.session_id}:{self.status}:{self.turns}.{self.moves}.{self.events}.{self.sessions}"


class CommitmentEvent(BaseModel):
    kind: str
    data: dict[str, Any]
    by: str | None
    session_id: str | None
    at: dt.datetime
