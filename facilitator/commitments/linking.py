"""Requests, offers, joint proposals and "same for me", and the answers that turn them into items."""

from __future__ import annotations

import datetime as dt
import re

from facilitator.commitments import cues
from facilitator.commitments.asks import Asks
from facilitator.commitments.state import Draft, Pending, Sentence, TurnState
from facilitator.commitments.text import LEX, base_form, content_words, overlap, plain, words

# A refusal said after a yes-word: "Yeah, no, that won't happen", "Okay, I really can't", "... so no."
_REFUSED = re.compile(r"\b(?:can'?t|cannot|won'?t|no\W*$|yeah,?\s+no)\b|\bno\W*$")


def _dating(sentences: list[Sentence]) -> list[str]:
    """The sentences of an answer that may date the item: not asides about the speaker's diary, and not a day the
    answer turns down ("Thursday's no good for me. Friday's fine.": Friday)."""
    return [x.text for x in sentences if not (cues.ASIDE.search(x.low) or cues.DATE_REFUSED.search(x.low))]


class Linking(Asks):
    """Proposals waiting for the partner's answer, and what an acceptance makes of them."""

    # -- proposals -------------------------------------------------------------------------------------------

    def joint(self, s: Sentence, state: TurnState) -> bool:
        """ "Let's both ...", "we'll each ...": one item per owner once accepted (or at once when declared)."""
        match = cues.JOINT.search(s.low)
        lets = None if match else cues.LETS.search(s.low)
        if lets is not None and self.ledger.due(s.text) is None:
            lets = None
        found = match or lets
        if found is None:
            return False
        raw = cues.JOINT_AUXILIARY.sub("", s.text[found.end() :])
        verb = cues.first_word_after(raw)
        if raw.lstrip().startswith((",", ";")) or verb in ("which", "who", "that"):
            return False  # "all three of us, which never happens": no action follows
        if not verb or verb in LEX.non_verbs or verb in LEX.stative_verbs or cues.PAST_VERB.match(verb):
            return False
        if verb.endswith("ly") or len(raw.split()) < 2:
            return False  # "all three of us, finally": no action follows
        bare = re.fullmatch(r"\W*(?:ok(?:ay)?\W+|so\W+)?both", found.group(0).strip())
        if bare and verb not in LEX.deliverable_verbs:
            return False  # a bare "Both read it by Friday?" needs a verb of doing; "Both posts up" is a noun
        if cues.HEDGE.search(s.low) or cues.HYPOTHETICAL.search(s.low):
            return True
        due = self._due_here(s)
        if base_form(verb) in LEX.immediate_verbs and due is None and cues.PURPOSE.search(s.low[: found.start()]):
            return False  # "so we both see the other place in a different season": a purpose, not a task
        pending = Pending("joint", s.turn, s.speaker, raw, due, verb, s, everyone=bool(cues.EVERYONE.search(s.low)))
        partner = self.wording.partner(s.speaker)
        if partner is None and pending.everyone:
            partner = next(pid for pid in self.wording.ids if pid != s.speaker)
        if partner is not None and cues.DECLARED_JOINT.search(s.low) and not cues.is_question(s.low):
            # "We'll both read it by Friday" binds the pair unless the partner objects; a yes adds evidence.
            pending.target = self.joint_items(pending, partner, [s.turn], due, state)
        self.ledger.pending.append(pending)
        return True

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

    def request(self, s: Sentence) -> bool:
        """ "Could you ...?", "please ...", "send me ...": waits for the partner's answer."""
        kind = "request"
        match = cues.ASKED_REQUEST.search(s.low)
        # chat drops the "?": "can u do a chart n stick it up", "i need the costs can u send them by fri"
        inverted = match is not None and cues.INVERTED_REQUEST.search(s.low) is not None
        if match is not None and not (cues.is_question(s.low) or "please" in s.low or inverted):
            match = None  # "you can see the trend here" is not a request
        match = match or cues.STATED_REQUEST.search(s.low)
        thing = cues.THING_REQUEST.search(s.low) if match is None and cues.is_question(s.low) else None
        polite = cues.POLITE_TAIL.search(s.low) or re.search(r"\bplease\b", s.low)
        if match is None and thing is None and polite and self._due_here(s) is not None:
            thing = cues.STATED_THING.search(s.low)  # "I'd love a copy of the template by Friday, if you can."
        if thing is not None:  # "Any chance of a copy of the slides?": send me a copy of the slides
            raw = f"send me {s.text[thing.end() :]}"
            return self._wait(Pending("request", s.turn, s.speaker, raw, self._due_here(s), "send", s))
        if match is None:
            match = self._imperative(s)
            kind = "imperative"
        if match is None:
            return False
        raw = s.text[match.end() :] if kind == "request" else s.text[match.start("verb") :]
        if kind == "imperative" and cues.is_question(s.low):
            kind = "request"  # "Redo it?" asks, and "Sure." answers it
        if cues.OPEN_FAVOUR.match(plain(raw)):
            self.ledger.favour = (s.speaker, s.turn)  # "Can you do me a favour?" "Sure, what?": the act comes next
            return False
        verb = cues.first_word_after(raw)
        if not verb or verb in LEX.non_verbs:
            return False
        gerund = bool(cues.GERUND_REQUEST.search(s.low[: match.end()])) and verb.endswith("ing")
        pre = s.text[: match.start()] if kind == "request" else ""
        return self._wait(Pending(kind, s.turn, s.speaker, raw, self._due_here(s), verb, s, gerund=gerund, pre=pre))

    def division(self, s: Sentence, state: TurnState) -> bool:
        """ "You do the agenda and I'll do the minutes": the partner's part waits for their answer like a request;
        the speaker's own part is a statement (the rest of the sentence from its cue)."""
        match = cues.DIVISION.match(s.low)
        before = self.ledger.sentences[s.turn][s.position - 1] if s.position else None
        mine_before = before is not None and bool(cues.find_cues(before.low))  # "I'll do X, you do Y"
        if match is None or not (match["mine"] is not None or mine_before) or cues.is_question(s.low.rstrip(" ?ok,")):
            return False
        own = cues.find_cues(s.low[match.end() :])
        stop = match.end() + own[0][0] if own else len(s.low)
        raw = re.sub(r"[\s,;]*(?:\band\b)?[\s,;]*$", "", s.text[match.start("verb") : stop])
        pending = Pending("request", s.turn, s.speaker, raw, self._due_here(s), match["verb"], s)
        self.ledger.pending.append(pending)
        state.rest_from = stop if own else None
        return True

    def _imperative(self, s: Sentence) -> re.Match[str] | None:
        match = cues.IMPERATIVE.match(s.low)
        if match is None or match["verb"] not in LEX.deliverable_verbs:
            return None
        favour = self.ledger.favour
        if favour is not None and favour[0] == s.speaker and 0 < s.turn - favour[1] <= 3 and s.position == 0:
            return match  # the favour asked for: "Send the cost model to Lena by Friday."
        rest = s.low[match.end("verb") :]
        # terse: "De-escalation course. Book it?", "Book the refresher?" (but "Check it?" alone may only wonder)
        short = len(s.low.split()) <= 4 and (s.position > 0 or cues.DEFINITE_OBJECT.match(s.low) is not None)
        if cues.is_question(s.low) and short:
            return match
        if cues.is_question(s.low) and not (re.match(r"\s+(?:me|us)\b", rest) or cues.POLITE_TAIL.search(rest)):
            return None  # "Send me last year's bookings?", "Send the rota when you can?" ask; "Check it?" may wonder
        if not (cues.ADDRESSED.search(rest) or cues.POLITE_TAIL.search(rest)):
            return None
        return match

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
        wording = self.wording
        action = wording.action(pending.action, speaker, requester=pending.speaker, gerund=pending.gerund)
        context = self.ledger.context(pending.turn, pending.sentence.position, pending.pre)
        action = wording.resolve_pronoun(action, speaker, context)
        if len(content_words(action, drop=LEX.vague)) < 2 and due is None and not cues.DEFINITE_OBJECT.match(action):
            return
        draft = Draft(speaker, action, due, [pending.turn, turn], turn, "request")
        self.ledger.append(draft, state)
        state.absorber = draft
