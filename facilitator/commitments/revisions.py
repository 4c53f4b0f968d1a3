"""Retractions ("scratch that") and revised dates ("make it Wednesday") of earlier items."""

from __future__ import annotations

import datetime as dt

from facilitator.commitments import cues
from facilitator.commitments.ledger import LONG_WINDOW, WINDOW, Rules
from facilitator.commitments.state import Draft, Pending, Sentence, TurnState
from facilitator.commitments.text import content_words, overlap, words
from facilitator.dates import resolve_due


class Revisions(Rules):
    """Sentences that withdraw or re-date an item instead of making one."""

    def retraction(self, s: Sentence, state: TurnState) -> bool:
        """Withdraw the item the sentence retracts; True when the sentence is a retraction (even of nothing)."""
        match = cues.RETRACT.search(s.low)
        if not match:
            return False
        # A cue before the retraction in the same sentence: "I'll come tomorrow, oh wait no I can't".
        if cues.self_cued(s.low[: match.start()]):
            return True  # the statement is withdrawn before it was ever recorded
        same_turn = [d for d in state.created if d.owner == s.speaker and d.alive]
        if same_turn:
            target = self.ledger.pick(same_turn, s.text)
        elif state.answered_request:
            return True  # "sorry, I won't be able to" answers a request, it retracts nothing
        elif not cues.STRONG_RETRACT.search(s.low) and "scratch" not in s.low:
            return False
        else:
            target = self._named_or_latest(s)
        if target is None:
            return True
        target.alive = False
        target.retracted_at = s.turn
        return True

    def _named_or_latest(self, s: Sentence) -> Draft | None:
        """In a later turn: the item the retraction names, or the latest one when it names none ("scratch that")."""
        candidates = self.ledger.recent(s.speaker, s.turn, window=4)
        if content_words(s.text):
            candidates = [d for d in candidates if overlap(s.text, d.action)]
        return candidates[-1] if candidates else None

    def revision(self, s: Sentence, state: TurnState) -> bool:
        """A new date for an earlier item: "make it Wednesday", "Correction: summary Thursday", "could you make
        it the 10th instead?" (the owner's acceptance applies the partner's proposal)."""
        sentences = self.ledger.sentences[s.turn]
        cued = bool(cues.REVISE.search(s.low))
        corrected = bool(cues.CORRECTION.search(sentences[0].low))
        if not cued and not corrected:
            return False
        due = resolve_due(s.text, self.session)
        dated_by_next = False
        if due is None and cued and s.position + 1 < len(sentences):
            due = resolve_due(sentences[s.position + 1].text, self.session)
            dated_by_next = due is not None
        if due is None:
            return False
        if cues.PARTNER_SUBJECT.search(s.low):
            return self._propose(s, due)
        if not cued and (len(words(s.low)) > 8 or cues.FIRST_PERSON.search(s.low)):
            return False  # a correction marker alone only counts for a short restatement: "targets monday"
        target = self._revised(s, cued)
        if target is None:
            return False
        if dated_by_next:
            state.consumed.add(s.position + 1)
        self.ledger.set_due(target, due, [s.turn])
        return True

    def _revised(self, s: Sentence, cued: bool) -> Draft | None:
        """The speaker's item a revision is about: one it names, else (with a revision cue) a recent one."""
        own = self.ledger.recent(s.speaker, s.turn, window=LONG_WINDOW)
        named = [d for d in own if overlap(s.text, d.action)]
        if named:
            return self.ledger.pick(named, s.text)
        if cued:
            return self.ledger.pick([d for d in own if s.turn - max(d.evidence) <= WINDOW], s.text)
        return None

    def _propose(self, s: Sentence, due: dt.date) -> bool:
        """ "Could you make it the 10th?": a revision of the partner's item, waiting for their answer."""
        ledger = self.ledger
        others = [d for d in ledger.drafts if d.alive and d.owner != s.speaker and 0 < s.turn - max(d.evidence) <= 3]
        target = ledger.pick(others, s.text)
        if target is None:
            return False
        ledger.pending.append(Pending("revision", s.turn, s.speaker, "", due, "", s, target=target))
        return True
