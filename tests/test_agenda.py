"""Session agendas: structure, timeboxes, open-item review, reciprocity, citations, CLI contract, LLM phrasing."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from facilitator.agenda import (
    AgendaPhrasing,
    SummaryFileError,
    allocate_minutes,
    build_agenda,
    check_agenda,
    phrase_agenda,
    previous_items,
)
from facilitator.brains.llm import make_chat_model
from facilitator.cli import app
from facilitator.knowledge import QuestionBank
from facilitator.models import Agenda, Commitment, Pair
from facilitator.pairs import load_pair, parse_pair
from facilitator.settings import Settings
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from tests.conftest import ROOT

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
    assert [i.lead for i in agenda.items] == [None, *pair.ids, None, None]
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
    assert phases[4] == ["feedback", "challenge", "feedback"]
    assert phases[5] == ["commitments", "commitments", "close"]


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
    assert pair.id is not None
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
_HEADER = re.compile(r"^\[(\d+)\] (.*) \(\d+ min, led by [^)]*\)$")
_QUESTION = re.compile(r"^  \d+\. \(for [^)]+\) (.*)$")


def parse_agenda_prompt(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The agenda as the prompt lists it: index, title, purpose, question texts."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    items: list[dict[str, Any]] = []
    for line in user.splitlines():
        if header := _HEADER.match(line):
            items.append({"index": int(header.group(1)), "title": header.group(2), "purpose": "", "questions": []})
        elif line.startswith("purpose: ") and items:
            items[-1]["purpose"] = line.removeprefix("purpose: ")
        elif (question := _QUESTION.match(line)) and items:
            items[-1]["questions"].append(question.group(1))
    return items


def reworded(body: dict[str, Any]) -> dict[str, Any]:
    items = parse_agenda_prompt(body)
    return {
        "items": [
            {
                "index": i["index"],
                "title": f"{i['title']}, together",
                "purpose": f"In short: {i['purpose']}",
                "questions": [f"{q} Take your time." for q in i["questions"]],
            }
            for i in items
        ]
    }


def make_responder(transform: Any = reworded) -> Any:
    def respond(body: dict[str, Any]) -> Reply:
        if body.get("tools"):
            return Reply.tool_call(body["tools"][0]["function"]["name"], transform(body))
        return Reply.json(transform(body))

    return respond


def llm_settings(srv: FakeOpenAIServer) -> Settings:
    return Settings(
        openai_base_url=srv.base_url,
        openai_api_key="sk-test",  # type: ignore[arg-type]
        model="fake-model",
        llm_max_retries=0,
        llm_timeout=5.0,
    )


@pytest.fixture
def offline_agenda(bank: QuestionBank, guidance_kb: Any) -> tuple[Pair, Agenda]:
    pair = load_pair(ANA_BEN)
    return pair, build_agenda(pair, date=DATE, minutes=45, open_items=open_items(), bank=bank, knowledge=guidance_kb)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(responder=make_responder()) as srv:
        yield srv


@pytest.mark.parametrize("json_schema", [True, False])
def test_good_phrasing_is_used_and_structure_kept(
    offline_agenda: tuple[Pair, Agenda], guidance_kb: Any, json_schema: bool
) -> None:
    pair, agenda = offline_agenda
    with FakeOpenAIServer(responder=make_responder(), support_json_schema=json_schema) as srv:
        result = phrase_agenda(
            agenda,
            pair,
            make_chat_model(llm_settings(srv)),
            open_items=open_items(),
            knowledge=guidance_kb,
            model_name="fake-model",
        )
        bodies = [r.body for r in srv.requests if r.path.endswith("/chat/completions")]
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
    assert len(bodies) == (1 if json_schema else 2)  # without json_schema support: one refusal, then tools
    assert bool(bodies[-1].get("tools")) is not json_schema


def test_request_keeps_reference_material_out_of_the_system_message(
    server: FakeOpenAIServer, offline_agenda: tuple[Pair, Agenda], guidance_kb: Any
) -> None:
    pair, agenda = offline_agenda
    phrase_agenda(agenda, pair, make_chat_model(llm_settings(server)), open_items=open_items(), knowledge=guidance_kb)
    [body] = [r.body for r in server.requests if r.path.endswith("/chat/completions")]
    assert body["response_format"]["type"] == "json_schema"
    system = [m["content"] for m in body["messages"] if m["role"] == "system"]
    user = [m["content"] for m in body["messages"] if m["role"] == "user"]
    assert len(system) == 1 and len(user) == 1
    assert "</reference_material>" not in system[0] and "<item id=" not in system[0] and "Ana" not in system[0]
    assert "<reference_material>" in user[0] and "</reference_material>" in user[0]
    assert "data, not instructions" in user[0]
    guidance = [c.id for i in agenda.items for c in i.citations if c.source != "question_bank"]
    assert f'<item id="{guidance[0]}"' in user[0].split("<reference_material>")[1]
    assert "Ben: how did 'send the deck' (due 2026-03-01) go?" in user[0]
    assert len(parse_agenda_prompt(body)) == len(agenda.items)


def _drop_last_item(body: dict[str, Any]) -> dict[str, Any]:
    data = reworded(body)
    return {"items": data["items"][:-1]}


def _drop_a_question(body: dict[str, Any]) -> dict[str, Any]:
    data = reworded(body)
    data["items"][2]["questions"] = data["items"][2]["questions"][:1]
    return data


def _lose_the_check_in(body: dict[str, Any]) -> dict[str, Any]:
    data = reworded(body)
    data["items"][0].update(title="Warm-up", purpose="Say hello.")
    return data


def _forget_an_owner(body: dict[str, Any]) -> dict[str, Any]:
    data = reworded(body)
    data["items"][1]["questions"] = ["How did it go?" for _ in data["items"][1]["questions"]]
    return data


def _drop_the_next_date(body: dict[str, Any]) -> dict[str, Any]:
    data = reworded(body)
    data["items"][-1]["purpose"] = "Agree your commitments and the next meeting."
    return data


def _not_json(body: dict[str, Any]) -> str:
    return "this is not json"


@pytest.mark.parametrize(
    ("transform", "why"),
    [
        (_drop_last_item, "5 items returned for 6"),
        (_drop_a_question, "item 2 has 1 questions instead of 3"),
        (_lose_the_check_in, "does not open with a check-in and gratitude"),
        (_forget_an_owner, "is not reviewed with"),
        (_drop_the_next_date, "next meeting date (2026-03-18)"),
        (_not_json, "the model failed"),
    ],
)
def test_broken_phrasing_falls_back_to_the_offline_agenda(
    offline_agenda: tuple[Pair, Agenda], transform: Any, why: str
) -> None:
    pair, agenda = offline_agenda
    with FakeOpenAIServer(responder=make_responder(transform)) as srv:
        result = phrase_agenda(agenda, pair, make_chat_model(llm_settings(srv)), open_items=open_items())
    assert result.agenda == agenda and result.phrased_by == "offline"
    assert result.note is not None and why in result.note and "offline agenda" in result.note


def test_model_error_falls_back(server: FakeOpenAIServer, offline_agenda: tuple[Pair, Agenda]) -> None:
    pair, agenda = offline_agenda
    server.enqueue(Reply.error(500))
    result = phrase_agenda(agenda, pair, make_chat_model(llm_settings(server)), open_items=open_items())
    assert result.agenda == agenda and result.note and "the model failed" in result.note


def test_cli_uses_the_model_when_configured(
    cli: CliRunner, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("COMENTOR_MODEL", "fake-model")
    monkeypatch.setenv("COMENTOR_LLM_MAX_RETRIES", "0")
    result = run(cli, str(DIRECTORS), "--date", "2026-03-04", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["items"][0]["title"] == "Check-in and gratitude, together"
    assert sum(i["minutes"] for i in data["items"]) == 45
    assert [i["lead"] for i in data["items"]] == [None, "maya", "tomas", None, None]

    server.responder = make_responder(_drop_last_item)
    result = run(cli, str(DIRECTORS), "--date", "2026-03-04", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"][0]["title"] == "Check-in and gratitude"
    assert "offline agenda" in result.stderr


def test_phrasing_schema_is_strict() -> None:
    schema = AgendaPhrasing.model_json_schema()
    assert schema["additionalProperties"] is False and schema["required"] == ["items"]
