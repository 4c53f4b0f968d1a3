"""Checking an agenda's structure: what `build_agenda` guarantees, checked again after the model reworded it."""

from __future__ import annotations

import re

from facilitator.agenda.build import MIN_ITEM_MINUTES, WORD, short_action
from facilitator.export import next_meeting
from facilitator.models import Agenda, AgendaQuestion, Commitment, Pair
from facilitator.textutil import clip

_CHECK_IN = re.compile(r"check[- ]?in|arriv|welcome|how (are|is) (you|each)", re.IGNORECASE)
_GRATITUDE = re.compile(r"gratitud|grateful|thank|appreciat", re.IGNORECASE)
_FEEDBACK = re.compile(r"feedback", re.IGNORECASE)
_CHALLENGE = re.compile(r"challeng|push(ing)? back|assumption", re.IGNORECASE)
_COMMITMENTS = re.compile(r"commitment|action|i will", re.IGNORECASE)
_NEXT_MEETING = re.compile(r"next (meeting|session|date|time)|meet (next|again)", re.IGNORECASE)


def check_agenda(agenda: Agenda, pair: Pair, open_items: list[Commitment], minutes: int) -> list[str]:
    """What is wrong with the agenda's structure (empty when it is sound)."""
    problems: list[str] = []
    items = agenda.items
    if not items:
        return ["the agenda has no items"]
    total = sum(i.minutes for i in items)
    if total != minutes or agenda.total_minutes != minutes:
        problems.append(f"timeboxes sum to {total} minutes (total {agenda.total_minutes}), not {minutes}")
    for n, item in enumerate(items, start=1):
        if item.minutes < MIN_ITEM_MINUTES:
            problems.append(f"item {n} has {item.minutes} minutes; each needs at least {MIN_ITEM_MINUTES}")
        if not item.title.strip() or not item.purpose.strip():
            problems.append(f"item {n} lacks a title or a purpose")
        if not item.questions:
            problems.append(f"item {n} has no questions")
        elif len(item.questions) > max(3, len(open_items) + 1):
            problems.append(f"item {n} has {len(item.questions)} questions; at most 3")
        if not item.citations:
            problems.append(f"item {n} cites nothing")
        if item.lead is not None and item.lead not in pair.ids:
            problems.append(f"item {n} is led by '{item.lead}', who is not a partner")
        for q in item.questions:
            if q.for_ not in (*pair.ids, "both"):
                problems.append(f"item {n} has a question for '{q.for_}', who is not a partner")
            if not q.text.strip():
                problems.append(f"item {n} has an empty question")

    first = f"{items[0].title} {items[0].purpose}"
    if not (_CHECK_IN.search(first) and _GRATITUDE.search(first)):
        problems.append("the agenda does not open with a check-in and gratitude")

    body = items[:-1] if len(items) > 1 else items
    for c in open_items:
        owner = pair.participant(c.owner).first_name if c.owner in pair.ids else c.owner
        if not any(_reviews(q, c, owner) for item in body for q in item.questions):
            problems.append(f"{owner}'s open item '{clip(c.action, 60)}' is not reviewed with {owner}")

    for p in pair.participants:
        if not any(item.lead == p.id for item in items):
            problems.append(f"no item is led by {p.first_name}")

    if not any(_FEEDBACK.search(t) and _CHALLENGE.search(t) for t in (f"{i.title} {i.purpose}" for i in items)):
        problems.append("no item holds feedback and challenge both ways")

    last = f"{items[-1].title} {items[-1].purpose}"
    if not (_COMMITMENTS.search(last) and _NEXT_MEETING.search(last)):
        problems.append("the agenda does not close with commitments and the next meeting")
    following = next_meeting(agenda.date, pair.cadence)
    if following is not None and following.isoformat() not in last:
        problems.append(f"the closing item does not give the next meeting date ({following.isoformat()})")

    texts = [q.text.strip().lower() for item in items for q in item.questions]
    repeated = sorted({t for t in texts if texts.count(t) > 1})
    if repeated:
        problems.append(f"{len(repeated)} question(s) repeated: {clip(repeated[0], 60)}")
    return problems


def _reviews(q: AgendaQuestion, c: Commitment, owner: str) -> bool:
    """Whether question `q` reviews commitment `c` with its owner (addressed to them, naming them and the action)."""
    text = q.text.lower()
    if q.for_ != c.owner or owner.lower() not in text:
        return False
    words = set(WORD.findall(short_action(c).lower()))
    if not words:
        return short_action(c).lower() in text
    return len(words & set(WORD.findall(text))) * 2 >= len(words)
