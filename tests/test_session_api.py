"""The engine calls the web app is built on: access by code, live items, agenda edits, exports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitator.agenda import edit_agenda
from facilitator.exceptions import AccessError, ConfigError, InputError, MessageError
from facilitator.models import Pair, Participant
from tests.conftest import facilitator_on, open_at_once

DAY = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def fac(make_facilitator: Any) -> Any:
    return make_facilitator(clock=lambda: DAY)


def _other_pair() -> Pair:
    return Pair(
        participants=[
            Participant(id="carla", name="Carla Mendes", offers=["budgeting"], seeks=["charts"]),
            Participant(id="dev", name="Dev Patel", offers=["charts"], seeks=["budgeting"]),
        ]
    )


def test_access_needs_the_pairs_code_and_sessions_stay_with_their_pair(fac: Any, demo_pair: Any) -> None:
    code = fac.create_pair(demo_pair)
    other_code = fac.create_pair(_other_pair())
    with pytest.raises(InputError, match="is taken"):
        fac.create_pair(demo_pair)  # never overwritten
    with pytest.raises(AccessError, match="wrong pair id or access code"):
        fac.open_pair("ana-ben", "guess")
    with pytest.raises(AccessError):
        fac.open_pair("ana-ben", other_code)
    with pytest.raises(AccessError):
        fac.open_pair("", "")
    live = fac.session_for("ana-ben", code)
    assert fac.session_for("ana-ben", code).id == live.id  # today's session is resumed, not duplicated
    theirs = fac.session_for("carla-dev", other_code)
    with pytest.raises(AccessError, match="does not belong to this pair"):
        fac.session_for("ana-ben", code, theirs.id)
    with pytest.raises(AccessError):
        fac.session_for("carla-dev", code, theirs.id)
    assert fac.new_session_for(fac.session_for("ana-ben", code)).live.id != live.id


def test_items_are_proposed_live_confirmed_by_both_and_never_duplicated_at_the_end(fac: Any, demo_pair: Any) -> None:
    code = fac.create_pair(demo_pair)
    live = fac.session_for("ana-ben", code)
    list(live.say("ben", "Could you send me the stakeholder map by Friday?"))
    list(live.say("ana", "Sure, I'll send you the stakeholder map by Friday."))
    views = live.proposed_items()
    assert [(v.item.owner, v.item.due) for v in views] == [("ana", dt.date(2026, 3, 6))]
    assert "Ana: Sure, I'll send you the stakeholder map by Friday." in views[0].quotes
    item_id = views[0].item.id
    live.change_item(item_id, by="ana", confirm=True)
    assert live.items()[0].confirmed_by == ["ana"] and not live.items()[0].confirmed_by_both
    live.change_item(item_id, by="Ben", confirm=True)
    assert live.items()[0].confirmed_by_both
    assert live.proposed_items()[0].item.id == item_id  # proposing again finds the same item
    summary = live.end()
    assert [c.id for c in summary.commitments] == [item_id]
    assert summary.commitments[0].confirmed


def test_an_untouched_item_follows_the_conversation_but_a_partners_change_wins(fac: Any, demo_pair: Any) -> None:
    code = fac.create_pair(demo_pair)
    live = fac.session_for("ana-ben", code)
    list(live.say("ben", "I'll draft the survey by Friday."))
    list(live.say("ben", "I'll also book the room for the workshop by Thursday."))
    views = live.proposed_items()
    assert len(views) == 2
    survey = next(v.item for v in views if "survey" in v.item.action)
    room = next(v.item for v in views if "room" in v.item.action)
    live.change_item(room.id, by="ana", delete=True)
    live.change_item(survey.id, by="ben", due="2026-03-20", action="draft the member survey")
    after = live.proposed_items()
    assert [v.item.id for v in after] == [survey.id]  # the deleted item is not brought back
    assert after[0].item.due == dt.date(2026, 3, 20) and after[0].item.action == "draft the member survey"
    history = [e.kind for e in fac.store.commitment_history(survey.id)]
    assert history[0] == "created" and "edited" in history and "due" in history


def test_changing_items_refuses_what_is_not_this_sessions_or_not_readable(fac: Any, demo_pair: Any) -> None:
    code = fac.create_pair(demo_pair)
    live = fac.session_for("ana-ben", code)
    list(live.say("ana", "I'll send Ben the campaign brief by Friday."))
    item = live.proposed_items()[0].item
    other_code = fac.create_pair(_other_pair())
    theirs = fac.session_for("carla-dev", other_code)
    with pytest.raises(InputError, match="choose an item of this session"):
        theirs.change_item(item.id, by="carla", confirm=True)
    with pytest.raises(InputError, match="choose who you are"):
        live.change_item(item.id, by="zoe", confirm=True)
    with pytest.raises(InputError, match="cannot read the date"):
        live.change_item(item.id, by="ana", due="the twelfth of never")
    with pytest.raises(InputError, match="owner must be one of the partners"):
        live.change_item(item.id, by="ana", owner="Zoe")
    assert live.items()[0].item == item  # nothing changed


def test_exports_need_a_summary_and_a_calendar_needs_a_date(fac: Any) -> None:
    pair = _other_pair()  # no cadence, so no next meeting either
    code = fac.create_pair(pair)
    live = fac.session_for("carla-dev", code)
    with pytest.raises(InputError, match="nothing to export yet"):
        live.export("md")
    list(live.say("carla", "Good to see you, Dev."))
    live.end()
    assert b"No accountability items were agreed." in live.export("md")
    with pytest.raises(InputError, match="nothing to put in a calendar"):
        live.export("ics")


def test_a_message_with_broken_text_is_refused_and_nothing_is_stored(fac: Any, demo_pair: Any) -> None:
    code = fac.create_pair(demo_pair)
    live = fac.session_for("ana-ben", code)
    with pytest.raises(MessageError, match="not valid text"):
        list(live.say("ana", "bad \udc80 bytes"))
    assert fac.store.turns(live.id) == []


def test_edited_agenda_keeps_questions_and_checks_rows(fac: Any, demo_pair: Any) -> None:
    code = fac.create_pair(demo_pair)
    live = fac.session_for("ana-ben", code)
    agenda = live.plan_agenda(45).agenda
    rows = [[i.title, i.minutes, i.lead or "both"] for i in agenda.items]
    rows[0][1] = 10
    rows.append(["A new item", "5", "Ben"])
    edited = edit_agenda(agenda, demo_pair, rows)
    assert edited.items[0].minutes == 10 and edited.items[0].questions == agenda.items[0].questions
    assert edited.items[-1].lead == "ben" and edited.total_minutes == sum(i.minutes for i in edited.items)
    with pytest.raises(InputError, match=r"row 2 .*minutes must be a number"):
        edit_agenda(agenda, demo_pair, [rows[0], [rows[1][0], "ten", ""]])
    with pytest.raises(InputError, match="lead must be Ana or Ben"):
        edit_agenda(agenda, demo_pair, [[rows[0][0], 5, "Zoe"]])
    with pytest.raises(InputError, match="no items left"):
        edit_agenda(agenda, demo_pair, [["", "", ""]])
    live.use_agenda(edited)
    status = live.agenda_status()
    assert status.position == 0 and status.minutes_left == 10 and status.count == len(edited.items)


def test_launch_auth_is_read_from_comentor_auth() -> None:
    from ui.app import parse_auth

    assert parse_auth(None) is None
    assert parse_auth("ana:s3cret, ben:other") == [("ana", "s3cret"), ("ben", "other")]
    with pytest.raises(ConfigError, match="user:password"):
        parse_auth("no-password")


def test_chat_text_cannot_fetch_or_inject_anything() -> None:
    from facilitator.textutil import safe_markdown

    shown = safe_markdown(
        'hi ![x](http://203.0.113.9/a.png?d=1) <img src=x onerror=alert(1)> [ok](http://e.example/p "t")'
    )
    assert "![" not in shown and "<img" not in shown and "&lt;img" in shown
    assert "image not shown" in shown and "`http://e.example/p`" in shown


BYPASSES = [
    "![a](http://203.0.113.9/p.png (title))",  # a title in parentheses
    "![a [b] c](http://203.0.113.9/p.png)",  # nested brackets
    "![a\\]b](http://203.0.113.9/p.png)",  # an escaped bracket
    "![a\nb](http://203.0.113.9/p.png)",  # alt text over two lines
    "[![a](http://203.0.113.9/i.png)](http://203.0.113.9/l)",  # an image inside a link
    "![a][r]\n\n[r]:\n  http://203.0.113.9/p.png",  # a reference image, its definition over two lines
    "[hidden][r]\n\n[r]: http://203.0.113.9/l",  # a reference link that hides where it goes
    "<http://203.0.113.9/x> <img src=http://203.0.113.9/p.png>",  # an autolink and raw HTML
]


@pytest.mark.parametrize("text", BYPASSES)
def test_markdown_that_slips_past_simple_patterns_renders_no_image_or_hidden_link(text: str) -> None:
    from markdown_it import MarkdownIt

    from facilitator.textutil import safe_markdown

    rendered = MarkdownIt("commonmark").render(safe_markdown(text))
    assert "<img" not in rendered and "<a " not in rendered, rendered
    assert "203.0.113.9" in rendered  # nothing hidden: the address stays visible as text


MARKDOWN_BITS = ["![", "[", "]", "](", "(", ")", "]:", "http://h/p.png", " ", "\n", "\\", "<", ">", '"t"', "a", "`"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(MARKDOWN_BITS), max_size=16).map("".join))
def test_no_markdown_built_from_its_special_characters_renders_an_image_or_html(text: str) -> None:
    from markdown_it import MarkdownIt

    from facilitator.textutil import safe_markdown

    rendered = MarkdownIt("commonmark").render(safe_markdown(text))
    assert "<img" not in rendered and "<a " not in rendered, (text, rendered)


def test_partners_opening_a_pair_at_the_same_moment_share_one_session(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    sessions = open_at_once(lambda: facilitator_on(url), pairs=12)
    assert all(len(ids) == 1 for ids in sessions), sessions  # never one session per partner
