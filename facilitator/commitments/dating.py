"""Dates that arrive after the item: a "When?" and its answer, the owner's next short turn ("by Thursday, the risk
register, yes"), a requester's follow-up ("Before the 28th."), or the partner finishing the sentence."""

from __future__ import annotations

from facilitator.commitments import cues
from facilitator.commitments.ledger import Rules
from facilitator.commitments.state import Draft, Sentence, TurnState, Undated
from facilitator.commitments.text import LEX, content_words, words
from facilitator.dates import strip_due_phrases


class LateDates(Rules):
    """Sentences that only date an item said earlier without its date."""

    def when_answered(self, s: Sentence, state: TurnState) -> bool:
        """ "Let me chase the broker about it." "Ooh, when?" "Monday, first thing.": the act, dated by the answer."""
        waiting = self.ledger.undated or self._undated_item(s)
        if waiting is None or s.position != 0 or s.turn > waiting.turn + 2:
            return False
        if s.speaker != waiting.owner and s.turn == waiting.turn + 1 and self._asks_when(s, waiting):
            waiting.asked = True
            self.ledger.undated = waiting
            return True
        due = self.ledger.due(s.text) if s.speaker == waiting.owner and waiting.asked else None
        if due is None and s.speaker == waiting.owner and waiting.proposed and cues.ACCEPT.search(s.low):
            due = waiting.proposed  # "By Monday?" "Yes, fine."
        if due is None or len(words(s.low)) > 8:
            return False
        if waiting.draft is not None:
            self.ledger.set_due(waiting.draft, due, [s.turn])
        else:
            self.ledger.add(
                Draft(waiting.owner, waiting.action, due, [waiting.turn, s.turn], waiting.turn, "simple"), state
            )
        self.ledger.undated = None
        return True

    def _asks_when(self, s: Sentence, waiting: Undated) -> bool:
        """ "When?" or a date proposed as a question ("By Monday?") about the act just said without one."""
        if cues.WHEN_ASKED.match(s.low):
            return True
        if not cues.is_question(s.low) or len(words(s.low)) > 5 or waiting.draft is not None:
            return False
        waiting.proposed = self.ledger.due(s.text)
        return waiting.proposed is not None

    def dated_later(self, s: Sentence, state: TurnState) -> bool:
        """ "I'll send the risk register" ... "by Thursday, the risk register, yes.": the owner's next short turn
        gives the date of their undated item, naming nothing else."""
        if self._completed_date(s):
            return True
        if s.position != 0 or len(words(s.low)) > 8 or cues.self_cued(s.low) or cues.is_question(s.low):
            return False
        due = self.ledger.due(s.text)
        if due is None:
            return False
        own = [d for d in self.ledger.drafts if d.alive and d.owner == s.speaker and 0 < s.turn - max(d.evidence) <= 2]
        taken = [d for d in self.ledger.drafts if d.alive and d.owner != s.speaker and max(d.evidence) == s.turn - 1]
        own = own or [d for d in taken if d.kind == "request"]  # "Book the refresher?" "Will do." "Before the 28th."
        if not own or own[-1].due is not None:
            return False
        rest = set(content_words(strip_due_phrases(s.text, self.session), drop=LEX.vague))
        if rest - set(content_words(own[-1].action)):
            return False  # "Thursday I'm at the depot": about something else
        self.ledger.set_due(own[-1], due, [s.turn])
        return True

    def _completed_date(self, s: Sentence) -> bool:
        """ "I'll redo that before —" "— before our next session, yes": the partner finishes the sentence with its
        date, which dates the item the last turn left undated."""
        if s.position != 0 or not cues.COMPLETION.match(s.text):
            return False
        due = self.ledger.due(s.text.split(",", 1)[0])
        last = [d for d in self.ledger.drafts if d.alive and d.owner != s.speaker and max(d.evidence) == s.turn - 1]
        if due is None or not last or last[-1].due is not None:
            return False
        self.ledger.set_due(last[-1], due, [s.turn])
        return True

    def _undated_item(self, s: Sentence) -> Undated | None:
        """The partner's item of the last turn, made without a date, which a "When?" now asks about."""
        last = [d for d in self.ledger.drafts if d.alive and d.due is None and max(d.evidence) == s.turn - 1]
        if not last or last[-1].owner == s.speaker or not cues.WHEN_ASKED.match(s.low):
            return None
        return Undated(last[-1].owner, s.turn - 1, last[-1].action, draft=last[-1])
