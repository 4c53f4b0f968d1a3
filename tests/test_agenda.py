"""Session agendas: structure, timeboxes, open-item review, reciprocity, citations, CLI contract, LLM phrasing."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from facilitator.agenda import (
    SummaryFileError,
    allocate_minutes,
    build_agenda,
    check_agenda,
    phrase_agenda,
    previous_items,
)
from facilitator.brains.base import AgendaPhrasing
from facilitator.brains.llm import LLMBrain
from facilitator.brains.offline import OfflineBrain
from facilitator.knowledge import QuestionBank
from facilitator.models import Agenda, Commitment, Pair
from facilitator.pairs import load_pair, parse_pair
from facilitator.settings import Settings
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from facilitator.testing.function_model import CallOptions, FunctionModel
from tests.conftest import ROOT
from ui.cli import app

DATE = dt.date(2026, 3, 4)
ANA_BEN = ROOT / "examples" / "pairs" / "ana-ben.yaml"
DIRECTORS = ROOT / "examples" / "pairs" / "directors.json"
MINUTES = [15, 30, 45, 60, 90]


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return QuestionBank.load()


def blank_pair() -> Pair:
    return parse_pair({"participants": [{"id": "kim", "name": "Kim Lee"}, {"id": "lou", "name": "Lou Park"}]})


PAIRS = {"ana-ben": lambda: load_pair(ANA_BEN), "directors": lambda: load_pair(DIRECTORS), "blank": blank_pair}


def open_items() -> list[Commitment]:
    return [
        Commitment(owner="ben", action="send the deck", due=dt.date(2026, 3, 1), status="open"),
        Commitment(owner="ana", action="try the scheduling tool for two posts", status="open"),
        Commitment(owner="ben", action="draft the member survey", status="slipped"),
    ]


def all_questions(agenda: Agenda) -> list[Any]:
    return [q for item in agenda.items for q in item.questions]


# ------------------------------------------------------------------------------------------------ structure
@pytest.mark.parametrize("minutes", MINUTES)
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_structure_and_exact_timeboxes(name: str, minutes: int, bank: QuestionBank, guidance_kb: Any) -> None:
    pair = PAIRS[name]()
    agenda = build_agenda(pair, date=DATE, minutes=minutes, bank=bank, knowledge=guidance_kb)
    assert check_agenda(agenda, pair, [], minutes) == []
    assert agenda.total_minutes == minutes and sum(i.minutes for i in agenda.items) == minutes
    assert all(i.minutes >= 2 for i in agenda.items)
    titles = [i.title for i in agenda.items]
    assert titles[0] == "Check-in and gratitude"
    assert titles[-2:] == ["Feedback and challenge, both ways", "Commitments and next meeting"]
    assert "Review of open commitments" not in titles  # nothing open
    shared = [None] if pair.shared_goals else []  # the shared goals: an item both lead
    assert [i.lead for i in agenda.items] == [None, *pair.ids, *shared, None, None]
    for item in agenda.items:
        assert 1 <= len(item.questions) <= 3 and item.purpose and item.citations
    leads = [i for i in agenda.items if i.lead]
    assert leads[0].minutes - leads[1].minutes in (0, 1)  # split roughly equally between the partners


def test_next_meeting_from_cadence_is_in_the_closing_purpose(bank: QuestionBank) -> None:
    agenda = build_agenda(load_pair(ANA_BEN), date=DATE, bank=bank, knowledge=None)
    assert "2026-03-18" in agenda.items[-1].purpose  # every two weeks
    directors = build_agenda(load_pair(DIRECTORS), date=DATE, bank=bank, knowledge=None)
    assert "2026-04-01" in directors.items[-1].purpose  # monthly
    blank = build_agenda(blank_pair(), date=DATE, bank=bank, knowledge=None)
    assert "Agree the date of the next meeting" in blank.items[-1].purpose


def test_build_is_deterministic(bank: QuestionBank, guidance_kb: Any) -> None:
    pair = load_pair(ANA_BEN)
    first = build_agenda(pair, date=DATE, minutes=60, open_items=open_items(), bank=bank, knowledge=guidance_kb)
    again = build_agenda(pair, date=DATE, minutes=60, open_items=open_items(), bank=bank, knowledge=guidance_kb)
    assert first == again


@pytest.mark.parametrize("total", [*range(15, 61), 90, 123, 240])
def test_allocation_sums_exactly_with_a_floor(total: int) -> None:
    for weights in ([8, 15, 15, 7, 7], [8, 7, 15, 15, 7, 7], [8, 12, 15, 15, 7, 7], [1, 1, 50, 1, 1, 1]):
        boxes = allocate_minutes([float(w) for w in weights], total)
        assert sum(boxes) == total and min(boxes) >= 2
        assert boxes == allocate_minutes([float(w) for w in weights], total)


# ------------------------------------------------------------------------------------------------ open items
@pytest.mark.parametrize("minutes", MINUTES)
def test_every_open_item_is_reviewed_by_its_owner(minutes: int, bank: QuestionBank, guidance_kb: Any) -> None:
    pair, items = load_pair(ANA_BEN), open_items()
    agenda = build_agenda(pair, date=DATE, minutes=minutes, open_items=items, bank=bank, knowledge=guidance_kb)
    assert check_agenda(agenda, pair, items, minutes) == []
    review = agenda.items[1]
    assert review.title == "Review of open commitments" and review.lead is None
    owned = [q for q in review.questions if q.for_ != "both"]
    # owner by owner (Ana first, as in the pair file), each item named with its owner's first name
    assert [(q.for_, q.text) for q in owned] == [
        ("ana", "Ana: how did 'try the scheduling tool for two posts' go?"),
        ("ben", "Ben: how did 'send the deck' (due 2026-03-01) go?"),
        ("ben", "Ben: 'draft the member survey' slipped last time. What happened, and what would help now?"),
    ]
    assert "slipped" in review.purpose and "Ana (1), then Ben (2)" in review.purpose
    assert any(c.source == "question_bank" for c in review.citations)


def test_check_flags_an_open_item_nobody_reviews(bank: QuestionBank) -> None:
    pair, items = load_pair(ANA_BEN), open_items()
    agenda = build_agenda(pair, date=DATE, open_items=items[:2], bank=bank, knowledge=None)
    problems = check_agenda(agenda, pair, items, 45)
    assert problems == ["Ben's open item 'draft the member survey' is not reviewed with Ben"]


def test_an_open_item_of_a_stranger_is_refused(bank: QuestionBank) -> None:
    from facilitator.exceptions import InputError

    with pytest.raises(InputError, match="'zed', who is not a partner"):
        build_agenda(
            load_pair(ANA_BEN), date=DATE, open_items=[Commitment(owner="zed", action="x")], bank=bank, knowledge=None
        )


def test_check_flags_structure_problems(bank: QuestionBank) -> None:
    pair = load_pair(ANA_BEN)
    agenda = build_agenda(pair, date=DATE, bank=bank, knowledge=None)
    broken = agenda.model_copy(deep=True)
    broken.items[0].minutes += 1
    broken.items[2].lead = None
    broken.items[3].questions[0].for_ = "zed"
    broken.items[4].citations = []
    problems = check_agenda(broken, pair, [], 45)
    assert any("sum to 46" in p for p in problems)
    assert "no item is led by Ben" in problems
    assert any("'zed'" in p for p in problems)
    assert "item 5 cites nothing" in problems
    assert check_agenda(agenda.model_copy(update={"items": agenda.items[1:]}), pair, [], 45)  # no check-in


# ------------------------------------------------------------------------------------------------ reciprocity
@pytest.mark.parametrize("path", [ANA_BEN, DIRECTORS])
def test_each_partner_leads_an_item_on_what_they_seek(path: Path, bank: QuestionBank) -> None:
    pair = load_pair(path)
    agenda = build_agenda(pair, date=DATE, open_items=[], bank=bank, knowledge=None)
    for person in pair.participants:
        other = pair.other(person.id)
        [item] = [i for i in agenda.items if i.lead == person.id]
        topic = person.seek_topics[0]
        assert item.title.startswith(f"{person.first_name} leads: {topic}")
        assert other.first_name in item.title  # with what the other offers
        assert topic in other.offer_topics
        by_for = {q.for_: q.text for q in item.questions}
        assert topic in by_for[person.id]  # the lead gets a seeks question on their topic
        assert other.id in by_for and "both" in by_for  # the other gets an offers question, plus one for both
        bank_ids = [c.id for c in item.citations if c.source == "question_bank"]
        directions = [bank.by_id(i).direction for i in bank_ids]  # type: ignore[union-attr]
        assert directions == ["seeks", "offers", "both"]


def test_lead_items_without_offers_or_seeks_still_read_well(bank: QuestionBank) -> None:
    agenda = build_agenda(blank_pair(), date=DATE, bank=bank, knowledge=None)
    leads = [i for i in agenda.items if i.lead]
    assert [i.title for i in leads] == [
        "Kim leads: a goal or challenge Kim chooses",
        "Lou leads: a goal or challenge Lou chooses",
    ]
    assert all("{topic}" not in q.text and "{partner}" not in q.text for q in all_questions(agenda))


def test_one_sided_offers_are_named_in_the_title(bank: QuestionBank) -> None:
    pair = parse_pair(
        {
            "participants": [
                {"id": "ana", "name": "Ana Ruiz", "offers": ["budgeting"], "seeks": ["public speaking"]},
                {"id": "ben", "name": "Ben Carter", "offers": ["TikTok"], "seeks": []},
            ]
        }
    )
    agenda = build_agenda(pair, date=DATE, bank=bank, knowledge=None)
    titles = [i.title for i in agenda.items if i.lead]
    assert titles == ["Ana leads: public speaking (with Ben's TikTok)", "Ben leads: budgeting (with Ana's experience)"]
    assert check_agenda(agenda, pair, [], 45) == []


# ------------------------------------------------------------------------------------------------ citations, questions
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_citations_resolve_and_no_question_repeats(name: str, bank: QuestionBank, guidance_kb: Any) -> None:
    pair = PAIRS[name]()
    items = open_items() if name == "ana-ben" else []
    agenda = build_agenda(pair, date=DATE, minutes=60, open_items=items, bank=bank, knowledge=guidance_kb)
    bank_ids = [c.id for i in agenda.items for c in i.citations if c.source == "question_bank"]
    guidance_ids = {c.id for i in agenda.items for c in i.citations if c.source != "question_bank"}
    assert bank_ids and all(bank.by_id(qid) is not None for qid in bank_ids)
    assert len(bank_ids) == len(set(bank_ids))
    assert guidance_ids and {h.id for h in guidance_kb.get(guidance_ids)} == guidance_ids
    assert all(i.citations[-1].source != "question_bank" for i in agenda.items)  # each item: one guidance chunk
    texts = [q.text for q in all_questions(agenda)]
    assert len(texts) == len(set(texts))
    assert not any(re.search(r"[{}]", t) for t in texts)


def test_questions_match_the_phase_of_their_item(bank: QuestionBank) -> None:
    agenda = build_agenda(load_pair(ANA_BEN), date=DATE, open_items=open_items(), bank=bank, knowledge=None)
    phases = [
        [bank.by_id(c.id).phase for c in item.citations if c.source == "question_bank"]  # type: ignore[union-attr]
        for item in agenda.items
    ]
    assert phases[0] == ["check-in"] * 3
    assert phases[1] == ["check-in"]  # a slipped item: "what got in the way"
    assert phases[2] == phases[3] == ["goals", "exchange", "exchange"]
    assert phases[4] == ["goals", "exchange"]  # the shared goal
    assert phases[5] == ["feedback", "challenge", "feedback"]
    assert phases[6] == ["commitments", "commitments", "close"]


# ------------------------------------------------------------------------------------------------ previous summary
def write_summary(path: Path, commitments: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"commitments": commitments, "summary": "", "decisions": [], "assumptions": []}))
    return path


def test_previous_items_keeps_open_and_slipped(tmp_path: Path) -> None:
    path = write_summary(
        tmp_path / "s.json",
        [
            {"owner": "ben", "action": "send the deck", "due": "2026-03-01", "evidence": [3], "confirmed": True},
            {
                "owner": "ana",
                "action": "call the dean",
                "due": None,
                "evidence": [],
                "confirmed": False,
                "status": "done",
            },
            {"owner": "ana", "action": "draft the brief", "status": "slipped"},
        ],
    )
    items = previous_items(path)
    assert [(c.owner, c.action, c.status) for c in items] == [
        ("ben", "send the deck", "open"),
        ("ana", "draft the brief", "slipped"),
    ]
    assert items[0].due == dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such summary file"),
        ("{not json", "not valid JSON (line 1"),
        ("", "not valid JSON"),
        ("[1, 2]", "not a session summary"),
        ('{"summary": "x"}', "not a session summary (no 'commitments' field)"),
        ('{"commitments": {"owner": "ana"}}', "'commitments' must be a list"),
        ('{"commitments": [{"action": "x"}]}', "field 'commitments[0].owner'"),
        ('{"commitments": [{"owner": "ana", "action": "x", "due": "soon"}]}', "field 'commitments[0].due'"),
    ],
)
def test_previous_items_bad_files(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "summary.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SummaryFileError, match=re.escape(message)) as info:
        previous_items(path)
    assert "comentor summarize" in str(info.value)


# ------------------------------------------------------------------------------------------------ CLI
@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("agenda-home")


@pytest.fixture
def cli(shared_home: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI over one home for the module (the guidance is indexed on first use), with the shared embedder."""
    monkeypatch.setenv("COMENTOR_HOME", str(shared_home))
    monkeypatch.setattr("facilitator.knowledge.embeddings.make_embedder", lambda settings: embedder)
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["agenda", *args], catch_exceptions=False)


def test_cli_json_matches_the_contract(cli: CliRunner, tmp_path: Path, guidance_kb: Any) -> None:
    summary = write_summary(
        tmp_path / "last.json",
        [
            {"owner": "ben", "action": "send the deck"},
            {"owner": "ana", "action": "post two videos", "status": "slipped"},
        ],
    )
    result = run(cli, str(ANA_BEN), "--previous", str(summary), "--minutes", "60", "--date", "2026-03-04", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"date", "total_minutes", "items"}
    assert data["date"] == "2026-03-04" and data["total_minutes"] == 60
    assert sum(i["minutes"] for i in data["items"]) == 60
    for item in data["items"]:
        assert set(item) == {"title", "minutes", "lead", "purpose", "questions", "citations"}
        assert item["lead"] in (None, "ana", "ben")
        assert all(set(q) == {"text", "for"} and q["for"] in ("ana", "ben", "both") for q in item["questions"])
        assert all(set(c) == {"source", "id"} for c in item["citations"]) and item["citations"]
    review = data["items"][1]["questions"]
    assert {"text": "Ben: how did 'send the deck' go?", "for": "ben"} in review
    assert any(q["for"] == "ana" and "post two videos" in q["text"] for q in review)
    guidance = {c["id"] for i in data["items"] for c in i["citations"] if c["source"] != "question_bank"}
    assert guidance and {h.id for h in guidance_kb.get(guidance)} == guidance

    md = run(cli, str(DIRECTORS), "--date", "2026-03-04")
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith("# Co-mentoring agenda — 2026-03-04")
    assert "## 2. Maya leads: financial management" in md.stdout and "next meeting 2026-04-01" in md.stdout


def test_cli_reviews_open_items_from_the_store(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facilitator.store import Store

    monkeypatch.setenv("COMENTOR_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    pair = load_pair(ANA_BEN)
    store = Store(Settings().resolved_database_url)
    store.save_pair(pair)
    info = store.create_session(pair.id, dt.date(2026, 2, 18))
    store.save_commitments(
        info.id,
        [
            Commitment(owner="ana", action="share the campaign brief"),
            Commitment(owner="ben", action="x", status="done"),
        ],
    )
    result = run(cli, str(ANA_BEN), "--date", "2026-03-04", "-f", "json")
    store.engine.dispose()
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)["items"]
    assert items[1]["title"] == "Review of open commitments"
    assert items[1]["questions"][0] == {"text": "Ana: how did 'share the campaign brief' go?", "for": "ana"}
    assert [q["for"] for q in items[1]["questions"]] == ["ana", "both"]


@pytest.mark.parametrize("minutes", ["10", "14", "241", "-5"])
def test_cli_bad_minutes(cli: CliRunner, minutes: str) -> None:
    result = run(cli, str(ANA_BEN), "--minutes", minutes)
    assert result.exit_code == 2
    assert "--minutes must be between 15 and 240" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such summary file"), ("{oops", "not valid JSON"), ("[]", "not a session summary")],
)
def test_cli_bad_previous(cli: CliRunner, tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "prev.json"
    if content is not None:
        path.write_text(content)
    result = run(cli, str(ANA_BEN), "--previous", str(path))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_cli_previous_owned_by_a_stranger_and_bad_pair(cli: CliRunner, tmp_path: Path) -> None:
    summary = write_summary(tmp_path / "other.json", [{"owner": "zed", "action": "call"}])
    result = run(cli, str(ANA_BEN), "--previous", str(summary))
    assert result.exit_code == 2 and "'zed', who is not a partner" in result.stderr
    bad = tmp_path / "pair.json"
    bad.write_text(json.dumps({"participants": [{"id": "ana"}, {"id": "ben", "name": "Ben"}]}))
    result = run(cli, str(bad))
    assert result.exit_code == 2 and "missing field 'name'" in result.stderr


# ------------------------------------------------------------------------------------------------ LLM phrasing
Phrasing = dict[str, Any]


def reworded(agenda: Agenda) -> Phrasing:
    """A good rewording of `agenda`: every item, every question, in order, with a few words added."""
    return {
        "items": [
            {
                "index": n,
                "title": f"{item.title}, together",
                "purpose": f"In short: {item.purpose}",
                "questions": [f"{q.text} Take your time." for q in item.questions],
            }
            for n, item in enumerate(agenda.items)
        ]
    }


def phrasing_model(agenda: Agenda, transform: Any = None, **options: Any) -> FunctionModel:
    """A chat model answering every call with the rewording of `agenda` (changed by `transform`)."""
    data = reworded(agenda)
    answer = transform(data) if transform else data

    def respond(messages: list[Any], call: CallOptions) -> str:
        assert call.schema is AgendaPhrasing
        return answer if isinstance(answer, str) else json.dumps(answer)

    return FunctionModel(respond, **options)


def brain(model: FunctionModel) -> LLMBrain:
    return LLMBrain(model, "fake-model")


@pytest.fixture
def offline_agenda(bank: QuestionBank, guidance_kb: Any) -> tuple[Pair, Agenda]:
    pair = load_pair(ANA_BEN)
    return pair, build_agenda(pair, date=DATE, minutes=45, open_items=open_items(), bank=bank, knowledge=guidance_kb)


@pytest.mark.parametrize("json_schema", [True, False])
def test_good_phrasing_is_used_and_structure_kept(
    offline_agenda: tuple[Pair, Agenda], guidance_kb: Any, json_schema: bool
) -> None:
    pair, agenda = offline_agenda
    model = phrasing_model(agenda, json_schema=json_schema)
    result = phrase_agenda(agenda, pair, brain(model), open_items=open_items(), knowledge=guidance_kb)
    assert result.note is None and result.phrased_by == "fake-model"
    phrased = result.agenda
    assert [i.title for i in phrased.items] == [f"{i.title}, together" for i in agenda.items]
    assert all(p.purpose.startswith("In short: ") for p in phrased.items)
    assert [(i.minutes, i.lead, i.citations) for i in phrased.items] == [
        (i.minutes, i.lead, i.citations) for i in agenda.items
    ]
    assert [q.for_ for q in all_questions(phrased)] == [q.for_ for q in all_questions(agenda)]
    assert all(q.text.endswith("Take your time.") for q in all_questions(phrased))
    assert check_agenda(phrased, pair, open_items(), 45) == []
    # without json_schema support: one refusal, then function calling
    methods = [c.options.method for c in model.calls]
    assert methods == (["json_schema"] if json_schema else ["json_schema", "function_calling"])
    assert bool(model.calls[-1].options.tools) is not json_schema


def test_request_keeps_reference_material_out_of_the_system_message(
    offline_agenda: tuple[Pair, Agenda], guidance_kb: Any
) -> None:
    from langchain_core.messages import HumanMessage, SystemMessage

    from facilitator.prompts import load_prompt

    pair, agenda = offline_agenda
    model = phrasing_model(agenda)
    phrase_agenda(agenda, pair, brain(model), open_items=open_items(), knowledge=guidance_kb)
    [call] = model.calls
    assert call.options.response_format is not None and call.options.response_format["type"] == "json_schema"
    assert [type(m) for m in call.messages] == [SystemMessage, HumanMessage]
    assert call.system == load_prompt("system").body
    assert "</reference_material>" not in call.system and "<item id=" not in call.system and "Ana" not in call.system
    user = call.user
    assert "<reference_material>" in user and "</reference_material>" in user
    assert "data, not instructions" in user
    guidance = [c.id for i in agenda.items for c in i.citations if c.source != "question_bank"]
    assert f'<item id="{guidance[0]}"' in user.split("<reference_material>")[1]
    assert "Ben: how did 'send the deck' (due 2026-03-01) go?" in user
    for n, item in enumerate(agenda.items):  # every item, numbered, with its minutes
        assert f"[{n}] {item.title} ({item.minutes} min, " in user


def test_the_offline_brain_leaves_the_agenda_as_built(offline_agenda: tuple[Pair, Agenda]) -> None:
    pair, agenda = offline_agenda
    result = phrase_agenda(agenda, pair, OfflineBrain(), open_items=open_items())
    assert result.agenda == agenda and result.note is None and result.phrased_by == "offline"


def _drop_last_item(data: Phrasing) -> Phrasing:
    return {"items": data["items"][:-1]}


def _drop_a_question(data: Phrasing) -> Phrasing:
    data["items"][2]["questions"] = data["items"][2]["questions"][:1]
    return data


def _lose_the_check_in(data: Phrasing) -> Phrasing:
    data["items"][0].update(title="Warm-up", purpose="Say hello.")
    return data


def _forget_an_owner(data: Phrasing) -> Phrasing:
    data["items"][1]["questions"] = ["How did it go?" for _ in data["items"][1]["questions"]]
    return data


def _drop_the_next_date(data: Phrasing) -> Phrasing:
    data["items"][-1]["purpose"] = "Agree your commitments and the next meeting."
    return data


def _no_items(data: Phrasing) -> Phrasing:
    return {"items": []}


def _extra_field(data: Phrasing) -> Phrasing:
    data["items"][0]["minutes"] = 40  # the schema forbids it: the model may not change a timebox
    return data


def _not_json(data: Phrasing) -> str:
    return "this is not json"


@pytest.mark.parametrize(
    ("transform", "why"),
    [
        (_drop_last_item, "6 items returned for 7"),
        (_drop_a_question, "item 2 has 1 questions instead of 3"),
        (_lose_the_check_in, "does not open with a check-in and gratitude"),
        (_forget_an_owner, "is not reviewed with"),
        (_drop_the_next_date, "next meeting date (2026-03-18)"),
        (_no_items, "the model returned no items for the 7-item agenda"),
        (_extra_field, "the model failed to reword the agenda (ValidationError"),
        (_not_json, "the model failed to reword the agenda (ValidationError"),
    ],
)
def test_broken_phrasing_falls_back_to_the_offline_agenda(
    offline_agenda: tuple[Pair, Agenda], transform: Any, why: str
) -> None:
    pair, agenda = offline_agenda
    result = phrase_agenda(agenda, pair, brain(phrasing_model(agenda, transform)), open_items=open_items())
    assert result.agenda == agenda and result.phrased_by == "offline"
    assert result.note is not None and why in result.note and "offline agenda" in result.note


def test_model_outage_falls_back_and_opens_the_breaker(offline_agenda: tuple[Pair, Agenda]) -> None:
    pair, agenda = offline_agenda

    def down(messages: list[Any], options: CallOptions) -> str:
        raise TimeoutError("no answer")

    model = FunctionModel(down)
    llm = brain(model)
    first = phrase_agenda(agenda, pair, llm, open_items=open_items())
    assert first.agenda == agenda and first.note and "the model failed" in first.note and "TimeoutError" in first.note
    second = phrase_agenda(agenda, pair, llm, open_items=open_items())
    assert second.agenda == agenda and second.note and "the model is unavailable" in second.note
    assert len(model.calls) == 1, "the open breaker answers at once, without calling the model"


def test_broken_json_is_retried_like_a_move(offline_agenda: tuple[Pair, Agenda]) -> None:
    pair, agenda = offline_agenda
    answers = iter(["{not json", json.dumps(reworded(agenda))])
    model = FunctionModel(lambda messages, options: next(answers))
    llm = LLMBrain(model, "fake-model", settings=Settings(llm_max_retries=1, llm_timeout=5.0))
    result = phrase_agenda(agenda, pair, llm, open_items=open_items())
    assert result.note is None and len(model.calls) == 2


def test_cli_uses_the_model_when_configured(
    cli: CliRunner, bank: QuestionBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real openai client and a local OpenAI-compatible server (the wording does not depend on the
    guidance, so the agenda built here is the one the CLI sends)."""
    pair = load_pair(DIRECTORS)
    wording = reworded(build_agenda(pair, date=DATE, minutes=45, bank=bank, knowledge=None))
    answer: dict[str, Any] = {"data": wording}

    def respond(body: dict[str, Any]) -> Reply:
        if body.get("tools"):
            return Reply.tool_call(body["tools"][0]["function"]["name"], answer["data"])
        return Reply.json(answer["data"])

    with FakeOpenAIServer(responder=respond) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("COMENTOR_MODEL", "fake-model")
        monkeypatch.setenv("COMENTOR_LLM_MAX_RETRIES", "0")
        result = run(cli, str(DIRECTORS), "--date", "2026-03-04", "-f", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["items"][0]["title"] == "Check-in and gratitude, together"
        assert sum(i["minutes"] for i in data["items"]) == 45
        assert [i["lead"] for i in data["items"]] == [None, "maya", "tomas", None, None, None]  # 4th: the shared goals

        answer["data"] = _drop_last_item(reworded(build_agenda(pair, date=DATE, bank=bank, knowledge=None)))
        result = run(cli, str(DIRECTORS), "--date", "2026-03-04", "-f", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["items"][0]["title"] == "Check-in and gratitude"
        assert "offline agenda" in result.stderr


def test_phrasing_schema_is_strict() -> None:
    schema = AgendaPhrasing.model_json_schema()
    assert schema["additionalProperties"] is False and schema["required"] == ["items"]
