"""The page's events without Gradio: `ui.handlers.Handlers` over an offline Facilitator, asserting on PageUpdates.

No browser, no server: each test calls a handler as the page would (the grant first, then the widgets' values) and
checks what the page would show. The adapter that maps a PageUpdate to the widgets is checked at the end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from facilitator.access import BAD_LINK, INCOMPLETE_LINK, OTHER_SESSION
from facilitator.brains.base import BrainInput, BrainProfile, TokenSink
from facilitator.brains.offline import OfflineBrain
from facilitator.engine import Facilitator
from facilitator.models import Move, Pair, Participant
from facilitator.store import Store
from ui import views
from ui.handlers import FORGOTTEN, NO_DRAFT, OPEN_PROMPT, Handlers, PageUpdate

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
PAIR = Pair(
    participants=[
        Participant(id="ana", name="Ana Lima", offers=["stakeholders"], seeks=["video"]),
        Participant(id="ben", name="Ben Okafor", offers=["video"], seeks=["stakeholders"]),
    ],
    cadence="every two weeks",
)


class StreamingBrain(OfflineBrain):
    """The offline facilitator's moves, streamed word by word as a model's would be."""

    @property
    def profile(self) -> BrainProfile:
        return BrainProfile(kind="llm", model="stub-model", streams=True)

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move:
        move = super().render(data)
        for word in move.text.split(" "):
            if on_token:
                on_token(word + " ")
        return move


def facilitator(tmp_path: Path, brain: Any = None) -> Facilitator:
    fac = Facilitator.offline(Store(f"sqlite:///{tmp_path / 'ui.db'}"))
    return dataclasses.replace(fac, clock=lambda: NOW, brain=brain or fac.brain)


@pytest.fixture
def fac(tmp_path: Path) -> Facilitator:
    return facilitator(tmp_path)


@pytest.fixture
def h(fac: Facilitator, tmp_path: Path) -> Handlers:
    return Handlers(fac, exports_root=tmp_path / "exports")


@pytest.fixture
def code(fac: Facilitator) -> str:
    return fac.create_pair(PAIR)


@pytest.fixture
def grant(h: Handlers, code: str) -> str:
    opened = h.open("ana-ben", code, client="test")
    assert opened.token
    return opened.token


def send(h: Handlers, grant: str | None, speaker: str | None, text: str) -> list[PageUpdate]:
    return list(h.send(grant, speaker, text))


def turns(fac: Facilitator) -> list[tuple[str, str]]:
    return [(t.speaker, t.text) for s in fac.store.list_sessions("ana-ben") for t in fac.store.turns(s.id)]


def test_the_exports_root_is_made_owner_only(tmp_path: Path, fac: Facilitator) -> None:
    root = tmp_path / "new" / "exports"
    assert Handlers(fac, exports_root=root).exports_root == root and root.stat().st_mode & 0o777 == 0o700


# ----------------------------------------------------------------------------------------- opening a pair
def test_opening_a_pair_grants_its_session_and_shows_it(h: Handlers, code: str) -> None:
    wrong = h.open("ana-ben", "not-the-code", client="test")
    assert wrong.warn and "wrong pair id or access code" in (wrong.status or "")
    assert wrong.token is None and wrong.view is None and wrong.tab is None  # the page stays as it was

    opened = h.open("ana-ben", code, client="test")
    assert opened.token and opened.remembered == {"grant": opened.token} and opened.tab == "session"
    assert opened.status == "Opened Ana & Ben." and not opened.warn
    assert opened.pair_info is not None and opened.pair_info.startswith("### Ana Lima &amp; Ben Okafor")
    assert opened.view is not None and opened.view.pair.id == "ana-ben" and opened.view.turns == []
    assert opened.files is not None and opened.files.md is None  # nothing to download before a summary


def test_the_page_load_opens_a_link_or_the_remembered_grant(h: Handlers, code: str) -> None:
    assert h.load(None, {}, client="test") == PageUpdate(status=OPEN_PROMPT)
    by_link = h.load(None, {"pair": "ana-ben", "code": code}, client="test")
    assert by_link.token and by_link.view is not None and by_link.tab == "session"
    again = h.load({"grant": by_link.token}, {}, client="test")
    assert again.token and again.view is not None and again.view.session_id == by_link.view.session_id
    assert again.remembered == {"grant": again.token}
    for saved in ({"grant": 7}, "grant", None):
        assert h.load(saved, {}, client="test") == PageUpdate(status=OPEN_PROMPT)
    forgotten = h.load({"grant": "forged.grant"}, {}, client="test")
    assert forgotten == PageUpdate(status=FORGOTTEN, remembered={})  # said once: the browser forgets it


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"pair": "nosuch", "code": "x"}, BAD_LINK),
        ({"pair": "ana-ben", "code": "wrong"}, BAD_LINK),  # the same answer: a link never tells whether a pair exists
        ({"pair": "ana-ben"}, INCOMPLETE_LINK),
        ({"code": "x", "session": "s"}, INCOMPLETE_LINK),
    ],
)
def test_a_bad_link_says_why_on_the_page(h: Handlers, code: str, query: dict[str, str], says: str) -> None:
    bad = h.load(None, query, client="test")
    assert bad == PageUpdate(status=says, warn=True)  # the start page, with the reason and what to do
    assert "did not open a pair" in says and "open your pair below with its id and code" in says
    remembered = h.open("ana-ben", code, client="other").token
    assert remembered
    still = h.load({"grant": remembered}, query, client="test")  # the remembered pair opens, the link's failure said
    assert still.view is not None and still.warn and (still.status or "").startswith(says)


def test_a_link_with_the_right_code_and_an_unknown_session_opens_todays(h: Handlers, code: str) -> None:
    today = h.open("ana-ben", code, client="test")
    assert today.view is not None
    for session in ("no-such-session", "00000000-0000-0000-0000-000000000000", "x" * 5000):
        other = h.load(None, {"pair": "ana-ben", "code": code, "session": session}, client="test")
        assert other.view is not None and other.view.session_id == today.view.session_id
        assert other.warn and other.status == OTHER_SESSION
    named = h.load(None, {"pair": "ana-ben", "code": code, "session": today.view.session_id}, client="test")
    assert named.view is not None and named.view.session_id == today.view.session_id and not named.warn


def test_a_new_pair_is_created_opened_and_its_code_shown_once(h: Handlers, fac: Facilitator) -> None:
    partners = [("Carla Mendes", "Head of finance", "budgeting, negotiation", "charts"), ("Dev Patel", "", "", "")]
    made = h.create(partners, "a clearer report", "monthly", client="test")
    assert not made.warn and made.view is not None and made.token
    pair = made.view.pair
    assert pair.id.startswith("carla-dev-") and pair.participants[0].offers == ["budgeting", "negotiation"]
    assert f"with the id {pair.id}; your access code is " in (made.status or "")
    assert made.toast is not None and pair.id in made.toast and "access code" in made.toast
    assert made.pair_info is not None and "access code `" in made.pair_info
    code = (made.status or "").rsplit(" ", 1)[-1].rstrip(".")
    assert fac.store.check_access(pair.id, code)


def test_the_id_field_is_suggested_from_the_names_until_the_visitor_types_one(h: Handlers) -> None:
    first = h.suggest_id(["Carla Mendes", ""], "", {})
    assert first.new_pair_id is not None and re.fullmatch(r"carla-[0-9a-f]{6}", first.new_pair_id)
    assert first.id_hint == {"shown": first.new_pair_id, "suffix": first.new_pair_id[-6:]}
    both = h.suggest_id(["Carla Mendes", "Dev Patel"], first.new_pair_id, first.id_hint)
    assert both.new_pair_id == f"carla-dev-{first.new_pair_id[-6:]}"  # the same ending while they type
    assert h.suggest_id(["Carla Mendes", "Dev Patel"], "our-pair", both.id_hint) == PageUpdate()  # theirs is kept
    partners = [("Carla Mendes", "", "", ""), ("Dev Patel", "", "", "")]
    # the name typed last, before its suggestion came back: the pair gets the id of the names as they are
    made = h.create(partners, "", "", client="test", pair_id=first.new_pair_id, hint=first.id_hint)
    assert made.view is not None and made.view.pair.id == both.new_pair_id
    assert made.new_pair_id == "" and made.id_hint == {}  # a fresh suggestion for the next pair


def test_a_taken_id_is_refused_with_a_free_one_in_the_field(h: Handlers, fac: Facilitator, code: str) -> None:
    partners = [("Ana Souza", "", "", ""), ("Ben Rao", "", "", "")]
    taken = h.create(partners, "", "", client="test", pair_id="ana-ben")
    assert taken.warn and taken.view is None and taken.token is None
    assert taken.new_pair_id is not None and re.fullmatch(r"ana-ben-[0-9a-f]{6}", taken.new_pair_id)
    assert f"the pair id 'ana-ben' is taken; use '{taken.new_pair_id}'" in (taken.status or "")
    assert taken.id_hint == {}  # the free id counts as typed: the names no longer change it
    made = h.create(partners, "", "", client="test", pair_id=taken.new_pair_id, hint=taken.id_hint)
    assert made.view is not None and made.view.pair.id == taken.new_pair_id
    assert fac.pair("ana-ben").participants[0].name == "Ana Lima"  # the first pair is as it was
    assert fac.open_pair("ana-ben", code).id == "ana-ben"
    bad = h.create(partners, "", "", client="test", pair_id="Ana & Ben")
    assert bad.warn and "(e.g. 'ana-ben')" in (bad.status or "") and bad.new_pair_id is None


@pytest.mark.parametrize(
    ("partners", "refusal"),
    [
        ([("Carla", "", "", ""), ("", "", "", "")], "partner 2 needs a name"),
        ([("Carla A", "", "", ""), ("Carla B", "", "", "")], "different first names"),
        ([("Carla\x00", "", "", ""), ("Dev", "", "", "")], "NUL"),
        ([(None, 3, [], {}), ("Dev", "", "", "")], "partner 1 needs a name"),  # an API caller's odd values
    ],
)
def test_a_bad_new_pair_is_refused_with_a_clear_status(h: Handlers, partners: Any, refusal: str) -> None:
    made = h.create(partners, "", "", client="test")
    assert made.warn and refusal in (made.status or ""), made.status
    assert made.token is None and made.view is None


# ------------------------------------------------------------------------------------------------ the chat
def test_a_message_is_stored_shown_and_the_box_cleared_once(h: Handlers, fac: Facilitator, grant: str) -> None:
    updates = send(h, grant, "ben", "Could you send me the stakeholder map by Friday?")
    first, last = updates[0], updates[-1]
    assert first.message == "" and all(u.message is None for u in updates[1:])  # cleared once, when taken
    assert first.chat is not None and first.chat[-1]["content"].endswith("stakeholder map by Friday?")
    assert last.token == grant and last.view is not None and last.chat is None and last.status == ""
    assert [t.text for t in last.view.turns] == ["Could you send me the stakeholder map by Friday?"]
    send(h, grant, "ana", "Sure, I'll send you the stakeholder map by Friday.")
    assert turns(fac) == [
        ("ben", "Could you send me the stakeholder map by Friday?"),
        ("ana", "Sure, I'll send you the stakeholder map by Friday."),
    ]


@pytest.mark.parametrize(
    ("speaker", "text", "refusal"),
    [
        (None, "Hello there", "choose who is typing"),
        ("ana", "   ", "the message is empty"),
        ("zoe", "Hello there", "unknown speaker 'zoe'; this session's partners are Ana (ana) or Ben (ben)"),
        ("ana", "word " * 2000, "over the 8000-character limit"),
        ("ana", "bad \udc80 bytes", "not valid text"),
    ],
)
def test_a_refused_message_keeps_the_box_and_stores_nothing(
    h: Handlers, fac: Facilitator, grant: str, speaker: str | None, text: str, refusal: str
) -> None:
    [refused] = send(h, grant, speaker, text)
    assert refused.warn and refusal in (refused.status or ""), refused.status
    assert refused.message is None and refused.view is None and refused.token is None
    assert turns(fac) == []


@pytest.mark.parametrize("token", [None, "", "not-a-grant", "forged.AAAA"])
def test_a_wrong_grant_is_refused_everywhere(h: Handlers, fac: Facilitator, grant: str, token: str | None) -> None:
    outcomes = [
        *send(h, token, "ana", "hijacked"),
        *h.ask("question", token, "ana"),
        h.plan(token, 30),
        h.start(token, {"session": "x", "agenda": {}}, []),
        h.item("confirm", token, "ana", "item"),
        h.summarize(token),
        h.export("md", token),
        h.new(token),
    ]
    for refused in outcomes:
        assert refused.warn and refused.view is None and refused.token is None, refused
        assert "pair" in (refused.status or ""), refused.status  # open (or open again) the pair
    assert h.tick(token) == PageUpdate()  # the clock says nothing to a page without a session
    assert turns(fac) == [] and len(fac.store.list_sessions("ana-ben")) == 1


def test_end_typed_in_the_chat_ends_the_session_and_shows_the_summary(h: Handlers, grant: str) -> None:
    send(h, grant, "ben", "Could you send me the stakeholder map by Friday?")
    send(h, grant, "ana", "Sure, I'll send you the stakeholder map by Friday.")
    updates = send(h, grant, "ana", "/end")
    assert updates[0].message == ""
    last = updates[-1]
    assert not last.warn and (last.status or "").startswith("Session ended: 1 accountability item.")
    assert last.view is not None and last.view.ended and last.view.summary is not None
    assert "unknown command" not in (last.status or "")
    summary = views.summary_view(last.view)
    assert "Accountability items" in summary and "stakeholder map" in summary
    assert last.files is not None and last.files.md and last.files.ics
    assert "stakeholder map" in Path(last.files.md).read_text(encoding="utf-8")


def test_other_slash_commands_run_in_the_engine(h: Handlers, grant: str) -> None:
    *_, last = send(h, grant, "ana", "/nonsense")
    assert "unknown command /nonsense" in (last.status or "") and "/end" in (last.status or "")
    *_, started = send(h, grant, "ana", "/agenda 30")
    assert started.view is not None and started.view.agenda is not None


def test_the_buttons_ask_the_facilitator_for_a_move(h: Handlers, grant: str) -> None:
    send(h, grant, "ana", "Ben, I have no idea where to start with short-form video.")
    updates = list(h.ask("question", grant, "ben"))
    last = updates[-1]
    assert last.view is not None and [m.move.kind for m in last.view.moves] == ["question"]
    assert any("For Ana" in m["content"] for m in views.chat_messages(last.view))
    assert any(u.chat and "For Ana" in u.chat[-1]["content"] for u in updates[:-1])  # shown before the refresh
    *_, balanced = h.ask("balance", grant, None)
    assert balanced.view is not None and len(balanced.view.moves) == 2


def test_a_streamed_reply_grows_in_the_chat(tmp_path: Path) -> None:
    fac = facilitator(tmp_path, StreamingBrain())
    h = Handlers(fac, exports_root=tmp_path / "exports")
    grant = h.open("ana-ben", fac.create_pair(PAIR), client="test").token
    updates = send(h, grant, "ana", "@facilitator how often should we meet?")
    streamed = [u.chat[-1]["content"] for u in updates if u.chat and u.chat[-1]["role"] == "assistant"]
    growing = [b for a, b in itertools.pairwise(streamed) if b.startswith(a) and len(b) > len(a)]
    assert len(growing) >= 3, streamed  # the reply so far, longer at every token
    assert updates[0].chat is not None and updates[0].chat[-1]["content"].startswith("**Ana:** @facilitator")
    last = updates[-1]
    assert last.view is not None and last.view.moves[-1].move.text.startswith(streamed[-1].split(" ")[0])
    assert views.banner(fac.profile).count("stub-model") == 1


# ---------------------------------------------------------------------------------------------- the agenda
def test_an_agenda_is_drafted_edited_and_started(h: Handlers, fac: Facilitator, grant: str) -> None:
    drafted = h.plan(grant, 30)
    assert not drafted.warn and (drafted.status or "").startswith("Agenda drafted")
    assert drafted.draft is not None and drafted.draft_rows and drafted.view is None
    session = fac.store.list_sessions("ana-ben")[-1].id
    assert drafted.draft["session"] == session  # bound to the session it was drafted for
    rows = [list(r) for r in drafted.draft_rows]
    rows[0][1] = 9
    started = h.start(grant, drafted.draft, rows)
    assert not started.warn and started.status == "Agenda started: the first item's clock is running."
    assert started.view is not None and started.view.agenda is not None
    assert started.view.agenda.items[0].minutes == 9
    assert "Now (1 of" in views.agenda_view(started.view)
    ticked = h.tick(grant)
    assert ticked.agenda is not None and ticked.agenda.agenda_status.position == 0 and ticked.view is None


def test_an_agenda_needs_a_draft_of_this_session_and_readable_rows(h: Handlers, grant: str) -> None:
    drafted = h.plan(grant, 30)
    assert drafted.draft is not None and drafted.draft_rows
    for draft in (None, {}, {**drafted.draft, "session": "another-session"}, {"session": drafted.draft["session"]}):
        refused = h.start(grant, draft, drafted.draft_rows)
        assert refused.warn and refused.status == NO_DRAFT and refused.view is None
    bad = h.start(grant, drafted.draft, [[drafted.draft_rows[0][0], "ten", "both"]])
    assert bad.warn and "minutes must be a number" in (bad.status or "")
    assert h.plan(grant, None).warn  # no length


# ------------------------------------------------------------------------------------------- commitments
def test_items_are_confirmed_by_both_edited_and_deleted(h: Handlers, grant: str) -> None:
    send(h, grant, "ben", "Could you send me the stakeholder map by Friday?")
    *_, last = send(h, grant, "ana", "Sure, I'll send you the stakeholder map by Friday.")
    assert last.view is not None and len(last.view.items) == 1  # proposed by the engine after the turn
    item = last.view.items[0].item.id
    confirmed = h.item("confirm", grant, "ana", item)
    assert confirmed.status == "Ana confirmed the item" and confirmed.edit_action == "" and confirmed.edit_due == ""
    assert confirmed.view is not None and views.item_rows(confirmed.view.pair, confirmed.view.items)[0][5] == "✔ Ana"
    both = h.item("confirm", grant, "ben", item)
    assert both.view is not None and views.item_rows(both.view.pair, both.view.items)[0][5] == "✔ both"
    edited = h.item("edit", grant, "ben", item, "", "2026-12-04", None)
    assert edited.view is not None and edited.view.items[0].item.due == dt.date(2026, 12, 4)
    deleted = h.item("delete", grant, "ana", item)
    assert deleted.view is not None and deleted.view.items == []


@pytest.mark.parametrize(
    ("action", "speaker", "item", "edit", "refusal"),
    [
        ("confirm", None, "mine", (), "choose who you are"),
        ("confirm", "zoe", "mine", (), "choose who you are"),
        ("confirm", "ana", None, (), "choose an item of this session"),
        ("delete", "ana", "someone-elses-item", (), "choose an item of this session"),
        ("edit", "ana", "mine", ("", "", None), "type a new action or due date"),
        ("edit", "ana", "mine", ("", "the twelfth of never", None), "cannot read the date"),
        ("edit", "ana", "mine", ("", "", "Zoe"), "owner must be one of the partners"),
    ],
)
def test_a_bad_item_change_is_refused_and_changes_nothing(
    h: Handlers, grant: str, action: Any, speaker: str | None, item: str | None, edit: tuple[Any, ...], refusal: str
) -> None:
    *_, last = send(h, grant, "ana", "I'll send Ben the campaign brief by Friday.")
    assert last.view is not None
    before = last.view.items
    item_id = before[0].item.id if item == "mine" else item
    refused = h.item(action, grant, speaker, item_id, *edit)
    assert refused.warn and refusal in (refused.status or ""), refused.status
    assert refused.view is None and refused.edit_action is None  # the edit boxes keep what was typed
    *_, after = h.ask("balance", grant, "ana")
    assert after.view is not None and after.view.items == before


def test_summarize_exports_and_a_new_session(h: Handlers, grant: str, tmp_path: Path) -> None:
    assert "nothing to export yet" in (h.export("md", grant).status or "")
    send(h, grant, "ana", "I'll send Ben the campaign brief by Friday.")
    summarized = h.summarize(grant)
    assert summarized.status == ("Summarized: 1 accountability item. Download the recap or calendar below."), (
        summarized.status
    )
    assert summarized.view is not None and summarized.view.recap_markdown
    files = summarized.files
    assert files is not None and files.md and files.json_ and files.ics
    for path in (files.md, files.json_, files.ics):
        assert Path(path).is_relative_to(tmp_path / "exports") and Path(path).stat().st_mode & 0o777 == 0o600
    assert h.summarize(grant).files == files  # the same summary is not exported again
    assert h.export("ics", grant).status == "Calendar (.ics) downloaded"

    fresh = h.new(grant)
    assert fresh.token and fresh.token != grant and fresh.view is not None
    assert fresh.view.session_id != summarized.view.session_id and fresh.view.turns == []
    assert fresh.status == "New session started; open items from before are on its agenda."
    assert fresh.files is not None and fresh.files.md is None
    assert "campaign brief" in views.history_view(fresh.view)


# --------------------------------------------------------------------------------------------- the adapter
def test_the_adapter_renders_the_view_once_and_skips_what_is_left_alone(h: Handlers, grant: str) -> None:
    import gradio as gr

    from ui import layout

    *_, last = send(h, grant, "ana", "I'll send Ben the campaign brief by Friday.")
    values = layout.apply(last, layout.SENT)
    assert len(values) == len(layout.SENT)
    shown = dict(zip(layout.SENT, values, strict=True))
    assert shown["token"] == grant and shown["status"] == ""
    assert isinstance(shown["message"], type(gr.skip()))  # None: the box is left as it is
    assert shown["chat"][-1]["content"].startswith("**Ana:**") or shown["chat"][-1]["role"] == "assistant"
    assert shown["speaker"]["choices"] == [("Ana", "ana"), ("Ben", "ben")]
    assert shown["item_pick"]["value"] is None and shown["items"][0][2] == "send Ben the campaign brief"
    assert shown["export_md"] is shown["export_json"] is shown["export_ics"] is None  # no file before a summary
    ended = h.summarize(grant)
    files = dict(zip(layout.SENT, layout.apply(ended, layout.SENT), strict=True))
    assert [Path(files[f"export_{kind}"]).suffix for kind in ("md", "json", "ics")] == [".md", ".json", ".ics"]
    with pytest.warns(UserWarning, match="x"):  # the toast, outside a running app
        skipped = layout.apply(PageUpdate(status="x", warn=True), layout.SESSION)
    assert skipped[1] == '<span class="warn">⚠ x</span>'
    assert all(isinstance(v, type(gr.skip())) for i, v in enumerate(skipped) if i != 1)
    assert isinstance(layout.apply(PageUpdate(), layout.CLOCK), type(gr.skip()))  # one output: one value
