"""The items of a conversation that is still going, without re-reading it from the first turn at every turn.

A live session proposes items after every turn. Re-running the extractor over the whole session each time made a
turn's cost grow with the session (about 100 ms per turn by turn 200 on this machine, most of a turn's time). The
extractor is a left-to-right loop over the turns, with two exceptions that look ahead:

- `joined` mends a turn cut off mid-sentence with one of the next two turns of its speaker, so a turn is settled
  only once two more have followed;
- the next meeting the pair states ("same time next Wednesday?") dates "before our next session" for the whole
  conversation when the cadence is not known.

`LiveExtraction` keeps the extractor as it stood after the settled turns. At each call it checks that those turns
and the inputs are unchanged, reads the newly settled turns into it, then reads the unsettled last turns into a copy
and returns the copy's items. Anything else (a turn edited, another date or next meeting, other participants) reads
the whole conversation again. The result is the same as `extract_commitments` over all the turns (tested turn by
turn on the labelled transcripts).
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from facilitator.commitments.extractor import Extractor, joined, stated_next_meeting
from facilitator.models import Commitment, Participant, Turn

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder

__all__ = ["UNSETTLED", "LiveExtraction", "LiveExtractions"]

UNSETTLED = 2  # `joined` looks this many turns ahead


@dataclass
class _Checkpoint:
    inputs: tuple[Any, ...]
    settled: list[Turn]  # the joined turns read into `extractor`
    extractor: Extractor


class LiveExtraction:
    """Items of a growing list of turns; safe to share between threads (one call at a time)."""

    def __init__(self) -> None:
        self._checkpoint: _Checkpoint | None = None
        self._lock = threading.Lock()
        self.full_reads = 0  # how many calls read the conversation from its first turn (for tests)

    def items(
        self,
        turns: Sequence[Turn],
        participants: Sequence[Participant],
        session_date: dt.date,
        next_meeting: dt.date | None = None,
        embedder: Embedder | None = None,
    ) -> list[Commitment]:
        """What `extract_commitments(turns, participants, session_date, next_meeting, embedder)` returns."""
        following = next_meeting or stated_next_meeting(turns, session_date)
        inputs = (tuple(p.model_dump_json() for p in participants), session_date, following, id(embedder))
        mended = joined(turns)
        cut = max(len(mended) - UNSETTLED, 0)
        with self._lock:
            base, done = self._resume(inputs, mended)
            if base is None:
                self.full_reads += 1
                base = Extractor([], participants, session_date, following, embedder)
            base.ledger.turn_count = len(mended)
            base.feed(mended[done:cut])
            self._checkpoint = _Checkpoint(inputs, mended[:cut], base)
            tail = _copy(base, embedder)
        tail.feed(mended[cut:])
        return tail.result()

    def _resume(self, inputs: tuple[Any, ...], mended: list[Turn]) -> tuple[Extractor | None, int]:
        """The kept extractor and how many turns it has read, if its turns and inputs still hold."""
        kept = self._checkpoint
        if kept is None or kept.inputs != inputs or len(kept.settled) > len(mended) - UNSETTLED:
            return None, 0
        if mended[: len(kept.settled)] != kept.settled:
            return None, 0
        return kept.extractor, len(kept.settled)


def _copy(extractor: Extractor, embedder: Embedder | None) -> Extractor:
    """A copy to read the unsettled turns into; the embedder (a model) and the read sentences are shared."""
    memo: dict[int, Any] = {id(embedder): embedder, **{id(p): p for p in extractor.wording.participants}}
    for sentences in extractor.ledger.sentences.values():
        for sentence in sentences:  # never changed once read
            memo[id(sentence)] = sentence
    return copy.deepcopy(extractor, memo)


class LiveExtractions:
    """One `LiveExtraction` per session, for the `size` sessions used last (a process serves many pairs)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._by_session: OrderedDict[str, LiveExtraction] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, session_id: str) -> LiveExtraction:
        with self._lock:
            found = self._by_session.get(session_id)
            if found is None:
                found = self._by_session[session_id] = LiveExtraction()
            self._by_session.move_to_end(session_id)
            while len(self._by_session) > self.size:
                self._by_session.popitem(last=False)
            return found
