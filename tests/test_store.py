"""The store: per-pair access codes, confirmation by both partners, deletion with history, turn indices."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from facilitator.exceptions import NotFoundError
from facilitator.models import Commitment, Pair, Participant
from facilitator.store import Store

PAIR = Pair(participants=[Participant(id="ana", name="Ana"), Participant(id="ben", name="Ben")])


def test_access_code_is_per_pair_and_kept_on_update(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    code = store.save_pair(PAIR)
    assert code is not None
    assert store.save_pair(PAIR.model_copy(update={"cadence": "weekly"})) is None  # stored hashed: never shown again
    assert store.check_access("ana-ben", code)
    assert not store.check_access("ana-ben", "wrong") and not store.check_access("ana-ben", "")
    assert not store.check_access("someone-else", code)
    assert store.get_pair("ana-ben").cadence == "weekly"


def test_item_is_confirmed_only_by_both_and_deletion_keeps_history(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.save_pair(PAIR)
    session = store.create_session("ana-ben", dt.date(2026, 3, 4))
    [item] = store.save_commitments(session.id, [Commitment(owner="ben", action="send the deck", evidence=[1])])
    assert item.id and not item.confirmed
    once = store.update_commitment(item.id, by="ben", confirm=True)
    assert once is not None and not once.confirmed
    again = store.update_commitment(item.id, by="ben", confirm=True)
    assert again is not None and not again.confirmed, "the same partner twice is not both"
    both = store.update_commitment(item.id, by="ana", confirm=True, action="send Ana the deck")
    assert both is not None and both.confirmed and both.action == "send Ana the deck"
    assert store.update_commitment(item.id, by="ana", delete=True) is None
    assert store.commitments(session_id=session.id) == []
    kinds = [e.kind for e in store.commitment_history(item.id)]
    assert kinds == ["created", "confirmed", "edited", "confirmed", "deleted"]
    with pytest.raises(NotFoundError):
        store.update_commitment("nope", status="done")


def test_turn_indices_are_consecutive_per_session(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.save_pair(PAIR)
    a = store.create_session("ana-ben", dt.date(2026, 3, 4))
    b = store.create_session("ana-ben", dt.date(2026, 3, 18))
    for i in range(3):
        store.append_turn(a.id, "ana", f"a{i}")
    store.append_turn(b.id, "ben", "b0")
    assert [t.index for t in store.turns(a.id)] == [0, 1, 2]
    assert [t.index for t in store.turns(b.id)] == [0]
    with pytest.raises(NotFoundError):
        store.append_turn("missing", "ana", "x")
