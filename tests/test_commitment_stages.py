"""The commitment pipeline stage by stage: sentences, referents (wording), retractions and revisions (linking),
dating, and what is not a commitment; plus the strict scorer that judges them."""

from __future__ import annotations

import datetime as dt

import pytest

from evals.commitment_metrics import Expected, bare_pronoun, match, names_object
from facilitator.commitments import cues, extract_commitments
from facilitator.commitments.referents import find_pronoun, person_in, resolve_referent, things_in
from facilitator.commitments.wording import noun_phrase
from facilitator.dates import resolve_due
from facilitator.models import Commitment, Participant, Turn

SESSION = dt.date(2026, 3, 4)  # a Wednesday
NEXT_MEETING = dt.date(2026, 3, 18)
PAIR = [Participant(id="ana", name="Ana Ruiz"), Participant(id="ben", name="Ben Okafor")]


def items(*lines: str, next_meeting: dt.date | None = None) -> list[tuple[str, str, dt.date | None]]:
    turns = []
    for i, line in enumerate(lines):
        speaker, text = line.split(":", 1)
        turns.append(Turn(index=i, speaker=speaker.strip(), text=text.strip()))
    return [(c.owner, c.action, c.due) for c in extract_commitments(turns, PAIR, SESSION, next_meeting)]


# -- sentences ----------------------------------------------------------------------------------------------------


def test_abbreviations_end_no_sentence_and_cut_no_action() -> None:
    text = "I'll ask Dr. Mensah about the rota, e.g. the weekend one. Then approx. 3 slots at St. Anne's!"
    assert [s for _, s in cues.split_sentences(text)] == [
        "I'll ask Dr. Mensah about the rota, e.g. the weekend one.",
        "Then approx. 3 slots at St. Anne's!",
    ]
    assert items("ana: I'll ask Dr. Mensah about the rota by Friday.") == [
        ("ana", "ask Dr. Mensah about the rota", dt.date(2026, 3, 6))
    ]


# -- wording: referents -------------------------------------------------------------------------------------------


def test_find_pronoun_tells_a_bare_pronoun_from_a_determiner() -> None:
    assert find_pronoun("send that report to Ben") is None
    found = find_pronoun("send that to Ben")
    assert found is not None and found.word == "that" and not found.person
    person = find_pronoun("email her and copy Lucy in")
    assert person is not None and person.person
    assert find_pronoun("book the room") is None


def test_things_in_a_sentence_with_a_pronoun_are_those_before_it() -> None:
    sentence = "I'll draft the plain-language summary by the 15th, and you check it's not wrong."
    assert things_in(sentence, noun_phrase)[0].startswith("the plain-language summary")
    assert things_in("We can look at the moment, it is fine.", noun_phrase) == []  # "the moment" names nothing


def test_person_pronoun_takes_the_named_outsider_not_a_partner() -> None:
    assert person_in("Could you introduce me to Dr. Ng at the conference?", ["ana", "lucy"]) == "Dr. Ng"
    assert person_in("Lucy said that already.", ["ana", "lucy"]) is None


def test_resolve_referent_replaces_the_first_pronoun_from_the_nearest_sentence() -> None:
    context = [("ben", "The rota templates are on the shared drive."), ("ana", "Can you send me those?")]
    resolved = resolve_referent("send Ana those", context, noun_phrase, ["ana", "ben"])
    assert resolved == "send Ana the rota templates"
    assert resolve_referent("send Dev one of mine", [("dev", "how do u write a PRD?")], noun_phrase, []) == (
        "send Dev one of my PRDs"
    )
    assert resolve_referent("book the room", context, noun_phrase, []) == "book the room"


def test_acceptance_that_names_another_deliverable_is_the_item() -> None:
    found = items("ben: can u show me how u write a PRD?", "ana: ya sure ill send u one of mine tmrw")
    assert found == [("ana", "send Ben one of my PRDs", dt.date(2026, 3, 5))]


def test_same_with_substitutes_the_object() -> None:
    found = items("ana: I'll review your slides by Friday.", "ben: And I'll do the same with your report.")
    assert found == [
        ("ana", "review Ben's slides", dt.date(2026, 3, 6)),
        ("ben", "review Ana's report", dt.date(2026, 3, 6)),
    ]


def test_task_handed_over_and_taken_back_in_the_same_turn_is_the_speakers() -> None:
    found = items("ana: I'll ask Tom to do the budget - no, I'll do it myself by Wednesday.")
    assert found == [("ana", "do the budget", dt.date(2026, 3, 11))]


# -- linking: retractions and revisions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "retraction",
    [
        "Forget what I said about the case study, the board cancelled it.",
        "Oh and forget the case study, the board cancelled it.",
        "Take the case study off the list.",
        "Let's drop the case study.",
        "We don't need the case study any more.",
    ],
)
def test_a_retraction_naming_the_item_withdraws_it_many_turns_later(retraction: str) -> None:
    chat = [f"{'ben' if i % 2 else 'ana'}: more chat number {i} about the process" for i in range(12)]
    found = items("ana: I'll write the case study by the 20th.", "ben: I'll book the hall tomorrow.", *chat,
                  f"ana: {retraction}")  # fmt: skip
    assert found == [("ben", "book the hall", dt.date(2026, 3, 5))]


def test_a_doubting_question_answered_no_retracts_but_one_left_open_does_not() -> None:
    start = ["ana: I'll run a survey of the volunteers by Friday.", "ben: Nice."]
    assert items(*start, "ana: Actually, do we even need the survey? Let's not.") == []
    assert items(*start, "ana: Do we even need the survey? I think we do.") == [
        ("ana", "run a survey of the volunteers", dt.date(2026, 3, 6))
    ]


def test_scratch_that_followed_by_a_new_promise_keeps_the_promise() -> None:
    found = items(
        "ana: Could you share the raw file with me?",
        "ben: Scratch that, I can't share the file itself, but I'll send a summary by Friday.",
    )
    assert found == [("ben", "send a summary", dt.date(2026, 3, 6))]


def test_revision_naming_an_older_item_moves_only_that_item() -> None:
    found = items(
        "ana: I'll send the budget sheet by Friday.",
        "ben: I'll draft the agenda tomorrow.",
        "ana: And I'll book the room on Monday.",
        "ben: ok",
        "ana: The budget sheet can wait until the 20th.",
    )
    assert found == [
        ("ana", "send the budget sheet", dt.date(2026, 3, 20)),
        ("ben", "draft the agenda", dt.date(2026, 3, 5)),
        ("ana", "book the room", dt.date(2026, 3, 9)),
    ]


# -- dating -------------------------------------------------------------------------------------------------------


def test_next_week_and_the_next_session() -> None:
    assert resolve_due("I'll introduce you to Marcus next week", SESSION) == dt.date(2026, 3, 13)
    assert resolve_due("next week's meeting is cancelled", SESSION) is None
    assert resolve_due("before our next session", SESSION) is None  # no cadence: no guess
    assert resolve_due("before our next session", SESSION, NEXT_MEETING) == NEXT_MEETING


def test_joint_item_before_the_next_session_ignores_an_aside_about_the_diary() -> None:
    found = items(
        "ana: Let's both read the chapter before our next session.",
        "ben: Deal. I have a call Thursday though.",
        next_meeting=NEXT_MEETING,
    )
    assert found == [("ana", "read the chapter", NEXT_MEETING), ("ben", "read the chapter", NEXT_MEETING)]


def test_date_confirmed_in_a_follow_up_question() -> None:
    found = items("ana: I'll send you the contract template.", "ben: By Friday?", "ana: Friday, yes.")
    assert found == [("ana", "send Ben the contract template", dt.date(2026, 3, 6))]


def test_revision_takes_the_date_after_its_cue() -> None:
    found = items(
        "ana: I'll send you the vendor contract tomorrow.",
        "ana: wait, legal has the vendor contract till next week, make that the 12th for the contract",
    )
    assert found == [("ana", "send Ben the vendor contract", dt.date(2026, 3, 12))]


# -- not commitments ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "ana: I'll admit I was nervous about the audit.",
        "ana: I'll pretend I didn't hear that.",
        "ana: I'll confess the rota scares me.",
        "ana: If the grant comes through I'll hire a coordinator.",
    ],
)
def test_idioms_and_conditional_consequences_are_not_items(line: str) -> None:
    assert items(line) == []


def test_a_question_about_what_to_do_is_not_the_askers_item_but_an_offer_is() -> None:
    assert items("ana: Should I email the dean first?", "ben: Yes, I think so.") == []
    assert items("ana: Shall I send you the slides tomorrow?", "ben: Yes please.") == [
        ("ana", "send Ben the slides", dt.date(2026, 3, 5))
    ]


def test_a_condition_on_the_partner_still_makes_a_commitment() -> None:
    assert items("ana: If you send me the data, I'll build the chart by Friday.") == [
        ("ana", "build the chart", dt.date(2026, 3, 6))
    ]


# -- the strict scorer --------------------------------------------------------------------------------------------


def test_a_match_needs_the_labelled_object() -> None:
    gold = Expected("ben", "send Ana the ward-level extract", None, (3, 4), "accepted_request", ("extract",))
    assert names_object("send Ana the extract", gold)
    assert not names_object("send that to Ana", gold)
    unlabelled = Expected("ben", "send Ana the deck", None, (3,), "simple")
    assert names_object("send the deck", unlabelled, names=["ana"])
    assert not names_object("send it to Ana", unlabelled, names=["ana"])
    vague = Commitment(owner="ben", action="have that", evidence=[3])
    assert match([vague], [gold]) == []  # shared evidence alone no longer matches


def test_bare_pronoun_marks_actions_that_cannot_be_read_alone() -> None:
    assert bare_pronoun("send that to Ben")
    assert bare_pronoun("share ours")
    assert not bare_pronoun("send that report to Ben")
    assert not bare_pronoun("write one assumption down and bring them")


# -- read-backs, interruptions, groups ----------------------------------------------------------------------------


def test_a_closing_read_back_creates_no_item_and_moves_no_date() -> None:
    found = items(
        "ana: I'll send the rota by Friday.",
        "ben: I'll book the room tomorrow.",
        "ana: So today we agreed: you book the room, I send the rota. Recap done.",
    )
    assert found == [("ana", "send the rota", dt.date(2026, 3, 6)), ("ben", "book the room", dt.date(2026, 3, 5))]


def test_a_read_back_may_date_an_item_that_had_none() -> None:
    found = items("ana: I'll draft the funding note.", "ben: ok", "ana: Recap: the funding note by Monday.")
    assert found == [("ana", "draft the funding note", dt.date(2026, 3, 9))]


def test_an_interrupted_sentence_is_finished_by_the_same_speaker() -> None:
    found = items(
        "ana: I'll re-check the allergen sheets at Quay Road this —",
        "ben: This week?",
        "ana: — by Thursday.",
    )
    assert found == [("ana", "re-check the allergen sheets at Quay Road this", dt.date(2026, 3, 5))]


def test_ready_on_a_day_is_an_item_or_dates_the_one_just_made() -> None:
    assert items("ana: The finding aid will be ready on Wednesday.") == [
        ("ana", "have the finding aid ready", dt.date(2026, 3, 11))
    ]
    found = items("ben: Could you photograph the interlocks?", "ana: Yes. The photos will be ready on Tuesday.")
    assert found == [("ana", "photograph the interlocks", dt.date(2026, 3, 10))]


def test_going_to_an_event_with_a_date_is_attending_it() -> None:
    found = items("ana: Oh and I'm going to the practice twilight on the 24th.", "ben: Put me down too!")
    assert found == [
        ("ana", "attend the practice twilight", dt.date(2026, 3, 24)),
        ("ben", "attend the practice twilight", dt.date(2026, 3, 24)),
    ]


def test_a_stated_next_meeting_dates_before_our_next_session() -> None:
    found = items("ana: I'll bring the blue folder before our next session.", "ben: Same time next Wednesday?")
    assert found == [("ana", "bring the blue folder", dt.date(2026, 3, 11))]


def test_scratch_that_takes_back_the_latest_item_or_an_unrecorded_intention() -> None:
    assert items(
        "ana: I'll send you the deck tomorrow.",
        "ben: great",
        "ana: Scratch that, I can't share it, but I'll walk you through it on Friday.",
    ) == [("ana", "walk Ben through the deck", dt.date(2026, 3, 6))]
    assert items(
        "ana: I'll write up my scanning settings.",
        "ben: Same, I'll do that too.",
        "ana: I was going to send you the raw scans — scratch that, they're huge.",
    ) == [("ana", "write up my scanning settings", None), ("ben", "write up my scanning settings", None)]


def test_in_a_group_you_is_the_member_answered_or_named() -> None:
    trio = [*PAIR, Participant(id="cy", name="Cy Lund")]
    turns = [
        Turn(index=0, speaker="ben", text="Could you send me those figures?"),
        Turn(index=1, speaker="ana", text="Yes, I'll send you the load figures tomorrow."),
        Turn(index=2, speaker="ana", text="And Cy, I'll take you to the clinic myself on Friday."),
    ]
    found = [(c.owner, c.action) for c in extract_commitments(turns, trio, SESSION)]
    assert found == [("ana", "send Ben the load figures"), ("ana", "take Cy to the clinic")]


def test_with_the_embedder_a_retraction_in_other_words_finds_its_item(embedder: object) -> None:
    turns = [
        Turn(index=0, speaker="ana", text="I'll print the flyers tomorrow."),
        Turn(index=1, speaker="ben", text="I'll book the venue by Friday."),
        Turn(index=2, speaker="ana", text="Take the leaflets off the list, we're going digital."),
    ]
    by_words = [c.action for c in extract_commitments(turns, PAIR, SESSION)]
    by_meaning = [c.action for c in extract_commitments(turns, PAIR, SESSION, None, embedder)]  # type: ignore[arg-type]
    assert by_words == ["print the flyers", "book the venue"]  # no shared word: nothing to link without meaning
    assert by_meaning == ["book the venue"]
    unrelated = [*turns[:2], Turn(index=2, speaker="ana", text="Forget the car, I'll take the train.")]
    assert len(extract_commitments(unrelated, PAIR, SESSION, None, embedder)) == 2  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("request_line", "answer", "expected"),
    [
        ("Would you be up for reviewing my grant draft?", "Yep, by Friday.", ("review Ana's grant draft", "03-06")),
        ("I was hoping you might introduce me to your data team.", "Leave it with me.",
         ("introduce Ana to my data team", None)),
        ("Can you do me a favour and check the rota for March?", "Consider it done.",
         ("check the rota for March", None)),
        ("Is it possible for you to share the budget template?", "I can do that Thursday.",
         ("share the budget template", "03-05")),
        ("If you could forward the minutes that'd be great.", "will do", ("forward the minutes", None)),
    ],
)  # fmt: skip
def test_requests_in_many_forms_are_the_acceptors_items(
    request_line: str, answer: str, expected: tuple[str, str | None]
) -> None:
    found = items(f"ana: {request_line}", f"ben: {answer}")
    action, due = expected
    assert found == [("ben", action, dt.date.fromisoformat(f"2026-{due}") if due else None)]


def test_thank_you_and_i_is_not_a_joint_proposal_but_you_and_i_will_is() -> None:
    assert items("ana: thank you and I'll send you my template tomorrow", "ben: Deal.") == [
        ("ana", "send Ben my template", dt.date(2026, 3, 5))
    ]
    assert [o for o, _, _ in items("ana: You and I will map the process by Friday.", "ben: Agreed.")] == ["ana", "ben"]


def test_starting_a_habit_is_the_habit() -> None:
    assert items("ana: I'm going to start keeping a log of the calls.") == [("ana", "keep a log of the calls", None)]
    assert items("ana: I'll start.") == []


@pytest.mark.parametrize(
    "request_line",
    [
        "Do you think you could send me the rota by Friday?",
        "Mind sending me the rota by Friday?",
        "Maybe you could send me the rota by Friday?",
        "Are you able to send me the rota by Friday?",
        "It'd help if you could send me the rota by Friday.",
        "I wonder if you'd be able to send me the rota by Friday.",
        "I'd like you to send me the rota by Friday.",
        "You will send me the rota by Friday?",
        "Is possible you send me the rota by Friday?",
        "Could I ask you to send me the rota by Friday?",
    ],
)
def test_more_request_forms(request_line: str) -> None:
    assert items(f"ana: {request_line}", "ben: Sure.") == [("ben", "send Ana the rota", dt.date(2026, 3, 6))]


@pytest.mark.parametrize("answer", ["I'd be glad to.", "That's fine.", "Friday works.", "I'd love to.", "Sure."])
def test_more_acceptance_forms(answer: str) -> None:
    assert items("ana: Could you send me the rota by Friday?", f"ben: {answer}") == [
        ("ben", "send Ana the rota", dt.date(2026, 3, 6))
    ]


@pytest.mark.parametrize(
    "withdrawal",
    [
        "Actually, I won't have time for the survey.",
        "Let's leave the survey for now.",
        "I'm going to hold off on the survey.",
        "The survey isn't needed any more.",
        "Cancel the survey.",
        "I don't think I'll do the survey after all.",
        "Never mind the survey.",
        "On second thoughts, skip the survey.",
        "The survey is off the table.",
        "No need to do the survey.",
        "Ignore what I said about the survey.",
        "Don't worry about the survey, I found the data elsewhere.",
        "The survey can wait, actually, let's drop it.",
        "Let's not do the survey.",
    ],
)
def test_withdrawals_in_many_words_remove_the_item_they_name(withdrawal: str) -> None:
    start = ["ana: I'll run a survey of the volunteers by Friday.", "ben: I'll book the hall tomorrow.", "ana: ok"]
    assert items(*start, f"ana: {withdrawal}") == [("ben", "book the hall", dt.date(2026, 3, 5))]


def test_a_new_task_with_a_withdrawing_verb_withdraws_nothing() -> None:
    start = ["ana: I'll send the report by Friday.", "ben: great"]
    assert items(*start, "ana: I'll drop the report off at reception.")[0] == (
        "ana", "send the report", dt.date(2026, 3, 6)
    )  # fmt: skip
    assert items(*start, "ben: let's skip to the next topic.") == [("ana", "send the report", dt.date(2026, 3, 6))]


def test_a_doubt_answered_no_by_the_partner_in_the_next_turn_retracts() -> None:
    assert (
        items(
            "ana: I'll update the risk log tomorrow.",
            "ben: Do we still need the risk log?",
            "ana: No, let's not bother.",
        )
        == []
    )
    assert items(
        "ana: I'll update the risk log tomorrow.",
        "ben: Do we still need the risk log?",
        "ana: Yes, the auditors read it.",
    ) == [("ana", "update the risk log", dt.date(2026, 3, 5))]


def test_dividing_the_work_gives_each_partner_their_part() -> None:
    assert sorted(items("ana: You do the agenda and I'll do the minutes by Friday.", "ben: Fine.")) == [
        ("ana", "do the minutes", dt.date(2026, 3, 6)),
        ("ben", "do the agenda", dt.date(2026, 3, 6)),
    ]


def test_leave_it_with_me_forms_take_the_thing_on() -> None:
    assert items("ana: Leave the audit with me. Friday at the latest.") == [
        ("ana", "handle the audit", dt.date(2026, 3, 6))
    ]
    assert items("ana: Leave the audit with me, I'll have it back by Friday.") == [
        ("ana", "have the audit back", dt.date(2026, 3, 6))
    ]
    assert items("ben: The rota's on me.") == [("ben", "handle the rota", None)]
    assert items("ben: Should I leave the audit with me?") == []


def test_an_offer_in_the_past_subjunctive_is_the_offerers_item_once_accepted() -> None:
    assert items("ana: Would it help if I shared my notes from the audit?", "ben: Yes please.") == [
        ("ana", "share my notes from the audit", None)
    ]
    assert items("ana: Would it help if I shared my notes from the audit?", "ben: No, I have them.") == []


def test_a_day_proposed_back_to_a_request_dates_the_item() -> None:
    assert items(
        "ben: Could you review my draft by Wednesday?",
        "ana: Wednesday is tight, can I do Thursday?",
        "ben: Thursday's fine.",
    ) == [("ana", "review Ben's draft", dt.date(2026, 3, 5))]


def test_small_wording_repairs() -> None:
    assert items("ben: Do you want to take the lead on the workshop?", "ana: Sure, I'll lead it.") == [
        ("ana", "lead the workshop", None)
    ]
    assert items("ana: I'll ask Mrs. Patel about the rota, e.g. weekends, by Friday.") == [
        ("ana", "ask Mrs. Patel about the rota, e.g. weekends", dt.date(2026, 3, 6))
    ]
    assert items("ana: I'll chase the invoices by Friday.", "ben: The same with the receipts.") == [
        ("ana", "chase the invoices", dt.date(2026, 3, 6)),
        ("ben", "chase the receipts", dt.date(2026, 3, 6)),
    ]
    assert items("ana: So I'll send the checklist Friday and you'll book the room.") == [
        ("ana", "send the checklist", dt.date(2026, 3, 6))
    ]
    assert sorted(items("ana: We'll both read the audit before our next session.", next_meeting=NEXT_MEETING)) == [
        ("ana", "read the audit", NEXT_MEETING),
        ("ben", "read the audit", NEXT_MEETING),
    ]


FILLER = [
    "ben: Tell me more about the night shift.",
    "ana: It's busy, mostly admissions.",
    "ben: How do you cope?",
    "ana: Coffee and lists.",
    "ben: What about handovers?",
    "ana: We do them at seven.",
] * 2


@pytest.mark.parametrize(
    "retraction",
    [
        ["ana: On reflection the handover template isn't worth it."],
        ["ana: I won't bother with the handover template after all."],
        ["ana: The template's not needed any more."],
        ["ben: Is the template still worth doing?", "ana: Not really, no."],
    ],
)
def test_more_ways_of_withdrawing_an_item_twelve_turns_later(retraction: list[str]) -> None:
    start = ["ana: I'll draft the handover template by Friday.", "ben: And I'll shadow a night shift on Monday."]
    assert items(*start, *FILLER, *retraction) == [("ben", "shadow a night shift", dt.date(2026, 3, 9))]


@pytest.mark.parametrize(
    "turn",
    [
        "ana: I'll get Marcus to update the risk register, no actually I'll do it myself by Monday.",
        "ana: I'll get Marcus to update the risk register. No, actually, I'll do it myself by Monday.",
    ],
)
def test_a_task_handed_over_and_taken_back_is_the_speakers_own(turn: str) -> None:
    assert items(turn) == [("ana", "update the risk register", dt.date(2026, 3, 9))]


def test_myself_is_not_part_of_the_action() -> None:
    assert items("ana: Sam can do the rota. Actually no, I'll do the rota myself.") == [("ana", "do the rota", None)]


@pytest.mark.parametrize(
    ("line", "action"),
    [
        ("ana: I'll give the new rota a go.", "give the new rota a go"),
        ("ana: I'll tell Priya about the opening.", "tell Priya about the opening"),
        ("ana: I'll pass your CV on to the hiring lead.", "pass Ben's CV on to the hiring lead"),
        ("ana: I'm going to start saying no to extra meetings.", "say no to extra meetings"),
    ],
)
def test_an_act_usually_done_on_the_spot_is_an_item_when_it_is_for_later(line: str, action: str) -> None:
    assert items(line) == [("ana", action, None)]


@pytest.mark.parametrize(
    "line",
    [
        "ana: I'll tell you what happened.",
        "ana: Let me show you the chart.",
        "ana: I'll ask you something.",
        "ana: I'll level with you.",
        "ana: I'll keep it short.",
        "ana: I'll put it this way.",
        "ana: I'll leave it there for today.",
    ],
)
def test_an_act_done_on_the_spot_is_not_an_item(line: str) -> None:
    assert items(line) == []


@pytest.mark.parametrize(
    "line",
    [
        "ana: I'll show you the dashboard next time.",
        "ana: I'll send the draft before we next meet.",
        "ana: I'll bring the draft to our next meeting.",
    ],
)
def test_next_time_and_when_we_next_meet_are_the_next_meeting(line: str) -> None:
    assert [due for _, _, due in items(line, next_meeting=NEXT_MEETING)] == [NEXT_MEETING]


def test_a_person_named_as_a_sentence_subject_is_the_referent_of_him() -> None:
    assert items("ben: Omar runs the analytics guild.", "ana: I'll email him by Friday.") == [
        ("ana", "email Omar", dt.date(2026, 3, 6))
    ]


def test_a_noun_phrase_stops_at_its_verb() -> None:
    assert noun_phrase("My CV needs work.") == "My CV"


def test_non_native_will_to_and_a_second_clause_with_i() -> None:
    assert items("ana: I will to send you the report until Friday.") == [
        ("ana", "send Ben the report", dt.date(2026, 3, 6))
    ]
    assert items("ana: Tomorrow I make the list of suppliers and I send to you.") == [
        ("ana", "make the list of suppliers", dt.date(2026, 3, 5))
    ]


def test_dividing_the_work_after_the_speakers_own_part() -> None:
    assert items("ana: I'll write the summary, you do the figures, ok?", "ben: Ok.") == [
        ("ana", "write the summary", None),
        ("ben", "do the figures", None),
    ]
    asked = items("ana: I'll write the summary, you do the figures?", "ben: Hmm.")
    assert asked == [("ana", "write the summary", None)]


TRIO = [*PAIR, Participant(id="cy", name="Cy Lund")]


def trio_items(*lines: str) -> list[tuple[str, str, dt.date | None]]:
    turns = [
        Turn(index=i, speaker=line.split(":")[0], text=line.split(":", 1)[1].strip()) for i, line in enumerate(lines)
    ]
    return [(c.owner, c.action, c.due) for c in extract_commitments(turns, TRIO, SESSION)]


def test_in_a_group_only_the_member_a_request_names_answers_it() -> None:
    assert trio_items("ana: Ben, can you draft the brief by Friday?", "cy: Sure thing.", "ben: Yes, will do.") == [
        ("ben", "draft the brief", dt.date(2026, 3, 6))
    ]
    assert trio_items(
        "ana: Cy, could you send round the minutes?", "ben: I can do it if Cy's busy.", "cy: No, I've got it. Tomorrow."
    ) == [("cy", "send round the minutes", dt.date(2026, 3, 5))]


def test_a_request_to_one_of_the_group_and_a_call_for_a_volunteer() -> None:
    assert trio_items("ana: Could one of you book the room?", "cy: I will.") == [("cy", "book the room", None)]
    assert trio_items("ben: Who's doing the budget?", "cy: Me, by Thursday.") == [
        ("cy", "do the budget", dt.date(2026, 3, 5))
    ]
    assert trio_items("ben: Who's doing the budget?", "cy: No idea.") == []


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["ana: I'll send you the—", "ben: The rota?", "ana: —the rota, yes, by Friday."],
            ("ana", "send Ben the rota", dt.date(2026, 3, 6)),
        ),
        (
            ["ana: So I'll draft the", "ben: Sorry, go on.", "ana: the induction pack by Monday."],
            ("ana", "draft the induction pack", dt.date(2026, 3, 9)),
        ),
        (
            ["ana: I'll email the-- sorry, the phone's ringing-- the supplier tomorrow."],
            ("ana", "email the supplier", dt.date(2026, 3, 5)),
        ),
        (
            ["ana: I'll book the...", "ana: ...the meeting room for Thursday."],
            ("ana", "book the meeting room", dt.date(2026, 3, 5)),
        ),
    ],
)
def test_interruptions_are_repaired_before_reading(lines: list[str], expected: tuple[str, str, dt.date]) -> None:
    assert items(*lines) == [expected]


def test_an_unpunctuated_chat_line_is_not_joined_to_an_answer() -> None:
    assert items("ana: love that", "ben: ok", "ana: ya sure ill send u the checkout one tmrw") == [
        ("ana", "send Ben the checkout one", dt.date(2026, 3, 5))
    ]


def test_asking_for_a_thing_and_other_acceptances() -> None:
    assert items("ben: Any chance of a copy of the slides?", "ana: Sure, tomorrow.") == [
        ("ana", "send Ben a copy of the slides", dt.date(2026, 3, 5))
    ]
    assert items("ben: Could you send the notes to the team?", "ana: Mm-hm.") == [
        ("ana", "send the notes to the team", None)
    ]
    assert items(
        "ben: Can you talk me through the forecast?", "ana: Definitely, next session.", next_meeting=NEXT_MEETING
    ) == [("ana", "talk Ben through the forecast", NEXT_MEETING)]


def test_a_dummy_it_is_no_referent() -> None:
    assert items("ben: It'd be great to see your project plan.", "ana: I'll send it over tonight.") == [
        ("ana", "send my project plan over", SESSION)
    ]


def test_an_answer_that_only_tries_takes_nothing_on() -> None:
    assert items("ben: Can you chase procurement?", "ana: I'll try, but they're slow.") == []
    assert items("ben: Can you chase procurement?", "ana: I'll try the new portal for it by Friday.") != []


def test_an_outside_event_conditions_an_item_but_if_it_helps_does_not() -> None:
    assert items("ana: If it rains I'll cancel the walk.") == []
    assert items("ana: If it helps, I'll send the notes by Friday.") == [("ana", "send the notes", dt.date(2026, 3, 6))]


@pytest.mark.parametrize(
    ("revision", "due"),
    [
        ("ana: Sorry, I meant Thursday, not Wednesday.", dt.date(2026, 3, 5)),
        ("ana: Actually the survey will have to be Monday.", dt.date(2026, 3, 9)),
    ],
)
def test_a_revision_that_names_the_date_it_replaces(revision: str, due: dt.date) -> None:
    assert items("ana: I'll send the survey on Wednesday.", "ben: OK.", revision) == [("ana", "send the survey", due)]


def test_push_my_item_moves_that_item() -> None:
    assert items(
        "ana: I'll send the survey by Friday.",
        "ben: I'll book the room by Tuesday.",
        "ben: Let's push my room booking to Thursday.",
    ) == [("ana", "send the survey", dt.date(2026, 3, 6)), ("ben", "book the room", dt.date(2026, 3, 5))]


@pytest.mark.parametrize("answer", ["ana: Got it.", "ana: Ben, sure.", "ana: Mm, fine.", "ana: That's a good idea."])
def test_more_ways_of_saying_yes_to_a_request(answer: str) -> None:
    assert items("ben: Could you send me the rota by Friday?", answer) == [
        ("ana", "send Ben the rota", dt.date(2026, 3, 6))
    ]


def test_an_act_that_needs_a_date_gets_it_from_the_answer_to_when() -> None:
    asked = ["ana: Let me chase the insurance broker about the e-bike cover.", "ben: Ooh, when?"]
    assert items(*asked, "ana: Monday, first thing.") == [
        ("ana", "chase the insurance broker about the e-bike cover", dt.date(2026, 3, 9))
    ]
    assert items(asked[0], "ben: Great.", "ana: Monday, first thing.") == []


def test_ready_then_it_is_one_item_and_a_ready_it_is_named_by_the_next_ready() -> None:
    assert items("ana: The revised sector chart will be ready on Wednesday. I'll put it in your tray.") == [
        ("ana", "have the revised sector chart ready and put it in Ben's tray", dt.date(2026, 3, 11))
    ]
    assert items("ana: It'll be ready on Thursday. The test specification will be ready on Thursday.") == [
        ("ana", "have the test specification ready", dt.date(2026, 3, 5))
    ]


def test_group_wording_repairs() -> None:
    assert trio_items("ana: Right, all three of us, which never happens. Ben, you first.") == []
    assert trio_items(
        "ana: Cy, you book the dental check and I'll brief the keepers. Both by Monday.", "cy: Deal."
    ) == [
        ("ana", "brief the keepers", dt.date(2026, 3, 9)),
        ("cy", "book the dental check", dt.date(2026, 3, 9)),
    ]
    assert items("ana: And the St. Bride's register, I'm going to rebind that myself, by the 20th.") == [
        ("ana", "rebind the St. Bride's register", dt.date(2026, 3, 20))
    ]
    assert items("ana: I'll go through the old blending ledgers in the back office.") == [
        ("ana", "go through the old blending ledgers in the back office", None)
    ]


def test_it_after_cant_get_to_x_until_a_day_is_x() -> None:
    line = "ana: cant get to the vaccine fridge audit til monday, the new logger only arrives friday. ill do it monday"
    assert items(line) == [("ana", "do the vaccine fridge audit", dt.date(2026, 3, 9))]


def test_admitting_is_no_item_even_with_a_day_and_too_ends_an_action() -> None:
    assert items("ana: i'll admit i cried a bit after the rain shift on tuesday") == []
    assert items("ana: I'll put together a price sheet for the website, too, people keep ringing.") == [
        ("ana", "put together a price sheet for the website", None)
    ]


def test_a_doubt_with_its_reason_before_the_question_mark() -> None:
    assert (
        items(
            "ana: I'll put together a price sheet for the website by Friday.",
            *FILLER,
            "ben: Do we still need the price sheet, now the new booking form shows the prices?",
            "ana: No, let's not. The form does it.",
        )
        == []
    )


# -- session 10: register patterns (own probes, written before the tune4 set) ------------------------------------


def test_who_with_a_present_verb_then_when_dates_the_volunteer() -> None:
    assert items("ana: Who does the invite?", "ben: Me.", "ana: When?", "ben: Tomorrow.") == [
        ("ben", "do the invite", dt.date(2026, 3, 5))
    ]
    assert items("ana: Who takes the minutes?", "ben: Me, Friday.") == [
        ("ben", "take the minutes", dt.date(2026, 3, 6))
    ]


def test_the_owner_dates_an_undated_item_in_the_next_short_turn() -> None:
    said = (
        "ben: I'll send the — sorry, my cat — the risk register",
        "ana: ha",
        "ben: by Thursday, the risk register, yes.",
    )
    assert items(*said) == [("ben", "send the risk register", dt.date(2026, 3, 5))]
    other = ("ben: I'll send the risk register", "ana: ok", "ben: Thursday I'm at the depot all day.")
    assert items(*other) == [("ben", "send the risk register", None)]


def test_a_late_hedge_in_a_rambling_turn_keeps_the_item_and_a_cleft_names_the_act() -> None:
    ramble = (
        "ana: I'm going to sit down with Priya from finance before the end of next week and go through the "
        "reconciliation line by line, and then, well, we'll see."
    )
    assert items(ramble)[0][0] == "ana" and items(ramble)[0][2] == dt.date(2026, 3, 13)
    assert items("ana: I might send the deck by Friday.") == []
    assert items("ana: So what I'm going to do is sit down with Priya on Monday.") == [
        ("ana", "sit down with Priya", dt.date(2026, 3, 9))
    ]


def test_an_offer_with_an_if_useful_tail_accepted_by_very_useful() -> None:
    said = (
        "ben: I could write up the pipeline and share it with you on Friday, if that's useful?",
        "ana: Very useful, yes please.",
    )
    assert items(*said) == [("ben", "write up the pipeline and share it with Ana", dt.date(2026, 3, 6))]
    assert items("ben: I could send the notes, if you like?", "ana: No thanks, I have them.") == []


def test_request_forms_and_yes_forms_of_ordinary_talk() -> None:
    friday = dt.date(2026, 3, 6)
    for ask in (
        "ana: It'd be great if you could send me the cost model by Friday.",
        "ana: Do you have time to send me the cost model by Friday?",
        "ana: So you'll send me the cost model by Friday?",
        "ana: You'll send me the cost model by Friday then.",
    ):
        assert items(ask, "ben: Sure.") == [("ben", "send Ana the cost model", friday)], ask
    for yes in ("Why not.", "Is ok for me.", "Not a problem at all.", "Let me do that.", "Very useful, yes please."):
        assert items("ana: Could you send me the cost model by Friday?", f"ben: {yes}")[0][0] == "ben", yes
    closing = "ben: Hmm. Friday is the audit day. I guess that's fine though, yes."
    assert items("ana: Could you send me the cost model by Friday?", closing) == [
        ("ben", "send Ana the cost model", friday)
    ]
    assert items("ana: Could you send me the cost model by Friday?", "ben: Hmm. Friday is the audit day. No.") == []


def test_looking_something_up_defers_the_answer_and_a_favour_waits_for_its_act() -> None:
    said = (
        "ana: Could you send me the cost model by Friday?",
        "ben: Let me check my diary.",
        "ben: Yes, Friday's fine.",
    )
    assert items(*said) == [("ben", "send Ana the cost model", dt.date(2026, 3, 6))]
    favour = (
        "ana: Can you do me a favour?",
        "ben: Sure, what?",
        "ana: Send the cost model to Lena by Friday.",
        "ben: Done.",
    )
    assert items(*favour) == [("ben", "send the cost model to Lena", dt.date(2026, 3, 6))]


@pytest.mark.parametrize(
    "retraction",
    [
        "ben: Ignore the bit about the survey results.",
        "ben: Remove the survey results from my list.",
        "ben: I'm not going to send the survey results after all.",
        "ben: On second thought I won't send the survey results, Lena will.",
        "ben: The survey results aren't happening this week, sorry.",
    ],
)
def test_more_named_retractions_even_many_turns_later(retraction: str) -> None:
    said = ["ben: I'll send you the survey results by Friday.", "ana: Great.", "ben: And I'll book the training room."]
    chat = [f"{'ana' if i % 2 else 'ben'}: Still busy with the migration, {i}." for i in range(12)]
    assert [a for _, a, _ in items(*said, *chat, retraction)] == ["book the training room"]


def test_more_like_and_another_week_revise_the_named_item_only() -> None:
    said = ["ben: I'll finish the budget sheet by Friday.", "ana: I'll call the auditor on Wednesday.", "ben: ok"]
    moved = items(*said, "ben: Actually the budget sheet will be more like Monday.")
    assert moved == [
        ("ben", "finish the budget sheet", dt.date(2026, 3, 9)),
        ("ana", "call the auditor", dt.date(2026, 3, 11)),
    ]
    longer = items(*said, "ben: I need another week for the budget sheet.")
    assert longer[0] == ("ben", "finish the budget sheet", dt.date(2026, 3, 13))
    assert longer[1][2] == dt.date(2026, 3, 11)


def test_idioms_that_introduce_no_action() -> None:
    for said in (
        "I'll keep that in mind.",
        "I'll share my screen.",
        "I'll try not to cry.",
        "I'll cross that bridge when I come to it.",
        "I'll let you know if anything changes.",
    ):
        assert items(f"ben: {said}") == [], said


def test_a_dated_pronoun_with_no_request_names_what_the_partner_just_said() -> None:
    assert items("ana: Ugh, the expenses.", "ben: Ha. I'll do mine tomorrow.") == [
        ("ben", "do my expenses", dt.date(2026, 3, 5))
    ]
    interrupted = ("ana: The migration runbook —", "ben: — is a mess, yes. I'll fix it Tuesday.")
    assert items(*interrupted) == [("ben", "fix the migration runbook", dt.date(2026, 3, 10))]
    asked = ("ana: The inspection plan needs your sign-off before I book the team.", "ben: I can do that Wednesday.")
    assert all("my sign-off" not in a for _, a, _ in items(*asked))


@pytest.mark.parametrize(
    "retraction",
    [
        "ana: And forget what I said about the — no, what you said, about the welcome packs. Liaison does them.",
        "ana: Forget what you said about the welcome packs, liaison does them.",
        "ana: And the welcome packs, take it off from the list.",
    ],
)
def test_retractions_that_correct_whose_item_it_was_withdraw_every_copy(retraction: str) -> None:
    said = ["ben: I'll do the welcome packs, I'll put the welcome packs together this week.", "ana: ok"]
    chat = [f"{'ana' if i % 2 else 'ben'}: The fencing crew again, {i}." for i in range(10)]
    assert items(*said, *chat, retraction) == []


def test_a_doubt_about_sending_answered_no_by_the_partner() -> None:
    said = ("ben: I'll send you the frost log this week.", "ana: Good.")
    doubt = (
        "ben: Oh, do I still need to send you the frost log? The insurers have the data.",
        "ana: No, forget it then.",
    )
    assert items(*said, *doubt) == []


def test_a_handback_after_no_actually_and_a_date_asked_as_a_question() -> None:
    handback = (
        "ana: I'll get Seamus to do the licence renewal, no, actually, he'll miss the deadline, "
        "leave the licence renewal with me. Before the 20th."
    )
    assert items(handback) == [("ana", "handle the licence renewal", dt.date(2026, 3, 20))]
    asked = ("ben: I prepare the reefer plug report.", "ana: By Monday?", "ben: Yes, fine.")
    assert items(*asked) == [("ben", "prepare the reefer plug report", dt.date(2026, 3, 9))]


def test_a_conditional_moves_no_date_and_before_then_leaves_no_dangling_word() -> None:
    said = (
        "ana: Ben, could you sort the stretcher inventory before then? The exercise is Friday.",
        "ben: Yes. By Monday.",
    )
    maybe = "ana: If the cloud's down on Tuesday we'll move the exercise indoors, and then nobody needs the stretchers."
    assert items(*said, maybe) == [("ben", "sort the stretcher inventory", dt.date(2026, 3, 9))]


def test_terse_requests_answered_sure_and_a_refusal_is_no_deadline() -> None:
    said = (
        "ana: New starters. Safety briefing's out of date. Redo it?",
        "ben: Sure.",
        "ana: By Thursday?",
        "ben: Thursday works.",
    )
    assert items(*said) == [("ben", "redo the safety briefing", dt.date(2026, 3, 5))]
    refusal = ("ben: Flume. Brake fin sensor keeps tripping.", "ana: I'll look at it. Can't until Tuesday. Parts.")
    assert items(*refusal) == [("ana", "look at the brake fin sensor", dt.date(2026, 3, 10))]


def test_a_pronoun_in_its_own_long_sentence_takes_the_nearest_phrase_and_a_later_maybe_is_not_its_hedge() -> None:
    said = (
        "ben: While we're on the cellar, the log sheet, nobody fills in the temperature column, so I was thinking "
        "I'd redo the dry-hopping log sheet, I'll have that done by Friday, and maybe it gets used, maybe it doesn't."
    )
    assert items(said) == [("ben", "have the dry-hopping log sheet done", dt.date(2026, 3, 6))]
    assert items("ana: You know what I'm going to ask you next though.") == []
