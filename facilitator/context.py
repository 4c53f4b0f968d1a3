"""Bounded context for the model: a rolling extractive summary of older turns, the last turns verbatim, and state.

The prompt does not grow with the session: older turns are compressed to a fixed budget of their most telling
sentences (commitments, assumptions, decisions, questions), newest first.
"""

from __future__ import annotations

import re

from facilitator.models import Balance, Commitment, Pair, Turn
from facilitator.signals import sentences
from facilitator.textutil import clip
from facilitator.understanding.reading import Reading

RECENT_VERBATIM = 10
SUMMARY_BUDGET_CHARS = 1200
TURN_CHARS = 600
_TELLING = re.compile(
    r"\b(i'?ll|i will|we'?ll|let'?s|agree[d]?|decid\w*|by (mon|tues|wednes|thurs|fri|satur|sun)day|deadline|never|"
    r"always|can'?t|won'?t|goal|learn\w*|because)\b|\?",
    re.IGNORECASE,
)


def name_of(pair: Pair, pid: str) -> str:
    return pair.participant(pid).first_name if pid in pair.ids else pid


def rolling_summary(turns: list[Turn], pair: Pair, budget: int = SUMMARY_BUDGET_CHARS) -> str:
    """The most telling sentence of older turns, newest first, until the budget is spent; then restored to order."""
    picked: list[str] = []
    used = 0
    for turn in reversed(turns):
        candidates = [s for s in sentences(turn.text) if _TELLING.search(s)]
        if not candidates:
            continue
        line = f"[{turn.index}] {name_of(pair, turn.speaker)}: {clip(candidates[0], 200)}"
        if used + len(line) > budget:
            break
        picked.append(line)
        used += len(line) + 1
    skipped = len(turns) - len(picked)
    head = f"(earlier: {len(turns)} turns; {skipped} routine turns omitted)"
    return "\n".join([head, *reversed(picked)])


def conversation_context(turns: list[Turn], pair: Pair, recent: int = RECENT_VERBATIM) -> str:
    older, latest = turns[:-recent] if len(turns) > recent else [], turns[-recent:]
    parts = []
    if older:
        parts.append("Summary of earlier turns:\n" + rolling_summary(older, pair))
    parts.append("Latest turns:")
    parts.extend(f"[{t.index}] {name_of(pair, t.speaker)}: {clip(t.text, TURN_CHARS)}" for t in latest)
    return "\n".join(parts) if latest else "(no turns yet)"


def state_text(pair: Pair, balance: Balance, open_items: list[Commitment], agenda_position: str | None) -> str:
    lines = []
    for pid, stats in balance.participants.items():
        recent = balance.recent_share.get(pid, 0.0)
        lines.append(
            f"- {name_of(pair, pid)}: {stats.word_share:.0%} of words ({recent:.0%} recently), "
            f"{stats.turns} turns, challenged {stats.challenges}x"
        )
    if open_items:
        lines.append(
            "- open commitments: " + "; ".join(f"{name_of(pair, c.owner)}: {c.action}" for c in open_items[:8])
        )
    if agenda_position:
        lines.append(f"- agenda: {agenda_position}")
    return "\n".join(lines)


def understanding_text(reading: Reading, pair: Pair, *, recent: int = 6) -> str:
    """What the facilitator understood of the latest turns, for a model: the same reading the offline brain uses
    (topic phrases, who teaches whom, the acts of the last partner turns, the assumptions voiced)."""
    lines = []
    topics = reading.recent_topics(recent)
    lines.append("- topics of the last turns: " + (", ".join(topics) if topics else "(none yet)"))
    if reading.teacher and reading.learner:
        lines.append(
            f"- {name_of(pair, reading.teacher)} is teaching {name_of(pair, reading.learner)} right now: the learner "
            "teaches back; the teacher is asked what they learned from the other"
        )
    for turn in reading.partner_turns(3):
        acts = ", ".join(sorted(turn.acts())) or "other"
        lines.append(f"- turn {turn.index} ({name_of(pair, turn.speaker)}): {acts}")
    voiced = reading.assumptions()[-4:]
    for a in voiced:
        lines.append(f'- assumption voiced by {name_of(pair, a.speaker)} (turn {a.turn}): "{clip(a.text, 160)}"')
    return "\n".join(lines)
