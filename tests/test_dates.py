"""Due-date resolution against the session date (conventions of evals/datasets/transcripts/README.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from facilitator.dates import find_due_dates, resolve_due, strip_due_phrases

WED = dt.date(2026, 3, 4)  # a Wednesday
D = dt.date


@pytest.mark.parametrize(
    ("text", "session", "expected"),
    [
        # "by/on <weekday>": the next such day strictly after the session
        ("I will send it to you by Friday, with a short note", WED, D(2026, 3, 6)),
        ("on Friday", WED, D(2026, 3, 6)),
        ("Friday", WED, D(2026, 3, 6)),
        ("I send you the chapter until Friday", WED, D(2026, 3, 6)),
        ("by Wednesday", WED, D(2026, 3, 11)),  # same weekday as the session: a week later
        ("by friday", D(2026, 3, 6), D(2026, 3, 13)),  # said on a Friday
        ("on Monday", D(2026, 3, 8), D(2026, 3, 9)),  # said on a Sunday
        ("ill find out by tues", D(2026, 3, 19), D(2026, 3, 24)),
        ("make it wed, monday is audit day", D(2026, 3, 19), D(2026, 3, 25)),
        ("Actually, can we make that Tuesday?", WED, D(2026, 3, 10)),
        ("review your doc by Thursday", D(2026, 1, 13), D(2026, 1, 15)),
        ("this Friday", D(2026, 3, 6), D(2026, 3, 6)),  # "this" allows the session day itself
        # "next <weekday>": that day of the following (Monday-first) week
        ("I'm going to reread it by next Monday", D(2026, 4, 7), D(2026, 4, 13)),
        ("next Monday", D(2026, 1, 28), D(2026, 2, 2)),
        ("next Monday", D(2026, 4, 6), D(2026, 4, 13)),  # said on a Monday
        ("next Monday", D(2026, 4, 12), D(2026, 4, 13)),  # said on a Sunday: the following week starts tomorrow
        ("next Friday", WED, D(2026, 3, 13)),
        ("same time next thurs?", D(2026, 3, 19), D(2026, 3, 26)),
        # tomorrow, today, tonight
        ("tomorrow", WED, D(2026, 3, 5)),
        ("will send the figma link tmrw", D(2026, 1, 13), D(2026, 1, 14)),
        ("tomorrow", D(2026, 12, 31), D(2027, 1, 1)),
        ("the day after tomorrow", WED, D(2026, 3, 6)),
        ("today", WED, WED),
        ("I'll read it tonight", WED, WED),
        ("ill send u the checklist tonite", WED, WED),
        ("by end of day", WED, WED),
        # in N days / weeks
        ("in two weeks", WED, D(2026, 3, 18)),
        ("in 3 days", WED, D(2026, 3, 7)),
        ("I'll have comments to you in three days.", D(2026, 4, 7), D(2026, 4, 10)),
        ("in a week", WED, D(2026, 3, 11)),
        ("in a fortnight", WED, D(2026, 3, 18)),
        ("in the next two weeks", D(2026, 3, 12), D(2026, 3, 26)),
        ("3 days from now", WED, D(2026, 3, 7)),
        ("in 3 days", D(2026, 2, 27), D(2026, 3, 2)),  # across a month end
        # end of the week: the Friday of the session's week
        ("I shall write to her by the end of the week", D(2026, 1, 21), D(2026, 1, 23)),
        ("end of the week", D(2026, 1, 19), D(2026, 1, 23)),  # Monday
        ("end of week", D(2026, 1, 23), D(2026, 1, 23)),  # said on the Friday itself
        ("end of the week", D(2026, 3, 7), D(2026, 3, 13)),  # a Saturday session: the coming Friday
        ("end of next week", WED, D(2026, 3, 13)),
        # end of the month: the last day of the session's month
        ("I'll get them to you by the end of the month.", D(2026, 2, 10), D(2026, 2, 28)),
        ("end of the month", D(2028, 2, 10), D(2028, 2, 29)),  # leap year
        ("end of the month", D(2026, 12, 5), D(2026, 12, 31)),
        ("end of the month", D(2026, 1, 31), D(2026, 1, 31)),  # said on the last day
        ("by the end of March", D(2026, 2, 18), D(2026, 3, 31)),
        ("end of next month", D(2026, 12, 5), D(2027, 1, 31)),
        # "the 25th": the next 25th on or after the session
        ("by the 25th", WED, D(2026, 3, 25)),
        ("the 25th", D(2026, 3, 25), D(2026, 3, 25)),
        ("the 25th", D(2026, 3, 26), D(2026, 4, 25)),
        ("by the 30th", D(2026, 2, 2), D(2026, 3, 30)),  # February has no 30th
        ("by the 31st", D(2026, 4, 5), D(2026, 5, 31)),
        ("the 6th", D(2026, 12, 20), D(2027, 1, 6)),
        ("so by the 26th? I'm in", D(2026, 3, 12), D(2026, 3, 26)),
        # a month name with a day: this year, or next year when already past
        ("share it with you by March 13.", WED, D(2026, 3, 13)),
        ("12 March", WED, D(2026, 3, 12)),
        ("the 12th of March", WED, D(2026, 3, 12)),
        ("March 12th", WED, D(2026, 3, 12)),
        ("March 4", WED, WED),
        ("March 2", WED, D(2027, 3, 2)),
        ("On reflection, February 13 is more realistic.", D(2026, 1, 21), D(2026, 2, 13)),
        ("Feb 6", D(2026, 1, 21), D(2026, 2, 6)),
        ("May 15 rather than May 8", D(2026, 4, 29), D(2026, 5, 15)),
        ("by 2026-04-01", WED, D(2026, 4, 1)),
    ],
)
def test_resolve_due(text: str, session: dt.date, expected: dt.date) -> None:
    assert resolve_due(text, session) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I'll send you the deck.",
        "let's both post one thing on LinkedIn before our next catch-up",
        "Can we do this before the next meeting?",
        "We meet every Monday.",
        "the campaign went out last Monday",
        "I'll write up the piece on the Sunday night shift",
        "I sat there on Tuesdays",
        "I may send it when the sun comes out, c'mon",
        "a glossary of the terms we keep using, Scope 1, 2, 3, CO2e and so on",
        "we should talk about it soon, maybe next week",
        "in a few days",
        "Not Friday.",
        "It happened two days ago",
    ],
)
def test_no_stated_time_gives_none(text: str) -> None:
    assert resolve_due(text, WED) is None


def test_first_date_wins_and_every_date_is_found() -> None:
    text = "Actually, scratch Friday for the template: I am away Thursday and Friday. I will send it next Monday."
    found = find_due_dates(text, D(2026, 4, 15))
    assert [m.date for m in found] == [D(2026, 4, 16), D(2026, 4, 17), D(2026, 4, 20)]
    assert [text[m.start : m.end] for m in found] == [m.text for m in found]
    assert resolve_due(text, D(2026, 4, 15)) == D(2026, 4, 16)  # "scratch Friday" is not a due date


def test_spans_index_the_original_text_with_typographic_apostrophes() -> None:
    text = "I’ll send it tmrw 🙏 and the rest by Friday"
    found = find_due_dates(text, WED)
    assert [m.text for m in found] == ["tmrw", "by Friday"]


def test_strip_due_phrases_keeps_the_action() -> None:
    assert strip_due_phrases("send it to you by the end of the month", WED) == "send it to you"
    assert strip_due_phrases("review your doc by Thursday, inline", WED) == "review your doc, inline"
    assert strip_due_phrases("post one thing before our next catch-up", WED) == "post one thing"


def test_a_weekday_with_its_day_of_the_month_is_that_day() -> None:
    from facilitator.dates import find_due_dates

    session = dt.date(2026, 4, 2)  # a Thursday
    assert [m.date for m in find_due_dates("next session tues 14th same time?", session)] == [dt.date(2026, 4, 14)]
    assert [m.date for m in find_due_dates("see you Tuesday the 14th", session)] == [dt.date(2026, 4, 14)]
    assert dt.date(2026, 5, 3) not in [m.date for m in find_due_dates("Tuesday 3 March?", session)]  # not "the 3rd"
