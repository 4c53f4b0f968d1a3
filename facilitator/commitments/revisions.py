"""Retractions ("scratch that") and revised dates ("make it Wednesday") of earlier items."""

from __future__ import annotations

import datetime as dt
import re

from facilitator.commitments import cues
from facilitator.commitments.handover import HANDOVER
from facilitator.commitments.ledger import LONG_WINDOW, WINDOW, Rules
from facilitator.commitments.state import Draft, Pending, Sentence, TurnState
from facilitator.commitments.text import content_words, overlap, plain, related, words
from facilitator.commitments.withdrawn import drop_asked, labelled, negated
from facilitator.commitments.wording import noun_phrase
from facilitator.dates import strip_due_phrases

# A named retraction sharing no word with any item ("take the leaflets off the list" after "print the flyers") is
# about the item closest in MiniLM meaning, when that is close enough and clearly closer than the next one.
TOPIC_SIMILARITY = 0.4
TOPIC_MARGIN = 0.1
_INSTEAD = re.compile(r"\binstead\b")
_DATE_NOUN = re.compile(r"\b(?:deadline|date|day|due)\b")  # "let's make the deadline Thursday": a new date
_BARE_NOT = re.compile(r"^\W*let'?s\s+not(?:\s+bother)?\W*$")
_MOVING_VERBS = frozenset({"bring", "send", "do", "have", "give", "share", "get", "deliver", "show", "email", "post"})


class Revisions(Rules):
    """Sentences that withdraw or re-date an item instead of making one."""

    def named_retraction(self, s: Sentence, state: TurnState) -> bool:
        """ "Forget what I said about the hall", "take the flyers off the list", "do we even need the survey? Let's
        not.": withdraw the item the sentence names, however many turns back (linked by its words, not adjacency)."""
        named = cues.named_retraction(s.low) or self._forget_continued(s)
        named = named or negated(self.ledger, s) or labelled(self.ledger, s)
        if named is None and s.position and _BARE_NOT.match(s.low):  # "Hmm, the template. Let's not."
            named = self._topic_before(s)  # the turn's topic (after "Can we drop it?", "No, let's not" keeps it)
        if named in ("it", "that", "them"):  # "The survey can wait, actually, let's drop it."
            if state.withdrawn:
                return True  # "do we even need the flyer? ... Let's drop it.": already withdrawn in this turn
            named = self._topic_before(s) or drop_asked(self.ledger, s)
        target = self._by_topic(named, s.speaker) if named else None
        if target is None:  # "no, let's not bother" names nothing: the doubt it answers names the item
            named = self._doubted(s) or self._doubt_answered(s)
            target = self._by_topic(named, s.speaker) if named else None
        if target is None or named is None:
            return False
        if self._moved(s, target, named):
            return True
        for draft in [target, *self._twins(target, named)]:
            self.ledger.drop_group(draft)
            draft.retracted_at = s.turn
        state.withdrawn = True
        self._rest(s, state, named)
        return True

    def _moved(self, s: Sentence, target: Draft, named: str) -> bool:
        """ "Forget the Thursday exercises, I'll bring them to the next session instead": the same item, moved to
        the date the rest of the sentence gives (not withdrawn)."""
        rest = s.low[s.low.find(named) + len(named) :] if named in s.low else ""
        if not (_INSTEAD.search(rest) and cues.self_cued(rest) and cues.PRONOUN_OBJECT.search(rest)):
            return False
        cue = cues.find_cues(rest)
        if not cue or cues.first_word_after(rest[cue[0][1] :]) not in _MOVING_VERBS:
            return False  # "forget the survey, I'll call them instead": another act, for the people
        due = self.ledger.due(s.text[len(s.text) - len(rest) :])
        if due is None:
            return False
        self.ledger.set_due(target, due, [s.turn])
        return True

    def _forget_continued(self, s: Sentence) -> str | None:
        """ "And forget what I said about the —" / "no, what you said, about the photography schedule.": the object."""
        before = self.ledger.sentences[s.turn][s.position - 1] if s.position else None
        found = cues.FORGET_CONTINUED.match(s.low) if before and cues.FORGET_BROKEN.search(before.low) else None
        return found["obj"] if found else None

    def _twins(self, target: Draft, named: str) -> list[Draft]:
        """The owner's other live items that name the withdrawn thing as closely (an item said twice over)."""
        fit = related(named, target.action)
        return [
            d
            for d in self.ledger.drafts
            if d.alive and d is not target and d.owner == target.owner and fit and related(named, d.action) >= fit
        ]

    def _doubted(self, s: Sentence) -> str | None:
        """ "Do we even need the survey?" answered with a no in the same turn: the survey."""
        doubt = cues.DOUBT_QUESTION.search(s.low)
        if doubt is None:
            return None
        turn = self.ledger.sentences[s.turn]
        if not any(cues.DOUBT_ANSWER.search(x.low) for x in turn[s.position + 1 :]):
            return None
        return cues.doubted(doubt) or self._topic_before(s)

    def _doubt_answered(self, s: Sentence) -> str | None:
        """ "Do we still need the risk log?" "No, let's not bother.": a no that opens the next turn answers the doubt
        the other speaker raised at the end of theirs."""
        before = self.ledger.sentences.get(s.turn - 1, [])
        if s.position != 0 or not before or before[-1].speaker == s.speaker or not cues.DOUBT_ANSWER.search(s.low):
            return None
        for asked in reversed(before[-3:]):  # "do we still need the poster tho? the screens show it anyway"
            doubt = cues.DOUBT_QUESTION.search(asked.low)
            if doubt is not None:
                return cues.doubted(doubt) or self._topic_before(asked)
        return None

    def _topic_before(self, s: Sentence) -> str | None:
        """What "it" is in "the handover template — do we even need it?": the first noun phrase of the sentence, or of
        the ones before it in the turn."""
        turn = self.ledger.sentences[s.turn]
        for sentence in (s.text, *(x.text for x in turn[: s.position])):  # the turn's topic comes first
            named = noun_phrase(sentence)
            if named:
                return named.lower()
        return None

    def _by_topic(self, named: str, speaker: str) -> Draft | None:
        """The live item whose action shares most words with `named`, the speaker's own first, then the latest."""
        live = [d for d in self.ledger.drafts if d.alive and related(named, d.action)]
        if not live:  # no shared word: the item closest in meaning ("the leaflets" ~ "print the flyers")
            alive = [d for d in self.ledger.drafts if d.alive]
            scores = self.ledger.similarity(named, [d.action for d in alive])
            ranked = sorted(zip(scores, alive, strict=True), key=lambda pair: -pair[0])
            if not ranked or ranked[0][0] < TOPIC_SIMILARITY:
                return None
            runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
            return ranked[0][1] if ranked[0][0] - runner_up >= TOPIC_MARGIN else None
        return max(live, key=lambda d: (related(named, d.action), d.owner == speaker, self.ledger.drafts.index(d)))

    @staticmethod
    def _rest(s: Sentence, state: TurnState, after: str) -> None:
        """A statement after the retraction in the same sentence ("scratch that, but I'll send a summary") stands."""
        cut = s.low.find(after) + len(after) if after in s.low else 0
        if cues.self_cued(s.low[cut:]) or cues.LEFT_WITH_ME.search(s.low[cut:]):  # "no, actually, leave it with me"
            state.rest_from = cut

    def retraction(self, s: Sentence, state: TurnState) -> bool:
        """Withdraw the item the sentence retracts; True when the sentence is a retraction (even of nothing)."""
        match = cues.RETRACT.search(s.low)
        if not match:
            return False
        self._rest(s, state, match.group(0))
        # A cue before the retraction in the same sentence: "I'll come tomorrow, oh wait no I can't".
        before = cues.find_cues(s.low[: match.start()])
        if before:  # "I'll get Marcus to do it, no actually I'll do it myself": what the speaker said first
            state.unrecorded = self.wording.action(s.text[before[-1][1] : match.start()], s.speaker)
            return True  # the statement is withdrawn before it was ever recorded
        same_turn = [d for d in state.created if d.owner == s.speaker and d.alive]
        if same_turn:
            target = self.ledger.pick(same_turn, s.text)
        elif state.answered_request:
            return True  # "sorry, I won't be able to" answers a request, it retracts nothing
        elif not cues.STRONG_RETRACT.search(s.low) and "scratch" not in s.low:
            return False
        elif any(
            cues.self_cued(x.low) or cues.WAS_GOING.search(x.low) for x in self.ledger.sentences[s.turn][: s.position]
        ):
            return True  # "I was going to send the raw scans - scratch that": what it takes back was never an item
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
        named = [d for d in candidates if overlap(s.text, d.action)]
        return (named or candidates)[-1] if candidates else None  # "scratch that, I can't share it": the latest

    def revision(self, s: Sentence, state: TurnState) -> bool:
        """A new date for an earlier item: "make it Wednesday", "Correction: summary Thursday", "could you make
        it the 10th instead?" (the owner's acceptance applies the partner's proposal)."""
        sentences = self.ledger.sentences[s.turn]
        if cues.RECURRING.search(s.low):
            return False  # "let's make it every Wednesday": the meeting's rhythm, not an item's date
        if any(HANDOVER.search(x.low) for x in sentences):
            return False  # "can you take the talk instead of me? Same day, Thursday?": a hand-over, not a new date
        cue = cues.REVISE.search(s.low)
        own_make = cue is not None and cue.group(0).startswith("make the") and not _DATE_NOUN.search(cue.group(0))
        if cue is not None and own_make and cues.SELF_CUE.search(s.low[max(0, cue.start() - 12) : cue.start() + 1]):
            cue = None  # "I'll make the poster by the 30th": a new statement, not "make the poster Thursday"
        cued = cue is not None
        if cues.CONDITION.search(s.low[: cue.start()] if cue else s.low):
            return False  # "If the cloud's down on Tuesday we'll move indoors": a maybe, not a new date
        corrected = bool(cues.CORRECTION.search(sentences[0].low))
        if not cued and not corrected:
            return self._extension(s) or self._date_question(s, state)
        # the date the revision names: after its cue ("legal has it till next week, make that the 12th")
        text = cues.NOT_THIS_DATE.sub("", s.text)  # "I meant Thursday, not Wednesday": Thursday
        start = cues.REVISE.search(plain(text)) if cue else None
        due = (self.ledger.due(text[start.start() :]) if start else None) or self.ledger.due(text)
        trailing = (
            start is not None and start.group(0) == "instead" and re.match(r"\s*(?:[,.;!?]|$)", text[start.end() :])
        )
        if start is not None and trailing:  # "I'll bring it to the next session instead, the new list comes out on
            due = self.ledger.due(text[: start.start()]) or due  # the 20th": the session
        dated_by_next = False
        if due is None and cued and not own_make and s.position + 1 < len(sentences):
            due = self.ledger.due(sentences[s.position + 1].text)
            dated_by_next = due is not None
        if due is None:
            return False
        if cues.PARTNER_SUBJECT.search(s.low):
            return self._propose(s, due)
        if not cued and (len(words(s.low)) > 8 or cues.FIRST_PERSON.search(s.low)):
            return False  # a correction marker alone only counts for a short restatement: "targets monday"
        # "make the <item> Thursday" re-dates the item it names; "I ask Dorin to make the rota" names no item
        target = self._revised(s, cued and not own_make)
        if target is None:
            return False
        if dated_by_next:
            state.consumed.add(s.position + 1)
        self.ledger.set_due(target, due, [s.turn])
        return True

    def _extension(self, s: Sentence) -> bool:
        """ "I need another week for the budget sheet": the named item's date moved on by that much."""
        found = cues.EXTENSION.search(s.low)
        if found is None or cues.is_question(s.low):
            return False
        target = self._revised(s, cued=False)
        if target is None or target.due is None:
            return False
        count = {"two": 2, "2": 2, "three": 3, "3": 3}.get(found["n"] or found["n2"] or "", 1)
        if found.group(0).startswith("a few"):
            count = 3
        days = count * (7 if found["unit"].startswith("week") else 1)
        self.ledger.set_due(target, target.due + dt.timedelta(days=days), [s.turn])
        return True

    def _revised(self, s: Sentence, cued: bool) -> Draft | None:
        """The speaker's item a revision is about: one it names, else (with a revision cue) a recent one."""
        own = self.ledger.recent(s.speaker, s.turn, window=LONG_WINDOW)
        anyone = [d for d in self.ledger.drafts if d.alive and 0 <= s.turn - max(d.evidence) <= LONG_WINDOW]
        # the turn so far names it: "Ah, and the soil results, they are late. Let's push mine to September 4."
        said = " ".join(x.text for x in self.ledger.sentences[s.turn][: s.position + 1])
        named = [d for d in anyone if related(s.text, d.action)] or [d for d in own if related(said, d.action)]
        if named:  # "the accessibility checklist can wait until the 26th": the item it names, whoever owns it
            best = max(related(s.text, d.action) for d in named)
            top = [d for d in named if related(s.text, d.action) == best]
            return next((d for d in reversed(top) if d.owner == s.speaker), top[-1])
        if cued:
            return self.ledger.pick([d for d in own if s.turn - max(d.evidence) <= WINDOW], s.text)
        return None

    def _date_question(self, s: Sentence, state: TurnState) -> bool:
        """ "By Friday?" after the partner's item: a date proposed for it, settled by their answer ("Friday, yes").
        After the asker's own item in the same turn ("I'll pull the hours. By Friday?") it dates that item."""
        if not cues.is_question(s.low) or len(words(s.low)) > 6 or cues.self_cued(s.low):
            return False
        due = self.ledger.due(s.text)
        if due is None or content_words(strip_due_phrases(s.text, self.session)):
            return False  # "Inventory still Wednesday?", "Same slot in two weeks?": not a date for the last item
        own = [d for d in state.created if d.owner == s.speaker and d.alive]
        if own:
            self.ledger.set_due(own[-1], due, [s.turn])
            return True
        return self._propose(s, due)

    def _propose(self, s: Sentence, due: dt.date) -> bool:
        """ "Could you make it the 10th?": a revision of the partner's item, waiting for their answer."""
        ledger = self.ledger
        others = [d for d in ledger.drafts if d.alive and d.owner != s.speaker and 0 < s.turn - max(d.evidence) <= 3]
        target = ledger.pick(others, s.text)
        if target is None:
            return False
        ledger.pending.append(Pending("revision", s.turn, s.speaker, "", due, "", s, target=target))
        return True
