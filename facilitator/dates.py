"""Due dates stated in conversation, resolved against the session date.

Conventions (they match the labelled transcripts in `evals/datasets/transcripts/README.md`):

- "Friday", "on/by/until Friday": the next Friday strictly after the session date.
- "this Friday": the next Friday on or after the session date.
- "next Monday": the Monday of the following (ISO, Monday-first) week.
- "tomorrow" is the session date + 1; "today", "tonight", "end of the day", "close of play" are the session date;
  a time of day before a date ("first thing Monday", "by close of play tomorrow") belongs to the date.
- "in 3 days", "in two weeks", "in a fortnight": the session date plus that many days or weeks.
- "end of the week", "by the weekend": the Friday of the session's week (the next Friday when the session is on a
  weekend).
- "end of the month": the last day of the session's month; "end of next month", "end of March" likewise.
- "the 25th": the next 25th on or after the session date.
- "March 12", "12 March", "12th of March": that day in the session's year, or the next year when it is already past.
- "next week" (as a deadline: "I'll introduce you to Marcus next week"): the Friday of the following week, the
  last working day it still holds (like "end of next week"); "next week's meeting" describes one and gives no date.
- "before/by our next meeting/session": the next meeting's date when the caller knows it (`next_meeting`, from the
  pair's cadence), else no date.
- Vague or recurring times ("soon", "every Monday", "last Friday") are not due dates: `resolve_due` returns None
  rather than guess.

Recognition is explicit (compiled patterns); `dateparser` parses the calendar phrases it handles well (month names,
"in N days/weeks") once a pattern has isolated them. Running `dateparser.search` over whole sentences is avoided on
purpose: it reads ordinary words as dates ("we" as Wednesday) and is slow on long meetings.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import dateparser

__all__ = ["DueMatch", "find_due_dates", "resolve_due", "strip_due_phrases"]

_WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tues": 1, "tue": 1,
    "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
# Abbreviations that are also ordinary words ("I sat there", "the sun", "c'mon") count only after a date preposition.
_AMBIGUOUS_DAYS = {"mon", "sat", "sun"}
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?"
)
_MONTH_NUMBERS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_NUMBER_WORDS = r"\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|a couple"
_DAY_NAMES = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))

_TOMORROW = r"tomorrow|tmrw|tmrow|tmr|tmw|tmoro|2moro|2morrow|tomoz|tomorow|tommorow|tommorrow"

_PATTERNS: dict[str, re.Pattern[str]] = {
    "day_after_tomorrow": re.compile(rf"\bday after (?:{_TOMORROW})\b"),
    "tomorrow": re.compile(rf"\b(?:{_TOMORROW})\b"),
    "today": re.compile(
        r"\b(?:today|tonight|tonite|2nite|this (?:morning|afternoon|evening)|(?:end of (?:the |to)?day|eod"
        rf"|close of (?:business|play)|cob)(?!\s+(?:on\s+)?(?:{_TOMORROW}|{_DAY_NAMES}|the\s+\d)))\b"
    ),
    "end_of_next_week": re.compile(r"\bend of next week\b"),
    "next_week": re.compile(r"\b(?:next|the following) week\b(?!'s|\s+(?:is|was|will|when|we|i|you)\b)"),
    "next_meeting": re.compile(
        r"\b(?:by|before|until|till|at|for|to|in|ahead\s+of)\s+(?:the\s+|our\s+)?next\s+"
        r"(?:meeting|session|catch[- ]?up|call|chat)\b"
        r"|\b(?:before|when|by\s+the\s+time)\s+we\s+(?:next\s+meet|meet\s+(?:again|next))\b"
        r"|\bnext\s+time\b(?!\s+(?:i|we|you)\b)|^\W*(?:\w+\W+)?next\s+(?:session|meeting|catch[- ]?up)\W*$"
    ),
    "end_of_week": re.compile(
        r"\b(?:end of (?:the |this )?week|end of week|eow|(?<=by )the weekend|(?<=before )the weekend)\b"
    ),
    "end_of_next_month": re.compile(r"\bend of next month\b"),
    "end_of_named_month": re.compile(rf"\bend of (?P<month>{_MONTHS})\b"),
    "end_of_month": re.compile(
        r"\b(?:end of (?:the |this )?month|month[- ]end|eom|(?:the |this )?month(?:'s| is) out|the month runs out)\b"
    ),
    "relative": re.compile(
        rf"\b(?:in|within)\s+(?:the\s+next\s+)?(?P<n>{_NUMBER_WORDS})\s+(?P<unit>days?|weeks?|months?|fortnights?)\b"
        rf"|\b(?P<n2>{_NUMBER_WORDS})\s+(?P<unit2>days?|weeks?)\s+from\s+(?:now|today)\b"
    ),
    "iso": re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
    "month_day": re.compile(
        rf"\b(?P<month>{_MONTHS})\.?\s+(?:the\s+)?(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>20\d\d))?"
    ),
    "day_month": re.compile(
        rf"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTHS})\b\.?(?:,?\s+(?P<year>20\d\d))?"
    ),
    "ordinal": re.compile(
        r"\b(?:(?:the|by|on|before|until|till|til)\s+)(?:the\s+)?(?P<day>[1-9]|[12]\d|3[01])(?:st|nd|rd|th)\b"
        r"(?!\s+(?:anniversary|birthday|century|percentile|floor|place|time|edition|row|street|grade|minute|hour"
        r"|year|day|week|month)\b)"
    ),
    # "tues 14th", "Tuesday the 14th": the day of the month says which Tuesday
    "weekday_day": re.compile(
        rf"\b(?:(?:on|by|until|till|til|before|for)\s+)?(?:{_DAY_NAMES})\.?\s+(?:the\s+)?(?P<day>[1-9]|[12]\d|3[01])"
        r"(?:st|nd|rd|th)?\b(?!\s*(?:am|pm|:|\.\d|%|minutes?|mins?|hours?|people|patients))"
        rf"(?!\s+(?:of\s+)?(?:{_MONTHS})\b)"  # "Tuesday 14 April" is read as 14 April
    ),
    "weekday": re.compile(
        rf"\b(?:(?P<mod>next|this|coming|on|by|until|till|til|before|for|from)\s+)?(?P<day>{_DAY_NAMES})\b(?!-(?!ish\b))"
    ),
}
# A date right after one of these words is not a due date ("last Friday", "not Friday", "every Monday").
_NOT_DUE_BEFORE = re.compile(
    r"(?:\b(?:last|every|each|since|past|previous|scratch|not|instead of|rather than|except|other than)\s+(?:the\s+)?"
    r"(?:on\s+)?)$"
)
_DESCRIBED_DAY = re.compile(r"\b(?:the|a)\s+$")
# The day of an event the act waits for ("after the audit on Tuesday, Wednesday at the latest"): not the due date.
_AFTER_EVENT = re.compile(r"\bafter\s+(?:the|my|our|your|his|her|their)\s+[\w-]+(?:\s+[\w-]+){0,2}?\s+(?:on\s+)?$")
_VAGUE_BEFORE = re.compile(r"\b(?:maybe|perhaps|possibly|sometime|some\s+time|or|until|till|since|during)\s+$")
_NOT_DUE_AFTER = re.compile(r"^(?:'s)?\s*(?:ago|before last)\b")

_DUE_PREPOSITION = re.compile(
    r"(?:\b(?:by|on|until|till|til|before|for|in|within|at|no later than)\s+(?:the\s+)?)+$", re.I
)
# The time of day before a date ("by close of play tomorrow", "first thing Monday"): part of the due phrase.
_TIME_OF_DAY = re.compile(
    r"(?<!\bthe )(?<!\ba )(?<!\bthat )\b(?:(?:by|at|before)\s+)?"
    r"(?:close of (?:play|business)|end of (?:the )?day|first thing|last thing|cob|eod)"
    r"(?:\s+(?:on|by))?\s*$",
    re.I,
)
_NEXT_MEETING = re.compile(
    r"\b(?:by|before|until|till)\s+(?:the\s+|our\s+)?next\s+(?:meeting|session|time|catch[- ]?up|call|chat)\b", re.I
)
_SPACES = re.compile(r"\s{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,;:.!?])")
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "a couple": 2, "a couple of": 2, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip


@dataclass(frozen=True)
class DueMatch:
    """One due-date expression found in a text: its span (in the text given) and the resolved date."""

    start: int
    end: int
    text: str
    date: dt.date


def _normalise(text: str) -> str:
    """Lower-case with typographic apostrophes made plain; the length is kept, so spans index the original text."""
    return text.lower().replace("’", "'")


def _next_weekday(session: dt.date, weekday: int, *, allow_same_day: bool) -> dt.date:
    delta = (weekday - session.weekday()) % 7
    if delta == 0 and not allow_same_day:
        delta = 7
    return session + dt.timedelta(days=delta)


def _weekday(match: re.Match[str], session: dt.date) -> dt.date | None:
    word = match["day"]
    modifier = match["mod"]
    if word in _AMBIGUOUS_DAYS and modifier is None:
        return None
    weekday = _WEEKDAYS[word]
    if modifier == "next":
        monday_next_week = session - dt.timedelta(days=session.weekday()) + dt.timedelta(days=7)
        return monday_next_week + dt.timedelta(days=weekday)
    if modifier == "from":
        return None
    return _next_weekday(session, weekday, allow_same_day=modifier == "this")


def _end_of_week(session: dt.date, weeks_ahead: int = 0) -> dt.date:
    friday = session - dt.timedelta(days=session.weekday()) + dt.timedelta(days=4 + 7 * weeks_ahead)
    if friday < session:  # a weekend session: the coming Friday
        friday += dt.timedelta(days=7)
    return friday


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _month_number(name: str) -> int:
    return _MONTH_NUMBERS[name[:3].title()]


def _end_of_named_month(match: re.Match[str], session: dt.date) -> dt.date:
    month = _month_number(match["month"])
    year = session.year if month >= session.month else session.year + 1
    return _last_day(year, month)


def _end_of_next_month(session: dt.date) -> dt.date:
    year, month = (session.year + 1, 1) if session.month == 12 else (session.year, session.month + 1)
    return _last_day(year, month)


def _relative(match: re.Match[str], session: dt.date) -> dt.date | None:
    """In N days, weeks or months ("in three days", "in a fortnight"): dateparser does the arithmetic."""
    word = (match["n"] or match["n2"] or "").strip()
    unit = match["unit"] or match["unit2"] or ""
    amount = int(word) if word.isdigit() else _NUMBERS.get(word)
    if amount is None:
        return None
    if unit.startswith("fortnight"):
        amount, unit = 2 * amount, "weeks"
    parsed = dateparser.parse(
        f"in {amount} {unit}",
        languages=["en"],
        settings={"PREFER_DATES_FROM": "future", "RELATIVE_BASE": dt.datetime.combine(session, dt.time())},
    )
    if parsed is None or parsed.date() < session:
        return None
    return parsed.date()


def _calendar_day(match: re.Match[str], session: dt.date) -> dt.date | None:
    """A month name with a day: dateparser reads the phrase, the session's year rule picks the year."""
    parsed = dateparser.parse(
        match.group(0),
        languages=["en"],
        settings={"RELATIVE_BASE": dt.datetime.combine(session, dt.time()), "REQUIRE_PARTS": ["day", "month"]},
    )
    if parsed is None:
        return None
    if match["year"]:
        return parsed.date()
    month, day = parsed.month, parsed.day
    for year in (session.year, session.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:  # 29 February
            continue
        if candidate >= session:
            return candidate
    return None


def _iso(match: re.Match[str], session: dt.date) -> dt.date | None:
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def _ordinal(match: re.Match[str], session: dt.date) -> dt.date | None:
    day = int(match["day"])
    year, month = session.year, session.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = dt.date(year, month, day)
            if candidate >= session:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


_Resolver = Callable[[re.Match[str], dt.date], "dt.date | None"]
_RESOLVERS: dict[str, _Resolver] = {
    "day_after_tomorrow": lambda m, s: s + dt.timedelta(days=2),
    "tomorrow": lambda m, s: s + dt.timedelta(days=1),
    "today": lambda m, s: s,
    "end_of_next_week": lambda m, s: _end_of_week(s, weeks_ahead=1),
    "next_week": lambda m, s: _end_of_week(s, weeks_ahead=1),
    "next_meeting": lambda m, s: None,  # resolved by the caller's `next_meeting`
    "end_of_week": lambda m, s: _end_of_week(s),
    "end_of_next_month": lambda m, s: _end_of_next_month(s),
    "end_of_named_month": _end_of_named_month,
    "end_of_month": lambda m, s: _last_day(s.year, s.month),
    "relative": _relative,
    "iso": _iso,
    "month_day": _calendar_day,
    "day_month": _calendar_day,
    "ordinal": _ordinal,
    "weekday_day": _ordinal,
    "weekday": _weekday,
}


def _candidates(lowered: str) -> list[tuple[int, int, str, re.Match[str]]]:
    found = []
    for kind, pattern in _PATTERNS.items():
        for match in pattern.finditer(lowered):
            found.append((match.start(), match.end(), kind, match))
    # Earliest first; at the same start the longest ("end of the month" over "the month"), then pattern order.
    order = list(_PATTERNS)
    found.sort(key=lambda item: (item[0], -(item[1] - item[0]), order.index(item[2])))
    kept: list[tuple[int, int, str, re.Match[str]]] = []
    for item in found:
        if kept and item[0] < kept[-1][1]:
            continue
        kept.append(item)
    return kept


def _is_excluded(lowered: str, start: int, end: int, kind: str) -> bool:
    before = lowered[max(0, start - 30) : start]
    if kind == "weekday" and _DESCRIBED_DAY.search(before):
        return True  # "the Sunday night shift", "a Friday": a day being described, not a deadline
    if kind == "next_week" and _VAGUE_BEFORE.search(before):
        return True  # "maybe next week", "sometime next week": a hope, not a deadline
    return bool(_NOT_DUE_BEFORE.search(before) or _NOT_DUE_AFTER.match(lowered[end:]))


def find_due_dates(text: str, session_date: dt.date, next_meeting: dt.date | None = None) -> list[DueMatch]:
    """Every due-date expression in `text`, in reading order, resolved against `session_date` ("before our next
    session" against `next_meeting`, when known)."""
    lowered = _normalise(text)
    out: list[DueMatch] = []
    events: list[DueMatch] = []  # "after the audit on Tuesday": the event's day, dropped when a deadline follows
    for start, end, kind, match in _candidates(lowered):
        if _is_excluded(lowered, start, end, kind):
            continue
        resolved = next_meeting if kind == "next_meeting" else _RESOLVERS[kind](match, session_date)
        if resolved is not None:
            out.append(DueMatch(start, end, text[start:end], resolved))
            if kind in ("weekday", "weekday_day", "ordinal") and _AFTER_EVENT.search(
                lowered[max(0, start - 30) : start]
            ):
                events.append(out[-1])
    return [m for m in out if not (m in events and any(o.start > m.end for o in out))]


def resolve_due(text: str, session_date: dt.date, next_meeting: dt.date | None = None) -> dt.date | None:
    """The due date stated in `text` (the first one when there are several), or None when no time is stated."""
    found = find_due_dates(text, session_date, next_meeting)
    return found[0].date if found else None


def strip_due_phrases(text: str, session_date: dt.date) -> str:
    """`text` without its due-date expressions (and the preposition before each), for action wording."""
    pieces: list[str] = []
    cursor = 0
    for found in find_due_dates(text, session_date):
        before = text[cursor : found.start]
        before = _DUE_PREPOSITION.sub("", _TIME_OF_DAY.sub("", before))
        pieces.append(before)
        cursor = found.end
    pieces.append(text[cursor:])
    out = _NEXT_MEETING.sub("", "".join(pieces))
    out = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", out))
    return out.strip(" ,;")
