"""The agenda in the brain's words: titles, purposes and questions reworded, everything else as code built it.

The brain (facilitator.brains) returns an `AgendaPhrasing`; here it is applied item by item and the result is checked
by `check_agenda`. On any failure the agenda stays as built, with a note saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from facilitator.agenda.check import check_agenda
from facilitator.brains.base import AgendaPhrasing, AgendaPhrasingInput, Brain
from facilitator.exceptions import KnowledgeError, ModelError
from facilitator.knowledge.bank import QUESTION_BANK_SOURCE
from facilitator.models import Agenda, AgendaItem, Commitment, Pair, SearchHit
from facilitator.moves import sanitize

if TYPE_CHECKING:
    from facilitator.knowledge.index import KnowledgeBase

MAX_TITLE_CHARS = 100
MAX_PURPOSE_CHARS = 700
MAX_QUESTION_CHARS = 300
_OFFLINE_NOTE = "this is the offline agenda"


@dataclass
class PhrasedAgenda:
    agenda: Agenda
    note: str | None = None  # set when the offline agenda stood in, saying why
    phrased_by: str = "offline"


def phrase_agenda(
    agenda: Agenda,
    pair: Pair,
    brain: Brain,
    *,
    open_items: list[Commitment] | None = None,
    knowledge: KnowledgeBase | None = None,
) -> PhrasedAgenda:
    """Let the brain reword titles, purposes and questions; minutes, leads, `for` and citations stay as built.

    The result must pass `check_agenda`; otherwise (or on any failure of the brain) the agenda as built is returned
    with a note saying why. A brain that offers no wording (the offline brain) leaves it as built, without a note.
    """
    items_open = list(open_items or [])
    try:
        data = AgendaPhrasingInput(agenda=agenda, pair=pair, references=_references(agenda, knowledge))
        phrasing = brain.phrase_agenda(data)
        if not phrasing.items:
            return PhrasedAgenda(agenda)
        phrased, problems = _apply(agenda, phrasing)
        if not problems:
            problems = check_agenda(phrased, pair, items_open, agenda.total_minutes)
    except ModelError as e:  # the brain's own account of what went wrong
        return PhrasedAgenda(agenda, note=f"{_first_line(e)}; {_OFFLINE_NOTE}")
    except Exception as e:  # a bug in a brain must not lose the agenda: it stays as built
        return PhrasedAgenda(
            agenda, note=f"the model failed ({e.__class__.__name__}: {_first_line(e)}); {_OFFLINE_NOTE}"
        )
    if problems:
        return PhrasedAgenda(
            agenda, note=f"the model's wording broke the agenda ({'; '.join(problems[:3])}); {_OFFLINE_NOTE}"
        )
    return PhrasedAgenda(phrased, phrased_by=brain.profile.model)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0][:300] if str(error) else ""


def _apply(agenda: Agenda, phrasing: AgendaPhrasing) -> tuple[Agenda, list[str]]:
    """The agenda with the model's wording; minutes, leads, `for` and citations untouched. Problems if it misfits."""
    problems: list[str] = []
    if len(phrasing.items) != len(agenda.items):
        problems.append(f"{len(phrasing.items)} items returned for {len(agenda.items)}")
    by_index = {p.index: p for p in phrasing.items}
    items: list[AgendaItem] = []
    for n, item in enumerate(agenda.items):
        p = by_index.get(n)
        if p is None:
            problems.append(f"item {n} missing")
            continue
        if len(p.questions) != len(item.questions):
            problems.append(f"item {n} has {len(p.questions)} questions instead of {len(item.questions)}")
            continue
        title, purpose = _clean(p.title), _clean(p.purpose)
        texts = [_clean(t) for t in p.questions]
        if not title or len(title) > MAX_TITLE_CHARS:
            problems.append(f"item {n} title empty or too long")
        if not purpose or len(purpose) > MAX_PURPOSE_CHARS:
            problems.append(f"item {n} purpose empty or too long")
        if any(not t or len(t) > MAX_QUESTION_CHARS for t in texts):
            problems.append(f"item {n} has an empty or overlong question")
        questions = [q.model_copy(update={"text": t}) for q, t in zip(item.questions, texts, strict=True)]
        items.append(item.model_copy(update={"title": title, "purpose": purpose, "questions": questions}))
    return agenda.model_copy(update={"items": items}), problems


def _clean(text: str) -> str:
    return " ".join(sanitize(text).split())


def _references(agenda: Agenda, knowledge: KnowledgeBase | None) -> list[SearchHit]:
    """The guidance passages the agenda cites (reference material for the wording); none without a knowledge base."""
    ids = [c.id for item in agenda.items for c in item.citations if c.source != QUESTION_BANK_SOURCE]
    if knowledge is None or not ids:
        return []
    try:
        return knowledge.get(ids)
    except KnowledgeError:
        return []
