"""Items said without a first-person cue: "the finding aid will be ready on Wednesday", "I'm going to the twilight
session on the 24th", "leave the audit with me", "Case law summary by Friday too." (terse chat)."""

from __future__ import annotations

from facilitator.commitments import cues
from facilitator.commitments.ledger import Rules
from facilitator.commitments.referents import find_pronoun
from facilitator.commitments.state import Draft, Sentence, TurnState
from facilitator.commitments.text import LEX, content_words, related

# Words that make a verbless sentence more than a noun phrase; a terse deadline may start with "the", "a", "an", "my".
_NOT_TERSE = (LEX.non_verbs | LEX.stop_words) - {"the", "a", "an", "my"}


class CuelessStatements(Rules):
    """The speaker's own items stated without "I'll"."""

    def _ready(self, s: Sentence, state: TurnState) -> bool:
        """ "The finding aid will be ready on Wednesday", "it'll be ready on Thursday": the speaker's item to have it
        ready by then (only with a date, and not in a question)."""
        match = cues.READY.search(s.low)
        if match is None or cues.is_question(s.low):
            return False
        due = self.ledger.due(s.text[match.end() :])
        if due is None:
            return False
        phrase = s.text[match.start("np") : match.end("np")]
        phrase = phrase[:1].lower() + phrase[1:]
        action = self.wording.action(f"have {phrase} ready", s.speaker)
        context = self.ledger.context(s.turn, s.position, s.text[: match.start("np")])
        action = self.wording.resolve_pronoun(action, s.speaker, context)
        vague = state.ready is not None and state.ready_from_it and state.ready.owner == s.speaker
        if vague and state.ready is not None and state.ready.due == due and phrase.lower() != "it":
            # "It'll be ready on Thursday. The test specification will be ready on Thursday.": one item, named
            state.ready.action, state.ready_from_it = action, False
            return True
        made = [d for d in (state.absorber, *state.created) if d is not None and d.owner == s.speaker]
        same = [d for d in made if phrase.lower() == "it" or related(phrase, d.action)]
        if same or (state.absorber is not None and not state.absorbed):
            # "Could you prepare the mock-up?" "Sure, it'll be ready on Thursday."; "I'll photograph the
            # interlocks. The photos will be ready on Tuesday.": the date of the item just made
            target = same[-1] if same else state.absorber
            if target is None:
                return False
            state.absorbed = state.absorbed or target is state.absorber
            self.ledger.set_due(target, due, [s.turn])
            return True
        if find_pronoun(action) is not None:
            return False
        draft = Draft(s.speaker, action, due, [s.turn], s.turn, "simple")
        self.ledger.add(draft, state)
        state.ready = draft  # "... will be ready on Wednesday. I'll put it in your tray.": one item
        state.ready_from_it = phrase.lower() == "it"
        return True

    def _left_with_me(self, s: Sentence, state: TurnState) -> bool:
        """ "Leave the audit with me (by Friday)", "the rota's on me": the speaker's item to handle it."""
        match = cues.LEFT_WITH_ME.search(s.low)
        if match is None or cues.is_question(s.low) or cues.HEDGE.search(s.low):
            return False
        group = "np" if match["np"] else "np2"
        phrase = s.text[match.start(group) : match.end(group)]
        action = self.wording.action(f"handle {phrase[:1].lower()}{phrase[1:]}", s.speaker)
        rest = self.ledger.sentences[s.turn][s.position + 1 :]
        due = self.ledger.due(s.text[match.end() :]) or self.ledger.due_from(x.text for x in rest[:1])
        self.ledger.add(Draft(s.speaker, action, due, [s.turn], s.turn, "simple"), state)
        return True

    def _event(self, s: Sentence, state: TurnState) -> bool:
        """ "I'm going to the twilight session on the 24th": the speaker's item to attend it (only with a date)."""
        match = cues.GOING_TO_EVENT.search(s.low)
        if match is None or cues.is_question(s.low) or cues.HEDGE.search(s.low):
            return False
        due = self.ledger.due(s.text[match.end() :])
        if due is None:
            return False
        action = self.wording.action(f"attend {s.text[match.end() :]}", s.speaker)
        self.ledger.add(Draft(s.speaker, action, due, [s.turn], s.turn, "simple"), state)
        return True

    def _terse(self, s: Sentence, state: TurnState) -> None:
        """Verbless deadlines in terse chat: "Case law summary by Friday too." is the speaker's own item."""
        match = cues.TERSE.match(s.low)
        if match is None or state.answered_request or cues.is_question(s.low):
            return
        found = match["np"].split()
        if any(w in _NOT_TERSE or w.endswith(("n't", "nt")) or w == "cannot" for w in found):
            return  # "Can't until Tuesday.": a refusal, not a deliverable
        if found[0] in LEX.deliverable_verbs or not content_words(match["np"]):
            return
        due = self.ledger.due(s.text)
        if due is None:
            return
        phrase = s.text[match.start("np") : match.end("np")]
        phrase = phrase[:1].lower() + phrase[1:] if phrase[1:2].islower() else phrase
        action = self.wording.action(f"deliver {phrase}", s.speaker)
        self.ledger.add(Draft(s.speaker, action, due, [s.turn], s.turn, "simple"), state)
