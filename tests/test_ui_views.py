"""The page's renderers (ui/views.py) on hand-made snapshots: no engine, no store, no Gradio."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

from facilitator.brains.base import BrainProfile
from facilitator.knowledge.bank import QUESTION_BANK_SOURCE
from facilitator.models import (
    Agenda,
    AgendaItem,
    AgendaQuestion,
    Balance,
    Citation,
    Commitment,
    Move,
    Pair,
    Participant,
    ParticipantBalance,
    Summary,
    Turn,
)
from facilitator.snapshots import AgendaStatus, History, ItemView, MoveAt, SessionView
from facilitator.store import SessionInfo
from tests.conftest import ROOT
from ui import views

DAY = dt.date(2026, 3, 4)
PAIR = Pair(
    participants=[
        Participant(id="ana", name="Ana Lima", role="Comms lead", offers=["stakeholders"], seeks=["video"]),
        Participant(id="ben", name="Ben Okafor", offers=["video"], seeks=["stakeholders"]),
    ],
    shared_goals=["a better open day"],
    cadence="every two weeks",
)
AGENDA = Agenda(
    date=DAY,
    total_minutes=30,
    items=[
        AgendaItem(title="Check-in", minutes=5),
        AgendaItem(
            title="Video basics",
            minutes=20,
            lead="ben",
            purpose="Ben shows his workflow",
            questions=[
                AgendaQuestion.model_validate({"text": t, "for": w})
                for t, w in (("What worked?", "ana"), ("Why?", "both"))
            ],
        ),
        AgendaItem(title="Commitments", minutes=5),
    ],
)


def session_view(**changes: Any) -> SessionView:
    base: dict[str, Any] = {
        "pair": PAIR,
        "session_id": "s1",
        "date": DAY,
        "status": "open",
        "turns": [],
        "moves": [],
        "agenda": None,
        "agenda_status": AgendaStatus(position=0, count=0, item=None, minutes_left=None),
        "balance": Balance(),
        "items": [],
        "summary": None,
        "recap_markdown": None,
        "history": History(sessions=[], open_items=[]),
    }
    return SessionView(**(base | changes))


def move(text: str, **changes: Any) -> Move:
    return Move(kind="question", text=text, **changes)


# ------------------------------------------------------------------------------------------------ the chat
def test_the_chat_puts_each_move_after_the_turn_it_followed() -> None:
    turns = [Turn(index=0, speaker="ana", text="Hi Ben"), Turn(index=1, speaker="ben", text="Hi Ana")]
    moves = [
        MoveAt(after=1, move=move("second")),
        MoveAt(after=-1, move=move("first")),
        MoveAt(after=0, move=move("m0")),
    ]
    chat = views.chat_messages(session_view(turns=turns, moves=moves))
    assert [m["content"] for m in chat] == ["first", "**Ana:** Hi Ben", "m0", "**Ben:** Hi Ana", "second"]
    assert [m["role"] for m in chat] == ["assistant", "user", "assistant", "user", "assistant"]


def test_a_moves_citations_are_footnotes_in_its_one_message() -> None:
    cited = move(
        "Try this [c0123456789] and ask [q001].",
        citations=[
            Citation(id="c0123456789", source="knowledge/guidance/x.md", title="Cadence", quote="Meet every " * 200),
            Citation(id="q001", source=QUESTION_BANK_SOURCE, quote="What did you try?"),  # already in the text
            Citation(id="c9999999999", source="knowledge/guidance/y.md", title="No quote"),  # listed, nothing quoted
        ],
        note="the model was unavailable",
    )
    [message] = views.move_messages(cited)
    text = message["content"]
    assert text.startswith("Try this [1] and ask [2].") and "metadata" not in message
    assert "*Note: the model was unavailable*" in text
    _body, _, notes = text.partition("\n\n**Sources**\n\n")
    first, second = notes.splitlines()
    assert first.startswith("- \\[1\\] **Cadence**: “Meet every Meet every")
    assert first.endswith("” · *knowledge/guidance/x.md*") and len(first) < views.QUOTE_CHARS + 80
    assert second == "- \\[3\\] **No quote** · *knowledge/guidance/y.md*"
    assert "What did you try?" not in text


def test_a_move_without_passages_has_no_sources() -> None:
    [message] = views.move_messages(move("Plain [q001]", citations=[Citation(id="q001", source=QUESTION_BANK_SOURCE)]))
    assert message["content"] == "Plain [1]"


def test_a_streaming_reply_is_escaped_as_it_grows() -> None:
    shown = views.streaming_message("look ![x](http://203.0.113.9/a.png) ```mer")["content"]
    assert "![" not in shown and "```" not in shown and "image not shown" in shown


# ---------------------------------------------------------------------------------------------- the agenda
def test_the_agenda_panel_shows_where_the_session_is() -> None:
    assert views.agenda_view(session_view()) == views.NO_AGENDA
    status = AgendaStatus(position=1, count=3, item=AGENDA.items[1], minutes_left=12.4)
    shown = views.agenda_view(session_view(agenda=AGENDA, agenda_status=status))
    assert "### Agenda · 30 minutes" in shown
    assert "**Now (2 of 3): Video basics · 12 min left**" in shown
    assert "✓ **Check-in** (5 min)" in shown and "▶ **Video basics** (20 min · led by Ben)" in shown
    assert "· **Commitments** (5 min)" in shown
    assert "Ben shows his workflow" in shown and "– *Ana:* What worked?" in shown and "– *both:* Why?" in shown
    late = status.model_copy(update={"minutes_left": -3.2, "over_time": True})
    assert "3 min over time" in views.agenda_view(session_view(agenda=AGENDA, agenda_status=late))
    done = AgendaStatus(position=3, count=3, item=None, minutes_left=None)
    assert "**All items covered.**" in views.agenda_view(session_view(agenda=AGENDA, agenda_status=done))


def test_the_agenda_table_names_the_leads() -> None:
    assert views.agenda_rows(PAIR, None) == []
    assert views.agenda_rows(PAIR, AGENDA) == [
        ["Check-in", 5, "both"],
        ["Video basics", 20, "Ben"],
        ["Commitments", 5, "both"],
    ]


# ------------------------------------------------------------------------------------- items and balance
def test_items_show_their_owner_quote_and_who_confirmed() -> None:
    def item(confirmed_by: list[str], quotes: list[str], **fields: Any) -> ItemView:
        return ItemView(item=Commitment(**fields), confirmed_by=confirmed_by, quotes=quotes)

    items = [
        item([], ["Ana: I'll send the map"], id="i1", owner="ana", action="send the map", due=DAY),
        item(["ana"], [], id="i2", owner="ben", action="book a room"),
        item(["ana", "ben"], [], id="i3", owner="ben", action="film", confirmed=True),
    ]
    rows = views.item_rows(PAIR, items)
    assert rows[0] == [1, "Ana", "send the map", "2026-03-04", "“Ana: I'll send the map”", "not yet"]
    assert rows[1][3:] == ["no date", "—", "✔ Ana"] and rows[2][5] == "✔ both"
    assert views.item_choices(PAIR, items) == [
        ("1. Ana: send the map", "i1"),
        ("2. Ben: book a room", "i2"),
        ("3. Ben: film", "i3"),
    ]


def test_the_balance_figure_draws_both_partners() -> None:
    balance = Balance(participants={"ana": ParticipantBalance(word_share=0.7, challenges=2)})
    left, right = views.balance_figure(PAIR, balance).axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["Ana", "Ben"]
    from matplotlib.patches import Rectangle

    assert [p.get_width() for p in left.patches if isinstance(p, Rectangle)] == [70.0, 0]
    assert [p.get_height() for p in right.patches if isinstance(p, Rectangle)] == [2, 0]


# ----------------------------------------------------------------------------- summary, history, pair
def test_the_summary_panel_shows_the_recap_two_levels_down_and_escaped() -> None:
    assert views.summary_view(session_view()) == views.NO_SUMMARY
    recap = "# Recap\n## Summary\n- Ana: ![x](http://203.0.113.9/p.png)\n## Accountability items\n\nNone.\n"
    shown = views.summary_view(session_view(recap_markdown=recap))
    assert shown.startswith("### Recap\n#### Summary")
    assert "![" not in shown and "image not shown" in shown
    assert "#### Accountability items\n\nNone." in shown


def test_the_summary_panel_leaves_the_items_to_the_commitments_table() -> None:
    table = "| Owner | Action |\n|---|---|\n| Ana | send the guide |\n| Ben | film a reel |\n"
    recap = f"# Recap\n## Accountability items\n\n{table}\n## Balance\n\n| Partner | Words |\n|---|---|\n| Ana | 3 |\n"
    shown = views.summary_view(session_view(recap_markdown=recap))
    assert "send the guide" not in shown
    assert "#### Accountability items\n\n2 items, in the Commitments table" in shown
    assert "#### Balance\n\n| Partner | Words |" in shown  # the other tables stay


def test_the_history_marks_this_session_and_lists_open_items() -> None:
    summary = Summary(commitments=[Commitment(owner="ana", action="x")])
    sessions = [
        SessionInfo(id="s0", pair_id=PAIR.id, date=dt.date(2026, 2, 18), status="ended", summary=summary),
        SessionInfo(id="s1", pair_id=PAIR.id, date=DAY, status="open"),
    ]
    open_items = [Commitment(owner="ben", action="film the *tour*", due=DAY)]
    shown = views.history_view(session_view(history=History(sessions=sessions, open_items=open_items)))
    lines = shown.splitlines()
    assert lines[2] == "- 2026-03-04 · open · 0 items agreed (this session)"
    assert lines[3] == "- 2026-02-18 · ended · 1 item agreed"
    assert "- **Ben**: film the *tour* (due 2026-03-04, open)" in shown
    assert "None open." in views.history_view(session_view())


def test_the_pair_panel_shows_a_new_pairs_code_once() -> None:
    shown = views.pair_view(PAIR)
    assert (
        shown.startswith("### Ana Lima &amp; Ben Okafor") and "Comms lead" in shown and "Meets every two weeks" in shown
    )
    assert "access code" not in shown
    with_code = views.pair_view(PAIR, "AB-123", "http://127.0.0.1:7860/?pair=ana-ben")
    assert "access code `AB-123`" in with_code and "Direct link: `http://127.0.0.1:7860/?pair=ana-ben`" in with_code


def test_banner_and_status() -> None:
    offline = views.banner(BrainProfile(kind="offline", model="offline", streams=False))
    assert "offline facilitator" in offline and "OPENAI_API_KEY" in offline
    llm = views.banner(BrainProfile(kind="llm", model="fake-model", streams=True))
    assert "LLM facilitator" in llm and "`fake-model`" in llm
    assert views.status_markdown("saved") == "saved"
    assert views.status_markdown("no <b>", warn=True) == '<span class="warn">⚠ no &lt;b&gt;</span>'
    assert views.toast_text("a `b` <c>") == "a 'b' &lt;c&gt;"
    assert views.speaker_choices(PAIR) == [("Ana", "ana"), ("Ben", "ben")]


def test_views_and_handlers_need_no_gradio() -> None:
    code = "import sys, ui.views, ui.handlers; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False", out.stderr
