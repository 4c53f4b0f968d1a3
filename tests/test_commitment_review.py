"""The LLM review of accountability items: the offline extractor's candidates, the model's verdicts, code's checks.

The brain runs on an in-process chat model (facilitator.testing.function_model) answering with verdicts; every
verdict goes through `apply_review` as in a session. The last test goes through the real openai client to the local
fake OpenAI-compatible server (facilitator.testing.fake_openai), via `accountability_items` (a failed review is in
tests/test_summary.py).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from facilitator.brains.base import CommitmentReview, CommitmentReviewInput, CommitmentVerdict
from facilitator.brains.llm import REVIEW_ITEMS, LLMBrain
from facilitator.brains.offline import OfflineBrain
from facilitator.commitments.validation import ReviewOutcome, apply_review, context_turns
from facilitator.exceptions import ModelError
from facilitator.models import Commitment, Participant, Turn
from facilitator.settings import Settings
from facilitator.summary import accountability_items
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from facilitator.testing.function_model import CallOptions, FunctionModel

DATE = dt.date(2026, 3, 4)  # a Wednesday: Friday is 2026-03-06, Monday 2026-03-09
PEOPLE = [Participant(id="ana", name="Ana Ruiz"), Participant(id="ben", name="Ben Carter")]
LINES = [
    ("ana", "Could you send me the analytics deck?"),
    ("ben", "Sure, I'll send it by Friday, or Monday at the latest."),
    ("ana", "Thanks. I'll book the room for the workshop."),
    ("ben", "I'll ask Marcus about the budget."),
    ("ana", "If I had the time I would write the newsletter."),
    ("ben", "To recap: I'll send you the deck."),
    ("ana", "Lovely weather today."),
    ("ben", "The conference catering was awful last year."),
    ("ana", "See you next week."),
]
TURNS = [Turn(index=i, speaker=who, text=text) for i, (who, text) in enumerate(LINES)]
CANDIDATES = [
    Commitment(id="deck", owner="ben", action="send it", due=dt.date(2026, 3, 6), evidence=[0, 1]),
    Commitment(id="room", owner="ana", action="book the room for the workshop", evidence=[2]),
    Commitment(id="budget", owner="ben", action="ask Marcus about the budget", evidence=[3]),
    Commitment(id="newsletter", owner="ana", action="write the newsletter", evidence=[4]),
    Commitment(id="recap", owner="ben", action="send Ana the deck", evidence=[5]),
]


def review_input(candidates: list[Commitment] | None = None, **fields: Any) -> CommitmentReviewInput:
    return CommitmentReviewInput(
        candidates=CANDIDATES if candidates is None else candidates,
        turns=TURNS,
        participants=PEOPLE,
        session_date=DATE,
        **fields,
    )


def verdicts(*items: dict[str, Any]) -> str:
    return json.dumps({"verdicts": list(items)})


def reviewed(*items: dict[str, Any], data: CommitmentReviewInput | None = None) -> tuple[ReviewOutcome, FunctionModel]:
    """The candidates after the fake model answered `items` (labels c1..c5 are CANDIDATES in order)."""
    model = FunctionModel(lambda messages, options: verdicts(*items))
    data = data or review_input()
    return apply_review(data, LLMBrain(model, "fake-model").review_commitments(data)), model


def by_id(items: list[Commitment]) -> dict[str, Commitment]:
    return {str(c.id): c for c in items}


# ------------------------------------------------------------------------------------------------ the brain
def test_the_prompt_shows_each_candidate_and_only_its_turns_and_their_neighbours() -> None:
    _, model = reviewed()
    [call] = model.calls
    assert call.options.schema is CommitmentReview
    user = call.user
    assert "Session date: 2026-03-04 (Wednesday). Next meeting: not known." in user
    assert '<item id="c1" owner="ben" due="2026-03-06" evidence="0, 1">\nsend it\n</item>' in user
    assert '<item id="c5" owner="ben" due="none" evidence="5">' in user
    conversation = user.split("<conversation>")[1].split("</conversation>")[0]
    assert "[6] ana: Lovely weather today." in conversation  # the neighbour of evidence turn 5
    assert "[7]" not in conversation and "catering" not in conversation and "[8]" not in conversation


def test_offline_review_keeps_every_candidate_unchanged() -> None:
    data = review_input()
    outcome = apply_review(data, OfflineBrain().review_commitments(data))
    assert outcome.items == CANDIDATES and outcome.flagged == [] and outcome.notes == []


def test_keep_and_no_candidates() -> None:
    outcome, model = reviewed(*({"id": f"c{n}", "verdict": "keep"} for n in range(1, 6)))
    assert outcome.items == CANDIDATES and outcome.notes == []
    model = FunctionModel(lambda messages, options: verdicts())
    assert LLMBrain(model, "fake-model").review_commitments(review_input([])).verdicts == []
    assert model.calls == [], "nothing to review, no model call"


def test_a_valid_rewording_and_a_stated_new_date_are_applied() -> None:
    outcome, _ = reviewed(
        {"id": "c1", "verdict": "reword", "action": "send Ana the analytics deck", "owner": "Ben"},
        {"id": "c1", "verdict": "redate", "due": "2026-03-09"},  # "Monday at the latest", in the evidence turn
    )
    deck = by_id(outcome.items)["deck"]
    assert (deck.owner, deck.action, deck.due) == ("ben", "send Ana the analytics deck", dt.date(2026, 3, 9))
    assert any("reworded" in f for f in deck.flags) and any("2026-03-06 to 2026-03-09" in f for f in deck.flags)


@pytest.mark.parametrize(
    ("verdict", "why"),
    [
        ({"id": "c2", "action": "book the conference room and the catering"}, "'conference', 'catering'"),
        ({"id": "c3", "action": "ask him about it"}, "pronoun 'him'"),
        ({"id": "c3", "action": "ask Marcus about that"}, "pronoun 'that'"),
        ({"id": "c3", "action": "ask Marcus about the budget", "owner": "ana"}, "changes the owner"),
        ({"id": "c2", "action": "  "}, "no action"),
    ],
)
def test_an_invalid_rewording_leaves_the_candidate_as_extracted_with_a_flag(verdict: dict[str, Any], why: str) -> None:
    outcome, _ = reviewed({**verdict, "verdict": "reword"})
    before = by_id(CANDIDATES)
    after = by_id(outcome.items)
    assert len(outcome.items) == len(CANDIDATES) and outcome.flagged == []
    changed = [key for key in after if after[key] != before[key]]
    assert len(changed) == 1
    item = after[changed[0]]
    assert item.action == before[changed[0]].action and item.owner == before[changed[0]].owner
    [flag] = item.flags
    assert flag.startswith("the model's reword was not applied") and why in flag


def test_a_date_the_turns_do_not_state_is_refused() -> None:
    outcome, _ = reviewed(
        {"id": "c2", "verdict": "redate", "due": "2026-03-20"},
        {"id": "c3", "verdict": "redate", "due": "next Friday"},
    )
    room, budget = by_id(outcome.items)["room"], by_id(outcome.items)["budget"]
    assert room.due is None and "2026-03-20 is not a date the turns [1, 2, 3] state" in room.flags[0]
    assert budget.due is None and "is not a date (YYYY-MM-DD)" in budget.flags[0]


def test_before_our_next_session_is_stated_when_the_next_meeting_is_known() -> None:
    turns = [Turn(index=0, speaker="ana", text="I'll draft the survey before our next session.")]
    item = Commitment(id="survey", owner="ana", action="draft the survey", evidence=[0])
    data = CommitmentReviewInput(
        candidates=[item], turns=turns, participants=PEOPLE, session_date=DATE, next_meeting=dt.date(2026, 3, 18)
    )
    review = CommitmentReview(verdicts=[CommitmentVerdict(id="survey", verdict="redate", due="2026-03-18")])
    assert apply_review(data, review).items[0].due == dt.date(2026, 3, 18)
    without = data.model_copy(update={"next_meeting": None})
    assert apply_review(without, review).items[0].due is None


def test_a_reject_moves_the_item_to_flagged_with_the_models_reason() -> None:
    outcome, _ = reviewed(
        {"id": "c4", "verdict": "reject", "reason": "hypothetical", "note": "only if she had time"},
        {"id": "c2", "verdict": "reject"},  # no reason: not applied
    )
    assert "newsletter" not in by_id(outcome.items)
    [flagged] = outcome.flagged
    assert flagged.id == "newsletter"
    assert flagged.flags == ["rejected by the model: hypothetical (only if she had time)"]
    assert by_id(outcome.items)["room"].flags == ["the model's reject was not applied: no reason was given"]


def test_a_duplicate_merges_its_evidence_into_the_item_it_repeats() -> None:
    outcome, _ = reviewed(
        {"id": "c5", "verdict": "reject", "reason": "duplicate", "duplicate_of": "c1", "note": "read back"},
        {"id": "c3", "verdict": "reject", "reason": "duplicate", "duplicate_of": "c2"},  # another owner's item
    )
    items = by_id(outcome.items)
    assert items["deck"].evidence == [0, 1, 5] and items["deck"].due == dt.date(2026, 3, 6)
    [recap] = outcome.flagged
    assert recap.id == "recap" and "duplicate of 'send it'" in recap.flags[0] and "read back" in recap.flags[0]
    assert "budget" in items and "belongs to ana, not ben" in items["budget"].flags[0]


def test_verdicts_on_unknown_ids_and_second_verdicts_are_ignored_with_a_note() -> None:
    outcome, _ = reviewed(
        {"id": "c99", "verdict": "keep"},
        {"id": "c42", "verdict": "reword", "action": "book a flight"},
        {"id": "c1", "verdict": "keep"},
        {"id": "c1", "verdict": "reject", "reason": "retracted"},
    )
    assert [c.id for c in outcome.items] == [c.id for c in CANDIDATES] and outcome.flagged == []
    assert sum("unknown item id 'c99'" in n for n in outcome.notes) == 1
    assert sum("unknown item id 'c42'" in n for n in outcome.notes) == 1
    assert any("second verdict (reject) on item deck" in n for n in outcome.notes)
    assert any("no verdict on 4 of 5 item(s)" in n for n in outcome.notes)
    assert all("book a flight" not in c.action for c in outcome.items), "the model cannot add items"


def test_many_candidates_are_reviewed_in_bounded_batches() -> None:
    turns = [Turn(index=i, speaker="ana", text=f"I'll do task {i}.") for i in range(50)]
    candidates = [Commitment(id=f"t{i}", owner="ana", action=f"do task {i}", evidence=[i]) for i in range(50)]

    def answer(messages: list[BaseMessage], options: CallOptions) -> str:
        text = "".join(str(m.content) for m in messages)
        labels = [part.split('"')[0] for part in text.split('<item id="')[1:]]
        return verdicts(*({"id": label, "verdict": "keep"} for label in labels))

    model = FunctionModel(answer)
    data = CommitmentReviewInput(candidates=candidates, turns=turns, participants=PEOPLE, session_date=DATE)
    review = LLMBrain(model, "fake-model").review_commitments(data)
    assert len(model.calls) == 3 and REVIEW_ITEMS == 20
    assert [v.id for v in review.verdicts] == [c.id for c in candidates], "labels c1..c50 map back to the ids"
    assert "[39] ana" in model.calls[2].user and "[38]" not in model.calls[2].user  # t40..t49, a neighbour each
    assert apply_review(data, review).notes == []


def test_a_broken_answer_raises_model_error_and_the_candidates_stand() -> None:
    model = FunctionModel(lambda messages, options: '{"verdicts": [{"id": "c1", "verdict": "promote"}]}')
    with pytest.raises(ModelError, match="failed to review the items"):
        LLMBrain(model, "fake-model").review_commitments(review_input())


def test_candidates_need_unique_ids() -> None:
    with pytest.raises(ValueError, match="unique id"):
        review_input([CANDIDATES[0], CANDIDATES[0]])
    assert context_turns([0, 5], range(len(TURNS))) == [0, 1, 4, 5, 6]


# ------------------------------------------------------------------------------------------------ over HTTP
def test_accountability_items_through_the_real_openai_client_and_a_local_server() -> None:
    turns = [
        Turn(index=0, speaker="ana", text="Could you send me the analytics deck?"),
        Turn(index=1, speaker="ben", text="Sure, I'll send it by Friday."),
        Turn(index=2, speaker="ana", text="Thanks. I'll call the dean tomorrow."),
    ]

    def responder(body: dict[str, Any]) -> Reply:
        user = body["messages"][-1]["content"]
        labels = [part.split('"')[0] for part in user.split('<item id="')[1:]]
        answer = [{"id": label, "verdict": "keep"} for label in labels[:-1]]
        answer.append({"id": labels[-1], "verdict": "reject", "reason": "retracted", "note": "test"})
        answer.append({"id": "c9", "verdict": "keep"})
        return Reply.json({"verdicts": answer})

    with FakeOpenAIServer(responder=responder) as srv:
        settings = Settings(openai_base_url=srv.base_url, model="fake-model", llm_max_retries=0, llm_timeout=3)
        items, flagged, notes = accountability_items(turns, PEOPLE, DATE, LLMBrain.from_settings(settings))
        [body] = [r.body for r in srv.chat_requests]
    assert body["response_format"]["json_schema"]["name"] == "CommitmentReview"
    assert '<item id="c1" owner="ben"' in body["messages"][-1]["content"]
    offline, _, _ = accountability_items(turns, PEOPLE, DATE)
    assert len(offline) >= 2 and items == offline[:-1]
    assert [f.id for f in flagged] == [offline[-1].id]
    assert flagged[0].flags == ["rejected by the model: retracted (test)"]
    assert len(notes) == 1 and "unknown item id 'c9'" in notes[0]
