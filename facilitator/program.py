"""The program report: how every pair is doing, for the program's coordinator, in counts and scores only.

Per pair: sessions held against its cadence, the last meeting, items done / slipped / dropped / open, each session's
talk balance (word shares) and feedback score, and whether it needs a nudge. It never holds turn text, item wording or
feedback comments: `ProgramReport` has no free-text field at all (every string is an id of the pair-id alphabet, a
fixed word or a date), so no renderer can leak what a pair said. The engine builds it (`build_report`); the CLI
(`comentor program report`) and the coordinator page only render it (`report_markdown`, `report_json`,
`report_html`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from facilitator.export import next_meeting
from facilitator.models import Pair
from facilitator.records import SessionInfo
from facilitator.signals import balance

if TYPE_CHECKING:
    from facilitator.store import Store

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,139}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Nudge = Literal["never-met", "missed-cadence", "nothing-done"]
DEFAULT_CADENCE_DAYS = 28  # a pair without a cadence the report understands is expected to meet monthly
GRACE_DAYS = 3  # a meeting this many days past its due date is not yet missed
NUDGE_TEXT: dict[str, str] = {
    "never-met": "has not met yet",
    "missed-cadence": "missed its cadence",
    "nothing-done": "has items but none done",
}


class _Counts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemCounts(_Counts):
    done: int = 0
    slipped: int = 0
    dropped: int = 0
    open: int = 0


class SessionFigures(_Counts):
    """One session in figures: its date, each member's share of the words, the members' mean balance score."""

    date: dt.date
    turns: int = 0
    shares: dict[Id, float] = Field(default_factory=dict)
    feedback_score: float | None = None
    feedback_responses: int = 0


class PairProgress(_Counts):
    pair_id: Id
    members: list[Id]
    cadence_days: int | None = Field(description="Days between meetings the pair's cadence asks for (None: unknown).")
    sessions_held: int = Field(description="Sessions in which anyone spoke.")
    sessions_expected: int | None = Field(description="Meetings the cadence asked for since the first one.")
    last_meeting: dt.date | None
    next_due: dt.date | None
    items: ItemCounts
    sessions: list[SessionFigures]
    feedback_score: float | None = Field(description="Mean of every member's balance score (1-5).")
    feedback_responses: int = 0
    nudges: list[Nudge] = Field(default_factory=list)


class ProgramReport(_Counts):
    date: dt.date
    pairs: list[PairProgress]
    needs_nudge: list[Id]


def build_report(store: Store, today: dt.date) -> ProgramReport:
    """Every stored pair's progress as of `today`."""
    pairs = [_progress(store, pair, today) for pair in store.list_pairs()]
    return ProgramReport(date=today, pairs=pairs, needs_nudge=[p.pair_id for p in pairs if p.nudges])


def safe_id(value: str) -> str:
    """`value` if it is an id of the report's alphabet, else a stable stand-in (an older store's odd id never breaks
    the report, nor passes free text into it)."""
    if re.match(ID_PATTERN, value):
        return value
    return "id-" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def cadence_days(cadence: str | None) -> int | None:
    day = dt.date(2000, 1, 1)
    following = next_meeting(day, cadence)
    return (following - day).days if following else None


def _progress(store: Store, pair: Pair, today: dt.date) -> PairProgress:
    sessions = [_figures(store, pair, info) for info in store.list_sessions(pair.id)]
    _add_feedback(store, pair.id, sessions)
    held = sorted(s.date for s, _id in sessions if s.turns)
    figures = [s for s, _id in sessions]
    scores = [f.balance for f in store.feedback(pair_id=pair.id)]
    days = cadence_days(pair.cadence)
    last = held[-1] if held else None
    items = _items(store, pair.id)
    progress = PairProgress(
        pair_id=safe_id(pair.id),
        members=[safe_id(pid) for pid in pair.ids],
        cadence_days=days,
        sessions_held=len(held),
        sessions_expected=_expected(held[0], today, days) if held and days else None,
        last_meeting=last,
        next_due=last + dt.timedelta(days=days or DEFAULT_CADENCE_DAYS) if last else None,
        items=items,
        sessions=figures,
        feedback_score=round(sum(scores) / len(scores), 2) if scores else None,
        feedback_responses=len(scores),
    )
    return progress.model_copy(update={"nudges": _nudges(progress, today)})


def _expected(first: dt.date, today: dt.date, days: int) -> int:
    """Meetings the cadence asked for from `first` to `today` (one due within the grace days is not yet asked)."""
    return max(0, (today - first).days - GRACE_DAYS) // days + 1


def _figures(store: Store, pair: Pair, info: SessionInfo) -> tuple[SessionFigures, str]:
    if info.summary is not None and info.summary.balance.participants:
        per = info.summary.balance.participants
    else:
        per = balance(store.turns(info.id), pair.ids).participants
    turns = sum(p.turns for p in per.values())
    shares = {safe_id(pid): round(p.word_share, 3) for pid, p in per.items() if pid in pair.ids} if turns else {}
    return SessionFigures(date=info.date, turns=turns, shares=shares), info.id


def _add_feedback(store: Store, pair_id: str, sessions: list[tuple[SessionFigures, str]]) -> None:
    scores: dict[str, list[int]] = {}
    for f in store.feedback(pair_id=pair_id):
        scores.setdefault(f.session_id, []).append(f.balance)
    for figures, sid in sessions:
        given = scores.get(sid, [])
        figures.feedback_responses = len(given)
        figures.feedback_score = round(sum(given) / len(given), 2) if given else None


def _items(store: Store, pair_id: str) -> ItemCounts:
    counts = ItemCounts()
    for item in store.commitments(pair_id=pair_id):
        if item.status in ("done", "slipped", "dropped", "open"):
            setattr(counts, item.status, getattr(counts, item.status) + 1)
    return counts


def _nudges(p: PairProgress, today: dt.date) -> list[Nudge]:
    """Why a pair needs a nudge: it never met, its next meeting is overdue (beyond the grace days), or it has items
    and has done none of them."""
    nudges: list[Nudge] = []
    if p.last_meeting is None:
        nudges.append("never-met")
    elif p.next_due is not None and today > p.next_due + dt.timedelta(days=GRACE_DAYS):
        nudges.append("missed-cadence")
    if p.items.done == 0 and (p.items.open + p.items.slipped + p.items.dropped) > 0:
        nudges.append("nothing-done")
    return nudges


# ------------------------------------------------------------------------------------------------ rendering
def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else "never"


def _score(value: float | None) -> str:
    return f"{value:.1f}/5" if value is not None else "-"


def _held(p: PairProgress) -> str:
    return f"{p.sessions_held}/{p.sessions_expected}" if p.sessions_expected is not None else str(p.sessions_held)


def _shares(s: SessionFigures) -> str:
    return " · ".join(f"{pid} {share:.0%}" for pid, share in s.shares.items()) or "no turns"


def _row(p: PairProgress) -> list[str]:
    cadence = f"{p.cadence_days} days" if p.cadence_days else "unknown"
    i = p.items
    nudge = ", ".join(NUDGE_TEXT[n] for n in p.nudges) or "-"
    return [
        p.pair_id,
        str(len(p.members)),
        cadence,
        _held(p),
        _day(p.last_meeting),
        f"{i.done} / {i.slipped} / {i.dropped} / {i.open}",
        _score(p.feedback_score),
        nudge,
    ]


HEADERS = [
    "pair",
    "members",
    "cadence",
    "held/expected",
    "last meeting",
    "done/slipped/dropped/open",
    "feedback",
    "nudge",
]


def report_json(report: ProgramReport) -> str:
    return report.model_dump_json(indent=2)


def report_markdown(report: ProgramReport) -> str:
    lines = [f"# Program report — {report.date.isoformat()}", "", f"{len(report.pairs)} pairs", ""]
    if report.needs_nudge:
        lines += ["## Needs a nudge", ""]
        by_id = {p.pair_id: p for p in report.pairs}
        lines += [f"- {pid}: {', '.join(NUDGE_TEXT[n] for n in by_id[pid].nudges)}" for pid in report.needs_nudge]
        lines.append("")
    lines += ["## Pairs", "", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(_row(p)) + " |" for p in report.pairs]
    lines += ["", "## Talk balance and feedback per session", ""]
    for p in report.pairs:
        lines.append(f"### {p.pair_id}")
        lines += [f"- {s.date.isoformat()}: {_shares(s)}; feedback {_score(s.feedback_score)}" for s in p.sessions]
        lines.append("")
    return "\n".join(lines)


def _session_li(s: SessionFigures) -> str:
    return f"<li>{html.escape(f'{s.date.isoformat()}: {_shares(s)}; feedback {_score(s.feedback_score)}')}</li>"


def report_html(report: ProgramReport) -> str:
    """The report as an HTML fragment (every value escaped, though none is free text)."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in HEADERS)
    rows = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in _row(p)) + "</tr>" for p in report.pairs)
    nudges = "".join(
        f"<li>{e(p.pair_id)}: {e(', '.join(NUDGE_TEXT[n] for n in p.nudges))}</li>" for p in report.pairs if p.nudges
    )
    sessions = "".join(f"<h4>{e(p.pair_id)}</h4><ul>{''.join(map(_session_li, p.sessions))}</ul>" for p in report.pairs)
    return (
        f"<div class='program-report'><h2>Program report — {e(report.date.isoformat())}</h2>"
        f"<h3>Needs a nudge</h3><ul>{nudges or '<li>none</li>'}</ul>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        f"<h3>Talk balance and feedback per session</h3>{sessions}</div>"
    )


def report_document(report: ProgramReport) -> str:
    """The report as a whole HTML page (`comentor program report --format html`)."""
    title = f"Program report {report.date.isoformat()}"
    style = "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{report_html(report)}</body></html>"
    )
