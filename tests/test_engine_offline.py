"""The engine on the offline facilitator: every move, bad input, storage before anything else, resume, piped CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from facilitator.engine import Event
from facilitator.exceptions import MessageError
from facilitator.knowledge import QuestionBank
from facilitator.models import Move
from facilitator.textutil import display_safe
from tests.conftest import ROOT, run_cli

DATE = dt.date(2026, 3, 4)


def moves(events: Any) -> list[Move]:
    return [e.move for e in events if isinstance(e, Event) and e.kind == "move" and e.move is not None]


def test_question_move_proposes_cited_questions_for_each_partner(make_facilitator: Any, demo_pair: Any) -> None:
    live = make_facilitator().start(demo_pair, date=DATE)
    list(live.say("ana", "Ben, I keep hearing about short-form video and I have no idea where to start."))
    list(live.say("ben", "Happy to help. And I'd love your take on handling the dean's office."))
    [move] = moves(live.ask("question"))
    bank = QuestionBank.load()
    assert 1 <= len(move.questions) <= 3
    assert {q.for_ for q in move.questions} == {"ana", "ben", "both"}
    for question in move.questions:
        assert question.citation is not None and question.citation.source == "question_bank"
        assert bank.by_id(question.citation.id) is not None
        assert "{" not in question.text
    assert "For Ana" in move.text and "For Ben" in move.text
    [again] = moves(live.ask("question"))
    assert not {q.citation.id for q in again.questions if q.citation} & {
        q.citation.id for q in move.questions if q.citation
    }, "a question is not proposed twice in a session"


def test_challenge_names_the_assumption_probes_the_speaker_and_invites_the_other(
    make_facilitator: Any, demo_pair: Any
) -> None:
    live = make_facilitator().start(demo_pair, date=DATE)
    list(live.say("ben", "I made three reels for the open day."))
    [move] = moves(live.say("ana", "Honestly, I'm too old for TikTok."))
    assert move.kind == "challenge" and move.addressee == "ana"
    assert move.text.startswith("Ana,") and "too old for TikTok" in move.text and "Ben" in move.text
    assert any(c.source == "challenge_patterns" for c in move.citations)
    assert any(c.source.startswith("knowledge/guidance/") for c in move.citations)


def test_nudge_invites_the_quiet_partner_by_name_with_their_goal(make_facilitator: Any, demo_pair: Any) -> None:
    live = make_facilitator().start(demo_pair, date=DATE)
    monologue = "When I ran the alumni campaign we mapped every stakeholder, then built the message house. " * 3
    nudges: list[Move] = []
    for i in range(8):
        nudges += [
            m for m in moves(live.say("ana" if i % 4 else "ben", monologue if i % 4 else "ok")) if m.kind == "nudge"
        ]
    assert len(nudges) == 1
    assert nudges[0].addressee == "ben" and nudges[0].text.startswith("Ben,")
    assert "stakeholder management" in nudges[0].text


def test_answer_from_guidance_with_citations_and_plain_no_when_not_covered(
    make_facilitator: Any, demo_pair: Any
) -> None:
    live = make_facilitator().start(demo_pair, date=DATE)
    [answer] = moves(live.say("ben", "@facilitator how often should we meet, and for how long?"))
    assert answer.kind == "answer" and answer.citations
    assert any("meeting-cadence" in c.source or "session-structure" in c.source for c in answer.citations)
    for citation in answer.citations:
        assert f"[{citation.id}]" in answer.text
    [off] = moves(live.say("ana", "@facilitator what is the boiling point of tungsten?"))
    assert "doesn't cover" in off.text and not off.citations


def test_recap_and_commitments_report_what_was_agreed(make_facilitator: Any, demo_pair: Any) -> None:
    live = make_facilitator().start(demo_pair, date=DATE)
    list(live.say("ana", "Could you send me the TikTok analytics deck?"))
    list(live.say("ben", "Sure, I'll send it by Friday."))
    [recap] = moves(live.ask("recap"))
    assert "Ana:" in recap.text and "Ben:" in recap.text
    [items] = moves(live.ask("commitments"))
    assert "Ben:" in items.text and "2026-03-06" in items.text


def test_bad_messages(make_facilitator: Any, demo_pair: Any) -> None:
    fac = make_facilitator()
    live = fac.start(demo_pair, date=DATE)
    [notice] = list(live.say("ana", "   \n\t "))
    assert notice.kind == "notice" and "empty" in notice.text
    with pytest.raises(MessageError, match="8000"):
        list(live.say("ana", "x" * 8001))
    with pytest.raises(MessageError, match=r"Ana \(ana\) or Ben \(ben\)"):
        list(live.say("carol", "hello"))
    assert fac.store.turns(live.id) == []
    weird = "bell\x07 escape\x1b[31m red 🎉 ünïcødé 中文 <b>html</b>"
    list(live.say("ANA", weird))
    [stored] = fac.store.turns(live.id)
    assert stored.text == weird and stored.speaker == "ana"
    assert "\x1b" not in display_safe(stored.text) and "\\x1b" in display_safe(stored.text)


def test_every_turn_is_stored_and_the_session_resumes_after_a_restart(
    make_facilitator: Any, demo_pair: Any, tmp_path: Path
) -> None:
    db = tmp_path / "resume.db"
    first = make_facilitator(db=db)
    live = first.start(demo_pair, date=DATE)
    list(live.say("ben", "I'm too young to be taken seriously in the board room."))
    list(live.say("ana", "Tell me more."))
    assert first.store.moves(live.id), "the challenge was stored"
    second = make_facilitator(db=db)
    resumed = second.resume(live.id)
    assert [t.text for t in resumed.turns] == [
        "I'm too young to be taken seriously in the board room.",
        "Tell me more.",
    ]
    assert resumed.state.challenges == {"ben": 1}
    list(resumed.say("ben", "Fair enough."))
    assert [t.index for t in second.store.turns(live.id)] == [0, 1, 2]


def test_end_stores_items_and_next_session_can_update_them(make_facilitator: Any, demo_pair: Any) -> None:
    fac = make_facilitator()
    live = fac.start(demo_pair, date=DATE)
    list(live.say("ana", "I'll draft the stakeholder map by Friday."))
    list(live.say("ben", "Same for me, I'll draft mine too."))
    summary = live.end()
    owners = sorted(c.owner for c in summary.commitments)
    assert owners == ["ana", "ben"]
    assert fac.store.get_session(live.id).status == "ended"
    nxt = fac.start(demo_pair, date=DATE + dt.timedelta(days=14))
    ana_item = next(c for c in summary.commitments if c.owner == "ana")
    [event] = list(nxt.handle(f"/slipped {ana_item.id} next Friday", speaker="ana"))
    assert "slipped" in event.text
    [done] = list(nxt.handle(f"/done {next(c.id for c in summary.commitments if c.owner == 'ben')}", speaker="ben"))
    assert "done" in done.text
    open_items = fac.store.open_commitments(demo_pair.id)
    assert [(c.owner, c.status) for c in open_items] == [("ana", "slipped")]
    history = [e.kind for e in fac.store.commitment_history(ana_item.id)]
    assert history == ["created", "due", "slipped"]


def test_piped_cli_chat_session(tmp_path: Path, comentor_home: Path) -> None:
    script = "\n".join(
        [
            "Ana: Welcome back Ben! How did the open day go?",
            "Ben: Really well. But honestly the board will never approve a video budget.",
            "/question",
            "ana: @facilitator what should we do if one of us goes quiet between meetings?",
            "Ben: I'll send you the reel analytics by Thursday.",
            "Zed: hi",
            "/end",
        ]
    )
    pair = str(ROOT / "examples/pairs/ana-ben.yaml")
    done = run_cli("chat", pair, "--date", "2026-03-04", home=comentor_home, stdin=script)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(line.startswith("Facilitator:") for line in lines)
    text = done.stdout
    assert "Ben," in text and "board will never approve" in text  # the challenge
    assert "For Ana" in text  # /question
    assert "unknown speaker 'Zed'" in done.stderr
    assert "send you the reel analytics" in text and "2026-03-05" in text  # the summary at /end


def test_agenda_from_chat_starts_the_clock_and_reviews_open_items(make_facilitator: Any, demo_pair: Any) -> None:
    now = [dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)]
    fac = make_facilitator(clock=lambda: now[0])
    first = fac.start(demo_pair, date=DATE)
    list(first.say("ben", "I'll send you the reel analytics by Friday."))
    list(first.say("ana", "Thanks!"))
    first.end()
    live = fac.start(demo_pair, date=DATE + dt.timedelta(days=14))
    [event] = list(live.handle("/agenda 30", speaker="ana"))
    assert event.move is not None and "Review of open commitments" in event.move.text
    assert live.agenda is not None and sum(i.minutes for i in live.agenda.items) == 30
    assert fac.store.get_session(live.id).agenda == live.agenda
    first_item = live.agenda.items[0]
    now[0] += dt.timedelta(minutes=first_item.minutes + 1)
    [_turn, transition] = list(live.say("ben", "Shall we move on?"))
    assert transition.move is not None and transition.move.kind == "transition"
    assert live.agenda.items[1].title in transition.move.text


def test_next_item_pressed_early_moves_on_without_saying_time_is_up(make_facilitator: Any, demo_pair: Any) -> None:
    now = [dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)]
    fac = make_facilitator(clock=lambda: now[0])
    live = fac.start(demo_pair, date=DATE)
    list(live.handle("/agenda 30", speaker="ana"))
    assert live.agenda is not None and len(live.agenda.items) >= 3
    first, second, third = live.agenda.items[:3]
    now[0] += dt.timedelta(minutes=1)  # well inside the first item's timebox
    [early] = [e for e in live.ask("next", by="ana") if e.move is not None]
    assert early.move is not None and early.move.kind == "transition"
    assert early.move.text.startswith(f"Moving on from “{first.title}”.") and second.title in early.move.text
    assert "Time is up" not in early.move.text
    now[0] += dt.timedelta(minutes=second.minutes + 1)  # the second item's clock ran out
    [late] = [e for e in live.ask("next", by="ana") if e.move is not None]
    assert late.move is not None and late.move.text.startswith(f"Time is up for “{second.title}”.")
    assert third.title in late.move.text
