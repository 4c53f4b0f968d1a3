"""Requests, offers, joint proposals and divisions of work (their answers: `answering`)."""

from __future__ import annotations

import re

from facilitator.commitments import cues
from facilitator.commitments.answering import Answering
from facilitator.commitments.state import Pending, Sentence, TurnState
from facilitator.commitments.text import LEX, base_form, content_words, plain
from facilitator.dates import strip_due_phrases

_JOINT_FILLERS = frozenset({"then", "too", "also", "together"})


class Linking(Answering):
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
        proposed = self._proposed_before(s, raw)
        if proposed is None:
            return True  # "Let's both go." "Yes, let's." "We'll both go on the 28th then.": dated, not doubled
        raw = proposed
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

    def _proposed_before(self, s: Sentence, raw: str) -> str | None:
        """ "Let's both go to the grower meeting. When is it?" "The 28th." "Right, we'll both go on the 28th then.":
        a joint action with no object of its own is the one proposed a few turns before (which it settles); None when
        that proposal's items exist already (they take this date)."""
        own = content_words(strip_due_phrases(raw, self.session), drop=LEX.vague | _JOINT_FILLERS)
        if len(own) > 1:
            return raw
        for turn in range(s.turn - 1, max(-1, s.turn - 5), -1):
            for x in self.ledger.sentences.get(turn, []):
                found = cues.JOINT.search(x.low)
                said = cues.JOINT_AUXILIARY.sub("", x.text[found.end() :]) if found else ""
                if len(content_words(strip_due_phrases(said, self.session), drop=LEX.vague | _JOINT_FILLERS)) <= 1:
                    continue
                made = [d for d in self.ledger.drafts if d.alive and d.kind == "joint" and d.turn == turn]
                if made:  # the proposal was accepted already: this settles its date
                    self.ledger.set_due(made[0], self._due_here(s), [s.turn])
                    return None
                self.ledger.pending = [p for p in self.ledger.pending if p.sentence is not x]
                return said
        return raw

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
