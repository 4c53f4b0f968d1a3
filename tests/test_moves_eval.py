"""The blind moves set (`evals/datasets/moves_blind/`) and the `moves` eval suite that scores it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.suites import moves as suite
from facilitator.exceptions import InputError
from facilitator.models import Move, Pair, Participant

GUIDANCE = Path(__file__).resolve().parents[1] / "knowledge" / "guidance"


@pytest.fixture(scope="module")
def sessions() -> list[suite.BlindSession]:
    return suite.load()


def test_the_blind_set_loads_with_its_minimum_counts(sessions: list[suite.BlindSession]) -> None:
    n = suite.counts(sessions)
    assert n["sessions"] >= 12
    assert n["challenge"] >= 40 and n["challenge_none"] >= 3
    assert n["question"] >= 40
    assert n["answer"] >= 20 and n["answer_out_of_scope"] >= 10 and n["answer_in_scope"] >= 10
    assert n["balance"] >= 10 and n["balance_vulnerable"] >= 3
    # assumptions voiced by the senior partner as often as by the junior one
    assert abs(n["challenge_senior"] - n["challenge_junior"]) <= 3
    assert all(14 <= len(s.turns) <= 30 for s in sessions)
    assert len({(p.name, p.role) for s in sessions for p in s.participants}) == 2 * len(sessions)


def test_every_label_can_be_met(sessions: list[suite.BlindSession]) -> None:
    guidance = suite.stems(" ".join(p.read_text(encoding="utf-8") for p in GUIDANCE.glob("*.md")))
    for s in sessions:
        for m in s.moments:
            e = m.expect
            where = f"{s.id} after turn {m.after}"
            for word in e.keywords:  # the keywords are words of the assumption itself
                assert suite.contains(suite.stems(e.assumption or ""), word), where
            for word in e.support:  # each support phrase is in the guidance (else it could never pass)
                assert suite.contains(guidance, word), where
            if m.ask == "question":  # enough topic words left once the generic facilitation words are set aside
                assert len(suite.topical(e.topics)) >= 5, where


def test_a_label_that_points_at_no_turn_is_refused(tmp_path: Path, sessions: list[suite.BlindSession]) -> None:
    data: dict[str, Any] = sessions[0].model_dump(exclude_defaults=True)
    challenge = next(m for m in data["moments"] if m["ask"] == "challenge" and "assumption" in m["expect"])
    challenge["expect"]["assumption"] = "a sentence nobody said"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.yaml.*a sentence nobody said"):
        suite.load(tmp_path)


def _pair() -> Pair:
    return Pair(participants=[Participant(id="ann", name="Ann Lee"), Participant(id="bo", name="Bo Park")])


def test_scoring_is_by_content_not_wording() -> None:
    pair = _pair()
    assert suite.contains(suite.stems("Which dashboards do you check?"), "dashboard")
    assert suite.contains(suite.stems("the A/B tests ran"), "a/b test")
    assert suite.matched("Would you like to try it before we next meet?", ["likes", "meetings"]) == [
        "likes",
        "meetings",
    ]
    assert suite.topical(["likes", "meetings", "instagram", "next time"]) == ["instagram"]
    assert suite.names_first("Bo, and then Ann", "bo", pair) and not suite.names_first("Ann, then Bo", "bo", pair)
    both = Move(kind="nudge", text="Talk is balanced: Ann and Bo share the airtime.", addressee="both")
    assert not suite.only_to(both, "ann", pair)
    assert suite.only_to(Move(kind="nudge", text="Ann, what's your take?", addressee="both"), "ann", pair)
    said = ["I think nobody over fifty is on TikTok at all these days."]
    assert suite.quoted_span("You said nobody over fifty is on TikTok: who?", said) == "nobody over fifty is on tiktok"
    assert suite.quoted_span("What belief have you not tested?", said) is None


def test_a_challenge_passes_when_it_paraphrases_the_assumption_to_its_speaker(
    sessions: list[suite.BlindSession],
) -> None:
    session = next(s for s in sessions if s.id == "s05_charity_youth")
    moment = next(m for m in session.moments if m.expect.speaker == "denise")
    pair = session.pair()

    def hit(text: str, addressee: str) -> bool:
        return bool(
            suite.challenge_hit(Move(kind="challenge", text=text, addressee=addressee), session, moment, pair)["passed"]
        )

    assert hit("Denise, is it really true that nobody over fifty uses TikTok?", "denise")  # keywords
    assert hit("Denise, you said 'nobody over fifty is on TikTok'. What makes you sure?", "both")  # quoted, named
    assert not hit("Kai, is it really true that nobody over fifty uses TikTok?", "kai")  # the wrong partner
    assert not hit("Denise, what belief have you not tested yet?", "denise")  # no assumption named


def test_the_suite_replays_one_session_and_scores_every_moment(
    tmp_path: Path, sessions: list[suite.BlindSession]
) -> None:
    """The whole pipeline on one session, without the guidance index (fast): every moment gets a scored row."""
    from facilitator.engine import Facilitator
    from facilitator.store import Store

    session = sessions[0]
    fac = Facilitator.offline(Store(f"sqlite:///{tmp_path / 'moves.db'}"))
    rows, proactive = suite.replay(fac, session)
    assert len(rows) == len(session.moments)
    assert all(isinstance(r["passed"], bool) for r in rows)
    assert all(r.get("move") for r in rows if r["ask"] in ("question", "challenge", "answer"))
    assert proactive["session"] == session.id and proactive["turns replayed"] == session.moments[-1].after + 1
    result = suite.result_of(rows, [session], [proactive])
    for name in (
        "challenge_recall",
        "challenge_none_ok",
        "question_topicality",
        "question_repeats",
        "answer_support",
        "answer_decline",
        "balance_addressee",
        "no_nudge_after_vulnerable",
        "challenges_senior",
        "challenges_junior",
    ):
        assert name in result.metrics
    rates = [v for k, v in result.metrics.items() if not k.startswith(("n_", "challenges_"))]
    assert all(0.0 <= v <= 1.0 for v in rates)
    assert result.metrics["answer_support"] == 0.0  # no guidance index: nothing to cite
    assert len(result.cases) == len(rows) and result.datasets[0].name == "moves_blind"


@pytest.mark.slow
def test_the_suite_runs_one_session_with_the_guidance(
    make_facilitator: Any, sessions: list[suite.BlindSession]
) -> None:
    rows, _ = suite.replay(make_facilitator(), sessions[0])
    answers = [r for r in rows if r["ask"] == "answer"]
    assert answers and all("passed" in r for r in answers)
    assert any(r.get("cited") for r in answers if r["kind"] == "in_scope")  # retrieval ran and cited a passage


def test_the_blind_report_shows_no_words_of_the_blind_set() -> None:
    """Whoever tunes reads reports: a blind case's detail names where the moment is and how it scored, never the
    assumption, quote or move; the tuning set's report keeps them."""
    row = {
        "id": "s01#2",
        "after": 6,
        "ask": "challenge",
        "kind": "assumption",
        "expected": "margaret",
        "assumption": "the board never reads past the first page",
        "quoted": "never reads past",
        "move": "Margaret, can we test that?",
        "passed": False,
        "passed_asked": False,
        "via": None,
        "expected_seniority": "senior",
    }
    blind = suite.result_of([row], [])
    detail = blind.cases[0].detail
    assert "assumption" not in detail and "quoted" not in detail and "move" not in detail and "expected" not in detail
    assert not any("board" in str(v) or "margaret" in str(v).lower() for v in detail.values())
    assert detail["after"] == 6 and detail["expected_seniority"] == "senior"
    tuned = suite.result_of([row], [], name="moves_tune", dataset=suite.DATASET.parent / "moves_tune")
    assert tuned.cases[0].detail["assumption"] == row["assumption"]
