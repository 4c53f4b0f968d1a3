"""An agenda as the pair edited it (rows of title, minutes, lead)."""

from __future__ import annotations

from typing import Any

from facilitator.agenda.build import MAX_MINUTES
from facilitator.exceptions import InputError
from facilitator.models import Agenda, AgendaItem, Pair

EVERYONE = ("both", "all", "everyone", "-", "—")  # a lead cell for an item everyone leads


def edit_agenda(agenda: Agenda, pair: Pair, rows: list[list[Any]]) -> Agenda:
    """The agenda as the pair edited it: rows of [title, minutes, lead], in the order they should run.

    A row whose title matches an item keeps that item's purpose, questions and citations; a new title is a new item.
    Empty rows are dropped. Leads must be one of the partners (or empty); minutes are whole, non-negative numbers.
    """
    by_title = {item.title.strip().lower(): item for item in agenda.items}
    items: list[AgendaItem] = []
    for n, row in enumerate(rows, start=1):
        cells = [("" if c is None else str(c)).strip() for c in [*row, "", "", ""][:3]]
        title, minutes_text, lead_text = cells
        if not title and not minutes_text and not lead_text:
            continue
        if not title:
            raise InputError(f"agenda row {n} has no title; give it one or clear the row")
        try:
            minutes = int(float(minutes_text))
        except ValueError:
            raise InputError(f"agenda row {n} ('{title}'): minutes must be a number, got '{minutes_text}'") from None
        if not 0 <= minutes <= MAX_MINUTES:
            raise InputError(f"agenda row {n} ('{title}'): minutes must be between 0 and {MAX_MINUTES}")
        lead = None
        if lead_text and lead_text.lower() not in EVERYONE:
            lead = pair.resolve_speaker(lead_text)
            if lead is None:
                names = " or ".join(p.first_name for p in pair.participants)
                everyone = "'all'" if pair.is_group else "'both'"
                raise InputError(f"agenda row {n} ('{title}'): the lead must be {names}, {everyone} or empty")
        base = by_title.get(title.lower())
        if base is not None:
            items.append(base.model_copy(update={"minutes": minutes, "lead": lead}))
        else:
            items.append(AgendaItem(title=title, minutes=minutes, lead=lead))
    if not items:
        raise InputError("the agenda has no items left; add a row or generate a new agenda")
    total = sum(i.minutes for i in items)
    if total <= 0:
        raise InputError("the agenda's timeboxes add up to 0 minutes; give at least one item some time")
    return Agenda(date=agenda.date, total_minutes=total, items=items)
