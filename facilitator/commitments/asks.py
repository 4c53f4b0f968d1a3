"""Offers ("shall I ...?") and calls for a volunteer ("who's doing the budget?"): proposals that wait for an answer,
and how a waiting proposal is kept."""

from __future__ import annotations

import datetime as dt
import re

from facilitator.commitments import cues
from facilitator.commitments.same import SameForMe
from facilitator.commitments.state import Pending, Sentence
from facilitator.commitments.text import LEX, base_form, present_form


class Asks(SameForMe):
    """Offers and volunteer calls, and the waiting list they join."""

    def who(self, s: Sentence) -> bool:
        """ "Who's doing the budget?": waits for a member to volunteer ("Me, by Thursday")."""
        match = cues.WHO_ASKS.match(s.low)
        if match is None or not cues.is_question(s.low):
            return False
        raw = s.text[match.end() :].rstrip(" ?")
        verb = cues.first_word_after(raw)
        if not verb or verb in LEX.non_verbs or verb in LEX.stative_verbs:
            return False
        bare_who = match.group(0).rstrip().endswith("who")  # "who takes the notes?": a present-tense verb
        base = _uninflected(verb) if bare_who else base_form(verb)
        raw = re.sub(rf"^\W*{re.escape(verb)}\b", base, raw, count=1, flags=re.I)
        self.ledger.pending.append(Pending("who", s.turn, s.speaker, raw, self._due_here(s), base, s))
        return True

    def offer(self, s: Sentence) -> bool:
        """ "Shall I ...?", "want me to ...?": the speaker's item once the partner says yes."""
        match = cues.OFFER.search(s.low)
        if match is None or not cues.is_question(s.low):
            return False
        raw = s.text[match.end() :]
        verb = cues.first_word_after(raw)
        if match["if_i"] and verb:  # "would it help if I shared my notes?": offers to share them
            raw = re.sub(rf"^\W*{re.escape(verb)}\b", present_form(verb), raw, count=1, flags=re.I)
            verb = present_form(verb)
        if not verb or verb in LEX.non_verbs:
            return False
        pending = Pending("offer", s.turn, s.speaker, raw, self._due_here(s), verb, s, pre=s.text[: match.start()])
        self.ledger.pending.append(pending)
        return True

    def _due_here(self, s: Sentence) -> dt.date | None:
        """The first due date in the sentence or the rest of its turn."""
        return self.ledger.due_from(x.text for x in self.ledger.sentences[s.turn][s.position :])

    # -- answers ---------------------------------------------------------------------------------------------

    def _wait(self, pending: Pending) -> bool:
        """A request waits for its answer; in a group, from the member it named."""
        pending.addressee = self.wording.vocative
        self.ledger.pending.append(pending)
        return True


_THIRD_PERSON = {"does": "do", "goes": "go", "has": "have"}


def _uninflected(verb: str) -> str:
    """'does' -> 'do', 'takes' -> 'take', 'fixes' -> 'fix', 'copies' -> 'copy': the verb of "who takes the notes?"."""
    if verb in _THIRD_PERSON:
        return _THIRD_PERSON[verb]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith(("ches", "shes", "xes", "sses", "zes")):
        return verb[:-2]
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb[:-1]
    return verb
