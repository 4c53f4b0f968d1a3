"""Copying the partner's fresh item: "same for me", "me too", "I'll do the same with your report"."""

from __future__ import annotations

import re

from facilitator.commitments import cues
from facilitator.commitments.ledger import Rules
from facilitator.commitments.state import Draft, Sentence, TurnState
from facilitator.commitments.text import LEX


class SameForMe(Rules):
    """The partner's item, copied for the speaker (with the speaker's own object after "the same with")."""

    def same_for_me(self, s: Sentence, state: TurnState) -> bool:
        """ "Same for me", "me too": the partner's fresh item, copied for this speaker."""
        if state.same_done:
            return bool(cues.SELF_CUE.search(s.low)) and bool(cues.PRONOUN_OBJECT.search(s.low))
        also = cues.ALSO_THE.search(s.low)
        if also and not cues.SELF_CUE.search(s.low) and (own := self._own_fresh(s)) is not None:
            return self._copy(s, state, own, own.action, also)  # "and the letters too, same deadline"
        same = cues.SAME.search(s.low)
        if not same:
            return False
        cued = cues.SELF_CUE.search(same.group(0))
        if cued and cues.first_word_after(same.group(0)[cued.end() :]) in LEX.stative_verbs:
            return False  # "I'll confess mine did too" copies nothing
        bare_with = cued is None and cues.SAME_WITH.search(s.low) is not None and not cues.SELF_CUE.search(s.low)
        if bare_with and (own := self._own_fresh(s)) is not None:
            return self._copy(s, state, own, own.action)  # "I'll send you the guide. Same with the checklist."
        previous = [d for d in self.ledger.drafts if d.alive and d.owner != s.speaker and 0 < s.turn - d.turn <= 3]
        if not previous:
            return False
        source = previous[-1]
        name = self.wording.names.get(s.speaker, s.speaker)
        if bare_with and re.search(rf"\b{re.escape(name)}\b", source.action):
            return False  # "Same with the checklist" to "I'll send you the guide": asks for more, takes on nothing
        return self._copy(s, state, source, self._for_self(source.action, s.speaker))

    def _own_fresh(self, s: Sentence) -> Draft | None:
        """The speaker's own live item made in this turn or their previous one, if it is the newest item."""
        drafts = [d for d in self.ledger.drafts if d.alive]
        if not drafts or drafts[-1].owner != s.speaker or s.turn - drafts[-1].turn > 2:
            return None
        return drafts[-1]

    def _copy(
        self, s: Sentence, state: TurnState, source: Draft, action: str, found: re.Match[str] | None = None
    ) -> bool:
        """A new item for the speaker: `action` with "the same with X" substituting X, dated by this turn or as
        `source`."""
        own_due = self.ledger.due_from(x.text for x in self.ledger.sentences[s.turn][s.position :])
        action = self._same_with(s, action, found)
        draft = Draft(s.speaker, action, own_due or source.due, [max(source.evidence), s.turn], s.turn, "same")
        self.ledger.append(draft, state)
        state.same_done = True
        return True

    def _for_self(self, action: str, owner: str) -> str:
        """The partner's action as the new owner's own: a part that hands something to the new owner goes ("mark up
        the sections and send Jun my notes", copied for Jun: "mark up the sections")."""
        name = self.wording.names.get(owner, owner)
        parts = re.split(r"\s+and\s+", action)
        kept = [p for p in parts if not re.search(rf"\b{re.escape(name)}\b", p)]
        return " and ".join(kept) if kept and len(kept) < len(parts) else action

    def _same_with(self, s: Sentence, action: str, found: re.Match[str] | None = None) -> str:
        """ "I'll do the same with your report" after "I'll review your slides": review Ana's report."""
        found = found or cues.SAME_WITH.search(s.low)
        if found is None:
            return action
        other = self.wording.perspective(s.text[found.start("obj") : found.end("obj")].strip(), s.speaker, s.speaker)
        head = re.match(
            r"\w+(?:\s+(?:up|out|over|through|round|around|back|off))?(?:\s+(?P<to>[A-Z][\w'-]*)(?=\s+(?:the|a|an|my|your|our)\b))?",
            action,
        )
        if head is None:
            return f"{action.split()[0]} {other}"
        kept = (
            head.group(0)
            if head["to"] != self.wording.names.get(s.speaker, s.speaker)
            else head.group(0)[: head.start("to")].rstrip()
        )
        return f"{kept} {other}"  # "send Ben the checklist", but Ben's own copy is "send the checklist"
