"""What the facilitator understands of the conversation: the contract every move reads.

Built by `facilitator.understanding.read` (sentences by pysbd, topic phrases by YAKE, speech acts by a classifier
over the MiniLM embeddings trained by `make train`). Pure data here: no library is imported by this module.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SpeechAct = Literal[
    "assumption",  # an untested generalisation: about people, ages, roles, nobody/always/never/can't, a causal leap
    "claim",  # a statement of fact or opinion that is not a generalisation
    "question",  # asks the partner something
    "offer",  # offers to do something for the partner ("I can show you ...")
    "request",  # asks the partner to do something
    "acceptance",  # agrees to a request or offer
    "retraction",  # takes back something said or promised
    "revision",  # changes something agreed (a date, an owner, the scope)
    "teaching",  # explains, shows how, gives advice from experience
    "vulnerable",  # admits a fear, a mistake, a struggle, something personal
    "decision",  # the pair settles something ("we agreed", "let's go with")
    "other",  # greetings, fillers, logistics
]


class SentenceReading(BaseModel):
    """One sentence of a turn and what it does."""

    text: str
    act: SpeechAct
    confidence: float = Field(ge=0.0, le=1.0)


class TurnReading(BaseModel):
    """One partner turn as the facilitator understands it."""

    index: int
    speaker: str
    sentences: list[SentenceReading]
    topics: list[str] = Field(default_factory=list, description="Key phrases, best first, lower case.")
    words: int = 0
    to_facilitator: bool = Field(
        default=False, description="The turn starts with @facilitator: a request to the facilitator, not partner talk."
    )

    def acts(self) -> set[SpeechAct]:
        return {s.act for s in self.sentences}

    def first(self, act: SpeechAct) -> SentenceReading | None:
        return next((s for s in self.sentences if s.act == act), None)


class AssumptionSeen(BaseModel):
    """An assumption voiced in the conversation: who said it, where, and the sentence itself (to quote)."""

    turn: int
    speaker: str
    text: str
    topics: list[str] = Field(default_factory=list)


class Reading(BaseModel):
    """The conversation so far, read: per turn, and who is teaching whom right now."""

    turns: list[TurnReading] = Field(default_factory=list)
    teacher: str | None = Field(default=None, description="The partner teaching over the recent turns, if one is.")
    learner: str | None = None

    def recent(self, n: int = 6) -> list[TurnReading]:
        return self.turns[-n:]

    def partner_turns(self, n: int | None = None) -> list[TurnReading]:
        """The partners' own turns (requests to the facilitator left out), the last `n` of them if given."""
        talk = [t for t in self.turns if not t.to_facilitator]
        return talk if n is None else talk[-n:] if n > 0 else []

    def recent_topics(self, n: int = 6, k: int = 8) -> list[str]:
        """Topic phrases of the last `n` partner turns, most recent and most frequent first, at most `k`."""
        seen: dict[str, int] = {}
        for age, turn in enumerate(reversed(self.partner_turns(n))):
            for rank, phrase in enumerate(turn.topics):
                seen[phrase] = min(seen.get(phrase, 10**6), age * 10 + rank)
        return sorted(seen, key=lambda p: seen[p])[:k]

    def assumptions(self) -> list[AssumptionSeen]:
        """Every assumption voiced so far by the partners (not in requests to the facilitator), oldest first."""
        return [
            AssumptionSeen(turn=t.index, speaker=t.speaker, text=s.text, topics=t.topics)
            for t in self.partner_turns()
            for s in t.sentences
            if s.act == "assumption"
        ]
