"""Commitment extraction (one test per contract rule), validation of model output, the labelled set, real meetings."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import pytest

from evals.commitment_metrics import DEFAULT_FOLDER, Expected, load_cases, main, match, score
from facilitator.commitments import commitment_id, extract_commitments, validate_commitments
from facilitator.models import Commitment, Participant, Turn, slug

SESSION = dt.date(2026, 3, 4)  # a Wednesday
PAIR = [Participant(id="ana", name="Ana Ruiz"), Participant(id="ben", name="Ben Carter")]


def turns(*lines: str) -> list[Turn]:
    """'ana: text' lines as turns."""
    out = []
    for i, line in enumerate(lines):
        speaker, text = line.split(":", 1)
        out.append(Turn(index=i, speaker=speaker.strip(), text=text.strip()))
    return out


def extract(*lines: str, participants: list[Participant] | None = None) -> list[Commitment]:
    return extract_commitments(turns(*lines), participants or PAIR, SESSION)


# -- the contract rules ---------------------------------------------------------------------------------------


def test_simple_first_person_commitment() -> None:
    items = extract(
        "ana: How did the review go?",
        "ben: Fine. I'll send you the deck from the January review by Friday.",
    )
    assert len(items) == 1
    item = items[0]
    assert (item.owner, item.due, item.evidence, item.confirmed) == ("ben", dt.date(2026, 3, 6), [1], False)
    assert item.action.startswith("send Ana the deck")


@pytest.mark.parametrize(
    "text",
    [
        "I will draft the stakeholder map by March 13.",
        "I'm going to draft the stakeholder map by March 13.",
        "I commit to drafting the stakeholder map by March 13.",
        "I can draft the stakeholder map by March 13.",
        "Let me draft the stakeholder map by March 13.",
        "I shall draft the stakeholder map by March 13.",
        "ok will draft the stakeholder map by march 13",
        "ill draft the stakeholder map by march 13",
    ],
)
def test_first_person_cues(text: str) -> None:
    items = extract(f"ana: {text}")
    assert [(i.owner, i.due) for i in items] == [("ana", dt.date(2026, 3, 13))]
    assert "stakeholder map" in items[0].action


def test_no_date_is_null_never_guessed() -> None:
    items = extract("ben: I'll put together a draft onboarding survey, five or six questions.")
    assert [(i.owner, i.due) for i in items] == [("ben", None)]


def test_i_can_without_a_date_is_only_an_offer() -> None:
    assert extract("ben: I can show you how the topic model works, it is not so difficult.") == []


@pytest.mark.parametrize(
    "text",
    [
        "My manager will send the budget on Friday.",
        "The board will decide on the dues increase next month.",
        "Janice in finance is going to pull the churn report.",
        "my managers gonna raise the staffing gap at the board",
    ],
)
def test_third_party_actions_are_not_commitments(text: str) -> None:
    assert extract(f"ana: {text}") == []


def test_accepted_request_belongs_to_the_one_who_accepted() -> None:
    items = extract(
        "ana: Could you send me the renewal numbers for last year?",
        "ben: Yes, I can do that. I'll need to strip the personal data first, but I'll get them to you by the "
        "end of the month.",
    )
    assert len(items) == 1
    item = items[0]
    assert (item.owner, item.due, item.evidence) == ("ben", dt.date(2026, 3, 31), [0, 1])
    assert item.action == "send Ana the renewal numbers for last year"


@pytest.mark.parametrize(
    ("request_text", "answer"),
    [
        ("Can you review my new shift schedule by Thursday?", "Yes."),
        ("Would you mind reviewing my new shift schedule by Thursday?", "Happy to."),
        ("Please review my new shift schedule by Thursday.", "ok will do"),
        ("Review my new shift schedule for me. By Thursday.", "Consider it done."),
        ("would you be able to review my new shift schedule? thursday?", "no problem, thursday"),
        ("Could you review my new shift schedule by Thursday?", "Leave it with me."),
    ],
)
def test_request_forms_and_acceptances(request_text: str, answer: str) -> None:
    items = extract(f"ana: {request_text}", f"ben: {answer}")
    assert [(i.owner, i.due, i.evidence) for i in items] == [("ben", dt.date(2026, 3, 5), [0, 1])]
    assert "Ana's new shift schedule" in items[0].action


def test_acceptance_in_the_second_reply_after_a_clarifying_question() -> None:
    items = extract(
        "ana: Could you send me the supplier list?",
        "ben: The full one, with volumes?",
        "ana: Yes please.",
        "ben: Sure, tomorrow.",
    )
    assert [(i.owner, i.due, i.evidence) for i in items] == [("ben", dt.date(2026, 3, 5), [0, 3])]


@pytest.mark.parametrize(
    "answer",
    [
        "I am honoured, but I must decline this year; May is our congress month.",
        "No. That's your learning goal, not my task.",
        "Not this round.",
        "oof no I'm in Austin that day, sorry!!",
        "Anyway, how was the trip?",  # not answered
    ],
)
def test_declined_or_unanswered_requests_are_out(answer: str) -> None:
    assert extract("ana: Could you speak at our annual conference in May?", f"ben: {answer}") == []


def test_questions_answered_on_the_spot_are_not_requests() -> None:
    assert extract("ana: Can you explain accruals to me?", "ben: Sure, so an accrual is revenue earned...") == []
    assert extract("ana: can you hear me?", "ben: yes") == []


def test_joint_commitment_gives_one_item_per_owner() -> None:
    items = extract(
        "ben: proposal: we both write one learning goal by monday. one line each.",
        "ana: Agreed.",
    )
    assert sorted((i.owner, i.due, tuple(i.evidence)) for i in items) == [
        ("ana", dt.date(2026, 3, 9), (0, 1)),
        ("ben", dt.date(2026, 3, 9), (0, 1)),
    ]
    assert {i.action for i in items} == {"write one learning goal"}


def test_joint_date_can_come_from_the_acceptance() -> None:
    items = extract(
        "ana: let's both post one thing on LinkedIn before our next catch-up",
        "ben: Alright, I'm in. When is the next one, the 26th?",
    )
    assert sorted((i.owner, i.due) for i in items) == [("ana", dt.date(2026, 3, 26)), ("ben", dt.date(2026, 3, 26))]


def test_declared_joint_commitment_stands_unless_the_partner_objects() -> None:
    alone = extract("ana: We will both read the report by Friday.")
    assert sorted((i.owner, i.due, tuple(i.evidence)) for i in alone) == [
        ("ana", dt.date(2026, 3, 6), (0,)),
        ("ben", dt.date(2026, 3, 6), (0,)),
    ]
    confirmed = extract("ana: We will both read the report by Friday.", "ben: Yes, good plan.")
    assert {tuple(i.evidence) for i in confirmed} == {(0, 1)}
    assert extract("ana: We will both read the report by Friday.", "ben: No, I can't this week.") == []


def test_lets_with_action_and_date_is_joint_but_a_plain_decision_is_not() -> None:
    items = extract("ana: Let's send the board the costed proposal by the 20th.", "ben: Sounds good.")
    assert sorted(i.owner for i in items) == ["ana", "ben"]
    assert extract("ana: Let's meet every two weeks, on Wednesdays.", "ben: Sounds good.") == []
    assert extract("ana: Shall we make teaching the theme of our next sessions?", "ben: Yes.") == []


def test_retraction_in_the_same_turn() -> None:
    assert extract("ana: I'll email the chapter presidents... actually, no, scratch that, it should wait.") == []
    assert extract("ben: also I'll come to your book club tmrw, oh wait no I can't, sprint review") == []
    assert extract("ben: I'll call the union rep about it. No. HR owns that contact. Scratch that.") == []


def test_retraction_in_a_later_turn_removes_only_that_item() -> None:
    items = extract(
        "ben: I'll call the vendor tomorrow. And I'll send you the contract by Friday.",
        "ana: Great.",
        "ben: Actually, forget what I said about the vendor, Sam is doing it.",
    )
    assert [(i.owner, i.due) for i in items] == [("ben", dt.date(2026, 3, 6))]
    assert "contract" in items[0].action


@pytest.mark.parametrize(
    "text",
    [
        "Perhaps I shall look at the board memo if time allows.",
        "Might pair on the CSS thing at some point, not sure.",
        "maybe ill try the sql thing u showed me if i have time, no promises",
        "I'll think about applying for the assistant manager post.",
        "I'll try the tutorial you sent, if I have time this term.",
        "I could possibly write the blog post.",
    ],
)
def test_hedged_statements_are_out(text: str) -> None:
    assert extract(f"ana: {text}") == []


@pytest.mark.parametrize(
    "text",
    [
        "If the board approved it, I would hire a second coordinator.",
        "If we had any budget at all, I'd run a proper focus group.",
        "Were our board to approve a merger, I would lead the consolidation myself.",
        "I'd build a proper dashboard if we got Tableau licences.",
    ],
)
def test_hypothetical_statements_are_out(text: str) -> None:
    assert extract(f"ana: {text}") == []


@pytest.mark.parametrize(
    "text",
    [
        "I already sent you the link in an email last month.",
        "I did the SQL intro course. Not starting from zero.",
        "Last week I sent the report to the board.",
        "I already did the Canva course, so I'm not a total beginner.",
    ],
)
def test_past_actions_are_out(text: str) -> None:
    assert extract(f"ben: {text}") == []


def test_revised_date_updates_the_earlier_item() -> None:
    items = extract(
        "ben: ill have the incident summary done by monday",
        "ana: thx thats the one matron wants",
        "ben: wait actually make it wed, monday is audit day",
        "ana: wed is fine",
    )
    assert [(i.owner, i.due, i.evidence) for i in items] == [("ben", dt.date(2026, 3, 11), [0, 2])]


@pytest.mark.parametrize(
    "revision",
    [
        "Let me push that to the 25th.",
        "I'll need until the 25th instead.",
        "On reflection, the 25th is more realistic.",
        "Correction: draft agenda the 25th.",
    ],
)
def test_revision_forms(revision: str) -> None:
    items = extract("ana: I will send you the draft agenda by March 13.", "ben: Thanks.", f"ana: {revision}")
    assert [(i.owner, i.due, i.evidence) for i in items] == [("ana", dt.date(2026, 3, 25), [0, 2])]


def test_revision_in_the_same_turn() -> None:
    items = extract("ben: I'll send the slides Monday. Actually, can we make that Tuesday?", "ana: sure")
    assert [(i.owner, i.due, i.evidence) for i in items] == [("ben", dt.date(2026, 3, 10), [0])]


def test_revision_asked_by_the_partner_needs_the_owners_yes() -> None:
    items = extract(
        "ana: Would you write a short paragraph for our blog?",
        "ben: I will write the blog paragraph in two weeks.",
        "ana: Could you make it the 10th instead? The newsletter closes on the 10th.",
        "ben: OK, by the 10th I can do.",
    )
    assert [(i.owner, i.due, i.evidence) for i in items] == [("ben", dt.date(2026, 3, 10), [0, 1, 2, 3])]


def test_revision_of_a_joint_item_moves_both_owners() -> None:
    items = extract(
        "ana: Shall we each draft a one-page note on volunteer burnout by the 20th?",
        "ben: Agreed.",
        "ana: Let's push that to the 27th, the board meets on the 20th.",
    )
    assert sorted((i.owner, i.due) for i in items) == [("ana", dt.date(2026, 3, 27)), ("ben", dt.date(2026, 3, 27))]


@pytest.mark.parametrize("reply", ["Same for me.", "Me too!", "same here", "I'll do the same.", "As will I."])
def test_same_for_me_copies_the_partners_item(reply: str) -> None:
    items = extract("ana: I'm going to reread the Bourdieu article by next Monday.", f"ben: {reply}")
    assert [(i.owner, i.due, i.evidence) for i in items] == [
        ("ana", dt.date(2026, 3, 9), [0]),
        ("ben", dt.date(2026, 3, 9), [0, 1]),
    ]
    assert items[0].action == items[1].action == "reread the Bourdieu article"


def test_same_for_me_with_its_own_date() -> None:
    items = extract("ana: I will complete the bias module by the end of the month.", "ben: Me too, but by Friday.")
    assert [(i.owner, i.due) for i in items] == [("ana", dt.date(2026, 3, 31)), ("ben", dt.date(2026, 3, 6))]


def test_same_without_a_fresh_partner_item_is_nothing() -> None:
    assert extract("ana: I'm exhausted this week.", "ben: Same here.") == []


def test_pronoun_object_is_resolved_from_the_conversation() -> None:
    items = extract("ana: There is also the Bourdieu article on academic capital. I'm going to reread it by Friday.")
    assert items[0].action == "reread the Bourdieu article on academic capital"


def test_any_number_of_participants_and_unknown_speakers() -> None:
    team = [Participant(id=pid, name=pid.title()) for pid in ("pm", "designer", "marketing")]
    items = extract(
        "pm: Could you send me the component costs by Friday?",
        "designer: Sure, will do.",
        "visitor: I'll bring the prototype tomorrow.",
        "marketing: I will circulate the trend report tomorrow.",
        participants=team,
    )
    assert [(i.owner, i.evidence) for i in items] == [("designer", [0, 1]), ("marketing", [3])]


def test_ids_are_stable_and_unique() -> None:
    lines = ("ana: I'll send you the deck by Friday.", "ben: I will draft the map by March 13.")
    first, second = extract(*lines), extract(*lines)
    assert [i.id for i in first] == [i.id for i in second]
    assert len({i.id for i in first}) == 2
    assert first[0].id == commitment_id("ana", first[0].action, 0)


def test_transcription_marks_and_emoji_do_not_leak_into_actions() -> None:
    items = extract("ana: um {disfmarker} I'll send you the uh deck tomorrow 🙏 <laugh/>")
    assert [(i.action, i.due) for i in items] == [("send Ben the deck", dt.date(2026, 3, 5))]


# -- validation of model output -------------------------------------------------------------------------------

CONVERSATION = turns(
    "ana: Would you be able to send me that deck? I should like to study it.",
    "ben: Certainly. I will send it to you by Friday, with a note on the retention curves.",
    "ana: And I will draft the stakeholder map for the spring campaign by March 13.",
    "ben: My director will circulate the revised budget shortly.",
)


def validate(*items: Commitment) -> tuple[list[Commitment], list[Commitment]]:
    return validate_commitments(list(items), CONVERSATION, PAIR, SESSION)


def test_valid_model_items_pass_unflagged() -> None:
    ok, bad = validate(
        Commitment(owner="ben", action="send Ana the deck", due=dt.date(2026, 3, 6), evidence=[0, 1]),
        Commitment(
            owner="ana", action="draft the spring campaign stakeholder map", due=dt.date(2026, 3, 13), evidence=[2]
        ),
    )
    assert bad == []
    assert [(i.owner, i.flags, i.confirmed) for i in ok] == [("ben", [], False), ("ana", [], False)]
    assert all(i.id for i in ok)


def test_non_participant_owner_is_flagged() -> None:
    ok, bad = validate(Commitment(owner="director", action="circulate the revised budget", evidence=[3]))
    assert ok == []
    assert any("not a participant" in flag for flag in bad[0].flags)


def test_out_of_range_evidence_is_flagged() -> None:
    ok, bad = validate(Commitment(owner="ben", action="send Ana the deck", evidence=[1, 42]))
    assert ok == []
    assert any("42" in flag and "do not exist" in flag for flag in bad[0].flags)


def test_action_not_supported_by_its_evidence_is_flagged() -> None:
    ok, bad = validate(Commitment(owner="ben", action="book the venue for the spring gala", evidence=[1]))
    assert ok == []
    assert any("do not mention the action" in flag for flag in bad[0].flags)


def test_evidence_not_by_the_owner_is_flagged() -> None:
    ok, bad = validate(Commitment(owner="ana", action="circulate the revised budget", evidence=[3]))
    assert ok == []
    assert any("no evidence turn is by ana" in flag for flag in bad[0].flags)


def test_wrong_date_is_corrected_and_flagged() -> None:
    ok, bad = validate(Commitment(owner="ben", action="send Ana the deck", due=dt.date(2026, 3, 9), evidence=[0, 1]))
    assert bad == []
    assert ok[0].due == dt.date(2026, 3, 6)
    assert ok[0].flags and "due corrected from 2026-03-09 to 2026-03-06" in ok[0].flags[0]


def test_missing_date_stated_by_the_owner_is_added_and_flagged() -> None:
    ok, _ = validate(Commitment(owner="ana", action="draft the stakeholder map", evidence=[2]))
    assert ok[0].due == dt.date(2026, 3, 13)
    assert "due added" in ok[0].flags[0]


def test_date_before_the_session_is_rejected() -> None:
    ok, bad = validate(
        Commitment(owner="ana", action="draft the stakeholder map", due=dt.date(2026, 1, 2), evidence=[0, 2])
    )
    assert ok == []
    assert any("before the session date" in flag for flag in bad[0].flags)


def test_near_identical_items_are_merged() -> None:
    ok, bad = validate(
        Commitment(owner="ben", action="send Ana the deck", due=dt.date(2026, 3, 6), evidence=[1]),
        Commitment(owner="ben", action="Send Ana the deck.", due=dt.date(2026, 3, 6), evidence=[0, 1]),
    )
    assert bad == []
    assert [(i.owner, i.evidence) for i in ok] == [("ben", [0, 1])]


def test_model_cannot_mark_items_confirmed() -> None:
    ok, _ = validate(Commitment(owner="ben", action="send Ana the deck", evidence=[1], confirmed=True))
    assert ok[0].confirmed is False


# -- metrics and the labelled transcripts ---------------------------------------------------------------------


def test_match_is_one_to_one_and_needs_the_owner() -> None:
    expected = [
        Expected("ben", "send Ana the TikTok deck", dt.date(2026, 3, 6), (6, 7), "accepted_request"),
        Expected("ana", "draft the stakeholder map", None, (12,), "simple"),
    ]
    predicted = [
        Commitment(owner="ben", action="send the deck", evidence=[7]),
        Commitment(owner="ben", action="send the deck again", evidence=[7]),
        Commitment(owner="ben", action="draft the stakeholder map", evidence=[12]),
    ]
    assert match(predicted, expected) == [(0, 0)]
    assert match(predicted, expected, require_owner=False) == [(0, 0), (2, 1)]


@pytest.fixture(scope="module")
def labelled() -> list:
    cases = load_cases(DEFAULT_FOLDER)
    if not cases:
        pytest.fail(f"no labelled transcripts in {DEFAULT_FOLDER}")
    return cases


def test_labelled_transcripts_f1_and_due_accuracy(labelled: list) -> None:
    result = score(labelled, extract_commitments)
    assert result["f1"] >= 0.90, result
    assert result["due_accuracy"] >= 0.90, result
    assert result["owner_accuracy"] >= 0.95, result


def test_metrics_report_runs(labelled: list, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(DEFAULT_FOLDER)]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "accepted_request" in out


# -- real meetings nobody here wrote --------------------------------------------------------------------------


def _check_robust(items: list[Commitment], turn_list: list[Turn], participants: list[Participant]) -> None:
    ids = {p.id for p in participants}
    assert {i.owner for i in items} <= ids
    for item in items:
        assert item.evidence and all(0 <= i < len(turn_list) for i in item.evidence)
        assert turn_list[max(item.evidence)].speaker in ids
        assert item.action and item.id and item.confirmed is False
        assert item.due is None or item.due >= SESSION


def test_qmsum_meetings_are_handled(shared_data: Path) -> None:
    """Long recorded meetings (600+ turns) come through whole; how fast is a benchmark's business, not a test's."""
    meetings = [json.loads(line) for line in (shared_data / "qmsum_ami" / "meetings.jsonl").read_text().splitlines()]
    long_ones = 0
    for meeting in meetings:
        transcript = meeting["meeting_transcripts"]
        names = list(dict.fromkeys(t["speaker"] for t in transcript))
        participants = [Participant(id=slug(name), name=name) for name in names]
        turn_list = [Turn(index=i, speaker=slug(t["speaker"]), text=t["content"]) for i, t in enumerate(transcript)]
        items = extract_commitments(turn_list, participants, SESSION)
        _check_robust(items, turn_list, participants)
        long_ones += len(turn_list) >= 600
    assert long_ones >= 1


def test_elitr_meetings_are_handled(shared_data: Path, tmp_path: Path) -> None:
    """ELITR transcripts ('(PERSON3) text' lines) from the password-protected zip, unpacked only into tmp_path."""
    with zipfile.ZipFile(shared_data / "elitr" / "elitr_sample.zip") as archive:
        archive.extract("elitr_meetings.jsonl", tmp_path, pwd=b"utter")
    for line in (tmp_path / "elitr_meetings.jsonl").read_text(encoding="utf-8").splitlines():
        turn_list: list[Turn] = []
        speaker = "unknown"
        for raw in json.loads(line)["transcript"].splitlines():
            labelled_line = re.match(r"^\((PERSON\d+)\)\s*(.*)$", raw)
            speaker, text = (labelled_line[1].lower(), labelled_line[2]) if labelled_line else (speaker, raw)
            if text.strip():
                turn_list.append(Turn(index=len(turn_list), speaker=speaker, text=text))
        participants = [Participant(id=pid, name=pid.upper()) for pid in sorted({t.speaker for t in turn_list})]
        items = extract_commitments(turn_list, participants, SESSION)
        _check_robust(items, turn_list, participants)


def test_blind_set_stays_above_its_measured_floor() -> None:
    """Written blind before tuning (evals/datasets/commitments_blind); measured F1 0.77-0.78, due-date 0.88, with 4
    retracted items surviving. A floor against regressions, not a target."""
    result = score(load_cases(DEFAULT_FOLDER.parent / "commitments_blind"), extract_commitments)
    assert result["f1"] >= 0.75
    assert result["due_accuracy"] >= 0.85
    assert result["distractor_fp"].get("retracted", 0) <= 4
    # the second blind set (natural sessions, session 15): F1 0.644, due 0.759, 3 retracted surviving
    second = score(load_cases(DEFAULT_FOLDER.parent / "commitments_blind2"), extract_commitments)
    assert second["f1"] >= 0.62 and second["due_accuracy"] >= 0.74
    assert second["distractor_fp"].get("retracted", 0) <= 3


def test_tuning_sets_stay_where_tuning_left_them() -> None:
    """In-sample figures (u, v, h, w sets): measured F1 0.927, 0.908, 0.929, 0.971."""
    sets = (
        ("commitments_tune", 0.9),
        ("commitments_tune2", 0.88),
        ("heldout", 0.9),
        ("commitments_tune3", 0.95),
        ("commitments_tune6", 0.9),  # 0.930 after session 15 (0.667 on its first run)
        ("commitments_tune7", 0.84),  # 0.863 after session 15 (0.781 on its first run; due 0.732 -> 0.932)
    )
    for folder, floor in sets:
        assert score(load_cases(DEFAULT_FOLDER.parent / folder), extract_commitments)["f1"] >= floor, folder


# -- the package's stages ---------------------------------------------------------------------------------------


def test_shared_stop_word_lexicon_has_disjoint_tiers_shipped_in_the_package() -> None:
    from importlib.resources import files

    from facilitator import lexicon

    assert files("facilitator").joinpath("data/stopwords.txt").is_file()  # inside the package dir: in the wheel
    tiers = lexicon.sections()
    assert set(tiers) == {"core", "function", "chat", "speech"}
    names = list(tiers)
    assert all(not tiers[a] & tiers[b] for i, a in enumerate(names) for b in names[i + 1 :])  # each word listed once
    assert tiers["core"] == lexicon.STOP_WORDS
    assert lexicon.STOP_WORDS < lexicon.FUNCTION_WORDS
    assert {"the", "with", "would"} <= lexicon.STOP_WORDS and "a" not in lexicon.STOP_WORDS  # core: 3+ letters
    assert {"lol", "u"} <= lexicon.CHAT_WORDS and {"basically", "kind"} <= lexicon.SPEECH_WORDS
    assert lexicon.sections() is tiers  # read once


def test_stop_word_sections_parse_and_refuse_words_outside_a_section() -> None:
    from facilitator.lexicon import parse_sections

    assert parse_sections("# note\n[a]\nx Y  # comment\n\n[b]\nz\n[a]\nw") == {
        "a": frozenset({"x", "y", "w"}),
        "b": frozenset({"z"}),
    }
    with pytest.raises(ValueError, match="line 1: words before the first"):
        parse_sections("stray\n[a]\nx")


def test_extractor_lexicon_loads_once_and_keeps_phrase_order() -> None:
    from facilitator.commitments.lexicon import load
    from facilitator.lexicon import CHAT_WORDS, FUNCTION_WORDS

    lex = load()
    assert load() is lex
    assert lex.stop_words == FUNCTION_WORDS | CHAT_WORDS
    assert {"send", "draft", "review"} <= lex.deliverable_verbs and "think" in lex.stative_verbs
    assert lex.fillers.index("make sure that i") < lex.fillers.index("make sure i")  # tried in file order
    assert "yes" in lex.trailing_words  # a YAML list item "yes" stays a word, not True


def test_extractor_lexicon_names_a_missing_or_unknown_key() -> None:
    from importlib.resources import files

    from facilitator.commitments.lexicon import parse

    text = files("facilitator.commitments").joinpath("lexicon.yaml").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing keys \['vague'\]"):
        parse(text.replace("vague:", "vaguer:"))
    with pytest.raises(ValueError, match="lexicon key 'fillers'"):
        parse(text.replace('  - "also"', "  - 3", 1))  # a phrase list holds strings only


def test_cues_split_sentences_and_find_first_person_cues() -> None:
    from facilitator.commitments import cues

    assert cues.split_sentences("Sure. I'll send it - by Friday... ok") == [
        (0, "Sure."),
        (6, "I'll send it"),
        (21, "by Friday"),
        (34, "ok"),
    ]
    assert [c[2] for c in cues.find_cues("i'll send it and let me book the room")] == ["i'll", "let me"]
    assert [c[2] for c in cues.find_cues("ok so will draft the plan")] == ["will"]
    assert [c[2] for c in cues.find_cues("i send the notes tomorrow")] == ["present"]
    assert cues.find_cues("i read the notes") == []  # "read" may be past
    assert cues.first_word_after("just go ahead and   book it") == "book"
    assert cues.alternation(["as well", "i'm"]) == r"as\s+well|i'm"


def test_text_helpers_keep_offsets_and_drop_stop_words() -> None:
    from facilitator.commitments.text import base_form, content_words, near_duplicate, plain

    assert plain("I’ll SEND 👍 İt") == "i'll send   İt"  # same length as the input
    assert content_words("I'll send you the team's notes, lol") == ["i'll", "send", "team", "notes"]
    assert [base_form(w) for w in ("sending", "making", "running", "calling", "ring")] == [
        "send",
        "make",
        "run",
        "call",
        "ring",
    ]
    assert near_duplicate("Send Ana the deck", "send the deck to Ana")


def test_wording_rewrites_a_request_from_the_owners_side() -> None:
    from facilitator.commitments.wording import Wording, display_name, noun_phrase

    wording = Wording(PAIR, SESSION)
    assert wording.speaker_id(" Ana Ruiz ") == "ana" and wording.speaker_id("carol") is None
    assert wording.action("just send me your notes by Friday, thanks", "ben", requester="ana") == "send Ana my notes"
    assert wording.action("share your slides with me too", "ana") == "share Ben's slides with me"
    assert noun_phrase("That is the plan for the launch we agreed") == "the plan for the launch"
    assert display_name(Participant(id="chau", name="Dang Minh Châu")) == "Châu"


def test_ledger_merges_restated_items_and_dates_a_joint_group() -> None:
    from facilitator.commitments.ledger import Ledger
    from facilitator.commitments.state import Draft, TurnState

    ledger, state = Ledger(SESSION), TurnState()
    ledger.add(Draft("ana", "send the deck", None, [1], 1, "simple"), state)
    ledger.add(Draft("ana", "send the deck to Ben", dt.date(2026, 3, 6), [3], 3, "simple"), state)
    assert [(d.due, d.evidence) for d in ledger.drafts] == [(dt.date(2026, 3, 6), [1, 3])]  # one item, re-dated
    pair = [Draft(owner, "read the paper", None, [4], 4, "joint", group=1) for owner in ("ana", "ben")]
    for draft in pair:
        ledger.add(draft, state)
    ledger.set_due(pair[0], dt.date(2026, 3, 9), [5])
    assert [(d.due, d.evidence) for d in pair] == [(dt.date(2026, 3, 9), [4, 5])] * 2
    ledger.drop_group(pair[1])
    assert [d.alive for d in ledger.drafts] == [True, False, False]


def test_rule_groups_claim_their_sentences() -> None:
    from facilitator.commitments.ledger import Ledger
    from facilitator.commitments.linking import Linking
    from facilitator.commitments.revisions import Revisions
    from facilitator.commitments.state import Sentence, TurnState
    from facilitator.commitments.statements import Statements
    from facilitator.commitments.text import plain
    from facilitator.commitments.wording import Wording

    ledger, wording = Ledger(SESSION), Wording(PAIR, SESSION)
    linking, revisions, statements = Linking(ledger, wording), Revisions(ledger, wording), Statements(ledger, wording)

    def said(turn: int, speaker: str, text: str) -> Sentence:
        sentence = Sentence(turn, speaker, text, plain(text), 0)
        ledger.sentences[turn] = [sentence]
        return sentence

    statements.statements(said(0, "ana", "I'll draft the agenda by Friday."), TurnState())
    assert [(d.owner, d.action, d.due) for d in ledger.drafts] == [("ana", "draft the agenda", dt.date(2026, 3, 6))]
    assert linking.request(said(1, "ana", "Could you book the room for Monday?"))
    assert [p.kind for p in ledger.pending] == ["request"]
    linking.answer_pending(2, "ben", [said(2, "ben", "Sure, will do.")], TurnState())
    accepted = ledger.drafts[-1]
    assert (accepted.owner, accepted.action, accepted.evidence) == ("ben", "book the room", [1, 2])
    assert not ledger.pending
    assert revisions.revision(said(3, "ana", "Make the agenda Thursday instead."), TurnState())
    assert ledger.drafts[0].due == dt.date(2026, 3, 5)
    assert revisions.retraction(said(4, "ana", "Scratch that, forget the agenda."), TurnState())
    assert not ledger.drafts[0].alive and ledger.drafts[0].retracted_at == 4


def test_validation_flags_evidence_and_reads_stated_dates() -> None:
    from facilitator.commitments.validation import evidence_flags, stated_dates

    ts = turns("ana: Could you send me the notes?", "ben: Sure, I'll send them Friday.")
    item = Commitment(owner="ben", action="send the notes", evidence=[0, 7])
    assert evidence_flags(item, ts, "ben", {"ana", "ben"}) == [
        "evidence turn(s) [7] do not exist (the transcript has 2 turns)"
    ]
    assert evidence_flags(item.model_copy(update={"evidence": [0]}), ts, "ben", {"ana", "ben"}) == []  # accepted
    assert stated_dates(ts, [0, 1], SESSION) == [dt.date(2026, 3, 6)]


def test_no_rule_function_or_class_is_a_monster() -> None:
    """Issue #14: every function of the package reads on one screen; no class holds the whole extractor."""
    import ast

    folder = Path(__file__).resolve().parents[1] / "facilitator" / "commitments"
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                limit = 250 if isinstance(node, ast.ClassDef) else 60
                assert size <= limit, f"{path.name}: {node.name} has {size} lines"


# -- session 13: what a QA session and commitments_tune5 showed ------------------------------------------------


def test_forgetting_a_date_and_bringing_the_item_later_moves_it() -> None:
    """ "Forget the Thursday exercises, I'll bring them to the next session instead" is the accepted item, moved:
    not withdrawn, and not a new item worded "bring them ... instead"."""
    ts = turns(
        "ana: Can you send me two more exercises on left joins by Friday?",
        "ben: Sure, I'll send them Thursday evening.",
        "ana: Great, thanks.",
        "ben: Actually, forget the Thursday exercises, I'll bring them to the next session instead.",
    )
    items = extract_commitments(ts, PAIR, SESSION, next_meeting=dt.date(2026, 3, 11))
    assert [(i.owner, i.due, i.evidence) for i in items] == [("ben", dt.date(2026, 3, 11), [0, 1, 3])]
    assert "left joins" in items[0].action and "instead" not in items[0].action


def test_an_act_offered_in_return_is_for_later() -> None:
    """ "In return, I'll show you how ..." is a co-mentoring offer, not a show-and-tell on the spot."""
    items = extract(
        "ben: I'll redo the occupancy chart with the weekly view by Friday.",
        "ana: Good. In return, I'll show you how I present staffing numbers to the board.",
    )
    assert [(i.owner, i.action) for i in items][1] == ("ana", "show Ben how I present staffing numbers to the board")
    assert extract("ana: I'll show you how I present staffing numbers to the board.") == []  # on the spot


def test_a_date_opening_the_next_sentence_dates_the_item() -> None:
    (item,) = extract("ben: I'll book the airside driving course. Thursday, the online booking opens then.")
    assert item.due == dt.date(2026, 3, 5)


def test_asking_a_colleague_to_make_something_revises_no_other_item() -> None:
    """ "I ask Dorin to make the forklift rota" names no item: the partner's recent item keeps its date."""
    items = extract(
        "ana: In return, I will show you how we grade the bales. Monday at seven, before the line starts.",
        "ben: Seven on Monday. Okay.",
        "ana: I ask Dorin to make the forklift rota — no, wait, Dorin is on holiday until the 20th. "
        "I make the forklift rota myself. Until Friday.",
    )
    dates = {i.action.split()[0]: i.due for i in items}
    assert dates == {"show": dt.date(2026, 3, 9), "make": dt.date(2026, 3, 6)}


def test_a_condition_on_this_or_that_thing_is_not_politeness() -> None:
    assert extract("ana: If this batch doesn't blue properly I'll have words with the supplier.") == []
    (item,) = extract("ana: If that's ok, I'll send the rota on Friday.")
    assert item.due == dt.date(2026, 3, 6)


_TEMPLATE = "ana: I'll send you the budget template by Friday."
_SMALL_TALK = ("ben: Great, that helps.", "ana: So how is the new team?", "ben: Slowly. Two are on induction.")


@pytest.mark.parametrize(
    "retraction",
    [
        ("ana: You know what, I'm not going to do the template.",),
        ("ana: I can't do the budget template after all, sorry.",),
        ("ana: Wait, I'm not sending the template, you already have it.",),
        ("ana: We don't need the template, so I won't bother.",),
        ("ana: Budget template: dropped.",),
        ("ben: Can we drop the budget template?", "ana: Yes, let's drop it."),
        ("ana: I changed my mind about the budget template.",),
        ("ben: You don't have to send the template.",),
        ("ben: Don't send the template, I've got one.",),
        ("ana: Forget I mentioned the template.",),
        ("ana: I won't be sending the template.",),
        ("ana: I've decided not to do the template.",),
        ("ana: I'd rather not do the template after all.",),
        ("ana: I think I'll leave the template.",),
        ("ana: So, no template then.",),
        ("ana: Do I really have to do the template?", "ben: No, not really."),
        ("ben: Is the template still happening?", "ana: No, I dropped it."),
        ("ana: Hmm, the template. Let's not.",),
        ("ana: I'm going to let the template go.",),
        ("ana: Actually, don't worry about the budget template, I'll skip it.",),
    ],
)
@pytest.mark.parametrize("later", [False, True])
def test_a_retraction_in_other_words_withdraws_the_item(retraction: tuple[str, ...], later: bool) -> None:
    """Phrasings of "not doing it after all", at once and three turns later: the item is withdrawn and nothing new
    ("skip the budget template") takes its place."""
    assert extract(_TEMPLATE, *(_SMALL_TALK if later else ()), *retraction) == []


@pytest.mark.parametrize(
    "reply",
    [
        ("ana: I'm not sending the template until I've checked it with finance.",),
        ("ana: I'm not going to send the template without your numbers.",),
        ("ben: I don't need the template to be perfect.",),
        ("ben: Can we drop the budget template?", "ana: No, I'd rather keep it."),
        ("ana: I can't do the budget template after all, but I'll do it next week.",),
        ("ben: Don't forget the template!",),
        ("ben: Don't change the template, it's fine.",),
        ("ana: Let the template go to Priya first.",),
        ("ben: Do I really have to fill in the template?", "ana: Yes, sorry."),
        ("ana: I'm not going to lie, the template took ages.",),
    ],
)
def test_talk_about_the_item_that_keeps_it_does_not_withdraw_it(reply: tuple[str, ...]) -> None:
    assert any("template" in item.action for item in extract(_TEMPLATE, *reply))


@pytest.mark.parametrize(
    "request_line",
    [
        "I'd love a copy of the rota template by Friday, if you can.",
        "Is there any way you could get me the rota template by Friday?",
        "Could you send me the rota template by Friday?",
    ],
)
@pytest.mark.parametrize(
    "reply",
    [
        "Sure.",
        "Hmm. Friday. Let me think. Yes, okay, Friday works.",
        "Oh, the rota template. That thing is a mess, honestly. But yes, I'll send it.",
        "For you, anything. Friday it is.",
        "That I can do.",
        "Friday's fine.",
        "I don't see why not.",
    ],
)
def test_a_request_in_other_words_accepted_in_other_words_is_the_acceptors_item(request_line: str, reply: str) -> None:
    (item,) = extract(f"ana: {request_line}", f"ben: {reply}")
    assert (item.owner, item.due) == ("ben", dt.date(2026, 3, 6)) and "rota template" in item.action


def test_mulling_a_request_over_and_refusing_is_no_item() -> None:
    request = "ana: Could you send me the rota template by Friday?"
    assert extract(request, "ben: Hmm. No. Sorry. Okay, maybe later.") == []


@pytest.mark.parametrize(
    ("reply", "thing"),
    [
        ("I'm going to do that too.", "onboarding guide"),
        ("Oh, I'll join you on that.", "onboarding guide"),
        ("Count me in on that.", "onboarding guide"),
        ("And me.", "onboarding guide"),
        ("I'll do the same with the induction checklist.", "induction checklist"),
    ],
)
def test_same_for_me_in_other_words_copies_the_item(reply: str, thing: str) -> None:
    items = extract("ana: I'll read the onboarding guide by Friday.", f"ben: {reply}")
    (copied,) = [i for i in items if i.owner == "ben"]
    assert copied.action == f"read the {thing}" and copied.due == dt.date(2026, 3, 6)


def test_an_acceptor_naming_what_the_request_pointed_at_words_the_item() -> None:
    items = extract(
        "ana: Can you do that for me by Friday?",
        "ben: The handover checklist? Yes, I'll do the handover checklist.",
    )
    assert [(i.owner, i.action) for i in items] == [("ben", "do the handover checklist")]


def test_doing_that_takes_the_task_the_partner_said_someone_needs_to_do() -> None:
    (item,) = extract(
        "ben: The training budget. Someone needs to chase finance about it.", "ana: I'll do that by Friday."
    )
    assert item.action == "chase finance about the training budget"


def test_a_possessive_takes_the_head_of_the_phrase_not_what_it_looks_like() -> None:
    (item,) = extract("ben: Our exit interview figures look odd.", "ana: I'll check ours against yours by Friday.")
    assert item.action == "check our figures against Ben's"


@pytest.mark.parametrize(
    ("lines", "due"),
    [
        (("ben: Let's both read the guidance before our next session.", "ana: Yes, and I'm off Thursday."), "next"),
        (("ana: I'll send you the audit. End of next week at the latest.",), "2026-03-13"),
        (("ana: I'll send you the audit - Thursday-ish.",), "2026-03-05"),
        (("ana: I'll send you the audit ahead of next session.",), "next"),
    ],
)
def test_dates_said_around_the_item(lines: tuple[str, ...], due: str) -> None:
    """An aside about the partner's diary does not date a joint item; a dateline, "-ish" and "ahead of next
    session" do date it."""
    following = dt.date(2026, 3, 18)
    items = extract_commitments(turns(*lines), PAIR, SESSION, next_meeting=following)
    assert items and {i.due for i in items} == {following if due == "next" else dt.date.fromisoformat(due)}


def test_asking_if_is_an_item_and_a_dated_conditional_one_too() -> None:
    (item,) = extract("ana: I'll ask Dr. Salminen if Mateo can train with his shoulder.")
    assert item.action.startswith("ask Dr. Salminen if Mateo")
    (dated,) = extract("ana: I'll send the deck on Friday if the board approves it.")
    assert dated.due == dt.date(2026, 3, 6)


# A review of this session's rules: ordinary talk each new rule first got wrong (withdrawing, accepting, copying,
# wording or dating what it should not). Each case names what must come out.
_REVIEWED = [  # (turns, a substring of some item, or None: no item)
    (
        [
            "ana: Could you read the draft report by Friday?",
            "ben: Sure, I'll read the draft report by Friday.",
            "ana: Thanks. You don't have to read the whole report, just the summary.",
        ],
        "report",
    ),
    (
        [
            "ben: I'll send you the budget template by Friday.",
            "ana: Can we drop the budget template?",
            "ben: Hmm. No, let's not.",
        ],
        "template",
    ),
    (
        [
            "ben: I'll send you the budget template by Friday.",
            "ana: So no budget template then?",
            "ben: No, it's still on, Friday.",
        ],
        "template",
    ),
    (
        ["ben: I'll run the workshop on Friday.", "ana: Is the workshop still on?", "ben: No worries, it's still on."],
        "workshop",
    ),
    (
        [
            "ben: I'll take the budget template to finance by Friday.",
            "ana: Great.",
            "ben: Oh, the budget template's dropped off at reception already, by the way.",
        ],
        "template",
    ),
    (
        ["ben: I'll get quotes for the printer by Friday.", "ana: Okay. The printer price is dropped now, apparently."],
        "printer",
    ),
    (
        [
            "ana: I'll print the handouts by Friday.",
            "ben: Great.",
            "ana: I'll leave the printed handouts outside your office.",
        ],
        "handouts",
    ),
    (
        [
            "ana: I'll email the interns about the rota by Friday.",
            "ben: Great.",
            "ana: If it's quiet we should let the interns go home early.",
        ],
        "interns",
    ),
    (
        [
            "ben: I'll write the grant report by Friday.",
            "ana: Great.",
            "ben: I'm not going to write the grant report myself, Sam will help.",
        ],
        "grant report",
    ),
    (
        [
            "ben: I'll review the grant proposal by Friday.",
            "ana: Great.",
            "ben: I'm not reviewing the whole grant proposal, just the methods.",
        ],
        "grant proposal",
    ),
    (
        [
            "ben: I'll send you the budget template by Friday.",
            "ana: Great.",
            "ben: Honestly, I'm not going to make the budget template deadline.",
        ],
        "template",
    ),
    (
        [
            "ana: I'll book the meeting room for Thursday.",
            "ben: I'm ill on Thursday.",
            "ana: Okay, no meeting then. Let's do Monday.",
        ],
        "room",
    ),
    (
        [
            "ana: Could you send me the budget template by Friday?",
            "ben: Hmm. Friday. Sure would be nice. But I'm away, so no.",
        ],
        None,
    ),
    (["ana: Could you send me the budget template by Friday?", "ben: Hmm. Friday. Okay, I really can't, sorry."], None),
    (["ana: Could you send me the budget template by Friday?", "ben: Friday. Hmm. Yeah, no, that won't happen."], None),
    (["ana: I'd love a coffee before we start, please.", "ben: Sure."], None),
    (["ana: I'd like the next meeting to be shorter, if you can.", "ben: Okay."], None),
    (
        ["ana: I'll send the paper to the whole group by Friday.", "ben: Nice, I'm going to read it too."],
        "read the paper",
    ),
    (["ana: I'll send the draft to Dr. Lee by Friday.", "ben: And me?"], "draft"),
    (["ana: Somebody should email your committee about the new date.", "ben: I'll do that."], "committee"),
    (
        [
            "ben: I'll send the survey to the volunteers by Friday.",
            "ana: Okay.",
            "ben: Forget the survey, I'll call them instead next week.",
        ],
        "call",
    ),
    (
        [
            "ben: I'll send you the budget template by Friday.",
            "ana: Great.",
            "ben: Actually, let's make the deadline Thursday.",
        ],
        "2026-03-05",
    ),
    (
        [
            "ben: I'll send you the draft by Friday.",
            "ana: Okay.",
            "ben: Friday's out, so instead I'll send it on Monday.",
        ],
        "2026-03-09",
    ),
    (
        [
            "ben: I'll send you the budget template. Monday, I'm in clinic all day, so probably later in the week.",
            "ana: Fine.",
        ],
        "None",
    ),
    (["ben: In return, I'll tell you what I learned at my last review: prepare examples."], None),
    (["ana: I'll send you the budget template, and if there's time we can go through it together."], "template"),
    (["ana: I'll review your chapter and let you know if it needs more work."], "chapter"),
    (["ana: I'll look at the data and see if the trend holds."], "data"),
]


@pytest.mark.parametrize(("lines", "wanted"), _REVIEWED)
def test_ordinary_talk_the_new_rules_first_got_wrong(lines: list[str], wanted: str | None) -> None:
    items = extract(*lines)
    shown = [" ".join((i.owner, i.action, str(i.due))) for i in items]
    assert (not items) if wanted is None else any(wanted in line for line in shown), shown


def test_a_day_turned_down_in_the_answer_does_not_date_the_item() -> None:
    (item,) = extract("ana: Could you review the budget by Thursday?", "ben: Thursday's no good for me. Friday's fine.")
    assert (item.owner, item.due) == ("ben", dt.date(2026, 3, 6))


# Session 15: shapes of ordinary talk the extractor got wrong (each names the one item that must come out, as
# (owner, action, due), or no item).
_SESSION_15 = [
    (
        ["ana: The rota and the handover sheet are both wrong.", "ben: Ugh. I'll redo both by Friday."],
        [("ben", "redo the rota and the handover sheet", "2026-03-06")],
    ),
    (
        [
            "ana: The rota, the handover sheet and the key log are all out of date.",
            "ben: I'll check all three of them before Friday.",
        ],
        [("ben", "check the rota, the handover sheet and the key log", "2026-03-06")],
    ),
    (
        ["ana: I'll send you the onboarding guide by Friday.", "ben: Same with the checklist."],
        [("ana", "send Ben the onboarding guide", "2026-03-06")],  # asks for more, takes nothing on
    ),
    (
        ["ana: I'll send you the onboarding guide by Friday. Same with the checklist, Monday."],
        [("ana", "send Ben the onboarding guide", "2026-03-06"), ("ana", "send Ben the checklist", "2026-03-09")],
    ),
    (
        ["ana: I'll review the grant proposal by Friday.", "ben: Same with the budget."],
        [("ana", "review the grant proposal", "2026-03-06"), ("ben", "review the budget", "2026-03-06")],
    ),
    (["ana: The budget's tight this quarter.", "ben: I'll manage somehow."], []),
    (["ana: They want a new van.", "ben: I'll eat my hat if they approve it."], []),
    (["ana: Honestly, I'll believe it when I see it."], []),
    (
        [
            "ben: I'll call the supplier by Friday.",
            "ana: Great.",
            "ben: Can you take the supplier call instead of me?",
            "ana: Yes, I'll take it.",
        ],
        [("ana", "call the supplier", "2026-03-06")],
    ),
    (
        [
            "ben: I'll call the supplier by Friday.",
            "ana: Great.",
            "ben: Could you take the supplier call off my hands? I'm swamped.",
            "ana: Sure.",
        ],
        [("ana", "call the supplier", "2026-03-06")],
    ),
    (["ana: I'll send the survey by close of play tomorrow."], [("ana", "send the survey", "2026-03-05")]),
    (["ana: I'll send the survey first thing Monday."], [("ana", "send the survey", "2026-03-09")]),
    (["ana: I'll send the survey by the weekend."], [("ana", "send the survey", "2026-03-06")]),
    (["ana: I'll send the survey by close of play."], [("ana", "send the survey", "2026-03-04")]),
    (
        [
            "ben: I'll send you the volunteer hours in two weeks.",
            "ana: Thanks.",
            "ben: Oh no, Thursday's the volunteer fair. Can you give the towpath talk instead of me? Same day?",
            "ana: Yes, I'll give the towpath talk on Thursday.",
        ],
        [("ben", "send Ana the volunteer hours", "2026-03-18"), ("ana", "give the towpath talk", "2026-03-05")],
    ),
    (
        [
            "ben: Let's both go to the grower meeting. When is it?",
            "ana: The 28th, in the evening.",
            "ben: Right, we'll both go on the 28th then.",
        ],
        [("ben", "go to the grower meeting", "2026-03-28"), ("ana", "go to the grower meeting", "2026-03-28")],
    ),
    (
        ["ana: Oh, the propose-in-the-basket lady, can I call her?", "ben: Yes.", "ana: I'll ring her back today."],
        [("ana", "ring the propose-in-the-basket lady back", "2026-03-04")],
    ),
    (
        ["ben: I'll send the report after the audit on Tuesday, Wednesday at the latest."],
        [("ben", "send the report after the audit on Tuesday", "2026-03-11")],
    ),
]


@pytest.mark.parametrize(("lines", "wanted"), _SESSION_15)
def test_session_15_shapes(lines: list[str], wanted: list[tuple[str, str, str]]) -> None:
    got = [(i.owner, i.action, str(i.due)) for i in extract(*lines)]
    assert got == wanted


# Re-dating in the middle of other talk (commitments_tune7's natural sessions): the turn names the item, says why
# the old date fails, and a short sentence or a question gives the new one.
_RESCHEDULED = [
    (
        [
            "ana: I'll rewrite the cancellation email by Wednesday.",
            "ben: Great.",
            "ana: And actually, the cancellation email, I won't have it by Wednesday, sorry. Friday?",
            "ben: Friday's fine.",
        ],
        "2026-03-06",
    ),
    (
        [
            "ben: I'll send you the queue data on Friday.",
            "ana: Thanks.",
            "ben: Oh, bad news about the queue data. IT take it down on Friday, I can't pull it. Monday, first thing.",
            "ana: Monday is fine.",
        ],
        "2026-03-09",
    ),
    (
        [
            "ben: I'll set up a board for the bugs tomorrow.",
            "ana: Great.",
            "ana: Oh wait, the board for the bugs, can you do it Thursday instead? I want to sit with you.",
            "ben: Yes, Thursday works better.",
        ],
        "2026-03-05",
    ),
    (
        [
            "ana: I'll write the guide by Friday.",
            "ben: Lovely.",
            "ana: The guide, sorry, I said Friday, but I'm on training all day. Can the guide be Monday?",
            "ben: Monday is fine.",
        ],
        "2026-03-09",
    ),
    (
        [
            "ben: I'll prepare a guide to the search screen by Friday.",
            "ana: Good.",
            "ben: I'll produce the report of open cases before our next session.",
            "ana: Good.",
            "ana: And the search guide for Friday: could it instead come next Wednesday?",
            "ben: Certainly. I shall bring the guide then.",
        ],
        "2026-03-11",
    ),
    (
        [
            "ben: I'll register the hives again before the end of the month.",
            "ana: Fine.",
            "ana: Forget what I said about the workshop, it's cancelled. So you don't register tonight.",
            "ben: Okay.",
        ],
        "2026-03-31",
    ),
]


@pytest.mark.parametrize(("lines", "due"), _RESCHEDULED)
def test_an_item_re_dated_in_passing_takes_the_new_date_and_stays_one_item(lines: list[str], due: str) -> None:
    first = extract(*lines[:1])[0]
    items = [i for i in extract(*lines) if i.owner == first.owner and i.action == first.action]
    assert [str(i.due) for i in items] == [due]


# A review of session 15's rules against ordinary talk: what each first got wrong, and what must come out.
_REVIEWED_15 = [
    (
        [
            "ana: I'll send the invoice by Friday.",
            "ben: Okay.",
            "ana: Can you send the deck for me instead?",
            "ben: Sure.",
        ],
        ("ana", "send the invoice", "2026-03-06"),  # a shared verb hands nothing over
    ),
    (
        [
            "ana: I'll do the supplier call by Friday.",
            "ben: Okay.",
            "ana: Actually, can you take the supplier call off me?",
            "ben: Sure.",
        ],
        ("ben", "do the supplier call", "2026-03-06"),
    ),
    (
        [
            "ana: I'll send you the deck by Friday.",
            "ben: Could the deck be Monday instead? Jo will cover for me.",
            "ana: Sure.",
        ],
        ("ana", "send Ben the deck", "2026-03-09"),
    ),
    (["ana: I'll send you the deck by Friday.", "ben: Thanks.", "ana: And the weather's been lovely too."], None),
    (["ana: I'll send you the deck by Friday.", "ben: Thanks.", "ana: And the kids loved the zoo as well."], None),
    (
        ["ana: I'll send you the report by Friday.", "ben: Thanks. Sorry, my report for the board is due Monday."],
        ("ana", "send Ben the report", "2026-03-06"),
    ),
    (
        [
            "ana: I'll book the room for the workshop by Friday.",
            "ben: I can't make Thursday, sorry. The workshop is Monday.",
        ],
        ("ana", "book the room for the workshop", "2026-03-06"),
    ),
    (["ana: I'll send it after the meeting on Monday."], ("ana", "send it after the meeting", "2026-03-09")),
    (["ana: I'll sort out the last thing by Friday."], ("ana", "sort out the last thing", "2026-03-06")),
    (
        ["ana: Priya called about the rota. The supplier was rude too.", "ben: I'll ring her tomorrow."],
        ("ben", "ring Priya", "2026-03-05"),
    ),
    (
        [
            "ben: Let's both go to the grower meeting.",
            "ana: Yes, let's.",
            "ben: Great, we'll both go on the 28th then.",
        ],
        ("ana", "go to the grower meeting", "2026-03-28"),
    ),
]


@pytest.mark.parametrize(("lines", "wanted"), _REVIEWED_15)
def test_session_15_rules_leave_ordinary_talk_alone(lines: list[str], wanted: tuple[str, str, str] | None) -> None:
    got = [(i.owner, i.action, str(i.due)) for i in extract(*lines)]
    if wanted is None:
        assert len(got) == 1  # only the item made first
    else:
        assert wanted in got
        assert len(got) == len({(o, a) for o, a, _ in got})  # nothing doubled
