"""Shared move preparation for both brains: what to retrieve for a move, and checking the result (citations,
addressees, quotes, no raw HTML). Which bank questions fit the moment is `facilitator.questions`; its public names
are importable from here too."""

from __future__ import annotations

import html
import re

import nh3

from facilitator.models import AgendaItem, Citation, Move, Pair, Turn
from facilitator.questions import QuestionCandidate, choose_questions, exchange_topic, phase_for, warm_questions
from facilitator.textutil import clip

__all__ = [
    "MAX_MOVE_CHARS",
    "QUOTE_CHARS",
    "QUOTE_JOIN",
    "QuestionCandidate",
    "choose_questions",
    "exchange_topic",
    "phase_for",
    "quote_in_passage",
    "retrieval_query",
    "sanitize",
    "validate_move",
    "warm_questions",
]

MAX_MOVE_CHARS = 1500
QUOTE_CHARS = 900  # of the passage a kept citation quotes (`Citation.quote`), so shells never look it up again
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")


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
    challenge pattern's description, a bank question's text); every kept citation quotes it (`quote`, sanitized,
    clipped to QUOTE_CHARS), so shells never look citations up again: the sentence(s) the brain quoted when they
    are found in that passage (`quote_in_passage`), else the passage. Returns the repaired move and what was wrong.
    An empty text is unusable (the caller falls back).
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


_QUOTE_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
QUOTE_PART_WORDS = 3  # a quoted part shorter than this ("the") is no sentence of the passage
QUOTE_JOIN = "…"  # between the parts of a quote that are not next to each other in the passage


def _quote_words(text: str) -> str:
    """`text` as words only, for a containment check: markdown, punctuation, case and spacing aside."""
    return " ".join(_QUOTE_WORD.findall(text.casefold().replace("’", "'")))


def quote_in_passage(quote: str, passage: str) -> bool:
    """Whether every part of `quote` (parts joined by QUOTE_JOIN) is a run of whole words of `passage` at least
    QUOTE_PART_WORDS long: a sentence (or sentences) found in the passage, however it was formatted there."""
    body = f" {_quote_words(passage)} "
    parts = [_quote_words(part) for part in quote.split(QUOTE_JOIN)]
    return all(len(part.split()) >= QUOTE_PART_WORDS and f" {part} " in body for part in parts)


def _quoted(citation: Citation, passage: str) -> Citation:
    """`citation` quoting `passage`: the sentence(s) the brain quoted when they are found in the passage (the words
    that support its move), else the passage itself; kept as it was when the passage is empty."""
    if not passage.strip():
        return citation
    chosen = sanitize(citation.quote or "").strip()
    clean = sanitize(passage)
    quote = chosen if chosen and quote_in_passage(chosen, clean) else clean
    return citation.model_copy(update={"quote": clip(quote, QUOTE_CHARS)})
