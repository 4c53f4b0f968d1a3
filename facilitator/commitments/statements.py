"""First-person statements ("I'll send it Friday") and terse deadlines ("Case law summary by Friday too.")."""

from __future__ import annotations

import datetime as dt

from facilitator.commitments import cues
from facilitator.commitments.ledger import Rules
from facilitator.commitments.state import Cue, Draft, Sentence, TurnState
from facilitator.commitments.text import LEX, content_words, plain, similar, words
from facilitator.dates import resolve_due

# Words that make a verbless sentence more than a noun phrase; a terse deadline may start with "the", "a", "an", "my".
_NOT_TERSE = (LEX.non_verbs | LEX.stop_words) - {"the", "a", "an", "my"}


class Statements(Rules):
    """The speaker's own items: one per first-person cue that passes the commitment rules."""

    def statements(self, s: Sentence, state: TurnState) -> None:
        """Every cue of the sentence, each with the words up to the next cue; no cue: maybe a terse deadline."""
        found = cues.find_cues(s.low)
        if not found:
            self._terse(s, state)
            return
        for i, (start, end, cue) in enumerate(found):
            stop = found[i + 1][0] if i + 1 < len(found) else len(s.low)
            segment = s.text[end:stop]
            # The clause the statement belongs to: hedges and past markers elsewhere in the sentence don't count.
            clause_start = max(s.low.rfind(" but ", 0, start), s.low.rfind(", and ", 0, start), 0)
            pre = s.text[:start] if i == 0 else ""
            self._statement(s, state, Cue(cue, segment, s.low[clause_start:stop], start - clause_start), pre)

    def _statement(self, s: Sentence, state: TurnState, cue: Cue, pre: str) -> None:
        segment = cue.segment
        low_segment = plain(segment)
        verb = cues.first_word_after(low_segment)
        if not self._verb_fits(cue, verb, low_segment):
            return
        if cues.is_question(s.low) and not cues.QUESTION_TAG.search(s.low):
            return
        due = self._statement_due(s, segment, pre)
        if self._not_a_commitment(cue, verb, due, low_segment):
            return
        action = self.wording.action(segment, s.speaker, gerund=cue.text.startswith("i commit"))
        if not content_words(action, drop=LEX.vague):
            return  # "I can do that", "will do": no action of its own
        if self._absorb(state, action, due, low_segment) or self._revive(s, action, due, low_segment):
            return
        action = self.wording.resolve_pronoun(action, s.speaker, self.ledger.context(s.turn, s.position, pre))
        if len(content_words(action, drop=LEX.vague)) < 2 and due is None:
            return  # "I'll check", "let me look": too thin to hold anyone to without a date
        self.ledger.add(Draft(s.speaker, action, due, [s.turn], s.turn, "simple"), state)

    @staticmethod
    def _verb_fits(cue: Cue, verb: str, segment: str) -> bool:
        """Whether the word after the cue is an action verb ("I'll send", not "I'll need" or "ill" as in sick)."""
        if cue.text.strip() in ("ill", "i ll") and (not verb or verb in LEX.non_verbs or verb.endswith("ed")):
            return False  # "ill" as in sick
        if not verb or verb in LEX.non_verbs:
            return False
        if verb == "be" and not cues.PROGRESSIVE_BE.match(segment):
            return False  # "I'll be stuck in the basement", but "I'll be sending it"
        return verb == "be" or verb not in LEX.stative_verbs

    def _terse(self, s: Sentence, state: TurnState) -> None:
        """Verbless deadlines in terse chat: "Case law summary by Friday too." is the speaker's own item."""
        match = cues.TERSE.match(s.low)
        if match is None or state.answered_request or cues.is_question(s.low):
            return
        found = match["np"].split()
        if any(w in _NOT_TERSE for w in found):
            return
        if found[0] in LEX.deliverable_verbs or not content_words(match["np"]):
            return
        due = resolve_due(s.text, self.session)
        if due is None:
            return
        phrase = s.text[match.start("np") : match.end("np")]
        phrase = phrase[:1].lower() + phrase[1:] if phrase[1:2].islower() else phrase
        action = self.wording.action(f"deliver {phrase}", s.speaker)
        self.ledger.add(Draft(s.speaker, action, due, [s.turn], s.turn, "simple"), state)

    def _statement_due(self, s: Sentence, segment: str, pre: str) -> dt.date | None:
        """The date in the statement (or before its cue), else in a short dateline right after it."""
        due = resolve_due(segment, self.session) or (resolve_due(pre, self.session) if pre else None)
        if due is not None:
            return due
        for later in self.ledger.sentences[s.turn][s.position + 1 :]:
            if cues.find_cues(later.low) or len(words(later.low)) > 5:
                break
            due = resolve_due(later.text, self.session)
            if due is not None:
                return due
        return None

    @staticmethod
    def _not_a_commitment(cue: Cue, verb: str, due: dt.date | None, segment: str) -> bool:
        """Hedged, hypothetical, past, negated, or (without a date) an offer or an on-the-spot act."""
        clause = cue.clause
        if cues.HEDGE.search(clause) or (cues.TRY.search(clause) and due is None):
            return True
        if cues.HYPOTHETICAL.search(clause) or cues.ALREADY.search(clause):
            return True
        if cues.PAST_BEFORE.search(clause[: cue.offset]) or cues.NEGATED.match(segment):
            return True
        text = cue.text
        needs_date = text.startswith(("i can", "present")) or (
            text.startswith("let") and verb not in LEX.deliverable_verbs
        )
        if needs_date and due is None:
            return True
        return verb in LEX.immediate_verbs and due is None and not cues.FOLLOW_UP.match(segment)

    def _absorb(self, state: TurnState, action: str, due: dt.date | None, segment: str) -> bool:
        """The first statement of an acceptance ("Sure. I'll send it Friday") belongs to the accepted request."""
        draft = state.absorber
        if draft is None:
            return False
        pronoun = bool(cues.PRONOUN_OBJECT.search(" ".join(segment.split()[:4])))
        if (state.absorbed or cues.SEPARATE.search(segment)) and not pronoun:
            return False
        state.absorbed = True
        if due is not None:
            draft.due = due
        concrete = len(content_words(action, drop=self.wording.names.values())) >= 4
        if concrete and not pronoun and not cues.THIRD_PERSON_OBJECT.search(action):
            draft.action = action
        return True

    def _revive(self, s: Sentence, action: str, due: dt.date | None, segment: str) -> bool:
        """'Scratch Friday for the template ... I will send it next Monday': the retracted item gets the new date."""
        dead = [d for d in self.ledger.drafts if d.owner == s.speaker and d.retracted_at == s.turn and not d.alive]
        if not dead or due is None:
            return False
        target = self.ledger.pick(dead, action)
        if target is None:
            return False
        pronoun = bool(cues.PRONOUN_OBJECT.search(" ".join(segment.split()[:4])))
        if not pronoun and similar(action, target.action) < 50:
            return False
        target.alive = True
        target.retracted_at = None
        target.due = due
        target.evidence = sorted(set(target.evidence) | {s.turn})
        return True
