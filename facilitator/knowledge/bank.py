"""The question bank and the challenge patterns: structured parts of the bundled knowledge (knowledge/*.yaml)."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from facilitator.exceptions import ConfigError
from facilitator.models import Phase
from facilitator.resources import knowledge_dir

QUESTION_BANK_SOURCE = "question_bank"
CHALLENGE_SOURCE = "challenge_patterns"

# Whom a question is for: both partners, the partner who offers or who seeks the topic, or (while one partner is
# teaching the other) the learner, asked to teach back, or the teacher, asked what they learned from the learner.
Direction = Literal["both", "offers", "seeks", "teach_back", "learned_from"]


class QuestionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    phase: Phase
    theme: str
    direction: Direction
    text: str
    source: str | None = None

    def render(self, *, topic: str | None = None, partner: str | None = None) -> str:
        """Fill `{topic}` and `{partner}`; questions without a value for a placeholder read naturally anyway."""
        text = self.text.replace("{topic}", topic or "what you are learning from each other")
        return text.replace("{partner}", partner or "your co-mentor")

    @property
    def needs_topic(self) -> bool:
        return "{topic}" in self.text

    @property
    def embedding_text(self) -> str:
        """The text to embed for meaning-based choice: the question with neutral words for its placeholders
        (the same for every pair, so one embedding per entry serves every session)."""
        return self.text.replace("{topic}", "this topic").replace("{partner}", "your partner")


class QuestionBank(BaseModel):
    version: int
    questions: list[QuestionEntry]

    @classmethod
    def load(cls, path: Path | None = None) -> QuestionBank:
        return cls.model_validate(_load_yaml(path or knowledge_dir() / "question_bank.yaml"))

    def by_id(self, qid: str) -> QuestionEntry | None:
        return self._index.get(qid)

    @cached_property
    def _index(self) -> dict[str, QuestionEntry]:
        return {q.id: q for q in self.questions}

    def select(self, *, phase: str | None = None, direction: str | None = None) -> list[QuestionEntry]:
        return [
            q
            for q in self.questions
            if (phase is None or q.phase == phase) and (direction is None or q.direction == direction)
        ]


class ChallengePattern(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    description: str
    cues: list[str] = Field(min_length=1)
    examples: list[str] = Field(default_factory=list)
    non_examples: list[str] = Field(default_factory=list)
    probes: list[str] = Field(min_length=1)
    invite_other: list[str] = Field(min_length=1)
    source: str | None = None

    @field_validator("cues")
    @classmethod
    def _compiles(cls, cues: list[str]) -> list[str]:
        for cue in cues:
            try:
                re.compile(cue)
            except re.error as e:
                raise ValueError(f"cue {cue!r} is not a valid regular expression: {e}") from e
        return cues

    @cached_property
    def compiled(self) -> list[re.Pattern[str]]:
        return [re.compile(c, re.IGNORECASE) for c in self.cues]

    def match(self, text: str) -> re.Match[str] | None:
        for cue in self.compiled:
            found = cue.search(text)
            if found:
                return found
        return None


class ChallengePatterns(BaseModel):
    version: int
    patterns: list[ChallengePattern]

    @classmethod
    def load(cls, path: Path | None = None) -> ChallengePatterns:
        return cls.model_validate(_load_yaml(path or knowledge_dir() / "challenge_patterns.yaml"))

    def by_id(self, pid: str) -> ChallengePattern | None:
        return next((p for p in self.patterns if p.id == pid), None)

    def warm(self) -> None:
        """Compile every cue now (a first turn would otherwise pay about 80 ms for it)."""
        for pattern in self.patterns:
            _ = pattern.compiled


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # safe
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read {path} ({e}); reinstall comentor or fix the file") from e
