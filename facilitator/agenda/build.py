"""The offline agenda, built in code from the pair, last session's open items, the question bank and the guidance.

The shape follows the guidance (session-structure, meeting-cadence, commitments-and-accountability,
feedback-both-ways, mutual-benefit-strategies): a check-in with gratitude, a review of every open commitment by its
owner, one item led by each partner (one thing they seek, with what the other offers, and the rest of what they seek
listed), an item both lead on the pair's shared goals (when there are any), feedback and challenge both ways, and a
close with commitments and the next meeting date. Timeboxes sum exactly to the session length. Deterministic.

Given the pair's earlier agendas, it rotates: each partner's item is on the sought topic covered longest ago (or
never), and each question is the fitting bank question used longest ago (or never), so session N does not repeat the
questions of session N-1.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from facilitator.agenda.history import History
from facilitator.agenda.topics import SeekMatch, match_seeks_among
from facilitator.exceptions import InputError, KnowledgeError
from facilitator.export import next_meeting
from facilitator.feedback import Feedback, checkin_note
from facilitator.knowledge.bank import QUESTION_BANK_SOURCE, QuestionBank, QuestionEntry
from facilitator.models import (
    Agenda,
    AgendaItem,
    AgendaQuestion,
    Citation,
    Commitment,
    Pair,
    Participant,
    join_names,
)
from facilitator.textutil import clip

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder
    from facilitator.knowledge.index import KnowledgeBase

MIN_MINUTES = 15
MAX_MINUTES = 240
MIN_ITEM_MINUTES = 2

ItemKind = Literal["check-in", "review", "lead", "shared", "feedback", "close"]
OTHER_SEEKS_CHARS = 300  # the list of a lead's other sought topics in their item's purpose
SHARED_TITLE_CHARS = 90


# Relative weights of the timeboxes, after the sixty-minute outline in session-structure.md: check-in 5 + gratitude 3,
# review 7, each partner's item 15, a shared project's slot 8, feedback (and challenge) 5-7, commitments 5 + next
# date 2.
_WEIGHTS: dict[ItemKind, float] = {"check-in": 8, "lead": 15, "shared": 8, "feedback": 7, "close": 7}
_GUIDANCE_QUERY: dict[ItemKind, str] = {
    "check-in": "opening a co-mentoring session with a check-in and gratitude",
    "review": "reviewing commitments from last time without blame",
    "lead": "each partner leads one item and says what kind of help they want",
    "shared": "a shared project that needs both partners' strengths, with progress reviewed at each meeting",
    "feedback": "giving and receiving feedback in both directions and challenging assumptions",
    "close": "closing with commitments and confirming the next meeting date",
}
WORD = re.compile(r"[a-z0-9]{4,}")


def check_minutes(minutes: int, *, name: str = "minutes") -> None:
    """Raise InputError unless `minutes` is a workable session length."""
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise InputError(
            f"{name} must be between {MIN_MINUTES} and {MAX_MINUTES} (got {minutes}); "
            "a session needs room for a check-in, both partners' items, feedback and commitments"
        )


def allocate_minutes(weights: list[float], total: int, minimum: int = MIN_ITEM_MINUTES) -> list[int]:
    """Integer timeboxes proportional to `weights` that sum exactly to `total`, each at least `minimum`.

    Items whose share would fall below the minimum get the minimum; the rest is shared by largest remainder
    (ties go to the earlier item).
    """
    if not weights or total < minimum * len(weights) or any(w <= 0 for w in weights):
        raise ValueError(f"cannot split {total} minutes into {len(weights)} items of at least {minimum}")
    fixed: dict[int, int] = {}
    while True:
        free = [i for i in range(len(weights)) if i not in fixed]
        remaining = total - sum(fixed.values())
        weight = sum(weights[i] for i in free)
        quotas = {i: remaining * weights[i] / weight for i in free}
        low = [i for i in free if quotas[i] < minimum]
        if not low:
            break
        fixed.update(dict.fromkeys(low, minimum))
    out = dict(fixed)
    out.update({i: math.floor(q) for i, q in quotas.items()})
    leftover = total - sum(out.values())
    for i in sorted(quotas, key=lambda i: (-(quotas[i] - math.floor(quotas[i])), i))[:leftover]:
        out[i] += 1
    return [out[i] for i in range(len(weights))]


# ------------------------------------------------------------------------------------------------ building
@dataclass
class _Draft:
    kind: ItemKind
    title: str
    purpose: str
    lead: str | None = None
    questions: list[AgendaQuestion] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)


class _Picker:
    """Bank questions for the agenda, none used twice. Ranked by how long ago an earlier agenda used it (never
    first), fit with the topic (a question with `{topic}` only when there is one), preferred theme, overlap with a
    hint, then bank order: deterministic."""

    def __init__(self, bank: QuestionBank, history: History | None = None) -> None:
        self.bank = bank
        self.history = history or History()
        self.used: set[str] = set()
        self._order = {q.id: i for i, q in enumerate(bank.questions)}

    def pick(
        self,
        phase: str,
        direction: str,
        *,
        themes: tuple[str, ...] = (),
        hint: str = "",
        topic: str | None = None,
    ) -> QuestionEntry | None:
        pool = [q for q in self.bank.select(phase=phase, direction=direction) if q.id not in self.used]
        if not pool:  # a smaller custom bank: any phase, same direction
            pool = [q for q in self.bank.select(direction=direction) if q.id not in self.used]
        if not pool:
            return None
        words = set(WORD.findall(hint.lower()))

        def rank(q: QuestionEntry) -> tuple[int, int, int, int, int]:
            theme = len(themes) - themes.index(q.theme) if q.theme in themes else 0
            fits_topic = int(q.needs_topic == (topic is not None))
            overlap = len(words & set(WORD.findall(q.text.lower())))
            return (self.history.question_age(q.id), fits_topic, theme, overlap, -self._order[q.id])

        best = max(pool, key=rank)
        self.used.add(best.id)
        return best


def _add(draft: _Draft, entry: QuestionEntry | None, who: str, text: str, seen: set[str]) -> None:
    if entry is None or text.lower() in seen:
        return
    seen.add(text.lower())
    draft.questions.append(AgendaQuestion.model_validate({"text": text, "for": who}))
    draft.citations.append(Citation(source=QUESTION_BANK_SOURCE, id=entry.id))


def _possessive(name: str) -> str:
    return f"{name}'s"


def _focus(pair: Pair, lead: Participant, history: History, embedder: Embedder | None) -> list[SeekMatch]:
    """What `lead` seeks, the topic of their item first: the one covered longest ago (or never), then one another
    member offers, then one related to an offer, then file order. Without seeks: the first offer of the others
    (in a pair, what the partner offers first), if anything."""
    others = pair.others(lead.id)
    matches = match_seeks_among(lead, others, embedder)
    if not matches:
        offers = [(o.id, t) for o in others for t in o.offer_topics][:1]
        return [SeekMatch(seek=t, offer=t, exact=True, by=by) for by, t in offers]
    order = {m.seek: n for n, m in enumerate(matches)}

    def rank(m: SeekMatch) -> tuple[int, bool, bool, int]:
        return (history.topic_age(lead.id, m.seek), m.exact, m.offer is not None, -order[m.seek])

    first = max(matches, key=rank)
    return [first, *(m for m in matches if m is not first)]


def _lead_parts(pair: Pair, lead: Participant, seeks: list[SeekMatch]) -> tuple[str | None, str, str]:
    """(topic, title, purpose) of the item `lead` leads: the first of `seeks`, with what the member who offers it
    offers (`helper_for`), and the rest of what `lead` seeks listed, each with the offer that meets it and who
    offers it."""
    other = helper_for(pair, lead, seeks)
    name, partner = lead.first_name, other.first_name
    focus = seeks[0] if seeks else None
    topic = focus.seek if focus else None
    if focus is None:
        title = f"{name} leads: a goal or challenge {name} chooses"
        helper = f"{partner} asks questions first and offers ideas second"
    elif focus.exact:
        title = f"{name} leads: {topic} (with {_possessive(partner)} experience)"
        helper = f"{partner}, who offers {topic}, asks questions first and offers ideas second"
    elif offer := focus.offer or next(iter(other.offer_topics), None):
        title = f"{name} leads: {topic} (with {_possessive(partner)} {offer})"
        helper = f"{partner} asks questions first and offers ideas second, drawing on {offer}"
    else:
        title = f"{name} leads: {topic} (with {partner} as a sounding board)"
        helper = f"{partner} asks questions first and offers ideas second"
    focus_text = f"a question or goal about {topic}" if topic else "a goal, a challenge or a skill to work on"
    purpose = (
        f"{name} brings {focus_text} and says up front what kind of help would be most useful: ideas, practice, a "
        f"sounding board or a challenge. {helper}. It runs both ways: {partner} also names one thing to learn from "
        f"how {name} sees it."
    )
    return topic, title, purpose + _group_part(pair, lead, other) + _other_seeks(pair, name, seeks[1:])


def helper_for(pair: Pair, lead: Participant, seeks: list[SeekMatch]) -> Participant:
    """Who helps on `lead`'s item: the member who offers its topic, else the first of the others with an offer,
    else the first of the others (in a pair, always the partner)."""
    others = pair.others(lead.id)
    by = seeks[0].by if seeks else None
    if by in pair.ids and by != lead.id:
        return pair.participant(by)
    return next((o for o in others if o.offer_topics), others[0])


def _group_part(pair: Pair, lead: Participant, helper: Participant) -> str:
    """In a group, what the members other than `lead` and `helper` do (empty for a pair)."""
    rest = [p.first_name for p in pair.others(lead.id) if p.id != helper.id]
    if not rest:
        return ""
    verb = "brings one question or example" if len(rest) == 1 else "bring one question or example each"
    return f" {join_names(rest)} {verb} from their own experience."


def _other_seeks(pair: Pair, name: str, rest: list[SeekMatch]) -> str:
    """ " Also on Ana's list, now if time allows or at a later session: public speaking (Ben offers presentation
    coaching); budgeting." Empty when `rest` is."""
    if not rest:
        return ""
    named = [
        m.seek
        if m.offer is None or m.by not in pair.ids
        else f"{m.seek} ({pair.participant(m.by).first_name} offers {'it' if m.exact else m.offer})"
        for m in rest
    ]
    listed = clip("; ".join(named), OTHER_SEEKS_CHARS)
    return f" Also on {_possessive(name)} list, now if time allows or at a later session: {listed}."


def short_action(c: Commitment) -> str:
    return clip(c.action.strip().rstrip(".!;:").strip(), 120) or "your commitment"


def review_question(c: Commitment, pair: Pair) -> str:
    """How the review names an open item: "Ben: how did 'send the deck' go?"; a slipped one asks what got in the way."""
    owner = pair.participant(c.owner).first_name
    if c.status == "slipped":
        return f"{owner}: '{short_action(c)}' slipped last time. What happened, and what would help now?"
    due = f" (due {c.due.isoformat()})" if c.due else ""
    return f"{owner}: how did '{short_action(c)}'{due} go?"


def build_agenda(
    pair: Pair,
    *,
    date: dt.date,
    minutes: int = 45,
    open_items: list[Commitment] | None = None,
    bank: QuestionBank,
    knowledge: KnowledgeBase | None = None,
    previous: Sequence[Agenda] = (),
    feedback: Sequence[Feedback] = (),
) -> Agenda:
    """The offline agenda: deterministic for the same pair, date, minutes, open items, bank, knowledge base and
    `previous` (the pair's earlier agendas, oldest first: questions and sought topics they used come last).
    `feedback` (the members' answers at the end of their last session) is recalled in the check-in."""
    check_minutes(minutes)
    items_open = _distinct_open_items(pair, open_items or [])
    history = History(previous)
    picker = _Picker(bank, history)
    embedder = knowledge.embedder if knowledge is not None else None
    seen: set[str] = set()
    drafts = [_opening(picker, seen)]
    drafts[0].purpose += checkin_note(list(feedback), {p.id: p.first_name for p in pair.participants})
    if items_open:
        drafts.append(_review(pair, items_open, picker, seen))
    for lead in pair.participants:
        drafts.append(_led_by(pair, lead, _focus(pair, lead, history, embedder), picker, seen))
    if pair.shared_goals:
        drafts.append(_shared(pair, picker, seen))
    drafts += [_feedback(pair, picker, seen), _closing(pair, date, picker, seen)]

    _check_room(minutes, len(drafts), len(pair.participants))
    weights = [_WEIGHTS.get(d.kind, min(12.0, 4.0 + len(items_open))) for d in drafts]
    timeboxes = allocate_minutes(weights, minutes)
    items = []
    for draft, box in zip(drafts, timeboxes, strict=True):
        citations = list(draft.citations)
        hit = _top_guidance(knowledge, draft)
        if hit is not None and all(c.id != hit.id for c in citations):
            citations.append(hit)
        items.append(
            AgendaItem(
                title=draft.title,
                minutes=box,
                lead=draft.lead,
                purpose=draft.purpose,
                questions=draft.questions,
                citations=citations,
            )
        )
    return Agenda(date=date, total_minutes=minutes, items=items)


def _check_room(minutes: int, items: int, members: int) -> None:
    """InputError when `minutes` cannot give each of `items` its MIN_ITEM_MINUTES (a circle of five has ten items)."""
    needed = items * MIN_ITEM_MINUTES
    if minutes < needed:
        raise InputError(
            f"{minutes} minutes cannot hold this agenda's {items} items for {members} members (each needs at least "
            f"{MIN_ITEM_MINUTES}); use --minutes {max(needed, MIN_MINUTES)} or more"
        )


def _distinct_open_items(pair: Pair, open_items: list[Commitment]) -> list[Commitment]:
    """Identical items once, in their original order; InputError for an item of someone outside the pair."""
    items_open: list[Commitment] = []
    for c in open_items:
        if all((o.owner, o.action.strip().lower()) != (c.owner, c.action.strip().lower()) for o in items_open):
            items_open.append(c)
    for c in items_open:
        if c.owner not in pair.ids:
            raise InputError(
                f"open item '{clip(c.action, 60)}' belongs to '{c.owner}', who is not a partner of this pair "
                f"({', '.join(pair.ids)}); use the summary of this pair's last session"
            )
    return items_open


def _opening(picker: _Picker, seen: set[str]) -> _Draft:
    """1. Check-in and gratitude."""
    opening = _Draft(
        "check-in",
        "Check-in and gratitude",
        "Start with people, not tasks: each of you says how you are arriving today, at work and beyond, and flags "
        "anything that might colour the meeting. Then each thanks the other for one specific thing since you last met.",
    )
    for themes in (("holistic", "wellbeing"), ("gratitude",), ("reciprocity",)):
        entry = picker.pick("check-in", "both", themes=themes)
        _add(opening, entry, "both", entry.render() if entry else "", seen)
    return opening


def _review(pair: Pair, items_open: list[Commitment], picker: _Picker, seen: set[str]) -> _Draft:
    """2. Review of open commitments, owner by owner."""
    ordered = sorted(items_open, key=lambda c: pair.ids.index(c.owner))  # stable: keeps each owner's order
    counts = [f"{p.first_name} ({n})" for p in pair.participants if (n := sum(c.owner == p.id for c in ordered)) > 0]
    slipped = sum(c.status == "slipped" for c in ordered)
    purpose = (
        f"Before new topics, go through every open commitment from last time, owner by owner: "
        f"{', then '.join(counts)}. For each: done, partly done or not done, and what was learned? "
        "Renew it with a new date, change it, or drop it on purpose, so that nothing silently disappears."
    )
    if slipped:
        purpose += (
            f" {slipped} {'item has' if slipped == 1 else 'items have'} slipped: ask what got in the way "
            "with curiosity, not blame."
        )
    review = _Draft("review", "Review of open commitments", purpose)
    for c in ordered:
        text = review_question(c, pair)
        seen.add(text.lower())
        review.questions.append(AgendaQuestion.model_validate({"text": text, "for": c.owner}))
    if slipped:
        entry = picker.pick("check-in", "both", themes=("accountability",), hint="slipped got in the way")
    else:
        entry = picker.pick("commitments", "both", themes=("accountability",), hint="drop deliberately slide")
    _add(review, entry, "both", entry.render() if entry else "", seen)
    return review


def _led_by(pair: Pair, lead: Participant, seeks: list[SeekMatch], picker: _Picker, seen: set[str]) -> _Draft:
    """3-4. The item `lead` leads: what they seek (the first of `seeks`), with what the member who offers it offers."""
    other = helper_for(pair, lead, seeks)
    topic, title, purpose = _lead_parts(pair, lead, seeks)
    item = _Draft("lead", title, purpose, lead=lead.id)
    entry = picker.pick("goals", "seeks", themes=("goals",), topic=topic)
    _add(item, entry, lead.id, entry.render(topic=topic, partner=other.first_name) if entry else "", seen)
    entry = picker.pick("exchange", "offers", themes=("skills-exchange",), topic=topic)
    _add(item, entry, other.id, entry.render(topic=topic, partner=lead.first_name) if entry else "", seen)
    entry = picker.pick("exchange", "both", themes=("reciprocity", "reverse-mentoring"))
    _add(item, entry, "both", entry.render(topic=topic) if entry else "", seen)
    return item


def _shared(pair: Pair, picker: _Picker, seen: set[str]) -> _Draft:
    """The pair's shared goals: an item every member leads (a separate slot for the shared project, as
    session-structure suggests)."""
    goals = pair.shared_goals
    named = "; ".join(goals)
    plural = "s" if len(goals) > 1 else ""
    everyone = "All" if pair.is_group else "Both"
    shared = _Draft(
        "shared",
        clip(f"Shared goal{plural}: {named}", SHARED_TITLE_CHARS),
        f"{everyone} of you lead this one, on your shared goal{plural}: {clip(named, OTHER_SEEKS_CHARS)}. Say where it "
        "stands and what each of you has contributed since you last met, then agree the next step, which of your "
        "strengths it needs, and who owns which part.",
    )
    for phase, themes in (("goals", ("shared-project", "goals")), ("exchange", ("shared-project", "reciprocity"))):
        entry = picker.pick(phase, "both", themes=themes, hint=f"{named} shared project both strengths next step")
        _add(shared, entry, "both", entry.render() if entry else "", seen)
    return shared


def _feedback(pair: Pair, picker: _Picker, seen: set[str]) -> _Draft:
    """5. Feedback and challenge, both ways (every way, in a group)."""
    names = join_names([p.first_name for p in pair.participants])
    others, whose = ("the others", "another member's") if pair.is_group else ("the other", "the other's")
    feedback = _Draft(
        "feedback",
        "Feedback and challenge, both ways",
        f"Each of you asks {others} for one thing that helped today and one thing to do differently; the one who "
        f"asked listens and says thank you. Then {names} each name one assumption of {whose} worth testing, "
        "whoever has more experience included.",
    )
    for phase, themes, hint in (
        ("feedback", ("feedback",), "helped differently"),
        ("challenge", ("feedback", "power-balance"), "push back"),
        ("feedback", ("power-balance",), "invite challenge"),
    ):
        entry = picker.pick(phase, "both", themes=themes, hint=hint)
        _add(feedback, entry, "both", entry.render() if entry else "", seen)
    return feedback


def _closing(pair: Pair, date: dt.date, picker: _Picker, seen: set[str]) -> _Draft:
    """6. Commitments and the next meeting."""
    following = next_meeting(date, pair.cadence)
    if following is not None:
        when = f"The next meeting is due on {following.isoformat()} ({pair.cadence}): confirm it and who chairs it."
    elif pair.cadence:
        when = f"Agree the date of the next meeting ({pair.cadence}) and who chairs it."
    else:
        when = "Agree the date of the next meeting and who chairs it."
    closing = _Draft(
        "close",
        "Commitments and next meeting",
        "Each of you names at least one action of your own, as 'I will ... by <date>', small enough to finish "
        f"before the next meeting, and you write them down together. {when} End with a word of thanks.",
    )
    for phase, themes, hint in (
        ("commitments", ("accountability",), "each before next meet date"),
        ("commitments", ("accountability",), "next meet chair"),
        ("close", ("gratitude",), "grateful each other"),
    ):
        entry = picker.pick(phase, "both", themes=themes, hint=hint)
        _add(closing, entry, "both", entry.render() if entry else "", seen)
    return closing


def _top_guidance(knowledge: KnowledgeBase | None, draft: _Draft) -> Citation | None:
    if knowledge is None:
        return None
    try:
        hits = knowledge.search(_GUIDANCE_QUERY[draft.kind], 1)
    except KnowledgeError:
        return None
    if not hits:
        return None
    return Citation(source=hits[0].source, id=hits[0].id, title=hits[0].title)
