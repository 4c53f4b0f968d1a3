"""Shared move preparation for both brains: which bank questions fit, what to retrieve, and checking the result."""

from __future__ import annotations

import html
import re

import nh3
from pydantic import BaseModel, ConfigDict

from facilitator.knowledge.bank import QuestionBank, QuestionEntry
from facilitator.models import AgendaItem, Citation, Move, Pair, Turn
from facilitator.textutil import clip

MAX_MOVE_CHARS = 1500
QUOTE_CHARS = 900  # of the passage a kept citation quotes (`Citation.quote`), so shells never look it up again
_WORD = re.compile(r"[a-z]{4,}")
_PHASE_WORDS = {
    "check-in": ("check", "welcome", "arriv"),
    "goals": ("goal", "objective", "plan"),
    "feedback": ("feedback", "challenge"),
    "commitments": ("commitment", "review", "next", "accountab"),
    "close": ("gratitude", "close", "thanks", "celebrat"),
}
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")


def phase_for(item: AgendaItem | None) -> str:
    if item is None:
        return "exchange"
    title = item.title.lower()
    for phase, words in _PHASE_WORDS.items():
        if any(w in title for w in words):
            return phase
    return "exchange"


def exchange_topic(pair: Pair, seeker: str) -> str | None:
    """What `seeker` wants to learn that the other offers (or just what they seek)."""
    me, other = pair.participant(seeker), pair.other(seeker)
    offered = {t.lower(): t for t in other.offer_topics}
    for topic in me.seek_topics:
        if topic.lower() in offered:
            return topic
    return me.seek_topics[0] if me.seek_topics else (other.offer_topics[0] if other.offer_topics else None)


class QuestionCandidate(BaseModel):
    """A bank question fitted to a move: the entry, whom it is for (a participant id or "both"), its rendered text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry: QuestionEntry
    addressee: str
    text: str


def choose_questions(
    bank: QuestionBank,
    pair: Pair,
    turns: list[Turn],
    *,
    item: AgendaItem | None,
    asked: list[str],
    only_for: str | None = None,
    limit: int = 3,
) -> list[QuestionCandidate]:
    """Up to `limit` candidates: one for each partner (as seeker and as offerer), one for both.

    Deterministic: questions matching the phase of the agenda item, not yet asked, ranked by overlap with the
    latest turns and the pair's topics; ties broken by id.
    """
    phase = phase_for(item)
    recent_words = set(_WORD.findall(" ".join(t.text for t in turns[-6:]).lower()))
    a, b = pair.participants
    slots: list[tuple[str, str, str | None]] = []  # (direction, for, topic)
    for person in (a, b) if only_for is None else (pair.participant(only_for),):
        topic = exchange_topic(pair, person.id)
        slots.append(("seeks", person.id, topic))
    if only_for is None:
        slots.append(("both", "both", None))
    chosen: list[QuestionCandidate] = []
    used = set(asked)
    for direction, who, topic in slots:
        pool = [q for q in bank.select(phase=phase, direction=direction) if q.id not in used]
        if not pool:
            pool = [q for q in bank.select(direction=direction) if q.id not in used]
        if not pool:
            continue
        context = recent_words | set(_WORD.findall((topic or "").lower()))
        best = max(pool, key=lambda q: (len(set(_WORD.findall(q.text.lower())) & context), -int(q.id[1:] or 0)))
        used.add(best.id)
        partner = pair.other(who).first_name if who in pair.ids else None
        chosen.append(QuestionCandidate(entry=best, addressee=who, text=best.render(topic=topic, partner=partner)))
        if len(chosen) == limit:
            break
    return chosen


def retrieval_query(kind: str, pair: Pair, turns: list[Turn], item: AgendaItem | None, hint: str = "") -> str:
    """What to look up in the guidance for a move."""
    recent = " ".join(t.text for t in turns[-3:])[-300:]
    base = {
        "challenge": "respectfully challenging untested assumptions on both sides",
        "nudge": "balancing talk time so both partners contribute",
        "question": "good questions for a reciprocal co-mentoring conversation",
        "transition": "structuring a co-mentoring session agenda",
    }.get(kind, "")
    topic = item.title if item else ""
    return " ".join(x for x in (hint, base, topic, recent if kind == "question" else "") if x).strip()


def _strip_html(text: str) -> str:
    """The text a browser shows for `text` read as HTML: every tag (however long) and comment removed by nh3 with an
    empty allow-list, script and style content dropped, character references decoded; again until nothing changes,
    so an escaped tag (`&lt;img&gt;`) goes too. Plain text (`I <3 this & that`) comes back as it was."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate (JSON "\\ud800") becomes "?"
    for _ in range(4):
        stripped = html.unescape(nh3.clean(text, tags=set(), attributes={}, strip_comments=True))
        if stripped == text:
            return text
        text = stripped
    return nh3.clean(text, tags=set(), attributes={}, strip_comments=True)  # nested escapes: left escaped


def sanitize(text: str) -> str:
    """No remote images and no raw HTML in anything shown to the pair."""
    return _IMAGE.sub("[image removed]", _strip_html(text))


def validate_move(move: Move, pair: Pair, allowed: dict[str, str]) -> tuple[Move, list[str]]:
    """Check a rendered move: citations among what was retrieved or offered, addressees are partners, bounded length.

    `allowed` maps each citation id the move may carry to the passage it quotes (a guidance chunk's text, a
    challenge pattern's description, a bank question's text); every kept citation gets that passage as its `quote`
    (sanitized, clipped to QUOTE_CHARS), so shells never look citations up again. Returns the repaired move and
    what was wrong. An empty text is unusable (the caller falls back).
    """
    problems: list[str] = []
    valid_for = {*pair.ids, "both"}
    citations = []
    for c in move.citations:
        if c.id in allowed:
            citations.append(_quoted(c, allowed[c.id]))
        else:
            problems.append(f"citation {c.id} was not retrieved")
    questions = []
    for q in move.questions:
        if q.for_ not in valid_for:
            problems.append(f"question addressed to unknown '{q.for_}'")
            q = q.model_copy(update={"for_": "both"})
        if q.citation is not None and q.citation.id not in allowed:
            problems.append(f"question cites {q.citation.id}, which was not offered")
            q = q.model_copy(update={"citation": None})
        elif q.citation is not None:
            q = q.model_copy(update={"citation": _quoted(q.citation, allowed[q.citation.id])})
        questions.append(q)
    addressee = move.addressee
    if addressee is not None and addressee not in valid_for:
        problems.append(f"addressee '{addressee}' is not a partner")
        addressee = "both"
    text = sanitize(move.text).strip()
    if len(text) > MAX_MOVE_CHARS:
        problems.append("text too long; cut")
        text = text[: MAX_MOVE_CHARS - 1] + "…"
    if not text:
        problems.append("empty text")
    repaired = move.model_copy(
        update={"citations": citations, "questions": questions[:3], "addressee": addressee, "text": text}
    )
    return repaired, problems


def _quoted(citation: Citation, passage: str) -> Citation:
    """`citation` quoting `passage` (kept as it was when the passage is empty)."""
    quote = clip(sanitize(passage), QUOTE_CHARS) if passage.strip() else citation.quote
    return citation.model_copy(update={"quote": quote})
