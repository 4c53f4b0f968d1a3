"""The de-duplication stage: a closing read-back ("So, what did we say: you share the spreadsheet Monday, I book
the pontoon Thursday...") restates items already made. It creates none and moves no date; it may only give a date
to an item that had none, and it adds itself to the evidence of what it restates.

A turn is a read-back when it says so ("recap", "to sum up", "what did we say", "So: ...", "You: ... Me: ...") and
restates earlier items (two, or one with its date), or, unannounced, when it restates three items with dates in the
last third of the session.
"""

from __future__ import annotations

import re

from facilitator.commitments.ledger import Ledger
from facilitator.commitments.state import Draft, Sentence
from facilitator.commitments.text import content_words, overlap
from facilitator.dates import find_due_dates

__all__ = ["is_readback", "restate"]

READBACK = re.compile(
    r"\b(?:re-?cap|to\s+sum\s+(?:it\s+)?up|summing\s+up|what\s+did\s+we\s+(?:say|agree)|what\s+have\s+we\s+got|"
    r"to\s+summari[sz]e|in\s+summary|wrap-?\s?up\s*:|so,?\s+we\s+repeat|"
    r"so,?\s+we\s+(?:have|say)\s*[:,]|so\s+(?:today\s+)?we\s+agreed\s*:|let\s+me\s+read\s+(?:that|it|them)\s+back|read-?back|"
    r"so,?\s+to\s+confirm|let\s+me\s+(?:summari[sz]e|sum\s+up))"
    r"|^\W*so\s*[:.]\s|\b(?:you|me)\s*:\s*\w"  # "So: your waste log Thursday", "You: ... Me: ..."
)
_CLAUSE = re.compile(r"[,;:]\s*|\.\s+|\s+and\s+")


def _clauses(sentences: list[Sentence]) -> list[str]:
    return [c for s in sentences for c in _CLAUSE.split(s.text) if content_words(c)]


def _restated(ledger: Ledger, clause: str) -> Draft | None:
    """The live item a clause of a read-back names (most shared content words, at least one), else None."""
    scored = [(overlap(clause, d.action), i, d) for i, d in enumerate(ledger.drafts) if d.alive]
    scored = [item for item in scored if item[0] > 0]
    return max(scored, key=lambda item: (item[0], item[1]))[2] if scored else None


def is_readback(ledger: Ledger, sentences: list[Sentence]) -> bool:
    """Whether a turn reads the items back (see the module doc)."""
    if not sentences or not ledger.drafts:
        return False
    named = {id(d) for c in _clauses(sentences) if (d := _restated(ledger, c)) is not None}
    dates = sum(len(find_due_dates(s.text, ledger.session)) for s in sentences)
    if not any(READBACK.search(s.low) for s in sentences):
        # unannounced ("ok so u do the chart thurs n i order boxes tmrw n both on the till sat"): three items
        # restated with dates, in the last third of the session, and no question ("And the guide for Friday: could
        # it come to our next session instead?" asks for a change)
        if any(s.low.rstrip().endswith("?") for s in sentences):
            return False
        return len(named) >= 3 and dates >= 2 and sentences[0].turn >= 2 * ledger.turn_count // 3
    return len(named) >= 2 or (len(named) == 1 and dates >= 1)


def restate(ledger: Ledger, turn: int, sentences: list[Sentence]) -> None:
    """Apply a read-back: each clause that names an item adds the turn to its evidence and dates it if undated."""
    for clause in _clauses(sentences):
        draft = _restated(ledger, clause)
        if draft is None:
            continue
        if draft.due is None:
            draft.due = ledger.due(clause)
        draft.evidence = sorted({*draft.evidence, turn})
