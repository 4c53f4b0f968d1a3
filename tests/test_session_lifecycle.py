"""A session's lifecycle in the engine (open, ended and read-only, resumed), the remembered session following the
pair's newest open one, and the cheap revision a page polls for live sync (ui.handlers.Handlers.sync)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from facilitator.engine import Facilitator
from facilitator.exceptions import AccessError, SessionEnded
from facilitator.models import Pair, Participant
from facilitator.store import ENDED, Store
from ui import layout
from ui.handlers import Handlers, PageUpdate

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
PAIR = Pair(
    participants=[
        Participant(id="ana", name="Ana Lima", offers=["stakeholders"], seeks=["video"]),
        Participant(id="ben", name="Ben Okafor", offers=["video"], seeks=["stakeholders"]),
    ],
    cadence="every two weeks",
)
OTHER = Pair(participants=[Participant(id="cy", name="Cy Berg"), Participant(id="dee", name="Dee Moss")])


def replica(db: Path) -> Facilitator:
    """One app process over the shared database `db` (its own Store and connections)."""
    fac = Facilitator.offline(Store(f"sqlite:///{db}"))
    return dataclasses.replace(fac, clock=lambda: NOW)


@pytest.fixture
def fac(tmp_path: Path) -> Facilitator:
    return replica(tmp_path / "one.db")


@pytest.fixture
def code(fac: Facilitator) -> str:
    return fac.create_pair(PAIR)


def ended_session(fac: Facilitator, code: str) -> str:
    """A session in which Ana promised the brief, summarized; its grant."""
    opened = fac.open("ana-ben", code, client="test")
    live = fac.granted(opened.token)
    list(live.say("ana", "I'll send Ben the campaign brief by Friday."))
    live.end()
    assert opened.token
    return opened.token


# ------------------------------------------------------------------------------------------------ lifecycle
def test_an_ended_session_refuses_every_write_naming_the_next_session(fac: Facilitator, code: str) -> None:
    token = ended_session(fac, code)
    live = fac.granted(token)
    assert live.ended and "start the next session" in ENDED
    item = live.items()[0].item.id or ""
    writes = [
        lambda: list(live.say("ben", "One more thing after the summary.")),
        lambda: list(live.handle("Ben: one more thing")),
        lambda: list(live.ask("question", by="ben")),
        lambda: list(live.handle("/question")),
        lambda: list(live.handle("/agenda 30")),
        lambda: live.start_agenda(live.plan_agenda(30).agenda),  # drafting stores nothing; starting is refused
        lambda: live.change_item(item, by="ben", confirm=True),
        lambda: live.change_item(item, by="ben", action="a new action"),
        lambda: list(live.handle(f"/done {item}")),
    ]
    for write in writes:
        with pytest.raises(SessionEnded, match="This session has ended and is read-only; start the next session"):
            write()
    view = live.view()
    assert len(view.turns) == 1 and view.moves == [] and view.items[0].confirmed_by == []
    assert view.ended and view.summary is not None
    assert live.export("md").startswith(b"#")  # reading an ended session still works


def test_a_turn_for_a_session_another_replica_ended_is_refused_by_the_store(tmp_path: Path) -> None:
    first, second = replica(tmp_path / "shared.db"), replica(tmp_path / "shared.db")
    code = first.create_pair(PAIR)
    live = first.session_for("ana-ben", code)  # loaded while open
    second.session_for("ana-ben", code).end()
    with pytest.raises(SessionEnded):
        list(live.say("ana", "Still typing on my laptop."))
    assert first.store.turns(live.id) == []


def test_history_and_the_summary_agree_after_the_end(fac: Facilitator, code: str) -> None:
    token = ended_session(fac, code)
    live = fac.granted(token)
    with pytest.raises(SessionEnded):
        list(live.say("ana", "And I'll send the budget sheet by Monday."))
    view = live.view()
    [info] = view.history.sessions
    assert info.status == "ended" and info.summary is not None
    assert len(info.summary.commitments) == len(view.items) == len(view.summary.commitments if view.summary else [])


def test_the_remembered_session_follows_the_newest_open_one(fac: Facilitator, code: str) -> None:
    token = ended_session(fac, code)
    old = fac.granted(token).id
    reopened = fac.reopen(token)  # no newer session yet: the ended one, read-only, saying what to do
    assert reopened.view.session_id == old and reopened.view.ended and ENDED in reopened.notice
    fresh = fac.new_session(fac.granted(token))
    assert fresh.view.session_id != old and not fresh.view.ended
    after_reload = fac.reopen(token)  # a page that still remembers the old grant
    assert after_reload.view.session_id == fresh.view.session_id and not after_reload.view.ended
    assert fac.open("ana-ben", code, client="test").view.session_id == fresh.view.session_id
    joined = fac.new_session(fac.granted(token))  # the other partner presses the button too: one next session
    assert joined.view.session_id == fresh.view.session_id and joined.notice == "Joined the next session."
    assert len(fac.store.list_sessions("ana-ben")) == 2


def test_a_link_without_a_session_never_reopens_an_ended_one(fac: Facilitator, code: str) -> None:
    token = ended_session(fac, code)
    old = fac.granted(token).id
    linked = fac.open_link("ana-ben", code, client="test")
    assert linked.view.session_id != old and linked.view.status == "open"
    again = fac.open_link("ana-ben", code, client="test")
    assert again.view.session_id == linked.view.session_id  # the newest open one, not yet another


def test_a_link_naming_an_ended_session_opens_it_read_only(fac: Facilitator, code: str) -> None:
    token = ended_session(fac, code)
    old = fac.granted(token).id
    named = fac.open_link("ana-ben", code, client="test", session_id=old)
    assert named.view.session_id == old and named.view.ended and not named.warn
    assert "start the next session" in named.notice
    assert named.token and fac.granted(named.token).ended
    nxt = fac.new_session(fac.granted(named.token))
    assert nxt.view.session_id != old and nxt.view.status == "open"


# ------------------------------------------------------------------------------------------------ revision
def test_the_revision_moves_with_every_change_a_page_shows(fac: Facilitator, code: str) -> None:
    opened = fac.open("ana-ben", code, client="test")
    live = fac.granted(opened.token)
    tags = [fac.revision(opened.token).tag]

    def changed() -> bool:
        tags.append(fac.revision(opened.token).tag)
        return tags[-1] != tags[-2]

    assert not changed()  # reading changes nothing
    list(live.say("ben", "Could you send me the stakeholder map by Friday?"))
    assert changed()  # a turn
    list(live.say("ana", "Sure, I'll send you the stakeholder map by Friday."))
    assert changed()
    list(live.ask("balance"))
    assert changed()  # a move
    live.change_item(live.items()[0].item.id or "", by="ben", confirm=True)
    assert changed()  # an item confirmed
    live.start_agenda(minutes=30)
    assert changed()  # an agenda started
    assert opened.view.revision == tags[0] and live.view().revision == tags[-1]
    live.end()
    assert changed() and fac.revision(opened.token).ended
    fac.new_session(live)
    assert changed() and fac.revision(opened.token).successor is not None


def test_the_revision_is_read_only_for_the_granted_pair_and_alike_on_every_replica(tmp_path: Path) -> None:
    first, second = replica(tmp_path / "shared.db"), replica(tmp_path / "shared.db")
    first_code, other_code = first.create_pair(PAIR), first.create_pair(OTHER)
    token = first.open("ana-ben", first_code, client="test").token
    other = first.open("cy-dee", other_code, client="test").view.session_id
    assert first.revision(token) == dataclasses.replace(second, signer=first.signer).revision(token)
    for bad in (None, "", "forged.grant"):
        with pytest.raises(AccessError):
            first.revision(bad)
    with pytest.raises(AccessError):
        first.session_revision("ana-ben", other)  # another pair's session
    first.rotate_code("ana-ben")
    with pytest.raises(AccessError):
        first.revision(token)  # a new code revokes the poll too


# ---------------------------------------------------------------------------------------------- the poll
def test_the_poll_renders_only_what_another_page_changed(fac: Facilitator, code: str, tmp_path: Path) -> None:
    h = Handlers(fac, exports_root=tmp_path / "exports")
    mine, theirs = h.open("ana-ben", code, client="a"), h.open("ana-ben", code, client="b")
    assert mine.view is not None and mine.token and theirs.token
    seen = mine.view.revision
    assert h.sync(mine.token, seen) == PageUpdate()  # nothing changed: every widget is left alone
    *_, sent = h.send(theirs.token, "ben", "Could you send me the stakeholder map by Friday?")
    assert sent.view is not None and h.sync(theirs.token, sent.view.revision) == PageUpdate()  # its own change
    polled = h.sync(mine.token, seen, True, "an-item-no-longer-listed")
    assert polled.view is not None and [t.text for t in polled.view.turns] == [sent.view.turns[0].text]
    assert polled.status is None and polled.token == mine.token  # the status line is left as it is
    shown = dict(zip(layout.SYNCED, layout.apply(polled, layout.SYNCED), strict=True))
    assert "speaker" not in shown and shown["seen"] == polled.view.revision
    assert shown["item_pick"]["value"] is None  # a choice no longer listed is cleared, a listed one kept
    for bad in (None, "", "forged.grant"):
        assert h.sync(bad, seen) == PageUpdate()


def test_a_following_page_moves_to_the_next_session_and_a_pinned_one_stays(
    fac: Facilitator, code: str, tmp_path: Path
) -> None:
    h = Handlers(fac, exports_root=tmp_path / "exports")
    token = ended_session(fac, code)
    old = fac.granted(token).id
    pinned = h.load(None, {"pair": "ana-ben", "code": code, "session": old}, client="test")
    assert pinned.follow is False and pinned.view is not None and pinned.view.ended and pinned.token
    nxt = h.new(token)
    assert nxt.view is not None and nxt.remembered == {"grant": nxt.token} and nxt.follow is True
    followed = h.sync(token, "", True)
    assert followed.view is not None and followed.view.session_id == nxt.view.session_id
    assert followed.remembered == {"grant": followed.token} and "next session has started" in (followed.status or "")
    stays = h.sync(pinned.token, pinned.view.revision, False)
    assert stays.view is not None and stays.view.session_id == old  # re-rendered (a session was added), not moved
