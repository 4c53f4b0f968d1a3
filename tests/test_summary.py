"""`comentor summarize` and the exports: contract output, plain text, bad input, real meetings, the LLM path."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from facilitator.brains.llm import LLMBrain
from facilitator.export import summary_ics, summary_markdown
from facilitator.knowledge import ChallengePatterns
from facilitator.models import Participant, Turn
from facilitator.settings import Settings
from facilitator.summary import summarize_transcript, summarize_turns
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from facilitator.transcripts import load_transcript, parse_json_transcript
from tests.conftest import DATA, ROOT
from ui.cli import app

T01 = ROOT / "evals/datasets/transcripts/t01_marketing_tiktok_formal.json"
runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_summarize_json_follows_the_contract_on_a_labelled_transcript() -> None:
    result = invoke("summarize", str(T01), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"commitments", "summary", "decisions", "assumptions", "balance"} <= set(data)
    expected = json.loads(T01.read_text())["expected"]["commitments"]
    found = {(c["owner"], c["due"]) for c in data["commitments"]}
    assert {(c["owner"], c["due"]) for c in expected} <= found
    for item in data["commitments"]:
        assert set(item) >= {"owner", "action", "due", "evidence", "confirmed"}
        assert item["owner"] in ("ana", "ben") and item["confirmed"] is False and item["evidence"]
    assert {a["speaker"] for a in data["assumptions"]} <= {"ana", "ben"}
    assert set(data["balance"]["participants"]) == {"ana", "ben"}


def test_plain_text_transcript_with_date_line_and_markdown_output(tmp_path: Path) -> None:
    text = tmp_path / "meeting.txt"
    text.write_text(
        "# date: 2026-05-11\n"
        "Maya: Could you send me last year's budget template?\n"
        "Tomás: Sure, I'll send it by Wednesday.\n"
        "Maya: Great. I'll draft the advocacy day outline by the end of the month.\n"
        "Tomás: Our treasurer will review the numbers.\n",
        encoding="utf-8",
    )
    result = invoke("summarize", str(text), "--format", "md")
    assert result.exit_code == 0, result.output
    assert "# Co-mentoring session — 2026-05-11" in result.stdout
    assert "| Tomás |" in result.stdout and "2026-05-13" in result.stdout
    assert "| Maya |" in result.stdout and "2026-05-31" in result.stdout
    assert "treasurer" not in result.stdout.split("## Accountability items")[1].split("##")[0]
    assert "“Sure, I'll send it by Wednesday.” (turn 1)" in result.stdout


def test_no_date_resolves_against_today_and_says_so(tmp_path: Path) -> None:
    text = tmp_path / "nodate.txt"
    text.write_text("Ana: I'll send the deck tomorrow.\nBen: Thanks!\n", encoding="utf-8")
    summary = summarize_transcript(load_transcript(text), ChallengePatterns.load(), today=dt.date(2026, 1, 9))
    assert summary.commitments[0].due == dt.date(2026, 1, 10)
    assert any("no date" in w and "--date" in w for w in summary.warnings)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.json", "", "empty"),
        ("broken.json", '{"turns": [', "broken JSON at line 1"),
        (
            "unknown.json",
            json.dumps({"participants": [{"id": "a", "name": "A"}], "turns": [{"speaker": "b", "text": "hi"}]}),
            "unknown speaker 'b'; known ids: a",
        ),
        ("noturns.json", json.dumps({"turns": []}), "no turns"),
        ("bad.txt", "this line has no speaker\n", "Name: text"),
        ("baddate.json", json.dumps({"date": "March 4", "turns": [{"speaker": "a", "text": "x"}]}), "YYYY-MM-DD"),
    ],
)
def test_bad_transcripts_get_a_clear_error_and_exit_2(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = invoke("summarize", str(path))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_ten_megabyte_file_is_refused_with_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("Ana: " + "word " * 2_100_000, encoding="utf-8")
    result = invoke("summarize", str(path))
    assert result.exit_code == 2 and "limit" in result.output


def test_one_speaker_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "solo.txt"
    path.write_text("Ana: I'll call the dean on Monday.\n", encoding="utf-8")
    result = invoke("summarize", str(path), "--date", "2026-03-04")
    assert result.exit_code == 0
    assert "only one person speaks" in result.output


def test_real_ami_meetings_summarize_with_valid_items() -> None:
    patterns = ChallengePatterns.load()
    for line in (DATA / "qmsum_ami/meetings.jsonl").read_text().splitlines():
        meeting = json.loads(line)
        turns = [{"speaker": t["speaker"], "text": t["content"]} for t in meeting["meeting_transcripts"]]
        transcript = parse_json_transcript({"turns": turns}, origin=meeting["meeting_id"])
        assert len(transcript.turns) > 500
        summary = summarize_transcript(transcript, patterns, date=dt.date(2005, 1, 1))
        ids = {p.id for p in transcript.participants}
        assert summary.summary and summary.decisions
        for item in summary.commitments:
            assert item.owner in ids and all(0 <= i < len(transcript.turns) for i in item.evidence)


def test_exports_markdown_and_ics_parse(tmp_path: Path) -> None:
    transcript = load_transcript(T01)
    summary = summarize_transcript(transcript, ChallengePatterns.load())
    summary = summary.model_copy(update={"next_meeting": dt.date(2026, 3, 18)})
    md = summary_markdown(summary, transcript.participants, transcript.turns)
    assert md.count("\n| ") >= len(summary.commitments) + 1
    calendar = Calendar.from_ical(summary_ics(summary, transcript.participants))
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    dated = [c for c in summary.commitments if c.due]
    assert len(events) == len(dated) + 1
    assert {e.decoded("dtstart") for e in events} == {c.due for c in dated} | {dt.date(2026, 3, 18)}


def test_a_failed_llm_review_falls_back_to_the_rules_with_a_warning() -> None:
    participants = [Participant(id="ana", name="Ana"), Participant(id="ben", name="Ben")]
    turns = [Turn(index=0, speaker="ana", text="I'll call the dean tomorrow."), Turn(index=1, speaker="ben", text="ok")]
    with FakeOpenAIServer() as srv:
        srv.enqueue(Reply.error(500))
        settings = Settings(openai_base_url=srv.base_url, model="fake-model", llm_max_retries=0, llm_timeout=3)
        summary = summarize_turns(
            turns, participants, dt.date(2026, 3, 4), ChallengePatterns.load(), brain=LLMBrain.from_settings(settings)
        )
    assert [(c.owner, c.due) for c in summary.commitments] == [("ana", dt.date(2026, 3, 5))]
    assert any("offline extractor" in w for w in summary.warnings)


def test_a_colon_inside_a_sentence_does_not_invent_a_speaker() -> None:
    from facilitator.transcripts import parse_text_transcript

    parsed = parse_text_transcript(
        "Ana: hello there\nThe plan is: ship it Friday.\nNote: keep it short\nProject Manager: ok\nben: fine"
    )
    assert [t.speaker for t in parsed.turns] == ["ana", "project-manager", "ben"]
    assert parsed.turns[0].text == "hello there The plan is: ship it Friday. Note: keep it short"
