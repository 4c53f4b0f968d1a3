"""Shared helpers for suites that drive whole scripted sessions through the engine."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from facilitator.engine import Event, LiveSession
from facilitator.models import Move, Pair, Participant


class ScriptedTurn(BaseModel):
    speaker: str
    text: str


def pair_of(participants: list[Participant]) -> Pair:
    return Pair(participants=participants)


def moves(events: Any) -> list[Move]:
    return [e.move for e in events if isinstance(e, Event) and e.kind == "move" and e.move is not None]


def say(live: LiveSession, speaker: str, text: str) -> list[Move]:
    return moves(live.say(speaker, text))


class Labelled(BaseModel):
    turn: int = Field(ge=0)
    speaker: str
