"""The answers that turn proposals into items: a request, joint proposal or offer accepted, refused or dated by the
partner's reply (and a hand-over that moves the requester's item to the acceptor)."""

from __future__ import annotations

import datetime as dt
import re

from facilitator.commitments import cues
from facilitator.commitments.asks import Asks
from facilitator.commitments.handover import HANDOVER, handed_over, without_handover
from facilitator.commitments.state import Draft, Pending, Sentence, TurnState
from facilitator.commitments.text import LEX, base_form, content_words, overlap, related, words

# A refusal said after a yes-word: "Yeah, no, that won't happen", "Okay, I really can't", "... so no."
_REFUSED = re.compile(r"\b(?:can'?t|cannot|won'?t|no\W*$|yeah,?\s+no)\b|\bno\W*$")


def _dating(sentences: list[Sentence]) -> list[str]:
    """The sentences of an answer that may date the item: not asides about the speaker's diary, and not a day the
    answer turns down ("Thursday's no good for me. Friday's fine.": Friday)."""
    return [x.text for x in sentences if not (cues.ASIDE.search(x.low) or cues.DATE_REFUSED.search(x.low))]


class Answering(Asks):
    """What the partner's answer makes of a proposal waiting for it."""

    def joint_items(
        self, pending: Pending, partner: str, evidence: list[int], due: dt.date | None, state: TurnState
    ) -> Draft:
        """One item for each of the pair, grouped so a revision or a refusal applies to both."""
        self.ledger.groups += 1
        group = self.ledger.groups
        owners = self.wording.ids if pending.everyone else [pending.speaker, partner]
        context = self.ledger.context(pending.turn, pending.sentence.position)
        drafts = []
        for owner in owners:
            action = self.wording.resolve_pronoun(self.wording.action(pending.action, owner), owner, context)
            drafts.append(Draft(owner, action, due, list(evidence), pending.turn, "joint", group))
        for draft in drafts:
            self.ledger.add(draft, state)
        return drafts[0]

    def answer_pending(self, turn: int, speaker: str, sentences: list[Sentence], state: TurnState) -> None:
        """The partner's first reply settles a request, proposal or offer (a clarifying question defers it)."""
        if not sentences:
            return
        opening = sentences[0].low
        accepting = next((x.low for x in sentences[:2] if cues.ACCEPT.search(x.low)), None)
        if accepting is None:  # "Hmm. Friday. Let me think. Yes, okay.", "Oh, the template. It's a mess. But yes"
            accepting = self._late_yes(sentences)
        if accepting is None and len(sentences) <= 3 and cues.CLOSING_YES.search(sentences[-1].low):
            accepting = sentences[-1].low  # "Friday is the audit day. I guess that's fine though, yes."
        if accepting is None and len(sentences) == 1 and cues.LOOK_UP.match(opening):
            return  # "Let me check my diary.": the answer comes in the next turn
        if accepting is None and cues.TAKEN_ON.search(opening):
            accepting = opening  # "No, I've got it.": no need for the other member, the one asked takes it on
        if accepting is None and cues.LATE_ACCEPT.search(opening):
            accepting = opening  # "the committee roster yep will redo it by end of the week"
        whole = " ".join(x.low for x in sentences)
        ledger = self.ledger
        latest = max((p.turn for p in ledger.pending if p.speaker != speaker and p.turn < turn), default=-1)
        for pending in list(ledger.pending):
            if pending.speaker == speaker or pending.turn >= turn:
                continue
            if pending.addressee is not None and pending.addressee != speaker:
                continue  # "Sam, could you ...?": another member's reply does not answer for Sam
            if pending.turn < latest and overlap(pending.action, whole) < 2:
                # an older request the partner went past: a reply settles the latest one unless it names the older
                ledger.pending.remove(pending)
                continue
            pending.answered += 1
            answer = accepting
            if pending.kind == "who":
                answer = opening if cues.VOLUNTEER.match(opening) else None
            if pending.kind == "revision" and answer is None and ledger.due(opening) == pending.due:
                answer = opening  # "By Friday?" "Friday, yes."
            if answer is None and pending.kind in ("request", "imperative") and self._counter_date(sentences):
                answer = opening  # "Could you review it by Wednesday?" "Wednesday is tight, can I do Thursday?"
            declined = bool(cues.DECLINE.search(opening)) and not cues.STRONG_ACCEPT.search(opening)
            trying = answer is not None and cues.ONLY_TRYING.search(answer) and self._answer_due(turn) is None
            if answer is None or declined or cues.HEDGE.search(answer) or trying:
                if not cues.is_question(opening) or pending.answered > 1:
                    ledger.pending.remove(pending)
                    state.answered_request = True
                    if declined and pending.kind == "joint" and pending.target is not None:
                        ledger.drop_group(pending.target)
                continue
            ledger.pending.remove(pending)
            state.answered_request = True
            if self._accepted(pending, turn, answer):
                self._accept(pending, turn, speaker, state)

    @staticmethod
    def _late_yes(sentences: list[Sentence]) -> str | None:
        """A yes in the third or fourth sentence of a reply that so far only mulled the request over (short
        sentences, no question, no refusal): "Hmm. Friday. Let me think. Yes, okay, Friday works." """
        for i, x in enumerate(sentences[2:4], start=2):
            before = sentences[:i]
            mulled = all(len(words(b.low)) <= 6 and not cues.is_question(b.low) for b in before)
            if not mulled or any(cues.DECLINE.search(b.low) for b in before):
                return None
            found = cues.LATE_YES.match(x.low)
            refused = any(cues.DECLINE.search(y.low) or _REFUSED.search(y.low) for y in sentences[i:])
            if found and not refused:  # "Hmm. Friday. Okay, I really can't, sorry." refuses
                return x.low[found.end() :] or x.low
        return None

    def _counter_date(self, sentences: list[Sentence]) -> bool:
        """Whether a reply proposes another day for a request (a question naming a date)."""
        return any(
            cues.is_question(x.low) and cues.COUNTER_DATE.search(x.low) and self.ledger.due(x.text) is not None
            for x in sentences[:2]
        )

    def _accepted(self, pending: Pending, turn: int, opening: str) -> bool:
        whole = " ".join(s.low for s in self.ledger.sentences[turn])
        future = bool(cues.self_cued(whole) or self.ledger.due(whole))
        strong = bool(cues.STRONG_ACCEPT.search(opening))
        if pending.kind == "joint" and cues.JOINED_IN.search(opening):
            return True  # "We could both go to it." "Yes, let's."
        if HANDOVER.search(pending.sentence.low):
            return True  # "Can you take the supplier call off my hands?" "Sure.": a task, not an act on the spot
        if base_form(pending.verb) in LEX.immediate_verbs:
            return future or pending.due is not None  # "can you explain...?" "sure, so..." is answered on the spot
        if pending.kind in ("request", "offer", "joint", "revision", "who"):
            return True
        if cues.ADDRESSED_TO_ME.search(pending.sentence.low) or cues.POLITE_TAIL.search(pending.sentence.low):
            return True  # "Send me the vibration trend by Thursday." "Sure."
        return strong or future  # an imperative needs more than a bare "yes"

    def _answer_due(self, turn: int) -> dt.date | None:
        """The first date of the answer, leaving out asides about the speaker's own diary ("Deal. I have a call
        Thursday though"): those say when they are busy, not when the item is due."""
        sentences = self.ledger.sentences.get(turn, [])
        for x in sentences[:2]:  # "Wednesday is tight, can I do Thursday?": the day proposed back
            counter = cues.COUNTER_DATE.search(x.low)
            proposed = self.ledger.due(x.text[counter.start() :]) if counter and cues.is_question(x.low) else None
            if proposed is not None:
                return proposed
        return self.ledger.due_from(_dating(sentences))

    def _accept(self, pending: Pending, turn: int, speaker: str, state: TurnState) -> None:
        ledger = self.ledger
        due = self._answer_due(turn) or pending.due
        if pending.kind == "revision" and pending.target is not None:
            ledger.set_due(pending.target, pending.due or due, [pending.turn, turn])
            answer = " ".join(x.text for x in ledger.sentences.get(turn, []))
            if related(answer, pending.target.action):  # "Certainly. I shall bring the guide then.": the same item
                state.absorber, state.keep_wording = pending.target, True
        elif pending.kind == "joint" and pending.target is not None:  # a declared joint item, now confirmed
            ledger.set_due(pending.target, None if pending.target.due else due, [turn])
        elif pending.kind == "joint":
            self.joint_items(pending, speaker, [pending.turn, turn], due, state)
        elif pending.kind == "offer":
            action = self.wording.action(pending.action, pending.speaker)
            context = ledger.context(pending.turn, pending.sentence.position, pending.pre)
            action = self.wording.resolve_pronoun(action, pending.speaker, context)
            ledger.add(Draft(pending.speaker, action, due, [pending.turn, turn], turn, "offer"), state)
        else:
            self._accept_request(pending, turn, speaker, due, state)

    def _accept_request(self, pending: Pending, turn: int, speaker: str, due: dt.date | None, state: TurnState) -> None:
        """An accepted request is the accepter's item; the rest of the turn may restate or date it."""
        moved = handed_over(pending, self.ledger.drafts, turn, due)
        if moved is not None:  # "Can you take the supplier call instead of me?" "Yes, I'll take it."
            moved.owner = speaker
            self.ledger.append(moved, state)
            state.absorber = moved
            return
        wording = self.wording
        action = wording.action(pending.action, speaker, requester=pending.speaker, gerund=pending.gerund)
        context = self.ledger.context(pending.turn, pending.sentence.position, pending.pre)
        action = wording.resolve_pronoun(action, speaker, context)
        if HANDOVER.search(pending.sentence.low):
            action = without_handover(action)
        if len(content_words(action, drop=LEX.vague)) < 2 and due is None and not cues.DEFINITE_OBJECT.match(action):
            return
        draft = Draft(speaker, action, due, [pending.turn, turn], turn, "request")
        self.ledger.append(draft, state)
        state.absorber = draft
