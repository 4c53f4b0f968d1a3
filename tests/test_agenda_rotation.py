"""Agendas across sessions: shared goals named, every sought topic used (with a matching offer), questions rotated."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest

from facilitator.agenda import build_agenda, check_agenda
from facilitator.agenda.topics import match_seeks
from facilitator.knowledge import QuestionBank
from facilitator.knowledge.index import KnowledgeBase
from facilitator.models import Agenda, AgendaItem, Commitment, Pair
from facilitator.pairs import load_pair, parse_pair
from tests.conftest import ROOT

DATE = dt.date(2026, 3, 4)
DIRECTORS = ROOT / "examples" / "pairs" / "directors.json"


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return QuestionBank.load()


def many_seeks() -> Pair:
    return parse_pair(
        {
            "participants": [
                {
                    "id": "ana",
                    "name": "Ana Ruiz",
                    "offers": ["campaign strategy", "presentation coaching"],
                    "seeks": ["short-form video", "budgeting"],
                },
                {
                    "id": "ben",
                    "name": "Ben Carter",
                    "offers": ["short-form video", "financial management"],
                    "seeks": ["public speaking", "stakeholder management", "campaign planning"],
                },
            ],
            "cadence": "every two weeks",
        }
    )


def lead_item(agenda: Agenda, pid: str) -> AgendaItem:
    [item] = [i for i in agenda.items if i.lead == pid]
    return item


def bank_ids(agenda: Agenda) -> set[str]:
    return {c.id for i in agenda.items for c in i.citations if c.source == "question_bank"}


def texts(agenda: Agenda) -> set[str]:
    return {q.text for i in agenda.items for q in i.questions}


def sessions(pair: Pair, bank: QuestionBank, n: int, **kwargs: Any) -> list[Agenda]:
    """`n` consecutive agendas, each built with the ones before it."""
    out: list[Agenda] = []
    for k in range(n):
        out.append(build_agenda(pair, date=DATE + dt.timedelta(days=14 * k), bank=bank, previous=out, **kwargs))
    return out


# ------------------------------------------------------------------------------------------------ shared goals
def test_shared_goals_are_an_item_both_lead(bank: QuestionBank) -> None:
    pair = load_pair(DIRECTORS)
    agenda = build_agenda(pair, date=DATE, bank=bank, knowledge=None)
    [shared] = [i for i in agenda.items if "shared goal" in i.title.lower()]
    assert shared.lead is None and "Both of you lead" in shared.purpose
    for goal in pair.shared_goals:
        assert goal in shared.title and goal in shared.purpose
    assert shared.questions and all(q.for_ == "both" for q in shared.questions)
    assert agenda.items.index(shared) == 3  # after both partners' items, before feedback
    assert check_agenda(agenda, pair, [], 45) == []


def test_no_shared_goals_no_shared_item(bank: QuestionBank) -> None:
    agenda = build_agenda(many_seeks(), date=DATE, bank=bank, knowledge=None)
    assert not any("shared goal" in i.title.lower() for i in agenda.items)


@pytest.mark.parametrize("minutes", [15, 30, 45, 90])
def test_the_shortest_meeting_still_fits_the_shared_goals_and_a_review(minutes: int, bank: QuestionBank) -> None:
    pair = load_pair(DIRECTORS)
    items = [Commitment(owner="maya", action="send the board pack"), Commitment(owner="tomas", action="book a room")]
    agenda = build_agenda(pair, date=DATE, minutes=minutes, open_items=items, bank=bank, knowledge=None)
    assert check_agenda(agenda, pair, items, minutes) == []
    assert len(agenda.items) == 7


# ------------------------------------------------------------------------------------------------ every seek
def test_every_seek_of_each_partner_is_on_their_item(bank: QuestionBank) -> None:
    pair = many_seeks()
    agenda = build_agenda(pair, date=DATE, bank=bank, knowledge=None)
    for p in pair.participants:
        item = lead_item(agenda, p.id)
        for seek in p.seek_topics:
            assert seek in f"{item.title} {item.purpose}", (p.id, seek)
    assert check_agenda(agenda, pair, [], 45) == []


def test_each_seek_leads_an_item_in_turn(bank: QuestionBank) -> None:
    pair = many_seeks()
    agendas = sessions(pair, bank, 3)
    for p in pair.participants:
        focus = [lead_item(a, p.id).title.split(": ", 1)[1].split(" (with")[0] for a in agendas]
        assert set(p.seek_topics) <= set(focus), (p.id, focus)
        assert focus[0] != focus[1]  # the next session is on another topic
    assert all(check_agenda(a, pair, [], 45) == [] for a in agendas)


def test_a_related_offer_is_matched_by_shared_words(bank: QuestionBank) -> None:
    agenda = build_agenda(many_seeks(), date=DATE, bank=bank, knowledge=None)
    ben = lead_item(agenda, "ben")  # campaign planning is met by Ana's campaign strategy
    assert ben.title == "Ben leads: campaign planning (with Ana's campaign strategy)"
    assert "public speaking; stakeholder management." in ben.purpose  # Ana offers nothing close to those
    ana = lead_item(agenda, "ana")
    assert ana.title == "Ana leads: short-form video (with Ben's experience)"  # the same topic, offered
    assert "Also on Ana's list, now if time allows or at a later session: budgeting." in ana.purpose


def test_a_related_offer_is_matched_by_meaning(bank: QuestionBank, guidance_kb: Any) -> None:
    pair = many_seeks()
    ana, ben = pair.participants
    matches = {m.seek: m.offer for m in match_seeks(ana, ben, guidance_kb.embedder)}
    assert matches == {"short-form video": "short-form video", "budgeting": "financial management"}
    matches = {m.seek: m.offer for m in match_seeks(ben, ana, guidance_kb.embedder)}
    assert matches["public speaking"] == "presentation coaching"
    assert matches["stakeholder management"] is None
    agenda = build_agenda(pair, date=DATE, bank=bank, knowledge=guidance_kb)
    assert "budgeting (Ben offers financial management)" in lead_item(agenda, "ana").purpose


class _BrokenEmbedder:
    name = "broken"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("no model")


class _NoGuidance:
    embedder = _BrokenEmbedder()

    def search(self, query: str, k: int) -> list[Any]:
        return []


def test_a_failing_embedder_falls_back_to_words(bank: QuestionBank) -> None:
    knowledge = cast(KnowledgeBase, _NoGuidance())
    with_words = build_agenda(many_seeks(), date=DATE, bank=bank, knowledge=None)
    assert build_agenda(many_seeks(), date=DATE, bank=bank, knowledge=knowledge) == with_words


# ------------------------------------------------------------------------------------------------ rotation
def test_consecutive_sessions_propose_different_questions(bank: QuestionBank) -> None:
    pair = load_pair(ROOT / "examples" / "pairs" / "ana-ben.yaml")
    first, second, third = sessions(pair, bank, 3)
    assert not texts(first) & texts(second) and not texts(second) & texts(third)
    assert not bank_ids(first) & bank_ids(second) and not bank_ids(second) & bank_ids(third)
    assert all(check_agenda(a, pair, [], 45) == [] for a in (first, second, third))


def test_rotation_follows_the_citations_when_the_wording_changed(bank: QuestionBank) -> None:
    pair = load_pair(DIRECTORS)
    first = build_agenda(pair, date=DATE, bank=bank, knowledge=None)
    reworded = first.model_copy(deep=True)
    for item in reworded.items:
        for q in item.questions:
            q.text = f"In other words: {q.text.lower()}"
    second = build_agenda(pair, date=DATE, bank=bank, knowledge=None, previous=[reworded])
    assert not bank_ids(first) & bank_ids(second)


def test_without_history_the_agenda_is_as_before(bank: QuestionBank) -> None:
    pair = load_pair(DIRECTORS)
    assert build_agenda(pair, date=DATE, bank=bank, previous=[]) == build_agenda(pair, date=DATE, bank=bank)


def test_open_items_are_reviewed_in_every_rotated_session(bank: QuestionBank) -> None:
    pair = load_pair(ROOT / "examples" / "pairs" / "ana-ben.yaml")
    items = [Commitment(owner="ben", action="send the deck"), Commitment(owner="ana", action="post a reel")]
    agendas = sessions(pair, bank, 4, open_items=items, minutes=30)
    assert all(check_agenda(a, pair, items, 30) == [] for a in agendas)


def test_a_small_bank_reuses_questions_rather_than_leaving_items_empty(bank: QuestionBank) -> None:
    keep = {"check-in", "goals", "feedback", "challenge", "commitments", "close"}
    small = QuestionBank(version=1, questions=[q for q in bank.questions if q.phase in keep][:40])
    pair = load_pair(DIRECTORS)
    agendas = sessions(pair, small, 4)
    assert all(check_agenda(a, pair, [], 45) == [] for a in agendas)
