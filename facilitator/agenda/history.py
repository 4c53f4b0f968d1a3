"""What a pair's earlier agendas already used: which bank questions, and which sought topic each partner's item was on.

The agenda builder prefers what was used longest ago (or never), so that questions and topics rotate from one session
to the next. Bank questions are recognised by the agenda's citations (kept as built when the brain rewords an
agenda), topics by their name in the title or questions of the item that partner led.
"""

from __future__ import annotations

from collections.abc import Sequence

from facilitator.knowledge.bank import QUESTION_BANK_SOURCE
from facilitator.models import Agenda


class History:
    """The earlier agendas of a pair, oldest first. An age is how many sessions ago something was last used:
    1 for the latest agenda, `never` when no earlier agenda used it."""

    def __init__(self, previous: Sequence[Agenda] = ()) -> None:
        self._agendas = list(previous)
        self.never = len(self._agendas) + 1
        self._question_age: dict[str, int] = {}
        for age, agenda in enumerate(reversed(self._agendas), start=1):
            for item in agenda.items:
                for c in item.citations:
                    if c.source == QUESTION_BANK_SOURCE:
                        self._question_age.setdefault(c.id, age)

    def question_age(self, entry_id: str) -> int:
        return self._question_age.get(entry_id, self.never)

    def topic_age(self, lead: str, topic: str) -> int:
        """Sessions since `lead`'s item was last on `topic` (named in its title or one of its questions)."""
        wanted = topic.lower()
        for age, agenda in enumerate(reversed(self._agendas), start=1):
            for item in agenda.items:
                text = " ".join([item.title, *(q.text for q in item.questions)]).lower()
                if item.lead == lead and wanted in text:
                    return age
        return self.never
