"""Session agendas: built in code from the pair, last session's open items, the question bank and the guidance.

The shape follows the guidance (session-structure, meeting-cadence, commitments-and-accountability,
feedback-both-ways): a check-in with gratitude, a review of every open commitment by its owner, one item led by
each partner (what they seek, with what the other offers), feedback and challenge both ways, and a close with
commitments and the next meeting date. Timeboxes sum exactly to the session length.

`build_agenda` is deterministic (the offline agenda). `phrase_agenda` lets a chat model reword titles, purposes and
questions only; the result is checked by `check_agenda` and the offline agenda stands in on any failure.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from facilitator.exceptions import InputError, KnowledgeError, NotFoundError, StoreError
from facilitator.export import next_meeting
from facilitator.knowledge.bank import QUESTION_BANK_SOURCE, QuestionBank, QuestionEntry
from facilitator.models import Agenda, AgendaItem, AgendaQuestion, Citation, Commitment, Pair, Participant
from facilitator.moves import exchange_topic, sanitize
from facilitator.prompts import Block, blocks, load_prompt
from facilitator.prompts import item as prompt_item
from facilitator.textutil import clip

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from facilitator.knowledge.index import KnowledgeBase
    from facilitator.settings import Settings

MIN_MINUTES = 15
MAX_MINUTES = 240
MIN_ITEM_MINUTES = 2
MAX_TITLE_CHARS = 100
MAX_PURPOSE_CHARS = 700
MAX_QUESTION_CHARS = 300

ItemKind = Literal["check-in", "review", "lead", "feedback", "close"]

# Relative weights of the timeboxes, after the sixty-minute outline in session-structure.md: check-in 5 + gratitude 3,
# review 7, each partner's item 15, feedback (and challenge) 5-7, commitments 5 + next date 2.
_WEIGHTS: dict[ItemKind, float] = {"check-in": 8, "lead": 15, "feedback": 7, "close": 7}
_GUIDANCE_QUERY: dict[ItemKind, str] = {
    "check-in": "opening a co-mentoring session with a check-in and gratitude",
    "review": "reviewing commitments from last time without blame",
    "lead": "each partner leads one item and says what kind of help they want",
    "feedback": "giving and receiving feedback in both directions and challenging assumptions",
    "close": "closing with commitments and confirming the next meeting date",
}
_WORD = re.compile(r"[a-z0-9]{4,}")
_CHECK_IN = re.compile(r"check[- ]?in|arriv|welcome|how (are|is) (you|each)", re.IGNORECASE)
_GRATITUDE = re.compile(r"gratitud|grateful|thank|appreciat", re.IGNORECASE)
_FEEDBACK = re.compile(r"feedback", re.IGNORECASE)
_CHALLENGE = re.compile(r"challeng|push(ing)? back|assumption", re.IGNORECASE)
_COMMITMENTS = re.compile(r"commitment|action|i will", re.IGNORECASE)
_NEXT_MEETING = re.compile(r"next (meeting|session|date|time)|meet (next|again)", re.IGNORECASE)


class SummaryFileError(InputError):
    """A --previous summary file is missing, malformed or not the output of `comentor summarize`."""


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
    """Bank questions for the agenda, none used twice. Ranked by fit with the topic (a question with `{topic}` only
    when there is one), preferred theme, overlap with a hint, then bank order: deterministic."""

    def __init__(self, bank: QuestionBank) -> None:
        self.bank = bank
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
        words = set(_WORD.findall(hint.lower()))

        def rank(q: QuestionEntry) -> tuple[int, int, int, int]:
            theme = len(themes) - themes.index(q.theme) if q.theme in themes else 0
            fits_topic = int(q.needs_topic == (topic is not None))
            return (fits_topic, theme, len(words & set(_WORD.findall(q.text.lower()))), -self._order[q.id])

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


def _lead_parts(pair: Pair, lead: Participant) -> tuple[str | None, str, str]:
    """(topic, title, purpose) of the item `lead` leads: what they seek, with what the other offers."""
    other = pair.other(lead.id)
    name, partner = lead.first_name, other.first_name
    topic = exchange_topic(pair, lead.id)
    offered = {t.lower() for t in other.offer_topics}
    if topic is None:
        title = f"{name} leads: a goal or challenge {name} chooses"
        focus = f"{name} brings a goal, a challenge or a skill to work on"
        helper = f"{partner} asks questions first and offers ideas second"
    elif topic.lower() in offered:
        title = f"{name} leads: {topic} (with {_possessive(partner)} experience)"
        focus = f"{name} brings a question or goal about {topic}"
        helper = f"{partner}, who offers {topic}, asks questions first and offers ideas second"
    elif other.offer_topics:
        offer = other.offer_topics[0]
        title = f"{name} leads: {topic} (with {_possessive(partner)} {offer})"
        focus = f"{name} brings a question or goal about {topic}"
        helper = f"{partner} asks questions first and offers ideas second, drawing on {offer}"
    else:
        title = f"{name} leads: {topic} (with {partner} as a sounding board)"
        focus = f"{name} brings a question or goal about {topic}"
        helper = f"{partner} asks questions first and offers ideas second"
    purpose = (
        f"{focus} and says up front what kind of help would be most useful: ideas, practice, a sounding board or a "
        f"challenge. {helper}. It runs both ways: {partner} also names one thing to learn from how {name} sees it."
    )
    return topic, title, purpose


def _action(c: Commitment) -> str:
    return clip(c.action.strip().rstrip(".!;:").strip(), 120) or "your commitment"


def review_question(c: Commitment, pair: Pair) -> str:
    """How the review names an open item: "Ben: how did 'send the deck' go?"; a slipped one asks what got in the way."""
    owner = pair.participant(c.owner).first_name
    if c.status == "slipped":
        return f"{owner}: '{_action(c)}' slipped last time. What happened, and what would help now?"
    due = f" (due {c.due.isoformat()})" if c.due else ""
    return f"{owner}: how did '{_action(c)}'{due} go?"


def build_agenda(
    pair: Pair,
    *,
    date: dt.date,
    minutes: int = 45,
    open_items: list[Commitment] | None = None,
    bank: QuestionBank,
    knowledge: KnowledgeBase | None = None,
) -> Agenda:
    """The offline agenda: deterministic for the same pair, date, minutes, open items, bank and knowledge base."""
    check_minutes(minutes)
    items_open: list[Commitment] = []
    for c in open_items or []:  # identical items once, in their original order
        if all((o.owner, o.action.strip().lower()) != (c.owner, c.action.strip().lower()) for o in items_open):
            items_open.append(c)
    for c in items_open:
        if c.owner not in pair.ids:
            raise InputError(
                f"open item '{clip(c.action, 60)}' belongs to '{c.owner}', who is not a partner of this pair "
                f"({', '.join(pair.ids)}); use the summary of this pair's last session"
            )
    a, b = pair.participants
    picker = _Picker(bank)
    seen: set[str] = set()
    drafts: list[_Draft] = []

    # 1. check-in and gratitude
    opening = _Draft(
        "check-in",
        "Check-in and gratitude",
        "Start with people, not tasks: each of you says how you are arriving today, at work and beyond, and flags "
        "anything that might colour the meeting. Then each thanks the other for one specific thing since you last met.",
    )
    for themes in (("holistic", "wellbeing"), ("gratitude",), ("reciprocity",)):
        entry = picker.pick("check-in", "both", themes=themes)
        _add(opening, entry, "both", entry.render() if entry else "", seen)
    drafts.append(opening)

    # 2. review of open commitments, owner by owner
    if items_open:
        ordered = sorted(items_open, key=lambda c: pair.ids.index(c.owner))  # stable: keeps each owner's order
        counts = [
            f"{p.first_name} ({n})" for p in pair.participants if (n := sum(c.owner == p.id for c in ordered)) > 0
        ]
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
        drafts.append(review)

    # 3-4. one item led by each partner: what they seek, with what the other offers
    for lead in (a, b):
        other = pair.other(lead.id)
        topic, title, purpose = _lead_parts(pair, lead)
        item = _Draft("lead", title, purpose, lead=lead.id)
        entry = picker.pick("goals", "seeks", themes=("goals",), topic=topic)
        _add(item, entry, lead.id, entry.render(topic=topic, partner=other.first_name) if entry else "", seen)
        entry = picker.pick("exchange", "offers", themes=("skills-exchange",), topic=topic)
        _add(item, entry, other.id, entry.render(topic=topic, partner=lead.first_name) if entry else "", seen)
        entry = picker.pick("exchange", "both", themes=("reciprocity", "reverse-mentoring"))
        _add(item, entry, "both", entry.render(topic=topic) if entry else "", seen)
        drafts.append(item)

    # 5. feedback and challenge, both ways
    feedback = _Draft(
        "feedback",
        "Feedback and challenge, both ways",
        f"Each of you asks the other for one thing that helped today and one thing to do differently; the one who "
        f"asked listens and says thank you. Then {a.first_name} and {b.first_name} each name one assumption of the "
        "other's worth testing, whoever has more experience included.",
    )
    for phase, themes, hint in (
        ("feedback", ("feedback",), "helped differently"),
        ("challenge", ("feedback", "power-balance"), "push back"),
        ("feedback", ("power-balance",), "invite challenge"),
    ):
        entry = picker.pick(phase, "both", themes=themes, hint=hint)
        _add(feedback, entry, "both", entry.render() if entry else "", seen)
    drafts.append(feedback)

    # 6. commitments and the next meeting
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
    drafts.append(closing)

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


# ------------------------------------------------------------------------------------------------ checking
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
    words = set(_WORD.findall(_action(c).lower()))
    if not words:
        return _action(c).lower() in text
    return len(words & set(_WORD.findall(text))) * 2 >= len(words)


# ------------------------------------------------------------------------------------------------ output
def agenda_json(agenda: Agenda) -> dict[str, Any]:
    """The agenda JSON contract: citations as {"source", "id"}, questions with "for"."""
    data = agenda.model_dump(mode="json", by_alias=True)
    for item in data["items"]:
        item["citations"] = [{"source": c["source"], "id": c["id"]} for c in item["citations"]]
    return data


def agenda_markdown(agenda: Agenda, pair: Pair) -> str:
    names = {p.id: p.first_name for p in pair.participants}
    people = " and ".join(p.name for p in pair.participants)
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
            who = "Both" if q.for_ == "both" else names.get(q.for_, q.for_)
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


# ------------------------------------------------------------------------------------------------ previous session
def previous_items(summary_json_path: Path | str) -> list[Commitment]:
    """The open and slipped items of a `comentor summarize` JSON output."""
    path = Path(summary_json_path)
    hint = "pass the JSON output of `comentor summarize` for the last session"
    if not path.is_file():
        raise SummaryFileError(f"{path}: no such summary file; {hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise SummaryFileError(f"{path}: cannot be read as UTF-8 text ({e.__class__.__name__}); {hint}") from e
    except json.JSONDecodeError as e:
        raise SummaryFileError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); {hint}") from e
    except RecursionError:
        raise SummaryFileError(f"{path}: nested too deeply to be a session summary; {hint}") from None
    if not isinstance(data, dict) or "commitments" not in data:
        raise SummaryFileError(f"{path}: not a session summary (no 'commitments' field); {hint}")
    raw = data["commitments"]
    if not isinstance(raw, list):
        raise SummaryFileError(f"{path}: 'commitments' must be a list; {hint}")
    items: list[Commitment] = []
    for i, entry in enumerate(raw):
        try:
            items.append(Commitment.model_validate(entry))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            field_name = f"commitments[{i}].{where}" if where else f"commitments[{i}]"
            raise SummaryFileError(f"{path}: field '{field_name}': {first['msg']}; {hint}") from e
    return [c for c in items if c.status in ("open", "slipped")]


def stored_open_items(pair: Pair, settings: Settings) -> list[Commitment]:
    """Open items of this pair in the session store, or none when the store or the pair is not there."""
    from facilitator.store import Store

    if settings.database_url is None and not (settings.home_dir / "comentor.db").exists():
        return []
    assert pair.id is not None
    store = Store(settings.resolved_database_url)
    try:
        store.get_pair(pair.id)
    except NotFoundError:
        return []
    return store.open_commitments(pair.id)


# ------------------------------------------------------------------------------------------------ model phrasing
class PhrasedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int
    title: str
    purpose: str
    questions: list[str]


class AgendaPhrasing(BaseModel):
    """The model's rewording of an agenda: one entry per item, same order, same number of questions."""

    model_config = ConfigDict(extra="forbid")

    items: list[PhrasedItem]


@dataclass
class PhrasedAgenda:
    agenda: Agenda
    note: str | None = None  # set when the offline agenda stood in, saying why
    phrased_by: str = "offline"


def phrase_agenda(
    agenda: Agenda,
    pair: Pair,
    chat_model: BaseChatModel,
    *,
    open_items: list[Commitment] | None = None,
    knowledge: KnowledgeBase | None = None,
    model_name: str = "model",
) -> PhrasedAgenda:
    """Let the model reword titles, purposes and questions; minutes, leads, `for` and citations stay as built.

    The result must pass `check_agenda`; otherwise (or on any model failure) the deterministic agenda is returned
    with a note saying why.
    """
    items_open = list(open_items or [])
    try:
        prompt = load_prompt("agenda")
        user = prompt.render(
            pair=_pair_text(pair),
            minutes=str(agenda.total_minutes),
            agenda=_agenda_text(agenda, pair),
            references=_references(agenda, knowledge),
        )
        phrasing = _call_structured(chat_model, user)
        phrased, problems = _apply(agenda, phrasing)
        if not problems:
            problems = check_agenda(phrased, pair, items_open, agenda.total_minutes)
    except Exception as e:  # any failure of the model call or its output: the offline agenda stands in
        reason = str(e).splitlines()[0][:200] if str(e) else ""
        return PhrasedAgenda(agenda, note=f"the model failed ({e.__class__.__name__}: {reason}); {_OFFLINE_NOTE}")
    if problems:
        return PhrasedAgenda(
            agenda, note=f"the model's wording broke the agenda ({'; '.join(problems[:3])}); {_OFFLINE_NOTE}"
        )
    return PhrasedAgenda(phrased, phrased_by=model_name)


_OFFLINE_NOTE = "this is the offline agenda"


def _call_structured(chat_model: BaseChatModel, user: str) -> AgendaPhrasing:
    from facilitator.brains.llm import structured_call, system_and_user

    return structured_call(chat_model, system_and_user(user), AgendaPhrasing)[0]


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


def _pair_text(pair: Pair) -> str:
    lines = [
        f"- {p.first_name} (id {p.id}, {p.role or 'no role given'}): offers {', '.join(p.offers) or 'nothing listed'}; "
        f"seeks {', '.join(p.seeks) or 'nothing listed'}"
        for p in pair.participants
    ]
    if pair.shared_goals:
        lines.append(f"- shared goals: {', '.join(pair.shared_goals)}")
    if pair.cadence:
        lines.append(f"- they meet {pair.cadence}")
    return "\n".join(lines)


def _agenda_text(agenda: Agenda, pair: Pair) -> str:
    names = {p.id: p.first_name for p in pair.participants}
    blocks = []
    for n, item in enumerate(agenda.items):
        lead = f"led by {names.get(item.lead, item.lead)}" if item.lead else "led by both"
        lines = [f"[{n}] {item.title} ({item.minutes} min, {lead})", f"purpose: {item.purpose}", "questions:"]
        for k, q in enumerate(item.questions, start=1):
            lines.append(f"  {k}. (for {'both' if q.for_ == 'both' else names.get(q.for_, q.for_)}) {q.text}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _references(agenda: Agenda, knowledge: KnowledgeBase | None) -> Block:
    ids = [c.id for item in agenda.items for c in item.citations if c.source != QUESTION_BANK_SOURCE]
    if knowledge is None or not ids:
        return blocks([])
    return blocks([prompt_item(clip(h.text, 1200), id=h.id, title=h.title) for h in knowledge.get(ids)])


# ------------------------------------------------------------------------------------------------ one call for shells
@dataclass
class AgendaResult:
    agenda: Agenda
    open_items: list[Commitment]
    warnings: list[str] = field(default_factory=list)


def make_agenda(
    pair: Pair,
    settings: Settings,
    *,
    date: dt.date | None = None,
    minutes: int = 45,
    previous: Path | str | None = None,
    knowledge: KnowledgeBase | None = None,
    bank: QuestionBank | None = None,
    chat_model: BaseChatModel | None = None,
) -> AgendaResult:
    """Everything the CLI, the UI and chat need: open items (from `previous` or the store), the guidance (indexed
    on first use), the offline agenda, and the model's wording when the LLM facilitator is configured."""
    check_minutes(minutes)
    warnings: list[str] = []
    if previous is not None:
        open_items = previous_items(previous)
    else:
        try:
            open_items = stored_open_items(pair, settings)
        except StoreError as e:
            warnings.append(f"open items from the store are left out: {e}")
            open_items = []
    if knowledge is None:
        knowledge = _knowledge(settings, warnings)
    agenda = build_agenda(
        pair,
        date=date or dt.date.today(),
        minutes=minutes,
        open_items=open_items,
        bank=bank or QuestionBank.load(),
        knowledge=knowledge,
    )
    if chat_model is None and settings.use_llm:
        from facilitator.brains.llm import make_chat_model

        chat_model = make_chat_model(settings)
    if chat_model is not None:
        result = phrase_agenda(
            agenda, pair, chat_model, open_items=open_items, knowledge=knowledge, model_name=settings.model
        )
        agenda = result.agenda
        if result.note:
            warnings.append(result.note)
    return AgendaResult(agenda=agenda, open_items=open_items, warnings=warnings)


def _knowledge(settings: Settings, warnings: list[str]) -> KnowledgeBase | None:
    from facilitator.knowledge.index import KnowledgeBase

    try:
        kb = KnowledgeBase.from_settings(settings)
        if kb.count() == 0:
            kb.add_bundled()
        return kb
    except KnowledgeError as e:
        warnings.append(f"guidance citations are left out: {e}")
        return None


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
        if lead_text and lead_text.lower() not in ("both", "-", "—"):
            lead = pair.resolve_speaker(lead_text)
            if lead is None:
                names = " or ".join(p.first_name for p in pair.participants)
                raise InputError(f"agenda row {n} ('{title}'): the lead must be {names}, 'both' or empty")
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
