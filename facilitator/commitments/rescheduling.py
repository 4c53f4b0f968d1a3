"""Re-dating an item the way people do it in the middle of other talk: the turn names the item and says why the old
date no longer holds, and a short sentence gives the new one.

- "the cancellation email, I won't have it by Wednesday ... Friday?" "Friday's fine.": the owner proposes, the
  partner's yes applies it;
- "bad news about the queue data ... I can't pull it. Monday, first thing.": the owner states it;
- "the trello thing, can u do it thurs instead?" "ya thurs works better": the partner proposes, the owner's yes
  applies it;
- "Could it be the 6th?", "Can the guide be Monday?", "Forget Monday for the O neg history ... Thursday.".

The item is the live one the turn names by its words; the new date is the last one of the sentence that differs
from the item's date (the old date, said to explain, is skipped). Long statements do not re-date anything: only a
short sentence ("Monday, first thing.") or a question proposing the date does.
"""

from __future__ import annotations

import datetime as dt
import re

from facilitator.commitments import cues
from facilitator.commitments.handover import HANDOVER
from facilitator.commitments.ledger import Rules
from facilitator.commitments.state import Draft, Pending, Sentence, TurnState
from facilitator.commitments.text import LEX, content_words, related, words
from facilitator.dates import find_due_dates, strip_due_phrases

__all__ = ["Rescheduling"]

# Why the old date no longer holds, or a new one asked for.
CHANGE = re.compile(
    r"\b(?:instead|can'?t|cannot|won'?t|tight|bad\s+news|sorry|i\s+said\s+(?:by\s+|on\s+)?(?:(?:mon|tues|wednes|thurs|fri)"
    r"(?:day)?\b|the\s+\d+(?:st|nd|rd|th)?)|forget\s+(?:mon|tues|wednes|thurs|fri|"
    r"satur|sun)day|(?:could|can)\s+(?:it|that|the\s+[\w' -]{2,40}?)\s+(?:be|come|wait)|works\s+better|"
    r"not\s+going\s+to\s+make|push|slip|late|behind|later|earlier)\b"
)
_MINE = re.compile(r"\bmy\s+\w+")
_NEGATED = re.compile(r"\b(?:don'?t|doesn'?t|didn'?t|not|no|never|won'?t|can'?t|cannot)\b")
SHORT_STATEMENT = 6  # words left after the date: "Monday, first thing." re-dates; a long aside does not
SHORT_QUESTION = 16


class Rescheduling(Rules):
    """A new date for an item named in the turn, stated or proposed in a short sentence."""

    def reschedule(self, s: Sentence, state: TurnState) -> bool:
        """True when the sentence re-dates (or proposes a date for) an item the turn names."""
        turn = self.ledger.sentences[s.turn]
        turn_so_far = " ".join(x.low for x in turn[: s.position + 1])
        near = " ".join(x.low for x in turn[max(0, s.position - 2) : s.position + 1])  # where the cue may be
        if any(HANDOVER.search(x.low) for x in turn[max(0, s.position - 1) : s.position + 2]):
            return False  # "Can you take the talk instead of me? Same day, Thursday?": the date of the hand-over
        if not CHANGE.search(near) or cues.RECURRING.search(s.low) or cues.CONDITION.search(s.low):
            return False
        question = cues.is_question(s.low)
        if cues.self_cued(s.low) and not question:
            return False  # "I'll write a new one before our next session": a statement of its own
        if not question and _NEGATED.search(s.low):
            return False  # "So you don't register tonight": no new date
        target = self._named(turn_so_far, s, words_needed=1 if question else 2)
        if target is None or (target.owner != s.speaker and _MINE.search(near)):
            return False  # "Sorry, my report for the board is due Monday": the speaker's own affairs
        due = self._new_date(s, target)
        if due is None or not self._short(s, question):
            return False
        if question or target.owner != s.speaker:
            self.ledger.pending.append(Pending("revision", s.turn, s.speaker, "", due, "", s, target=target))
        else:
            self.ledger.set_due(target, due, [s.turn])
        return True

    def _named(self, said: str, s: Sentence, words_needed: int) -> Draft | None:
        """The live item, made in an earlier turn, that the turn so far names by most words (at least
        `words_needed`: a question proposing a date may name it by one word, "the trello thing")."""
        live = [d for d in self.ledger.drafts if d.alive and d.turn < s.turn]
        scored = [(related(said, d.action), i, d) for i, d in enumerate(live)]
        scored = [x for x in scored if x[0] >= words_needed]
        return max(scored, key=lambda x: (x[0], x[1]))[2] if scored else None

    def _new_date(self, s: Sentence, target: Draft) -> dt.date | None:
        found = [m.date for m in find_due_dates(s.text, self.session, self.ledger.next_meeting)]
        fresh = [d for d in found if d != target.due]
        return fresh[-1] if fresh else None

    def _short(self, s: Sentence, question: bool) -> bool:
        rest = content_words(strip_due_phrases(s.text, self.session), drop=LEX.vague)
        return len(words(s.low)) <= SHORT_QUESTION if question else len(rest) <= SHORT_STATEMENT
