"""The one application API: every use case is the engine's, so the web app and the CLI cannot disagree."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from facilitator.engine import choose_brain
from facilitator.exceptions import InputError, PairFileError
from facilitator.pairs import PairDraft, PartnerDraft, load_pair, parse_pair
from facilitator.settings import Settings
from facilitator.snapshots import Event

DAY = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fac(make_facilitator: Any) -> Any:
    return make_facilitator(clock=lambda: DAY)


def _talk(live: Any) -> None:
    for speaker, text in (
        ("ben", "Could you send me the stakeholder map by next Friday?"),
        ("ana", "Sure, I'll send you the stakeholder map by next Friday."),
        ("ana", "And I'll book the review room tomorrow."),
    ):
        list(live.say(speaker, text))


def test_end_typed_as_a_chat_line_ends_the_session_in_every_shell(fac: Any, demo_pair: Any) -> None:
    live = fac.session_for("ana-ben", fac.create_pair(demo_pair))
    _talk(live)
    events: list[Event] = list(live.handle("/end", speaker="ana"))
    assert [e.kind for e in events] == ["summary"]
    summary = events[0].summary
    assert summary is not None and {c.owner for c in summary.commitments} == {"ana"}
    view = live.view()
    assert view.ended and view.summary is not None and view.recap_markdown
    assert "stakeholder map" in view.recap_markdown


def test_unknown_commands_list_every_command_end_included(fac: Any, demo_pair: Any) -> None:
    live = fac.session_for("ana-ben", fac.create_pair(demo_pair))
    [event] = list(live.handle("/finish", speaker="ana"))
    assert event.kind == "notice" and "/end" in event.text and "/agenda" in event.text


def test_items_are_proposed_by_the_engine_after_every_turn(fac: Any, demo_pair: Any) -> None:
    live = fac.session_for("ana-ben", fac.create_pair(demo_pair))
    list(live.say("ana", "I'll send you the stakeholder map by Friday."))
    assert [v.item.owner for v in live.view().items] == ["ana"]  # no shell had to ask for them


def test_the_cli_export_and_the_web_export_are_the_same_bytes_in_conversation_order(
    fac: Any, demo_pair: Any, comentor_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.cli import app

    monkeypatch.setenv("COMENTOR_DATABASE_URL", fac.settings.database_url or str(fac.store.engine.url))
    live = fac.session_for("ana-ben", fac.create_pair(demo_pair))
    _talk(live)
    list(live.handle("/end"))
    web = live.export("json")
    assert fac.export_session(live.id, "json") == web
    actions = [c["action"] for c in json.loads(web)["commitments"]]
    assert actions == sorted(actions, key=lambda a: "room" in a), "conversation order, not due-date order"
    done = CliRunner().invoke(app, ["export", live.id, "--format", "json"])
    assert done.exit_code == 0, done.output
    assert done.stdout.encode() == web


def test_an_open_session_cannot_be_exported_and_says_how_to_end_it(fac: Any, demo_pair: Any) -> None:
    live = fac.session_for("ana-ben", fac.create_pair(demo_pair))
    with pytest.raises(InputError, match="/end"):
        fac.export_session(live.id, "md")


def test_the_view_is_one_snapshot_with_quoted_citations_and_history(fac: Any, demo_pair: Any) -> None:
    live = fac.session_for("ana-ben", fac.create_pair(demo_pair))
    list(live.say("ben", "@facilitator how often should we meet?"))
    view = live.view()
    cited = [c for m in view.moves for c in m.move.citations]
    assert cited and all(c.quote for c in cited), cited
    assert [s.id for s in view.history.sessions] == [live.id]
    assert view.turns[0].text.startswith("@facilitator") and view.status == "open"


def test_a_pair_from_the_form_gets_the_same_ids_as_a_pair_file() -> None:
    draft = PairDraft(
        participants=[
            PartnerDraft(name="José Ruiz", offers="budgets, forecasting", seeks=["charts"]),
            PartnerDraft(name="Ben Okafor", offers="charts", seeks="budgets"),
        ],
        shared_goals="a better dashboard",
        cadence="every two weeks",
    )
    pair = draft.to_pair()
    same = parse_pair({"participants": [{"name": "José Ruiz"}, {"name": "Ben Okafor"}]})
    assert pair.ids == same.ids == ["jose", "ben"] and pair.id == "jose-ben"
    assert pair.participants[0].offers == ["budgets", "forecasting"] and pair.shared_goals == ["a better dashboard"]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["Ana", ""], "partner 2 needs a name"),
        (["Ana Lima", "Ana Souza"], "different first names"),
        (["Ana\x00", "Ben"], "NUL"),
        (["A" * 200, "Ben"], "120-character limit"),
    ],
)
def test_a_bad_form_pair_is_a_clear_error(names: list[str], message: str) -> None:
    draft = PairDraft(participants=[PartnerDraft(name=n) for n in names])
    with pytest.raises(PairFileError, match=message):
        draft.to_pair()


def test_a_new_pair_from_the_form_is_opened_with_its_code_shown_once(fac: Any) -> None:
    draft = PairDraft(participants=[PartnerDraft(name="Carla Mendes"), PartnerDraft(name="Dev Patel")])
    outcome = fac.create(draft, client="test")
    assert outcome.code and outcome.token and outcome.view.pair.id.startswith("carla-dev-")
    again = fac.open(outcome.view.pair.id, outcome.code, client="test")
    assert again.view.session_id == outcome.view.session_id and again.code is None
    assert fac.reopen(again.token).view.session_id == outcome.view.session_id


def test_the_cli_agenda_and_the_session_agenda_are_one_use_case(fac: Any, demo_pair: Any) -> None:
    live = fac.session_for("ana-ben", fac.create_pair(demo_pair))
    _talk(live)
    list(live.handle("/end"))
    plan = fac.agenda_for(demo_pair, minutes=45, date=DAY.date())
    reviews = " ".join(q.text for item in plan.agenda.items for q in item.questions)
    assert "stakeholder map" in reviews and plan.agenda.total_minutes == 45
    assert live.plan_agenda(45).agenda == plan.agenda


def test_the_offline_brain_is_chosen_without_a_model_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COMENTOR_FACILITATOR"):
        monkeypatch.delenv(name, raising=False)
    assert choose_brain(Settings()).profile.kind == "offline"


def test_the_guidance_is_indexed_on_first_use_only(make_facilitator: Any, kb: Any) -> None:
    fac = make_facilitator()
    fac.knowledge = kb
    assert kb.count() == 0
    assert fac.ensure_guidance() == [] and (first := kb.count()) > 0
    assert fac.ensure_guidance() == [] and kb.count() == first


def test_pair_ids_are_always_strings() -> None:
    pair = load_pair(ROOT / "examples" / "pairs" / "ana-ben.yaml")
    assert isinstance(pair.id, str) and pair.id


def test_the_next_sessions_agenda_asks_other_questions_than_the_last(fac: Any, demo_pair: Any) -> None:
    """#17 carry-over: the engine passes the pair's earlier agendas to the builder, so questions rotate."""
    first = fac.session_for("ana-ben", fac.create_pair(demo_pair))
    first.start_agenda(minutes=45)
    list(first.handle("/end"))
    asked = {q.text for item in first.agenda.items for q in item.questions}
    plan = fac.agenda_for(demo_pair, minutes=45, date=DAY.date() + dt.timedelta(days=14))
    again = {q.text for item in plan.agenda.items for q in item.questions}
    bank_questions = {q for q in again if "stakeholder map" not in q}  # review lines name the open items
    assert bank_questions and not (bank_questions & asked)
