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
    r"\b(?:instead\s+of\s+me|in\s+my\s+place|take\s+(?:\w+\s+){0,4}?off\s+(?:me|my\s+(?:hands|plate))|"
    r"take\s+over\s+(?:the|my)\b)\b"
)


def handed_over(pending: Pending, drafts: list[Draft], turn: int, due: dt.date | None) -> Draft | None:
    """The acceptor's item when `pending` hands over one of the requester's live items (named by its words),
    withdrawing the requester's copy; None when the request hands nothing over."""
    if not HANDOVER.search(pending.sentence.low):
        return None
    # the thing handed over, not the verbs: "can you send the deck instead of me?" hands over no "send the invoice"
    named = " ".join(w for w in content_words(pending.sentence.low, drop=LEX.vague) if w not in _REQUEST_WORDS)
    own = [d for d in drafts if d.alive and d.owner == pending.speaker and related(named, _object(d.action))]
    if not own:
        return None
    target = max(own, key=lambda d: (related(named, _object(d.action)), d.turn))
    target.alive = False
    target.retracted_at = turn
    return Draft("", target.action, due or target.due, [pending.turn, turn], turn, "request")


_REQUEST_WORDS = frozenset({"take", "instead", "hands", "plate", "place", "over", "can", "could", "would"})


def _object(action: str) -> str:
    """An action without its verb ("call the supplier": "the supplier")."""
    return action.split(" ", 1)[1] if " " in action else ""


_HANDED_WORDS = re.compile(r"\s+(?:instead\s+of\s+[\w'-]+|for\s+[\w'-]+\s+instead|in\s+[\w'-]+\s+place)\b", re.I)


def without_handover(action: str) -> str:
    """ "take the towpath talk instead of Liesl": "take the towpath talk" (who it came from is not the task)."""
    return _HANDED_WORDS.sub("", action)
