"""Items of a session under way, read turn by turn as the turns come: always what a full read of the turns finds."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

from evals.commitment_metrics import Case, load_cases
from evals.data import DATASETS
from facilitator.commitments import extract_commitments
from facilitator.commitments.extractor import stated_next_meeting
from facilitator.commitments.live import LiveExtraction, LiveExtractions
from facilitator.models import Commitment, Participant, Turn

SETS = ("transcripts", "commitments_tune", "commitments_tune2", "commitments_tune3", "commitments_tune4", "heldout")


def _cases() -> list[Case]:
    return [case for name in SETS for case in load_cases(DATASETS / name)]


def _dump(items: list[Commitment]) -> list[str]:
    return [item.model_dump_json() for item in items]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.id)
def test_turn_by_turn_items_are_those_of_a_full_read(case: Case) -> None:
    live = LiveExtraction()
    following = case.next_meeting
    stated: list[dt.date | None] = []
    for n in range(1, len(case.turns) + 1):
        turns = case.turns[:n]
        full = extract_commitments(turns, case.participants, case.date, following)
        assert _dump(live.items(turns, case.participants, case.date, following)) == _dump(full), f"after turn {n}"
        stated.append(following or stated_next_meeting(turns, case.date))
    # It starts again from the first turn only when the next meeting the pair states changes ("same time next week?")
    changes = sum(1 for a, b in itertools.pairwise(stated) if a != b)
    assert live.full_reads == 1 + changes


PEOPLE = [Participant(id="ana", name="Ana Ruiz"), Participant(id="ben", name="Ben Carter")]
DATE = dt.date(2026, 3, 4)
LINES = [
    ("ana", "I'll send you the pricing deck by Friday."),
    ("ben", "Great, thanks."),
    ("ben", "Could you also share the churn figures?"),
    ("ana", "Sure, I'll share them on Monday."),
    ("ben", "And I'll draft the survey —"),
    ("ben", "— by Wednesday."),
    ("ana", "Actually, forget the pricing deck, legal won't clear it."),
]


def _turns(lines: list[tuple[str, str]]) -> list[Turn]:
    return [Turn(index=i, speaker=s, text=t) for i, (s, t) in enumerate(lines)]


def test_a_turn_mended_with_the_next_one_and_a_later_retraction_come_out_as_in_a_full_read() -> None:
    live = LiveExtraction()
    turns = _turns(LINES)
    for n in range(1, len(turns) + 1):
        assert _dump(live.items(turns[:n], PEOPLE, DATE)) == _dump(extract_commitments(turns[:n], PEOPLE, DATE))
    actions = [item.action for item in live.items(turns, PEOPLE, DATE)]
    assert not any("pricing deck" in a for a in actions), actions  # retracted six turns later
    assert any("survey" in a for a in actions), actions


def test_an_edited_earlier_turn_or_other_inputs_are_read_again_from_the_start() -> None:
    live = LiveExtraction()
    turns = _turns(LINES)
    live.items(turns, PEOPLE, DATE)
    edited = [*turns[:2], turns[2].model_copy(update={"text": "Could you also share the survey results?"}), *turns[3:]]
    assert _dump(live.items(edited, PEOPLE, DATE)) == _dump(extract_commitments(edited, PEOPLE, DATE))
    assert live.full_reads == 2
    later = dt.date(2026, 3, 11)
    assert _dump(live.items(edited, PEOPLE, later)) == _dump(extract_commitments(edited, PEOPLE, later))
    assert live.full_reads == 3
    shorter = edited[:4]  # turns gone (another device's view of an older state): read again, never stale
    assert _dump(live.items(shorter, PEOPLE, later)) == _dump(extract_commitments(shorter, PEOPLE, later))


def test_a_long_real_meeting_is_read_once(tmp_path: Path) -> None:
    from benchmarks.common import meetings

    meeting = meetings()[0]
    speakers = list(dict.fromkeys(t["speaker"] for t in meeting["meeting_transcripts"]))
    people = [Participant(id=f"p{i}", name=name) for i, name in enumerate(speakers)]
    turns = [
        Turn(index=i, speaker=f"p{speakers.index(t['speaker'])}", text=t["content"])
        for i, t in enumerate(meeting["meeting_transcripts"][:240])
    ]
    live = LiveExtraction()
    for n in range(1, len(turns) + 1):
        found = live.items(turns[:n], people, DATE)
        if n % 40 == 0 or n == len(turns):
            assert _dump(found) == _dump(extract_commitments(turns[:n], people, DATE)), f"after turn {n}"
    assert live.full_reads == 1
    json.dumps(_dump(found))  # plain data


def test_sessions_keep_their_own_extraction_and_the_oldest_is_let_go() -> None:
    pool = LiveExtractions(size=2)
    first = pool.of("s1")
    assert pool.of("s1") is first
    pool.of("s2")
    pool.of("s3")
    assert pool.of("s1") is not first  # s1 was the least recently used of three
