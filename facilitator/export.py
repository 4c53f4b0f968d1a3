"""Exports of a session: a Markdown recap, JSON, and an .ics calendar (one entry per dated item + the next meeting)."""

from __future__ import annotations

import datetime as dt
import re

from facilitator.models import Participant, Summary, Turn
from facilitator.textutil import clip, safe_markdown

_CADENCE = [
    (re.compile(r"\b(every (two|2) weeks|fortnight(ly)?|bi-?weekly)\b", re.I), dt.timedelta(days=14)),
    (re.compile(r"\b(every (three|3) weeks)\b", re.I), dt.timedelta(days=21)),
    (re.compile(r"\b(weekly|every week)\b", re.I), dt.timedelta(days=7)),
    (re.compile(r"\b(monthly|every month|every (four|4) weeks)\b", re.I), dt.timedelta(days=28)),
]


def next_meeting(date: dt.date, cadence: str | None) -> dt.date | None:
    """The next meeting date from the pair's cadence ('every two weeks', 'monthly'...), or None when unknown."""
    if not cadence:
        return None
    for pattern, step in _CADENCE:
        if pattern.search(cadence):
            return date + step
    return None


def _name(participants: list[Participant], pid: str) -> str:
    return next((p.first_name for p in participants if p.id == pid), pid)


def _line(text: str) -> str:
    """What a partner or a model wrote, on one line and inert in any Markdown viewer (see `safe_markdown`)."""
    return safe_markdown(" ".join(text.split()))


def _md_cell(text: str) -> str:
    return _line(text).replace("|", "\\|")


def summary_markdown(summary: Summary, participants: list[Participant], turns: list[Turn] | None = None) -> str:
    """A shareable recap: items with owner, due date and the quoted line they came from.

    Everything a partner or a model wrote (names, actions, quotes, the summary...) goes through `safe_markdown`: the
    recap is opened in viewers that render raw HTML and images, and draw ```mermaid blocks."""
    by_index = {t.index: t for t in turns or []}
    title = f"# Co-mentoring session — {summary.date.isoformat()}" if summary.date else "# Co-mentoring session"
    lines = [title, ""]
    if summary.summary:
        lines += [
            "## Summary",
            "",
            *[f"- {_line(point)}" for point in summary.summary.splitlines() if point.strip()],
            "",
        ]
    lines += ["## Accountability items", ""]
    if summary.commitments:
        lines += ["| Owner | Action | Due | Status | From |", "|---|---|---|---|---|"]
        for c in summary.commitments:
            quote = "; ".join(
                f"“{clip(by_index[i].text, 90)}” (turn {i})" if i in by_index else f"turn {i}" for i in c.evidence
            )
            status = c.status + (" · confirmed by both" if c.confirmed else "")
            due = c.due.isoformat() if c.due else "—"
            owner = _md_cell(_name(participants, c.owner))
            lines.append(f"| {owner} | {_md_cell(c.action)} | {due} | {status} | {_md_cell(quote)} |")
    else:
        lines.append("No accountability items were agreed.")
    lines.append("")
    if summary.decisions:
        lines += ["## Decisions", "", *[f"- {_line(d)}" for d in summary.decisions], ""]
    if summary.open_questions:
        lines += ["## Open questions", "", *[f"- {_line(q)}" for q in summary.open_questions], ""]
    if summary.assumptions:
        lines += ["## Assumptions voiced", ""]
        lines += [
            f"- {_line(_name(participants, a.speaker))} (turn {a.turn}): “{_line(clip(a.text, 140))}”"
            for a in summary.assumptions
        ]
        lines.append("")
    if summary.balance.participants:
        lines += [
            "## Balance",
            "",
            "| Partner | Words | Turns | Share of words | Challenged |",
            "|---|---|---|---|---|",
        ]
        for pid, b in summary.balance.participants.items():
            name = _md_cell(_name(participants, pid))
            lines.append(f"| {name} | {b.words} | {b.turns} | {b.word_share:.0%} | {b.challenges} |")
        lines.append("")
    if summary.next_meeting:
        lines += [f"Next meeting: {summary.next_meeting.isoformat()}", ""]
    for warning in summary.warnings:
        lines.append(f"> Note: {_line(warning)}")
    return "\n".join(lines).rstrip() + "\n"


def summary_ics(summary: Summary, participants: list[Participant], *, uid_prefix: str = "comentor") -> bytes:
    """An iCalendar file: an all-day entry on each dated item's due date, and one for the next meeting."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//comentor//co-mentoring accountability items//EN")
    cal.add("version", "2.0")
    stamp = dt.datetime.now(dt.UTC)
    for c in summary.commitments:
        if c.due is None or c.status == "dropped":
            continue
        event = Event()
        event.add("uid", f"{uid_prefix}-{c.id or abs(hash((c.owner, c.action)))}@comentor")
        event.add("dtstamp", stamp)
        event.add("summary", f"{_name(participants, c.owner)}: {c.action}")
        event.add("dtstart", c.due)
        event.add("dtend", c.due + dt.timedelta(days=1))
        event.add("description", f"Accountability item from the co-mentoring session of {summary.date}.")
        cal.add_component(event)
    if summary.next_meeting:
        event = Event()
        event.add("uid", f"{uid_prefix}-next-meeting-{summary.next_meeting.isoformat()}@comentor")
        event.add("dtstamp", stamp)
        event.add("summary", "Next co-mentoring session: " + " & ".join(p.first_name for p in participants))
        event.add("dtstart", summary.next_meeting)
        event.add("dtend", summary.next_meeting + dt.timedelta(days=1))
        cal.add_component(event)
    return bytes(cal.to_ical())


def export_summary(
    summary: Summary,
    participants: list[Participant],
    turns: list[Turn],
    fmt: str,
    *,
    uid_prefix: str = "comentor",
) -> bytes:
    """One export of a summarized session: `md` (recap), `json` (the summary contract) or `ics` (dated items)."""
    import json

    from facilitator.exceptions import InputError

    if fmt == "ics":
        if not summary.next_meeting and not any(c.due and c.status != "dropped" for c in summary.commitments):
            raise InputError(
                "no dated items and no next meeting: nothing to put in a calendar yet; "
                "give an item a due date (edit it) or set the pair's cadence"
            )
        return summary_ics(summary, participants, uid_prefix=uid_prefix)
    if fmt == "json":
        return (json.dumps(summary.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n").encode()
    if fmt == "md":
        return summary_markdown(summary, participants, turns).encode()
    raise InputError(f"unknown export format '{fmt}'; use md, json or ics")
