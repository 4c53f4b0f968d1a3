"""Signals read off the conversation: talk share, advice given and received, voiced assumptions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from facilitator.knowledge.bank import ChallengePatterns
from facilitator.models import Assumption, Balance, ParticipantBalance, Turn

RECENT_TURNS = 8
_WORD = re.compile(r"\w+(?:'\w+)?")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_ADVICE = re.compile(
    r"\b(you should|you could try|you might want to|you need to|i'?d suggest|i would suggest|i suggest|my advice"
    r"|i recommend|i'?d recommend|have you tried|have you considered|make sure you|the trick is|what works for me"
    r"|if i were you|my tip)\b",
    re.IGNORECASE,
)


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def gives_advice(text: str) -> bool:
    return bool(_ADVICE.search(text))


def talk_shares(turns: Iterable[Turn], ids: Sequence[str]) -> dict[str, float]:
    """Word share per participant over the given turns (0.0 each when nobody spoke)."""
    words = dict.fromkeys(ids, 0)
    for turn in turns:
        if turn.speaker in words:
            words[turn.speaker] += word_count(turn.text)
    total = sum(words.values())
    return {pid: (w / total if total else 0.0) for pid, w in words.items()}


def balance(turns: Sequence[Turn], ids: Sequence[str], challenges: dict[str, int] | None = None) -> Balance:
    """Words, turns, shares, advice given/received and challenges per participant."""
    per = {pid: ParticipantBalance() for pid in ids}
    for turn in turns:
        stats = per.get(turn.speaker)
        if stats is None:
            continue
        stats.words += word_count(turn.text)
        stats.turns += 1
        if gives_advice(turn.text):
            stats.advice_given += 1
            for other, other_stats in per.items():
                if other != turn.speaker:
                    other_stats.advice_received += 1
    total_words = sum(s.words for s in per.values())
    total_turns = sum(s.turns for s in per.values())
    for pid, stats in per.items():
        stats.word_share = round(stats.words / total_words, 4) if total_words else 0.0
        stats.turn_share = round(stats.turns / total_turns, 4) if total_turns else 0.0
        stats.challenges = (challenges or {}).get(pid, 0)
    recent = talk_shares(turns[-RECENT_TURNS:], ids)
    return Balance(participants=per, recent_share={k: round(v, 4) for k, v in recent.items()})


def detect_assumptions(turn: Turn, patterns: ChallengePatterns) -> list[Assumption]:
    """Untested beliefs voiced in one turn: the sentence that matched and the pattern it matched."""
    found: list[Assumption] = []
    for sentence in sentences(turn.text):
        for pattern in patterns.patterns:
            if pattern.match(sentence):
                found.append(Assumption(turn=turn.index, speaker=turn.speaker, text=sentence, pattern=pattern.id))
                break
    return found
