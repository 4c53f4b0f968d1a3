"""The turn loop: every sentence goes through the rules in order; the live items are the result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from facilitator.commitments import cues
from facilitator.commitments.ids import commitment_id
from facilitator.commitments.ledger import Ledger
from facilitator.commitments.linking import Linking
from facilitator.commitments.revisions import Revisions
from facilitator.commitments.state import Sentence, TurnState
from facilitator.commitments.statements import Statements
from facilitator.commitments.text import plain
from facilitator.commitments.wording import Wording
from facilitator.models import Commitment, Participant, Turn

__all__ = ["Extractor", "extract_commitments"]


class Extractor:
    """One pass over a transcript: a ledger of items and the rule groups that fill it."""

    def __init__(self, turns: Sequence[Turn], participants: Sequence[Participant], session_date: dt.date) -> None:
        self.turns = list(turns)
        self.ledger = Ledger(session_date)
        self.wording = Wording(participants, session_date)
        self.linking = Linking(self.ledger, self.wording)
        self.revisions = Revisions(self.ledger, self.wording)
        self.statements = Statements(self.ledger, self.wording)

    def run(self) -> list[Commitment]:
        for turn in self.turns:
            index = turn.index
            speaker = self.wording.speaker_id(turn.speaker)
            sentences = self._sentences(turn, speaker or "")
            self.ledger.sentences[index] = sentences
            if speaker is None:
                continue
            state = TurnState()
            self.linking.answer_pending(index, speaker, sentences, state)
            for sentence in sentences:
                self._sentence(sentence, state)
            self._close_turn(index)
        return self._result()

    @staticmethod
    def _sentences(turn: Turn, speaker: str) -> list[Sentence]:
        clean = cues.NOISE.sub(lambda m: " " * len(m.group(0)), turn.text)
        return [
            Sentence(turn.index, speaker, text, plain(text), i)
            for i, (_, text) in enumerate(cues.split_sentences(clean))
        ]

    def _sentence(self, s: Sentence, state: TurnState) -> None:
        """The first rule that claims the sentence handles it; a plain statement is the last resort."""
        if not s.low or s.position in state.consumed:
            return
        claimed = (
            self.revisions.retraction(s, state)
            or self.revisions.revision(s, state)
            or self.linking.same_for_me(s, state)
            or self.linking.joint(s, state)
            or self.linking.request(s)
            or self.linking.offer(s)
        )
        if not claimed:
            self.statements.statements(s, state)

    def _close_turn(self, turn: int) -> None:
        for draft in self.ledger.drafts:
            if draft.retracted_at == turn and not draft.alive:
                draft.retracted_at = None  # final: no later statement in the same turn revived it
        self.ledger.pending = [p for p in self.ledger.pending if turn - p.turn < 3 and p.answered < 2]

    def _result(self) -> list[Commitment]:
        out: list[Commitment] = []
        for draft in self.ledger.drafts:
            if not draft.alive or not draft.action:
                continue
            evidence = sorted(set(draft.evidence))
            out.append(
                Commitment(
                    owner=draft.owner,
                    action=draft.action,
                    due=draft.due,
                    evidence=evidence,
                    confirmed=False,
                    id=commitment_id(draft.owner, draft.action, evidence[0] if evidence else None),
                )
            )
        return out


def extract_commitments(turns: list[Turn], participants: list[Participant], session_date: dt.date) -> list[Commitment]:
    """Accountability items stated in `turns`, owned by participants, in the order they were made.

    Deterministic and offline. Works for any number of participants (a pair has two; a recorded team meeting may
    have more). `confirmed` is always False: the partners confirm items in the UI.
    """
    return Extractor(turns, participants, session_date).run()
