"""The offline answer to `@facilitator …`: the guidance sentence(s) that answer the question, quoted, or a decline.

The retrieved passages are split into sentences (pysbd, `facilitator.understanding.sentences`), and each sentence is
scored against the question by meaning: the cosine of the guidance embedder's vectors (the question embedded as a
query, the sentences as documents), or, without an embedder, the share of the question's word stems it holds. The
answer quotes the best sentence (and a second one close behind it) in its citation (`Citation.quote`), so a reader
sees the words that support it. When the retrieval did not cover the question, or no sentence is close enough to it
(`SUPPORT_SIMILARITY`, measured on the `moves_tune` set), the facilitator declines: it says the guidance doesn't
cover this, names what the nearest guidance is about, and suggests the pair decide together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from facilitator.lexicon import STOP_WORDS
from facilitator.models import Citation, Move, SearchHit
from facilitator.moves import QUOTE_JOIN
from facilitator.textutil import clip
from facilitator.understanding.sentences import split_sentences

if TYPE_CHECKING:
    from facilitator.brains.base import BrainInput
    from facilitator.knowledge.embeddings import Embedder

__all__ = [
    "SUPPORT_OVERLAP",
    "SUPPORT_SIMILARITY",
    "Supported",
    "answer_move",
    "best_sentences",
    "decline_move",
    "passage_sentences",
    "plain_markdown",
]

SUPPORT_SIMILARITY = 0.35  # the cosine (question, quote) a quote needs to answer the question: see moves_tune
SUPPORT_OVERLAP = 0.5  # without an embedder: the share of the question's content stems the sentence must hold
SECOND_MARGIN = 0.06  # a second sentence is quoted when it scores within this of the best
PASSAGES = 3  # the retrieved passages (best first) whose sentences are candidates
MIN_WORDS = 5  # a shorter fragment ("Listen to the end.") is joined to the sentence after it
QUOTE_WORDS = 8  # a shorter sentence is quoted only together with its neighbour
MAX_SENTENCE_CHARS = 400  # a longer list item is split into its sentences
TOPICS_NAMED = 3
_WORD = re.compile(r"[a-z]{3,}")
_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)]|#+|>)\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*\*|__|`")
_LEADING = re.compile(r"^[\s.,;:!?)\]]+")
DECLINE = "The guidance doesn't cover this."
GENERAL_TOPICS = (  # what the bundled guidance is about, named when nothing at all was retrieved
    "running a co-mentoring pairing",
    "sessions and meeting rhythm",
    "two-way feedback",
    "commitments",
    "challenging assumptions",
    "balance and trust",
)
DECIDE = (
    "You could decide it together: each of you say what you would prefer and why, then agree on one approach to "
    "try until your next meeting."
)


@dataclass(frozen=True)
class Supported:
    """A quote of a retrieved passage (one sentence, or two next to each other) and how well it answers the
    question (a cosine, or without an embedder the share of the question's stems it holds)."""

    hit: SearchHit
    sentence: str
    score: float
    rank: int  # the passage's retrieval rank (0: best)
    first: int  # the positions of its first and last sentence in the passage
    last: int


def plain_markdown(text: str) -> str:
    """`text` without list markers, heading marks, quote marks and emphasis: what a sentence of it reads as."""
    return _EMPHASIS.sub("", _MARKER.sub("", text))


def _line_sentences(line: str) -> list[str]:
    """A paragraph's sentences; a list item stays whole (its bold lead-in is part of it); a fragment too short to
    say anything ("Listen to the end.") is joined to the sentence after it."""
    plain = _LEADING.sub("", plain_markdown(line)).strip()
    if not plain:
        return []
    if _MARKER.match(line) and len(plain) <= MAX_SENTENCE_CHARS:
        return [plain]
    out: list[str] = []
    pending = ""
    for piece in split_sentences(plain):
        joined = f"{pending} {piece}".strip()
        if len(joined.split()) < MIN_WORDS:
            pending = joined
            continue
        out.append(joined)
        pending = ""
    if pending and out:
        out[-1] = f"{out[-1]} {pending}"
    elif pending:
        out.append(pending)
    return out


def _blocks(text: str) -> list[list[str]]:
    """The passage's sentences by block (lines not separated by a blank line: a paragraph, or a list)."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if not line.strip():
            blocks.append([])
        blocks[-1].extend(_line_sentences(line))
    return [block for block in blocks if block]


def passage_sentences(text: str) -> list[str]:
    """The sentences of a guidance passage as they can be quoted: line by line, markdown removed, a list item
    whole, without the leading punctuation a chunk boundary leaves."""
    return [sentence for block in _blocks(text) for sentence in block]


def _answers_nothing(sentence: str) -> bool:
    """A lead-in ("Suggested rhythms by situation:"), a short sentence ("Senior partners set the tone."), or a bare
    question ("How do I ask for feedback?") answers nothing on its own; a question that is quoted or introduced
    ("ask: Are we both learning?") may."""
    if len(sentence.split()) < QUOTE_WORDS or sentence.endswith(":"):
        return True
    return sentence.endswith("?") and not any(mark in sentence for mark in ':"“')


@dataclass(frozen=True)
class _Unit:
    """A candidate quote: one sentence of a passage or two next to each other (`first`..`last`), and the lead-in
    of the list it belongs to ("To end well:"), which says what the item is an answer to."""

    hit: SearchHit
    rank: int
    first: int
    last: int
    text: str
    lead: str = ""


def _units(hit: SearchHit, rank: int) -> list[_Unit]:
    """The candidate quotes of a passage: each sentence, and each two next to each other in one block (a sentence
    often needs its neighbour: "Sixty minutes is a good default. It is long enough...")."""
    units: list[_Unit] = []
    position, lead = 0, ""
    for block in _blocks(hit.text):
        for i, sentence in enumerate(block):
            if not _answers_nothing(sentence):
                units.append(_Unit(hit, rank, position + i, position + i, sentence, lead))
            if i + 1 < len(block) and not _answers_nothing(pair := f"{sentence} {block[i + 1]}"):
                units.append(_Unit(hit, rank, position + i, position + i + 1, pair, lead))
        position += len(block)
        lead = block[-1] if block[-1].endswith(":") else ""
    return units


def _in_context(unit: _Unit) -> str:
    """A candidate quote as it is embedded: under its section's heading and its list's lead-in, which say what it
    is about ("Length of each meeting: Sixty minutes is a good default.")."""
    heading = unit.hit.section.split(" > ")[-1].strip() or unit.hit.title
    return " ".join(x for x in (f"{heading}:" if heading else "", unit.lead, unit.text) if x)


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _stems(text: str) -> set[str]:
    """Crude stems (first five letters of content words): 'meet', 'meeting' and 'meetings' count as one."""
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in STOP_WORDS}


def _overlap(question: str, sentence: str) -> float:
    """The share of the question's content stems that `sentence` holds."""
    wanted = _stems(question)
    return len(wanted & _stems(sentence)) / len(wanted) if wanted else 0.0


def best_sentences(question: str, hits: Sequence[SearchHit], embedder: Embedder | None) -> list[Supported]:
    """Every candidate quote of the top passages scored against `question`, best first (ties: earlier passage,
    then earlier sentence). By meaning with an embedder (the cosine of the question, embedded as a query, and the
    quote read under its heading and lead-in), else by the share of the question's word stems it holds."""
    units = [unit for rank, hit in enumerate(hits[:PASSAGES]) for unit in _units(hit, rank)]
    if not units:
        return []
    if embedder is not None:
        query = embedder.embed_query(question)
        vectors = embedder.embed_documents([_in_context(unit) for unit in units])
        scores = [_cosine(query, v) for v in vectors]
    else:
        scores = [_overlap(question, unit.text) for unit in units]
    scored = [
        Supported(hit=u.hit, sentence=u.text, score=score, rank=u.rank, first=u.first, last=u.last)
        for u, score in zip(units, scores, strict=True)
    ]
    return sorted(scored, key=lambda s: (-s.score, s.rank, s.first, s.last))


def _threshold(embedder: Embedder | None) -> float:
    return SUPPORT_SIMILARITY if embedder is not None else SUPPORT_OVERLAP


def _overlaps(a: Supported, b: Supported) -> bool:
    return a.hit.id == b.hit.id and a.first <= b.last and b.first <= a.last


def _chosen(ranked: list[Supported], threshold: float) -> list[Supported]:
    """The best quote, and the runner-up when it is close behind, supports the answer too and repeats nothing."""
    if not ranked or ranked[0].score < threshold:
        return []
    best = ranked[0]
    runner = next((s for s in ranked[1:] if not _overlaps(s, best)), None)
    if runner is not None and runner.score >= max(threshold, best.score - SECOND_MARGIN):
        return [best, runner]
    return [best]


def _quote(quotes: list[Supported]) -> str:
    """One passage's chosen quotes in passage order: next to each other joined by a space, else by QUOTE_JOIN."""
    ordered = sorted(quotes, key=lambda s: s.first)
    quote = ordered[0].sentence
    for before, after in pairwise(ordered):
        quote += (" " if after.first == before.last + 1 else f" {QUOTE_JOIN} ") + after.sentence
    return quote


def _citations(chosen: list[Supported]) -> list[Citation]:
    by_hit: dict[str, list[Supported]] = {}
    for s in sorted(chosen, key=lambda s: (s.rank, s.first)):
        by_hit.setdefault(s.hit.id, []).append(s)
    return [
        Citation(source=group[0].hit.source, id=hit_id, title=group[0].hit.title, quote=_quote(group))
        for hit_id, group in by_hit.items()
    ]


def covered_topics(hits: Sequence[SearchHit], n: int = TOPICS_NAMED) -> list[str]:
    """What the nearest guidance is about: the titles of the top retrieved passages, each once, best first."""
    titles: list[str] = []
    for hit in hits:
        title = clip(" ".join(hit.title.split()), 90)
        if title and title not in titles:
            titles.append(title)
    return titles[:n]


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def decline_move(data: BrainInput) -> Move:
    """No passage answers the question: say so, name what the nearest guidance covers, suggest deciding together."""
    topics = covered_topics(data.guidance)
    if topics:
        covers = f" What it does cover that comes closest: {_listed([f'“{t}”' for t in topics])}."
    else:
        covers = f" It covers {_listed(list(GENERAL_TOPICS))}."
    return Move(kind="answer", text=f"{DECLINE}{covers} {DECIDE}", addressee=data.plan.addressee)


def answer_move(data: BrainInput) -> Move:
    """The offline answer: the sentence(s) of the guidance that answer `data.plan.query`, each quoted in its
    citation, or a decline (no citation) when the guidance does not cover the question."""
    if not data.covered or not data.guidance:
        return decline_move(data)
    ranked = best_sentences(data.plan.query, data.guidance, data.embedder)
    chosen = _chosen(ranked, _threshold(data.embedder))
    if not chosen:
        return decline_move(data)
    in_order = sorted(chosen, key=lambda s: (s.rank, s.first))
    lines = ["From the guidance:"] + [f"- {clip(s.sentence, MAX_SENTENCE_CHARS)} [{s.hit.id}]" for s in in_order]
    return Move(kind="answer", text="\n".join(lines), addressee=data.plan.addressee, citations=_citations(chosen))
