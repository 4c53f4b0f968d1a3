"""End-of-session summary: accountability items, decisions, assumptions voiced, balance and a short recap."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from facilitator.brains.base import Brain
from facilitator.exceptions import ModelError
from facilitator.knowledge.bank import ChallengePatterns
from facilitator.models import Commitment, Participant, Summary, Transcript, Turn
from facilitator.signals import balance, detect_assumptions, sentences
from facilitator.textutil import clip

_DECISION = re.compile(
    r"\b(we(?:'ve| have)? (?:all )?(?:agreed|decided)|let'?s (?:agree|go with|stick with|meet|keep|use|make it)|"
    r"(?:we|so we)(?:'ll| will| are going to|'re going to) (?:go with|meet|use|keep|stick|try|start|switch)|"
    r"(?:it'?s|that'?s) (?:agreed|decided|settled)|the decision is|agreed[.!]?$|decision:)",
    re.IGNORECASE,
)
_NOT_A_DECISION = re.compile(r"\b(if|whether|unless|last (meeting|time|week)|previously)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]{4,}")
_MARKER = re.compile(r"\{\w+\}|\b(?:um+|uh+|erm|mm+|hmm+|mm-hmm)\b[ ,]*", re.IGNORECASE)
_SPACES = re.compile(r"\s+([,.?!])|\s{2,}")
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
            sentence = clean_speech(sentence)
            cue = _DECISION.search(sentence)
            if cue and len(sentence.split()) >= 4 and not _NOT_A_DECISION.search(sentence[: cue.start()] + " "):
                key = sentence.lower()
                if key not in seen:
                    seen.add(key)
                    found.append(clip(sentence, 200))
    return found[:limit]


def clean_speech(text: str) -> str:
    """Transcription markers ({disfmarker}, {vocalsound}) and fillers (um, uh) removed; spacing tidied."""
    return _SPACES.sub(lambda m: m.group(1) or " ", _MARKER.sub("", text)).strip(" ,")


def recap_text(turns: list[Turn], names: dict[str, str], n: int = 4) -> str:
    """An extractive recap: the sentences that carry the conversation's most frequent content words, in order."""
    counts: Counter[str] = Counter()
    for turn in turns:
        counts.update(w for w in _WORD.findall(turn.text.lower()) if w not in _COMMON)
    scored: list[tuple[float, int, str, str]] = []
    for turn in turns:
        for sentence in sentences(clean_speech(turn.text)):
            words = [w for w in _WORD.findall(sentence.lower()) if w not in _COMMON]
            if len(sentence.split()) < 6 or len(words) < 3 or len(words) < 0.3 * len(sentence.split()):
                continue
            score = sum(counts[w] for w in set(words)) / (len(words) ** 0.5)
            scored.append((score, turn.index, turn.speaker, sentence))
    best = sorted(sorted(scored, key=lambda x: -x[0])[:n], key=lambda x: x[1])
    return " ".join(f"{names.get(s, s)}: {clip(text, 180)}" for _, _, s, text in best)


def accountability_items(
    turns: list[Turn], participants: list[Participant], date: dt.date, brain: Brain | None = None
) -> tuple[list[Commitment], list[Commitment], list[str]]:
    """(items, flagged, warnings). A model's items are validated in code; if the model fails, the rules answer."""
    from facilitator.commitments import extract_commitments, validate_commitments

    if brain is None or brain.name == "offline":
        return extract_commitments(turns, participants, date), [], []
    try:
        proposed = brain.extract_commitments(turns, participants, date)
    except ModelError as e:
        return extract_commitments(turns, participants, date), [], [f"{e}; the offline extractor was used instead"]
    unparsed = [item for item in proposed if item.flags]
    accepted, rejected = validate_commitments([i for i in proposed if not i.flags], turns, participants, date)
    return accepted, rejected + unparsed, []


def summarize_turns(
    turns: list[Turn],
    participants: list[Participant],
    date: dt.date,
    patterns: ChallengePatterns,
    challenges: dict[str, int] | None = None,
    warnings: list[str] | None = None,
    brain: Brain | None = None,
) -> Summary:
    names = {p.id: p.name for p in participants}
    assumptions = [a for t in turns for a in detect_assumptions(t, patterns)]
    items, flagged, notes = accountability_items(turns, participants, date, brain)
    return Summary(
        date=date,
        commitments=items,
        flagged=flagged,
        summary=recap_text(turns, names),
        decisions=decisions(turns),
        assumptions=assumptions,
        balance=balance(turns, [p.id for p in participants], challenges),
        warnings=[*(warnings or []), *notes],
    )


def summarize_transcript(
    transcript: Transcript,
    patterns: ChallengePatterns,
    *,
    date: dt.date | None = None,
    today: dt.date | None = None,
    brain: Brain | None = None,
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
    return summarize_turns(
        transcript.turns, transcript.participants, session_date, patterns, warnings=warnings, brain=brain
    )
