"""Circles of 3 to 5 (#18): the same session as a pair, with balance, challenges, agenda and items across everyone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from facilitator.agenda.edit import edit_agenda
from facilitator.agenda.render import agenda_markdown
from facilitator.engine import Event
from facilitator.exceptions import InputError, PairFileError
from facilitator.models import Assumption, Balance, Move, Pair, ParticipantBalance
from facilitator.pairs import PairDraft, PartnerDraft, load_pair, parse_pair
from facilitator.policy import PolicyState, choose_challenge, may_challenge_unasked, quieter_partner
from facilitator.signals import word_count
from tests.conftest import ROOT
from ui import views

DATE = dt.date(2026, 3, 4)
CIRCLE = ROOT / "examples" / "pairs" / "circle.yaml"
MONOLOGUE = "When I ran the alumni campaign we mapped every stakeholder, then built the message house. " * 3
FIVE = [
    ("Ana Ruiz", "video", "budgets"),
    ("Ben Carter", "budgets", "hiring"),
    ("Cleo Nguyen", "hiring", "video"),
    ("Dev Patel", "writing", "public speaking"),
    ("Eve Stone", "public speaking", "writing"),
]


def moves(events: Any) -> list[Move]:
    return [e.move for e in events if isinstance(e, Event) and e.kind == "move" and e.move is not None]


@pytest.fixture
def circle() -> Pair:
    return load_pair(CIRCLE)


@pytest.fixture
def five() -> Pair:
    return parse_pair({"participants": [{"name": n, "offers": [o], "seeks": [s]} for n, o, s in FIVE]})


# ------------------------------------------------------------------------------------------------ the file
@pytest.mark.parametrize(("count", "fix"), [(1, "add a second participant"), (6, "split them into smaller groups")])
def test_a_one_or_six_person_file_says_what_to_do(tmp_path: Path, count: int, fix: str) -> None:
    people = "".join(f"  - {{id: p{n}, name: P{n}}}\n" for n in range(count))
    path = tmp_path / "group.yaml"
    path.write_text(f"participants:\n{people}", encoding="utf-8")
    with pytest.raises(PairFileError, match=f"2 to 5 participants.*this one has {count}; {fix}"):
        load_pair(path)


def test_a_circle_file_is_a_pair_file_with_more_people(circle: Pair, five: Pair) -> None:
    assert circle.id == "ana-ben-cleo" and circle.is_group
    assert [p.id for p in circle.others("ben")] == ["ana", "cleo"] and circle.others_names("ben") == "Ana and Cleo"
    assert five.ids == ["ana", "ben", "cleo", "dev", "eve"] and five.others_names("ana") == "Ben, Cleo, Dev and Eve"
    long_ids = [{"id": f"{c}{'x' * 40}", "name": c} for c in "abcd"]
    with pytest.raises(PairFileError, match="over 140 characters; add a short field 'id'"):
        parse_pair({"participants": long_ids})
    assert parse_pair({"participants": long_ids, "id": "circle-1"}).id == "circle-1"
    with pytest.raises(PairFileError, match="two participants have the id 'ana'"):
        parse_pair({"participants": [{"id": pid, "name": pid.title()} for pid in ("ana", "ben", "ana")]})


# ------------------------------------------------------------------------------------------- the policy
def _talk(pair: Pair, words: dict[str, int]) -> list[Any]:
    from facilitator.models import Turn

    return [Turn(index=n, speaker=pid, text=" ".join(["word"] * w)) for n, (pid, w) in enumerate(words.items())]


def test_balance_finds_the_quietest_of_three_even_when_nobody_dominates(circle: Pair) -> None:
    turns = _talk(circle, {"ana": 45, "ben": 45, "cleo": 10})
    assert sum(word_count(t.text) for t in turns) == 100
    quiet = quieter_partner(turns, circle)
    assert quiet is not None and quiet[0] == "cleo" and quiet[1] in {"ana", "ben"}
    assert quieter_partner(_talk(circle, {"ana": 40, "ben": 35, "cleo": 25}), circle) is None  # near even: silence


def test_the_challenge_ledger_picks_the_least_challenged_member(circle: Pair) -> None:
    state = PolicyState(challenges={"ana": 2, "ben": 1, "cleo": 0}, voiced={"ana": 3, "ben": 2, "cleo": 1})
    state.pending = [
        Assumption(turn=3, speaker="cleo", text="Finance people never get listened to."),
        Assumption(turn=4, speaker="ben", text="The board will never approve a video budget."),
        Assumption(turn=5, speaker="ana", text="I'm too old for TikTok."),
    ]
    target = choose_challenge(state, circle)
    assert target is not None and target.speaker == "cleo"  # ben is challenged less than ana, cleo least of all
    # ana, challenged twice already, is not challenged unasked while cleo has been challenged none
    assert not may_challenge_unasked(state, circle, state.pending[2])
    assert may_challenge_unasked(state, circle, state.pending[0])


# ------------------------------------------------------------------------------------------- a session
def test_a_circle_of_three_chats_and_the_quietest_is_nudged(make_facilitator: Any, circle: Pair) -> None:
    live = make_facilitator().start(circle, date=DATE)
    nudges: list[Move] = []
    for i in range(8):
        who, text = ("cleo", "ok") if i % 4 == 0 else ("ana" if i % 2 else "ben", MONOLOGUE)
        nudges += [m for m in moves(live.say(who, text)) if m.kind == "nudge"]
    assert len(nudges) == 1 and nudges[0].addressee == "cleo"
    assert nudges[0].text.startswith("Cleo,") and "stakeholder management" in nudges[0].text
    [question] = moves(live.ask("question"))
    assert {q.for_ for q in question.questions} <= {"ana", "ben", "cleo", "both"}
    assert "{" not in question.text
    [balanced] = moves(live.ask("balance"))
    assert balanced.addressee == "cleo"


def test_a_challenge_in_a_circle_invites_another_member(make_facilitator: Any, circle: Pair) -> None:
    live = make_facilitator().start(circle, date=DATE)
    list(live.say("ben", "I made three reels for the open day."))
    list(live.say("cleo", "They looked great."))
    [move] = moves(live.say("ana", "Honestly, I'm too old for TikTok."))
    assert move.kind == "challenge" and move.addressee == "ana" and move.text.startswith("Ana,")
    assert "Ben" in move.text or "Cleo" in move.text


def test_items_per_member_carry_over_to_the_next_agenda(make_facilitator: Any, circle: Pair) -> None:
    fac = make_facilitator()
    live = fac.start(circle, date=DATE)
    list(live.say("ana", "I'll send the campaign deck to Ben by Friday."))
    list(live.say("ben", "Thanks. I'll film the open day reel by next Monday."))
    list(live.say("cleo", "And I'll draft the budget for the video plan by Wednesday."))
    summary = live.end()
    assert sorted(c.owner for c in summary.commitments) == ["ana", "ben", "cleo"]
    carried = fac.store.open_commitments(circle.id)
    assert sorted(c.owner for c in carried) == ["ana", "ben", "cleo"]
    nxt = fac.start(circle, date=DATE + dt.timedelta(days=14))
    [event] = list(nxt.handle("/agenda 60", speaker="cleo"))
    assert event.move is not None and nxt.agenda is not None
    review = next(i for i in nxt.agenda.items if i.title == "Review of open commitments")
    assert {q.for_ for q in review.questions} >= {"ana", "ben", "cleo"}
    assert [i.lead for i in nxt.agenda.items if i.lead] == ["ana", "ben", "cleo"]
    assert sum(i.minutes for i in nxt.agenda.items) == 60


# ------------------------------------------------------------------------------------------- the agenda
def test_every_member_leads_an_item_with_the_member_who_offers_it(make_facilitator: Any, circle: Pair) -> None:
    plan = make_facilitator().draft_agenda(circle, open_items=[], minutes=60, date=DATE)
    led = {i.lead: i for i in plan.agenda.items if i.lead}
    assert list(led) == ["ana", "ben", "cleo"]
    assert led["ana"].title == "Ana leads: short-form video (with Ben's experience)"
    assert led["ben"].title == "Ben leads: budgeting (with Cleo's experience)"
    assert led["cleo"].title == "Cleo leads: stakeholder management (with Ana's experience)"
    assert "Cleo brings one question or example from their own experience." in led["ana"].purpose
    assert {q.for_ for q in led["ben"].questions} >= {"ben", "cleo"}
    text = agenda_markdown(plan.agenda, circle)
    assert "Ana Ruiz, Ben Carter and Cleo Nguyen" in text and "**Everyone:**" in text and "**Both:**" not in text
    assert "Then Ana, Ben and Cleo each name one assumption of another member's worth testing" in text
    rows = views.agenda_rows(circle, plan.agenda)
    assert [r[2] for r in rows if r[0].startswith(("Ana leads", "Shared goal"))] == ["Ana", "all"]
    assert edit_agenda(plan.agenda, circle, rows) == plan.agenda  # "all" reads back as everyone's item
    with pytest.raises(InputError, match="the lead must be Ana or Ben or Cleo, 'all' or empty"):
        edit_agenda(plan.agenda, circle, [["Check-in", 5, "Zed"]])


def test_a_circle_of_five_gets_five_led_items_within_the_time(make_facilitator: Any, five: Pair) -> None:
    fac = make_facilitator()
    plan = fac.draft_agenda(five, open_items=[], minutes=45, date=DATE)
    led = [i for i in plan.agenda.items if i.lead]
    assert [i.lead for i in led] == five.ids and sum(i.minutes for i in plan.agenda.items) == 45
    assert led[3].title == "Dev leads: public speaking (with Eve's experience)"
    assert "Ana, Ben and Cleo bring one question or example each" in led[3].purpose
    with pytest.raises(Exception, match="use --minutes 16 or more"):
        fac.draft_agenda(five, open_items=[], minutes=15, date=DATE)


def test_the_agenda_for_a_pair_reads_as_before(make_facilitator: Any, demo_pair: Pair) -> None:
    plan = make_facilitator().draft_agenda(demo_pair, open_items=[], minutes=45, date=DATE)
    text = agenda_markdown(plan.agenda, demo_pair)
    assert "**Both:**" in text and "Then Ana and Ben each name one assumption of the other's worth testing" in text
    assert "brings one question or example" not in text


# ------------------------------------------------------------------------------------------- the web app
def test_the_balance_figure_draws_one_bar_per_member(five: Pair) -> None:
    from matplotlib.patches import Rectangle

    shares = dict(zip(five.ids, (0.4, 0.3, 0.15, 0.1, 0.05), strict=True))
    balance = Balance(participants={pid: ParticipantBalance(word_share=s) for pid, s in shares.items()})
    left, right = views.balance_figure(five, balance).axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["Ana", "Ben", "Cleo", "Dev", "Eve"]
    assert [round(p.get_width()) for p in left.patches if isinstance(p, Rectangle)] == [40, 30, 15, 10, 5]
    assert len([p for p in right.patches if isinstance(p, Rectangle)]) == 5
    assert [line.get_xdata()[0] for line in left.get_lines()] == [20.0]  # the even share of five


def test_the_new_pair_form_takes_up_to_five_members(tmp_path: Path) -> None:
    draft = PairDraft(
        participants=[
            PartnerDraft(name="Carla Mendes", offers="budgeting"),
            PartnerDraft(name="Dev Patel"),
            PartnerDraft(name="Eve Stone", seeks="budgeting"),
            PartnerDraft(),
            PartnerDraft(),
        ]
    )
    pair = draft.to_pair()
    assert pair.ids == ["carla", "dev", "eve"] and draft.names == ["Carla Mendes", "Dev Patel", "Eve Stone"]
    with pytest.raises(PairFileError, match="partner 4 needs a name"):
        PairDraft(participants=[*draft.participants[:3], PartnerDraft(role="Analyst")]).to_pair()


def test_the_handlers_create_a_circle_and_show_its_bars(tmp_path: Path, make_facilitator: Any) -> None:
    from ui.handlers import Handlers

    h = Handlers(make_facilitator(), exports_root=tmp_path / "exports")
    rows = [("Carla Mendes", "", "budgeting", ""), ("Dev Patel", "", "", "budgeting"), ("Eve Stone", "", "", "")]
    made = h.create([*rows, ("", "", "", ""), ("", "", "", "")], "a clearer report", "monthly", client="test")
    assert not made.warn and made.view is not None, made.status
    assert made.view.pair.ids == ["carla", "dev", "eve"] and made.view.pair.id.startswith("carla-dev-eve-")
    left, _right = views.balance_figure(made.view.pair, made.view.balance).axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["Carla", "Dev", "Eve"]
