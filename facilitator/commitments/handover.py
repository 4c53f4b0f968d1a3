"""Hand-overs: "Can you take the supplier call instead of me?" "Yes, I'll take it." The requester's own item
moves to the partner who accepts it: the requester's copy is withdrawn and the acceptor owns the same action (with
its date, unless the answer gives another)."""

from __future__ import annotations

import datetime as dt
import re

from facilitator.commitments.state import Draft, Pending
from facilitator.commitments.text import LEX, content_words, related

__all__ = ["HANDOVER", "handed_over", "without_handover"]

HANDOVER = re.compile(
    r"\b(?:instead\s+of\s+me|for\s+me\s+instead|in\s+my\s+place|take\s+(?:\w+\s+){0,4}?off\s+(?:me|my\s+(?:hands|plate))|"
    r"take\s+over\s+(?:the|my)\b|cover\s+(?:the\s+\w+\s+)?for\s+me)\b"
)


def handed_over(pending: Pending, drafts: list[Draft], turn: int, due: dt.date | None) -> Draft | None:
    """The acceptor's item when `pending` hands over one of the requester's live items (named by its words),
    withdrawing the requester's copy; None when the request hands nothing over."""
    if not HANDOVER.search(pending.sentence.low):
        return None
    named = content_words(pending.sentence.low, drop=LEX.vague)
    own = [d for d in drafts if d.alive and d.owner == pending.speaker and related(" ".join(named), d.action)]
    if not own:
        return None
    target = max(own, key=lambda d: (related(" ".join(named), d.action), d.turn))
    target.alive = False
    target.retracted_at = turn
    return Draft("", target.action, due or target.due, [pending.turn, turn], turn, "request")


_HANDED_WORDS = re.compile(r"\s+(?:instead\s+of\s+[\w'-]+|for\s+[\w'-]+\s+instead|in\s+[\w'-]+\s+place)\b", re.I)


def without_handover(action: str) -> str:
    """ "take the towpath talk instead of Liesl": "take the towpath talk" (who it came from is not the task)."""
    return _HANDED_WORDS.sub("", action)
