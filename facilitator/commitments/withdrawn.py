"""Withdrawals said in other words than "scratch that": "Budget template: dropped.", "Can we drop the template?"
"Yes, let's drop it.", "I'm not going to do the template" (the object each names; `Revisions` links it to the item)."""

from __future__ import annotations

import re

from facilitator.commitments import cues
from facilitator.commitments.ledger import Ledger
from facilitator.commitments.state import Sentence

# Words in a "not doing X" that keep the item: a condition or a place ("not sending the template until it's
# checked", "leave the handouts outside your office"), or part of it left out ("not the whole report, just ...").
_KEPT_ANYWAY = re.compile(
    r"\b(?:until|till|before|unless|without|if|to|yet|by|alone|on|in|at|with|under|for|from|outside|inside|near|"
    r"behind|just|only|whole|myself|deadline|late|help)\b"
)


def labelled(ledger: Ledger, s: Sentence) -> str | None:
    """ "Budget template: dropped.": the label before the colon."""
    before = ledger.sentences[s.turn][s.position - 1] if s.position else None
    if before is None or not before.low.rstrip().endswith(":") or not cues.LABEL_WITHDRAWN.match(s.low):
        return None
    return before.low.rstrip(" :")


def drop_asked(ledger: Ledger, s: Sentence) -> str | None:
    """ "Can we drop the budget template?" "Yes, let's drop it.": what the other speaker proposed to drop."""
    before = ledger.sentences.get(s.turn - 1, [])
    if s.position > 1 or not before or before[-1].speaker == s.speaker:
        return None
    asked = cues.DROP_QUESTION.search(before[-1].low)
    return asked["obj"] if asked else None


def negated(ledger: Ledger, s: Sentence) -> str | None:
    """ "I'm not going to do the template": its object, unless the sentence dates it ("not sending the report
    until Friday" moves it) or goes on to do it anyway."""
    named = cues.negated_retraction(s.low)
    if named is None or len(named.split()) > 4:
        return None
    rest = s.low[s.low.find(named) + len(named) :]
    turn_rest = [x.text for x in ledger.sentences[s.turn][s.position :]]
    if ledger.due_from(turn_rest) is not None or cues.self_cued(rest):
        return None  # "I can't do the template after all, but I'll do it next week", "no meeting then. Monday?"
    return None if _KEPT_ANYWAY.search(s.low[s.low.find(named) :]) else named
