"""Session agendas: built in code from the pair, last session's open items, the question bank and the guidance.

One concern per module: `build` (the deterministic, offline agenda and its timeboxes), `topics` (what each partner
seeks, matched with what the other offers), `history` (what the pair's earlier agendas used, so that questions and
topics rotate), `check` (its structure, checked again after any rewording), `phrase` (the brain's wording, applied
and checked), `render` (JSON and Markdown), `edit` (the pair's edits) and `files` (last session's open items from a
summary file). Opening the store, the knowledge base or a model is the engine's job (facilitator.engine), not this
package's.
"""

from __future__ import annotations

from facilitator.agenda.build import (
    MAX_MINUTES,
    MIN_ITEM_MINUTES,
    MIN_MINUTES,
    allocate_minutes,
    build_agenda,
    check_minutes,
    review_question,
)
from facilitator.agenda.check import check_agenda
from facilitator.agenda.edit import edit_agenda
from facilitator.agenda.files import SummaryFileError, previous_items
from facilitator.agenda.phrase import PhrasedAgenda, phrase_agenda
from facilitator.agenda.render import agenda_json, agenda_markdown

__all__ = [
    "MAX_MINUTES",
    "MIN_ITEM_MINUTES",
    "MIN_MINUTES",
    "PhrasedAgenda",
    "SummaryFileError",
    "agenda_json",
    "agenda_markdown",
    "allocate_minutes",
    "build_agenda",
    "check_agenda",
    "check_minutes",
    "edit_agenda",
    "phrase_agenda",
    "previous_items",
    "review_question",
]
