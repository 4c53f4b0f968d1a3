"""The extraction's shared record: the sentences read so far, the items and the requests waiting for an answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from facilitator.commitments.state import Draft, Pending, Sentence, TurnState, Undated
from facilitator.commitments.text import near_duplicate, overlap
from facilitator.commitments.wording import Wording
from facilitator.dates import resolve_due

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder

WINDOW = 8  # turns within which a revision or retraction can refer back to an item
LONG_WINDOW = 20  # ... when it names the item


class Ledger:
    """Items (drafts), pending requests and sentences by turn, with the queries and updates the rules share."""

    def __init__(
        self, session_date: dt.date, next_meeting: dt.date | None = None, embedder: Embedder | None = None
    ) -> None:
        self.session = session_date
        self.next_meeting = next_meeting
        self.embedder = embedder  # MiniLM: linking by meaning; None: words only
        self.turn_count = 0  # how many turns the conversation has (set by the extractor)
        self.drafts: list[Draft] = []
        self.pending: list[Pending] = []
        self.favour: tuple[str, int] | None = None  # who asked "can you do me a favour?", in which turn
        self.undated: Undated | None = None  # an act said without the date it needs, in case the partner asks when
        self.sentences: dict[int, list[Sentence]] = {}
        self.groups = 0

    # -- queries ---------------------------------------------------------------------------------------------

    def due_from(self, texts: Iterable[str]) -> dt.date | None:
        """The first due date stated in `texts`."""
        for text in texts:
            due = self.due(text)
            if due is not None:
                return due
        return None

    def due(self, text: str) -> dt.date | None:
        """The due date stated in `text` ("before our next session" is the next meeting's date, when known)."""
        return resolve_due(text, self.session, self.next_meeting)

    def turn_due(self, turn: int, from_position: int = 0) -> dt.date | None:
        return self.due_from(s.text for s in self.sentences.get(turn, [])[from_position:])

    def recent(self, owner: str, turn: int, window: int = WINDOW) -> list[Draft]:
        """The owner's live items whose latest evidence is at most `window` turns back."""
        return [d for d in self.drafts if d.owner == owner and d.alive and 0 <= turn - max(d.evidence) <= window]

    @staticmethod
    def pick(candidates: list[Draft], text: str) -> Draft | None:
        """The candidate the text is about (most shared content words), else the latest one."""
        if not candidates:
            return None
        scored = [(overlap(text, d.action), i, d) for i, d in enumerate(candidates)]
        best = max(scored, key=lambda item: (item[0], item[1]))
        return best[2]

    def context(self, turn: int, position: int, pre: str = "", turns_back: int = 3) -> list[tuple[str, str]]:
        """(speaker, sentence) pairs before a statement, oldest first: earlier turns, then the same turn."""
        out: list[tuple[str, str]] = []
        spoken = [t for t in range(turn - 1, -1, -1) if self.sentences.get(t)][:turns_back]  # empty turns skipped
        for earlier in reversed(spoken):
            out += [(x.speaker, x.text) for x in self.sentences.get(earlier, [])]
        out += [(x.speaker, x.text) for x in self.sentences.get(turn, [])[:position]]
        if pre.strip():
            out.append((self.sentences[turn][position].speaker if turn in self.sentences else "", pre))
        return out

    def similarity(self, text: str, others: list[str]) -> list[float]:
        """Cosine similarity of `text` to each of `others` over the embedder (all 0.0 without one)."""
        if self.embedder is None or not others:
            return [0.0] * len(others)
        import numpy as np

        vectors = np.asarray(self.embedder.embed_documents([text, *others]), dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1)
        norms[norms == 0] = 1.0
        unit = vectors / norms[:, None]
        return [float(x) for x in unit[1:] @ unit[0]]

    # -- updates ---------------------------------------------------------------------------------------------

    def add(self, draft: Draft, state: TurnState) -> None:
        """Record a new item, or merge it into the owner's near-identical item (restating it, maybe re-dated)."""
        for other in self.drafts:
            same = other.alive and other.owner == draft.owner and other.group is None and draft.group is None
            if same and near_duplicate(other.action, draft.action):
                self.set_due(other, draft.due, draft.evidence)
                return
        self.drafts.append(draft)
        state.created.append(draft)

    def append(self, draft: Draft, state: TurnState) -> None:
        """Record a new item as it is (no merging)."""
        self.drafts.append(draft)
        state.created.append(draft)

    def set_due(self, target: Draft, due: dt.date | None, turns: list[int]) -> None:
        """Update an item (all owners' items of a joint group) to a revised date."""
        for draft in self._group(target):
            if due is not None:
                draft.due = due
            draft.evidence = sorted(set(draft.evidence) | set(turns))

    def drop_group(self, target: Draft) -> None:
        """Drop an item and, for a joint item, its partner's."""
        for draft in self._group(target):
            draft.alive = False

    def _group(self, target: Draft) -> list[Draft]:
        return [d for d in self.drafts if d is target or (target.group is not None and d.group == target.group)]


class Rules:
    """A group of extraction rules: they read and update the ledger and word actions with `wording`."""

    def __init__(self, ledger: Ledger, wording: Wording) -> None:
        self.ledger = ledger
        self.wording = wording
        self.session = ledger.session
