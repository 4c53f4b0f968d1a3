"""End-of-session summary: accountability items, decisions, assumptions voiced, balance and a short recap."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from facilitator.knowledge.bank import ChallengePatterns
from facilitator.models import Participant, Summary, Transcript, Turn
from facilitator.signals import balance, detect_assumptions, sentences
from facilitator.textutil import clip

_DECISION = re.compile(
    r"\b(we(?:'ve| have)? (?:all )?(?:agreed|decided)|let'?s (?:agree|go with|stick with|meet|keep|use|make it)|"
    r"(?:we|so we)(?:'ll| will| are going to|'re going to) (?:go with|meet|use|keep|stick|try|start|switch)|"
    r"(?:it'?s|that'?s) (?:agreed|decided|settled)|the decision is|agreed[.!]?$|decision:)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]{4,}")
_COMMON = frozenset(
    (
        "that this with have just like yeah okay know think what there they them then would could should "
        "really about because going will your from were been into also some more want well right sure mean "
        "thing things kind sort actually maybe something other than when which where here"
    ).split()
)


def decisions(turns: list[Turn], limit: int = 12) -> list[str]:
    """Sentences in which the partners settle something together (not personal actions)."""
    found: list[str] = []
    seen: set[str] = set()
    for turn in turns:
        for sentence in sentences(turn.text):
            if _DECISION.search(sentence) and len(sentence.split()) >= 4:
                key = sentence.lower()
                if key not in seen:
                    seen.add(key)
                    found.append(clip(sentence, 200))
    return found[:limit]


def recap_text(turns: list[Turn], names: dict[str, str], n: int = 4) -> str:
    """An extractive recap: the sentences that carry the conversation's most frequent content words, in order."""
    counts: Counter[str] = Counter()
    for turn in turns:
        counts.update(w for w in _WORD.findall(turn.text.lower()) if w not in _COMMON)
    scored: list[tuple[float, int, str, str]] = []
    for turn in turns:
        for sentence in sentences(turn.text):
            words = [w for w in _WORD.findall(sentence.lower()) if w not in _COMMON]
            if len(sentence.split()) < 6 or not words:
                continue
            score = sum(counts[w] for w in set(words)) / (len(words) ** 0.5)
            scored.append((score, turn.index, turn.speaker, sentence))
    best = sorted(sorted(scored, key=lambda x: -x[0])[:n], key=lambda x: x[1])
    return " ".join(f"{names.get(s, s)}: {clip(text, 180)}" for _, _, s, text in best)


def summarize_turns(
    turns: list[Turn],
    participants: list[Participant],
    date: dt.date,
    patterns: ChallengePatterns,
    challenges: dict[str, int] | None = None,
    warnings: list[str] | None = None,
) -> Summary:
    from facilitator.commitments import extract_commitments

    names = {p.id: p.first_name for p in participants}
    assumptions = [a for t in turns for a in detect_assumptions(t, patterns)]
    return Summary(
        date=date,
        commitments=extract_commitments(turns, participants, date),
        summary=recap_text(turns, names),
        decisions=decisions(turns),
        assumptions=assumptions,
        balance=balance(turns, [p.id for p in participants], challenges),
        warnings=warnings or [],
    )


def summarize_transcript(
    transcript: Transcript, patterns: ChallengePatterns, *, date: dt.date | None = None, today: dt.date | None = None
) -> Summary:
    """Summarize a finished transcript. Without any date, relative due dates resolve against today (with a warning)."""
    warnings: list[str] = []
    session_date = date or transcript.date
    if session_date is None:
        session_date = today or dt.date.today()
        warnings.append(
            f"the transcript has no date; relative due dates were resolved against today ({session_date.isoformat()}); "
            "pass --date to fix this"
        )
    speakers = {t.speaker for t in transcript.turns}
    if len(speakers) < 2:
        warnings.append("only one person speaks in this transcript; a co-mentoring session has two partners")
    return summarize_turns(transcript.turns, transcript.participants, session_date, patterns, warnings=warnings)


