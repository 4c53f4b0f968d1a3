"""An agenda as the shells show it: the JSON contract and Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from facilitator.export import next_meeting
from facilitator.knowledge.bank import QUESTION_BANK_SOURCE
from facilitator.models import Agenda, Pair, join_names


def agenda_json(agenda: Agenda) -> dict[str, Any]:
    """The agenda JSON contract: citations as {"source", "id"}, questions with "for"."""
    data = agenda.model_dump(mode="json", by_alias=True)
    for item in data["items"]:
        item["citations"] = [{"source": c["source"], "id": c["id"]} for c in item["citations"]]
    return data


def agenda_markdown(agenda: Agenda, pair: Pair) -> str:
    names = {p.id: p.first_name for p in pair.participants}
    people = join_names([p.name for p in pair.participants])
    lines = [f"# Co-mentoring agenda — {agenda.date.isoformat()}", "", f"{people} · {agenda.total_minutes} minutes"]
    following = next_meeting(agenda.date, pair.cadence)
    if following is not None:
        lines[-1] += f" · next meeting {following.isoformat()}"
    start = 0
    for n, item in enumerate(agenda.items, start=1):
        lead = f" · led by {names.get(item.lead, item.lead)}" if item.lead else ""
        lines += [
            "",
            f"## {n}. {item.title}",
            "",
            f"*{item.minutes} min (minute {start} to {start + item.minutes}){lead}*",
        ]
        start += item.minutes
        lines += ["", item.purpose, ""]
        for q in item.questions:
            who = ("Everyone" if pair.is_group else "Both") if q.for_ == "both" else names.get(q.for_, q.for_)
            text = q.text.removeprefix(f"{who}: ")  # review questions already start with the owner's name
            lines.append(f"- **{who}:** {text}")
        if item.citations:
            bank = [c.id for c in item.citations if c.source == QUESTION_BANK_SOURCE]
            other = [
                f"{c.title or Path(c.source).name} (`{c.id}`)"
                for c in item.citations
                if c.source != QUESTION_BANK_SOURCE
            ]
            sources = ([f"question bank {', '.join(bank)}"] if bank else []) + other
            lines += ["", f"*Sources:* {'; '.join(sources)}"]
    return "\n".join(lines) + "\n"
