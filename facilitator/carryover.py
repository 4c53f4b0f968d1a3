"""Carry-over: the items a pair agreed in earlier sessions, as the next sessions show and update them.

Pure functions over what the store holds (items, their events, the pair's sessions); `LiveSession` reads the store
and calls them (`LiveSession.carried`, `LiveSession.mark_item`, `/commitments`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from facilitator.models import Commitment, Pair
from facilitator.records import CommitmentEvent, SessionInfo, StoredItem
from facilitator.snapshots import CarriedItem

OPEN = ("open", "slipped")
CLOSING = ("done", "dropped")
MARK_HINT = "mark one with /done ID, /slipped ID NEW-DATE or /dropped ID"


def carried_items(
    items: Sequence[StoredItem],
    events: Mapping[str, list[CommitmentEvent]],
    sessions: Sequence[SessionInfo],
    session_id: str,
) -> list[CarriedItem]:
    """The items of the sessions before `session_id` (in the pair's order) that are open, or were closed in that
    session, each with its history; in the store's order (by due date)."""
    order = [s.id for s in sessions]
    earlier = set(order[: order.index(session_id)]) if session_id in order else set(order)
    dates = {s.id: s.date for s in sessions}
    carried = []
    for stored in items:
        if stored.session_id not in earlier:
            continue
        mine = events.get(stored.id, [])
        closed_here = any(e.session_id == session_id and e.kind in CLOSING for e in mine)
        if stored.item.status in OPEN or closed_here:
            history = history_lines(mine, dates)
            carried.append(CarriedItem(item=stored.item, agreed=dates.get(stored.session_id), history=history))
    return carried


def history_lines(events: Sequence[CommitmentEvent], dates: Mapping[str, dt.date]) -> list[str]:
    """An item's history in words, oldest first: agreed, each slip with its dates, a changed date, done, dropped.
    A date change followed by the slip it belongs to reads as one line."""
    lines: list[str] = []
    moved: CommitmentEvent | None = None  # a date change not yet written (a slip may follow it)
    for event in events:
        day = _day(event, dates)
        if event.kind == "slipped":
            lines.append(f"slipped {_dates(moved) if moved else ''}".rstrip() + f" ({day})")
            moved = None
            continue
        if moved is not None:
            lines.append(f"date moved {_dates(moved)} ({_day(moved, dates)})")
            moved = None
        if event.kind == "due":
            moved = event
        elif event.kind == "created":
            lines.append(f"agreed {day}")
        elif event.kind in CLOSING or event.kind == "open":
            lines.append(f"{'reopened' if event.kind == 'open' else event.kind} {day}")
    if moved is not None:
        lines.append(f"date moved {_dates(moved)} ({_day(moved, dates)})")
    return lines


def _dates(event: CommitmentEvent) -> str:
    return f"{event.data.get('old') or 'no date'} → {event.data.get('new') or 'no date'}"


def _day(event: CommitmentEvent, dates: Mapping[str, dt.date]) -> str:
    day = dates.get(event.session_id or "") or event.at.date()
    return day.isoformat()


def item_line(item: Commitment, pair: Pair) -> str:
    """One item for a chat message (Markdown): its id (what the commands take), owner, action, due and status."""
    owner = pair.participant(item.owner).first_name if item.owner in pair.ids else item.owner
    due = f"due {item.due.isoformat()}" if item.due else "no date"
    status = "" if item.status == "open" else f", {item.status}"
    return f"- `{item.id}` {owner}: {item.action} ({due}{status})"


def carried_markdown(carried: Sequence[CarriedItem], pair: Pair) -> str:
    """The carried items for `/commitments`: the open ones with their ids and how to mark them, then those closed in
    this session; "" when there are none."""
    still = [c for c in carried if c.open]
    closed = [c for c in carried if not c.open]
    parts: list[str] = []
    if still:
        lines = [f"Open from earlier sessions ({len(still)}; {MARK_HINT}):"]
        lines += [item_line(c.item, pair) + _last(c) for c in still]
        parts.append("\n".join(lines))
    if closed:
        parts.append("\n".join(["Closed in this session:", *(item_line(c.item, pair) for c in closed)]))
    return "\n\n".join(parts)


def _last(carried: CarriedItem) -> str:
    slips = [h for h in carried.history if h.startswith("slipped")]
    return f" · {slips[-1]}" if slips else ""
