"""The offline summarizer on real meetings (QMSum/AMI, ELITR): no errors, grounded items, figures that do not regress.

The ELITR sample is password-protected; it is unpacked into pytest's tmp_path only, never into the repository.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from evals.real_meetings import (
    ELITR_ZIP,
    QMSUM_FILE,
    ElitrQuestion,
    ElitrReport,
    QmsumResult,
    classify_question,
    content_words,
    evaluate_elitr,
    evaluate_qmsum,
    judge_question,
    parse_elitr_transcript,
    render_markdown,
    unzip_elitr,
)
from facilitator.knowledge.bank import ChallengePatterns
from facilitator.summary import summarize_transcript

# Measured with `python -m evals.real_meetings`: 22 of the 42 ELITR-Bench questions are selected by their text and
# 0 of them are answered by the extracted items. The answered count is a floor (measured - 1, not below 0), so that a
# regression shows; raise it when the extractor improves.
ELITR_SELECTED = 22
ELITR_ANSWERED_MEASURED = 0
ELITR_ANSWERED_FLOOR = max(0, ELITR_ANSWERED_MEASURED - 1)


@pytest.fixture(scope="module")
def patterns() -> ChallengePatterns:
    return ChallengePatterns.load()


@pytest.fixture(scope="module")
def qmsum(patterns: ChallengePatterns) -> list[QmsumResult]:
    from tests.conftest import DATA

    path = DATA / QMSUM_FILE
    if not path.is_file():
        pytest.fail(f"{path} is missing: the shared data folder must sit beside the project checkout")
    return evaluate_qmsum(path, patterns)


@pytest.fixture
def elitr_folder(tmp_path: Path, shared_data: Path) -> Path:
    return unzip_elitr(shared_data / ELITR_ZIP, tmp_path / "elitr")


@pytest.fixture
def elitr(elitr_folder: Path, patterns: ChallengePatterns) -> ElitrReport:
    return evaluate_elitr(elitr_folder, patterns)


# ----------------------------------------------------------------------------------------------------------------
# QMSum


def test_all_three_qmsum_meetings_summarize_without_error(qmsum: list[QmsumResult]) -> None:
    assert [r.meeting_id for r in qmsum] == ["ES2004c", "TS3011c", "IS1003c"]
    for r in qmsum:
        assert r.error is None, (r.meeting_id, r.error)
        assert r.turns > 500
        assert r.seconds < 30, f"{r.meeting_id} took {r.seconds:.1f}s"


def test_qmsum_commitments_are_owned_by_speakers_and_cite_existing_turns(qmsum: list[QmsumResult]) -> None:
    for r in qmsum:
        assert r.transcript is not None and r.summary is not None
        speakers = {t.speaker for t in r.transcript.turns}
        n = len(r.transcript.turns)
        for item in r.summary.commitments:
            assert item.owner in speakers, (r.meeting_id, item)
            assert item.evidence, (r.meeting_id, item)
            assert all(0 <= i < n for i in item.evidence), (r.meeting_id, item)


def test_qmsum_decisions_are_found_in_every_meeting(qmsum: list[QmsumResult]) -> None:
    for r in qmsum:
        assert r.decision_queries, r.meeting_id
        assert r.decisions, f"{r.meeting_id}: no decisions extracted"


def test_qmsum_decisions_overlap_the_gold_answers_more_than_random_sentences(qmsum: list[QmsumResult]) -> None:
    for r in qmsum:
        assert r.overlap is not None and r.baseline_share is not None
        assert r.overlap.sentence_share > r.baseline_share, r
    # Unigram recall beats the baseline on average, not in every meeting (TS3011c: 3% vs 4% when measured).
    recall = sum(r.overlap.recall for r in qmsum if r.overlap) / len(qmsum)
    baseline = sum(r.baseline_recall or 0.0 for r in qmsum) / len(qmsum)
    assert recall > baseline, (recall, baseline)


def test_the_random_baseline_is_reproducible(patterns: ChallengePatterns) -> None:
    from tests.conftest import DATA

    first = evaluate_qmsum(DATA / QMSUM_FILE, patterns, draws=3)
    second = evaluate_qmsum(DATA / QMSUM_FILE, patterns, draws=3)
    assert [(r.baseline_recall, r.baseline_share) for r in first] == [
        (r.baseline_recall, r.baseline_share) for r in second
    ]


def test_content_words_drop_stop_words_cue_words_and_stem() -> None:
    assert content_words("We decided to use the rubber buttons and L_C_D_ displays.") == {
        "rubber",
        "button",
        "lcd",
        "display",
    }
    assert content_words("charging") == content_words("charge") == {"charg"}


# ----------------------------------------------------------------------------------------------------------------
# ELITR


def test_elitr_is_unpacked_into_the_temporary_folder_only(elitr_folder: Path, tmp_path: Path) -> None:
    assert elitr_folder.is_relative_to(tmp_path)
    assert {p.name for p in elitr_folder.iterdir()} == {"elitr_meetings.jsonl", "elitr_bench_questions.jsonl"}


def test_every_elitr_meeting_parses_and_summarizes_without_error(elitr: ElitrReport) -> None:
    assert len(elitr.meetings) == 3
    assert elitr.errors == 0
    for m in elitr.meetings:
        assert m.error is None, (m.meeting_id, m.error)
        assert m.transcript is not None and m.summary is not None
        assert m.turns > 100 and m.session_date is not None
        ids = {p.id for p in m.transcript.participants}
        for item in m.summary.commitments:
            assert item.owner in ids
            assert all(0 <= i < m.turns for i in item.evidence)
    labelled = [m for m in elitr.meetings if m.labelled_turns]
    assert len(labelled) == 2  # meeting_en_dev_006 carries no speaker labels at all
    assert all(s.startswith("person") for m in labelled for s in m.speakers if s != "unlabelled")


def test_elitr_evaluation_counts_are_consistent_and_do_not_regress(elitr: ElitrReport) -> None:
    assert elitr.total_questions == 42
    assert elitr.selected == ELITR_SELECTED
    assert 0 <= elitr.answered <= elitr.selected
    assert elitr.answered >= ELITR_ANSWERED_FLOOR
    assert sum(elitr.reasons().values()) == elitr.selected - elitr.answered
    for q in elitr.questions:
        assert q.kinds and set(q.kinds) <= {"owner", "deadline"}
        assert q.answered == (q.reason is None)
    report = render_markdown([], elitr)
    assert f"Selected {elitr.selected} of 42 questions; answered {elitr.answered}" in report


def test_questions_are_selected_and_classed_by_their_text() -> None:
    assert classify_question("Who will replace [PERSON10]?") == ("owner",)
    assert classify_question("What is the deadline for the demo paper submission?") == ("deadline",)
    assert classify_question("Who is responsible, and by when?") == ("owner", "deadline")
    assert classify_question("Which event has been postponed?") == ()


def test_the_judge_accepts_an_item_that_answers_and_says_why_others_fail(patterns: ChallengePatterns) -> None:
    text = (
        "(PERSON1) Who will send the review to the partners?\n"
        "(PERSON2) I'll send the review to the partners by Friday.\n"
        "(PERSON1) Great, thanks.\n"
    )
    transcript = parse_elitr_transcript(text)
    session = dt.date(2021, 1, 7)  # a Thursday: "by Friday" is January 8
    summary = summarize_transcript(transcript, patterns, date=session)
    assert [(c.owner, c.due) for c in summary.commitments] == [("person2", dt.date(2021, 1, 8))]

    def judge(question: str, answer: str) -> tuple[bool, str | None]:
        q = ElitrQuestion("m", "1", question, "who", answer)
        result = judge_question(q, classify_question(question), transcript, summary, session)
        return result.answered, result.reason

    assert judge("Who will send the review?", "[PERSON2]") == (True, None)
    assert judge("Who will send the review?", "[PERSON1]") == (False, "wrong owner")
    assert judge("When is the review due?", "January 8th (Friday)") == (True, None)
    assert judge("When is the review due?", "January 15th") == (False, "no date")
    assert judge("Who booked the venue?", "[PERSON2]") == (False, "no item")
