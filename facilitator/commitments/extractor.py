"""The turn loop: every sentence goes through the rules in order; the live items are the result."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from facilitator.commitments import cues, readback
from facilitator.commitments.dating import LateDates
from facilitator.commitments.ids import commitment_id
from facilitator.commitments.ledger import Ledger
from facilitator.commitments.linking import Linking
from facilitator.commitments.rescheduling import Rescheduling
from facilitator.commitments.revisions import Revisions
from facilitator.commitments.state import Sentence, TurnState
from facilitator.commitments.statements import Statements
from facilitator.commitments.text import plain
from facilitator.commitments.wording import Wording
from facilitator.dates import resolve_due
from facilitator.models import Commitment, Participant, Turn
from facilitator.understanding.sentences import split_sentences

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder

__all__ = ["Extractor", "extract_commitments"]


class Extractor:
    """One pass over a transcript: a ledger of items and the rule groups that fill it."""

    def __init__(
        self,
        turns: Sequence[Turn],
        participants: Sequence[Participant],
        session_date: dt.date,
        next_meeting: dt.date | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.turns = list(turns)
        self.ledger = Ledger(session_date, next_meeting, embedder)
        self.ledger.turn_count = len(self.turns)
        self.wording = Wording(participants, session_date)
        self.linking = Linking(self.ledger, self.wording)
        self.revisions = Revisions(self.ledger, self.wording)
        self.rescheduling = Rescheduling(self.ledger, self.wording)
        self.dates = LateDates(self.ledger, self.wording)
        self.statements = Statements(self.ledger, self.wording)
        self.last_speakers: list[str] = []

    def run(self) -> list[Commitment]:
        self.feed(joined(self.turns))
        return self.result()

    def feed(self, turns: Sequence[Turn]) -> None:
        """Read `turns` (already `joined`) after those read before: the loop `run` makes over the whole transcript,
        in pieces (see `facilitator.commitments.live`)."""
        for turn in turns:
            index = turn.index
            speaker = self.wording.speaker_id(turn.speaker)
            sentences = self._sentences(turn, speaker or "")
            self.ledger.sentences[index] = sentences
            if speaker is None:
                continue
            if readback.is_readback(self.ledger, sentences):
                readback.restate(self.ledger, index, sentences)  # restates items: creates none, moves no date
                continue
            vocative = self._vocative(sentences, speaker)
            self.wording.vocative = vocative if len(self.wording.ids) > 2 else None
            self.wording.addressed = vocative or next((p for p in self.last_speakers if p != speaker), None)
            state = TurnState()
            self.linking.answer_pending(index, speaker, sentences, state)
            for sentence in sentences:
                self._sentence(sentence, state)
            self._close_turn(index)
            if sentences:
                self._answered_by(speaker)

    def _vocative(self, sentences: list[Sentence], speaker: str) -> str | None:
        """A group member the turn opens by name ("And Tom, Dr. Haldane's group runs..."): the one addressed."""
        if not sentences:
            return None
        opening = sentences[0].text.split(",", 1)[0].split()
        for word in opening[:3]:
            found = self.wording.speaker_id(word.strip(".!?:"))
            if found is not None and found != speaker:
                return found
        return None

    def _answered_by(self, speaker: str) -> None:
        """In a group, whoever speaks next (other than this speaker) is taken to be addressing this speaker."""
        self.last_speakers = [speaker, *(s for s in self.last_speakers if s != speaker)][:2]

    @staticmethod
    def _sentences(turn: Turn, speaker: str) -> list[Sentence]:
        clean = cues.NOISE.sub(lambda m: " " * len(m.group(0)), turn.text)
        texts = [part for _, text in cues.split_sentences(clean) for part in _divided(text)]
        return [Sentence(turn.index, speaker, text, plain(text), i) for i, text in enumerate(texts)]

    def _sentence(self, s: Sentence, state: TurnState) -> None:
        """The first rule that claims the sentence handles it; a plain statement is the last resort."""
        if not s.low or s.position in state.consumed:
            return
        state.rest_from = None
        claimed = (
            self.revisions.named_retraction(s, state)
            or self.revisions.retraction(s, state)
            or self.dates.when_answered(s, state)
            or self.dates.dated_later(s, state)
            or self.rescheduling.reschedule(s, state)
            or self.revisions.revision(s, state)
            or self.linking.same_for_me(s, state)
            or self.linking.joint(s, state)
            or self.linking.division(s, state)
            or self.linking.request(s)
            or self.linking.offer(s)
            or self.linking.who(s)
        )
        if not claimed:
            self.statements.statements(s, state)
        elif state.rest_from is not None:  # "scratch that, I can't share the file, but I'll send a summary"
            cut = state.rest_from
            self.statements.statements(Sentence(s.turn, s.speaker, s.text[cut:], s.low[cut:], s.position), state)

    def _close_turn(self, turn: int) -> None:
        for draft in self.ledger.drafts:
            if draft.retracted_at == turn and not draft.alive:
                draft.retracted_at = None  # final: no later statement in the same turn revived it
        self.ledger.pending = [p for p in self.ledger.pending if turn - p.turn < 3 and p.answered < 2]

    def result(self) -> list[Commitment]:
        """The live items of what was read so far."""
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


# A turn cut off: a trailing dash or ellipsis, or no end mark after a word that cannot end a sentence ("draft the").
_CUT_OFF = re.compile(
    r"(?:\s?[-–—]+|…|\.\.\.)\s*$|(?<![.!?])\b(?:the|a|an|my|your|our|to|and|of|for|with|some)\s*$", re.I
)
_GOES_ON = re.compile(r"^\s*(?:[-–—]+|…|\.\.\.)\s*")
_LOWER_START = re.compile(r"^\s*(?=[a-z])")
# A self-interruption inside a sentence: "I'll email the-- sorry, the phone's ringing-- the supplier tomorrow".
_DASHED_ASIDE = re.compile(r"(?<=\w)\s?(?:--|—|–)\s+[^-–—]{1,60}?(?:--|—|–)\s+")
_MENDED = re.compile(r"--|—|–")  # only a turn with a dash has an aside or a restart to mend
# A word said twice across the break: "send you the— / —the rota" reads "send you the rota".
_SAID_TWICE = re.compile(r"\b(the|a|an|my|your|our|to|and|of|for|with)\s+\1\b", re.I)


# A restart that repeats its words: "send it to the — to the health team" reads "send it to the health team".
_RESTART = re.compile(r"\b((?:[\w'-]+\s+){0,2}[\w'-]+)\s*(?:--|—|–)\s*\1\b", re.I)


def _repaired(text: str) -> str:
    return _SAID_TWICE.sub(r"\1", _DASHED_ASIDE.sub(" ", _RESTART.sub(r"\1", text)))


def _divided(text: str) -> list[str]:
    """ "I'll write the summary, you do the figures" is two sentences: the speaker's part, then the partner's."""
    split = cues.DIVISION_SPLIT.search(text)
    if split is None or not cues.find_cues(plain(text[: split.start()])):
        return [text]
    return [text[: split.start()], text[split.end() :]]


def joined(turns: Sequence[Turn]) -> list[Turn]:
    """Turns with interrupted sentences made whole: "I'll re-check the sheets this —" / "This week?" / "— by
    Thursday." reads as one statement of the first turn; the continuation turn is left empty (its index stays)."""
    out = [t.model_copy(update={"text": _repaired(t.text)}) if _MENDED.search(t.text) else t for t in turns]
    for i, turn in enumerate(out):
        cut = _CUT_OFF.search(turn.text)
        if not cut:
            continue
        marked = bool(re.search(r"[-–—…]|\.\.\.", cut.group(0)))
        for j in range(i + 1, min(i + 3, len(out))):
            later = out[j]
            goes_on = _GOES_ON.match(later.text) or (
                not marked and _LOWER_START.match(later.text) and not cues.ACCEPT.match(plain(later.text))
            )
            if later.speaker == turn.speaker and goes_on:
                head = _CUT_OFF.sub("", turn.text) if marked else turn.text
                whole = _repaired(f"{head} {_GOES_ON.sub('', later.text)}")
                out[i] = turn.model_copy(update={"text": whole})
                out[j] = later.model_copy(update={"text": ""})
                break
    return out


def extract_commitments(
    turns: list[Turn],
    participants: list[Participant],
    session_date: dt.date,
    next_meeting: dt.date | None = None,
    embedder: Embedder | None = None,
) -> list[Commitment]:
    """Accountability items stated in `turns`, owned by participants, in the order they were made.

    `next_meeting` (from the pair's cadence) dates "before our next session"; without it, a next meeting the pair
    states ("same time next Wednesday?") does, else that phrase gives no date. With the MiniLM `embedder`, a
    retraction naming an item in other words ("the leaflets" for "print the flyers") is linked by meaning; without
    it, by shared words only (deterministic and fast, as for long recorded meetings). (The speech-act classifier was
    tried for uncued retractions and left out: on the labelled sets its retraction probability stayed below 0.5 for
    real ones and reached 0.55 for non-retractions.)

    Deterministic and offline. Works for any number of participants (a pair has two; a recorded team meeting may
    have more). `confirmed` is always False: the partners confirm items in the UI.
    """
    following = next_meeting or stated_next_meeting(turns, session_date)
    return Extractor(turns, participants, session_date, following, embedder).run()


_NEXT_MEETING_SAID = re.compile(
    r"\b(?:same\s+(?:time|slot|place|day)|meet\s+again|see\s+you|next\s+(?:session|meeting|catch-?up)\s+(?:is|on|will\s+be))\b",
    re.I,
)


def stated_next_meeting(turns: Sequence[Turn], session_date: dt.date) -> dt.date | None:
    """The next meeting's date when the pair says it ("Same time next Wednesday?", "same slot in two weeks"): the
    last such statement wins. Used for "before our next session" when the pair's cadence is not known."""
    found = None
    for turn in turns:
        if not _NEXT_MEETING_SAID.search(turn.text):
            continue  # most turns: no sentence splitting needed
        for sentence in split_sentences(turn.text):
            if _NEXT_MEETING_SAID.search(sentence):
                found = resolve_due(sentence, session_date) or found
    return found
