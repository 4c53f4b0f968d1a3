"""Carry-over (#17): the pair's items from earlier sessions in the next session, marked done, slipped or dropped
through the engine (buttons and commands alike), listed by `/commitments` with their ids, and never changed through
an ended session or an older open one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import gradio as gr
import pytest

from facilitator.carryover import history_lines
from facilitator.engine import Facilitator, LiveSession
from facilitator.exceptions import InputError, SessionEnded
from facilitator.models import Pair, Participant
from facilitator.session import NEWER_SESSION
from facilitator.store import CommitmentEvent, Store
from ui import layout, views
from ui.handlers import NO_CARRIED, Handlers

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
PAIR = Pair(
    participants=[
        Participant(id="ana", name="Ana Lima", offers=["stakeholders"], seeks=["video"]),
        Participant(id="ben", name="Ben Okafor", offers=["video"], seeks=["stakeholders"]),
    ],
    cadence="every two weeks",
)


@pytest.fixture
def fac(tmp_path: Path) -> Facilitator:
    fac = Facilitator.offline(Store(f"sqlite:///{tmp_path / 'carry.db'}"))
    return dataclasses.replace(fac, clock=lambda: NOW)


def first_session(fac: Facilitator) -> LiveSession:
    """Session 1: Ana promises the brief, Ben the checklist; summarized."""
    code = fac.create_pair(PAIR)
    live = fac.granted(fac.open("ana-ben", code, client="test").token)
    list(live.say("ana", "I'll send Ben the campaign brief by Friday."))
    list(live.say("ben", "And I'll share the video checklist by next Monday."))
    live.end()
    return live


def next_session(fac: Facilitator, first: LiveSession) -> LiveSession:
    return fac.resume(fac.new_session(first).view.session_id)


def item_of(live: LiveSession, owner: str) -> str:
    return next(c.item.id for c in live.carried() if c.item.owner == owner) or ""


def commitments(live: LiveSession) -> str:
    return "\n".join(e.text for e in live.handle("/commitments", speaker="ana") if e.kind == "move")


def test_the_next_session_carries_the_open_items_with_ids_and_history(fac: Facilitator) -> None:
    first = first_session(fac)
    live = next_session(fac, first)
    carried = live.carried()
    assert sorted(c.item.owner for c in carried) == ["ana", "ben"]
    assert all(c.open and c.agreed == NOW.date() and c.history == ["agreed 2026-03-04"] for c in carried)
    assert live.view().carried == carried
    assert first.carried() == []  # nothing came before the first session


def test_commitments_in_a_new_session_lists_the_carried_items_apart_with_their_ids(fac: Facilitator) -> None:
    live = next_session(fac, first_session(fac))
    text = commitments(live)
    assert "No commitments so far" not in text
    assert text.startswith("No commitments in this session yet.")
    assert "Open from earlier sessions (2; mark one with /done ID" in text
    for c in live.carried():
        assert f"`{c.item.id}`" in text
    assert "Ana: " in text and "campaign brief" in text and "video checklist" in text


def test_slipped_done_and_dropped_update_the_list_and_commitments(fac: Facilitator) -> None:
    live = next_session(fac, first_session(fac))
    ana, ben = item_of(live, "ana"), item_of(live, "ben")
    old_due = next(c.item.due for c in live.carried() if c.item.id == ana)
    event = live.mark_item(ana, "slipped", "2026-03-20", by="ana")
    assert event.text == f"commitment {ana} marked slipped (new date 2026-03-20)"
    live.mark_item(ben, "done", by="ben")
    by_id = {c.item.id: c for c in live.carried()}
    assert by_id[ana].item.status == "slipped" and by_id[ana].item.due == dt.date(2026, 3, 20)
    assert by_id[ana].history == ["agreed 2026-03-04", f"slipped {old_due} → 2026-03-20 (2026-03-04)"]
    assert by_id[ben].item.status == "done" and not by_id[ben].open
    assert by_id[ben].history == ["agreed 2026-03-04", "done 2026-03-04"]
    text = commitments(live)
    assert "Open from earlier sessions (1;" in text and f"`{ana}` Ana:" in text and "due 2026-03-20, slipped" in text
    assert "Closed in this session:" in text and f"`{ben}` Ben:" in text and "done)" in text
    with pytest.raises(InputError, match="already done"):
        live.mark_item(ben, "dropped")
    live.mark_item(ana, "slipped", "2026-03-27")  # a second slip is its own line
    [again] = [c for c in live.carried() if c.item.id == ana]
    assert again.history[-1] == "slipped 2026-03-20 → 2026-03-27 (2026-03-04)"


def test_a_bad_slip_date_says_what_to_type_and_changes_nothing(fac: Facilitator) -> None:
    live = next_session(fac, first_session(fac))
    ana = item_of(live, "ana")
    before = live.carried()
    for bad in ("", "   ", "someday soon", "2026-02-30"):
        with pytest.raises(InputError, match=r"type the new date, e\.g\. 2026-03-18 or 'next Friday'"):
            live.mark_item(ana, "slipped", bad, by="ana")
    assert live.carried() == before
    [notice] = list(live.handle(f"/slipped {ana} whenever", speaker="ana"))
    assert "cannot read the date 'whenever'" in notice.text and "/slipped ID next Friday" in notice.text
    with pytest.raises(InputError, match="no commitment 'nope' for this pair"):
        live.mark_item("nope", "done")
    assert live.carried() == before


def test_an_ended_session_and_an_older_open_one_mark_nothing(fac: Facilitator) -> None:
    first = first_session(fac)
    ana = next(c.id for c in fac.store.commitments(pair_id="ana-ben") if c.owner == "ana") or ""
    with pytest.raises(SessionEnded):
        first.mark_item(ana, "done")
    with pytest.raises(SessionEnded):
        list(first.handle(f"/done {ana}"))
    middle = next_session(fac, first)
    newest = fac.resume(fac.start(PAIR).id)  # a newer open session of the pair
    with pytest.raises(InputError, match="a newer session of this pair is open"):
        middle.mark_item(ana, "done")
    [notice] = list(middle.handle(f"/done {ana}"))
    assert NEWER_SESSION in notice.text
    assert {c.status for c in fac.store.commitments(pair_id="ana-ben")} == {"open"}
    newest.mark_item(ana, "dropped")
    assert [c.item.status for c in newest.carried() if c.item.id == ana] == ["dropped"]


def test_history_lines_read_a_moved_date_and_a_slip_apart() -> None:
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def event(kind: str, **data: str) -> CommitmentEvent:
        return CommitmentEvent(kind=kind, data=data, by=None, session_id="s2", at=at)

    events = [
        CommitmentEvent(kind="created", data={}, by=None, session_id="s1", at=at),
        event("due", old="2026-03-01", new="2026-03-08"),
        event("slipped", old="open"),
        event("due", old="2026-03-08", new="2026-03-09"),
        event("confirmed"),
        event("dropped", old="slipped"),
    ]
    dates = {"s1": dt.date(2026, 2, 20), "s2": dt.date(2026, 3, 6)}
    assert history_lines(events, dates) == [
        "agreed 2026-02-20",
        "slipped 2026-03-01 → 2026-03-08 (2026-03-06)",
        "date moved 2026-03-08 → 2026-03-09 (2026-03-06)",
        "dropped 2026-03-06",
    ]


# ------------------------------------------------------------------------------------ the page's handlers and views
def page_in_next_session(fac: Facilitator, tmp_path: Path) -> tuple[Handlers, str, str]:
    """The page after session 1 (two items) was summarized and the next one started: (handlers, old, new grant)."""
    h = Handlers(fac, exports_root=tmp_path / "exports")
    old = h.open("ana-ben", fac.create_pair(PAIR), client="test").token or ""
    list(h.send(old, "ana", "I'll send Ben the campaign brief by Friday."))
    list(h.send(old, "ben", "And I'll share the video checklist by next Monday."))
    h.summarize(old)
    moved = h.new(old)
    assert moved.view is not None and moved.view.carried and moved.token
    return h, old, moved.token


def test_the_buttons_mark_items_through_the_engine_and_the_page_refreshes(fac: Facilitator, tmp_path: Path) -> None:
    h, _old, grant = page_in_next_session(fac, tmp_path)
    shown = h.sync(grant, "")
    assert shown.view is not None
    ana, ben = (next(c.item.id for c in shown.view.carried if c.item.owner == who) for who in ("ana", "ben"))
    rows = views.carried_rows(PAIR, shown.view.carried)
    assert {r[0] for r in rows} == {ana, ben} and all(r[4] == "open" and r[5] == "agreed 2026-03-04" for r in rows)
    assert [v for _label, v in views.carried_choices(PAIR, shown.view.carried)] == [r[0] for r in rows]

    slipped = h.carry("slipped", grant, "ana", ana, "2026-03-20")
    assert not slipped.warn and slipped.status == f"commitment {ana} marked slipped (new date 2026-03-20)"
    assert slipped.carried_due == "" and slipped.carried_pick == ""
    done = h.carry("done", grant, "ben", ben)
    assert done.view is not None
    row = {r[0]: r for r in views.carried_rows(PAIR, done.view.carried)}
    assert row[ana][3:5] == ["2026-03-20", "slipped"] and "→ 2026-03-20" in row[ana][5]
    assert row[ben][4] == "done" and row[ben][5].endswith("done 2026-03-04")
    assert [v for _label, v in views.carried_choices(PAIR, done.view.carried)] == [ana]  # only open ones to mark

    values = dict(zip(layout.CARRIED, layout.apply(done, layout.CARRIED), strict=True))
    assert values["carried"] == views.carried_rows(PAIR, done.view.carried)
    assert values["carried_pick"]["value"] is None and [c[1] for c in values["carried_pick"]["choices"]] == [ana]
    assert values["carried_due"] == ""
    polled = dict(zip(layout.SYNCED, layout.apply(h.sync(grant, ""), layout.SYNCED), strict=True))
    assert "value" not in polled["carried_pick"]  # the poll keeps the page's choice


def test_a_refused_mark_keeps_the_page_and_says_what_to_type(fac: Facilitator, tmp_path: Path) -> None:
    h, old, grant = page_in_next_session(fac, tmp_path)
    ana = next(c.id for c in fac.store.open_commitments("ana-ben") if c.owner == "ana") or ""
    bad = h.carry("slipped", grant, "ana", ana, "someday")
    assert bad.warn and "type the new date, e.g. 2026-03-18" in (bad.status or "") and "someday" in (bad.status or "")
    assert bad.view is None and bad.carried_due is None and bad.carried_pick is None  # the date box keeps its text
    with pytest.warns(UserWarning, match="cannot read the date"):  # the toast, outside a Gradio event
        skipped = layout.apply(bad, layout.CARRIED)
    assert all(isinstance(v, type(gr.skip())) for v in skipped[2:])
    assert h.carry("done", grant, "ana", "").status == NO_CARRIED
    ended = h.carry("done", old, "ana", ana)  # the summarized session's page (not followed): read-only
    assert ended.warn and "read-only" in (ended.status or "")
    assert {c.status for c in fac.store.commitments(pair_id="ana-ben")} == {"open"}


def test_the_carried_list_and_commitments_render_a_hostile_action_inert(fac: Facilitator) -> None:
    from .test_page_safety import LEAK, unsafe_elements

    code = fac.create_pair(PAIR)
    first = fac.granted(fac.open("ana-ben", code, client="test").token)
    list(first.say("ana", f"I'll send Ben the ![i]({LEAK}/x) checklist <img src={LEAK}/y onerror=alert(1)> by Friday."))
    first.end()
    live = next_session(fac, first)
    assert live.carried()
    [move] = [e.move for e in live.handle("/commitments") if e.move is not None]
    for message in views.move_messages(move):
        assert unsafe_elements(message["content"]) == [], message["content"]
    cells = [str(c) for row in views.carried_rows(PAIR, live.carried()) for c in row]
    assert cells and not any("\x00" in c or "\x1b" in c for c in cells)  # plain-text cells, shown as written
