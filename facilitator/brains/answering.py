"""The offline answer to `@facilitator …`: the guidance sentence(s) that answer the question, quoted, or a decline.

Each retrieved passage's candidate quotes (a sentence, or two next to each other; `facilitator.knowledge.passages`)
come with vectors the index stored at ingest (embedded now, and kept by chunk id, for an index without them). How
well a quote answers the question is its cosine with the question (embedded as a query, partners' names read as
"my partner") plus `KEYWORD_WEIGHT` times the share of the question's content stems its passage holds and
`HEADING_WEIGHT` times the share its passage's section heading holds (a section headed "Inviting the quieter
partner in" answers "how do we bring a quieter partner in?" before a sibling section that only mentions it). The
answer quotes the best quote, and a second quote of its passage close behind (`SECOND_MARGIN`), in its citation
(`Citation.quote`). Without an embedder a quote's score is the share
of the question's word stems it holds. When the retrieval did not cover the question, or no passage fits well
enough (`SUPPORT_SIMILARITY`, calibrated on in-scope and near-domain out-of-scope questions), the facilitator
declines: it says the guidance doesn't cover this, names what the nearest guidance is about, and suggests the pair
decide together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from facilitator.knowledge.passages import (
    KEYWORD_WEIGHT,
    MAX_SENTENCE_CHARS,
    content_stems,
    heading_of,
    keyword_share,
    passage_sentences,
    passage_vectors,
    plain_markdown,
    quote_units,
    unit,
)
from facilitator.lexicon import STOP_WORDS
from facilitator.models import Citation, Move, Pair, SearchHit
from facilitator.moves import QUOTE_JOIN
from facilitator.textutil import clip

if TYPE_CHECKING:
    from facilitator.brains.base import BrainInput
    from facilitator.knowledge.embeddings import Embedder

__all__ = [
    "HEADING_WEIGHT",
    "SUPPORT_OVERLAP",
    "SUPPORT_SIMILARITY",
    "Supported",
    "answer_move",
    "as_asked",
    "best_sentences",
    "decline_move",
    "passage_sentences",
    "plain_markdown",
]

# The score (cosine + KEYWORD_WEIGHT x the question's stems its passage holds + HEADING_WEIGHT x those its heading
# holds) the best quote needs to answer the question. Re-derived with the heading share on moves_tune and grounding
# (best quote of the top 3 passages): in-scope questions 10th percentile 0.75, lowest 0.60; near-domain out-of-scope
# ones 90th percentile 0.46, two above it (0.59, 0.74: a performance review, an Outlook invite, both worded like the
# guidance). Kept a margin under the lowest in-scope score: raising it to catch those two would decline in-scope
# questions first.
SUPPORT_SIMILARITY = 0.57
# The weight of the share of the question's content stems the passage's section heading holds (also counted in
# the passage's share): on moves_tune 0.3-0.45 picks the section that answers in one more question than 0 and none
# fewer, and lifts the in-scope scores' 10th percentile from 0.69 to 0.75 while the out-of-scope ones stay put.
HEADING_WEIGHT = 0.3
SUPPORT_OVERLAP = 0.5  # without an embedder: the share of the question's content stems the sentence must hold
SECOND_MARGIN = 0.1  # a second quote of the best one's passage is quoted when it scores within this of it
PASSAGES = 3  # the retrieved passages (best first) whose sentences are candidates
TOPICS_NAMED = 3
PARTNER = "my partner"  # how a partner's name in a question is read (the guidance names nobody)
_WORD = re.compile(r"[a-z]{3,}")
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
    question (its cosine plus the passage's keyword share, or without an embedder the share of the question's
    stems it holds)."""

    hit: SearchHit
    sentence: str
    score: float
    rank: int  # the passage's retrieval rank (0: best)
    first: int  # the positions of its first and last sentence in the passage
    last: int


def _stems(text: str) -> set[str]:
    """Crude stems (first five letters of content words): 'meet', 'meeting' and 'meetings' count as one."""
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in STOP_WORDS}


def _overlap(question: str, sentence: str) -> float:
    """The share of the question's content stems that `sentence` holds."""
    wanted = _stems(question)
    return len(wanted & _stems(sentence)) / len(wanted) if wanted else 0.0


def as_asked(question: str, pair: Pair | None) -> str:
    """The question with the partners' names read as "my partner" ("can Kofi teach me?"): the guidance names
    nobody, and a name only pulls the question's vector away from what it asks."""
    if pair is None:
        return question
    names = sorted(
        {n for p in pair.participants for n in (p.name, p.first_name) if n and len(n) > 1}, key=len, reverse=True
    )
    for name in names:
        pattern = rf"(?<!\w){re.escape(name)}(?!\w)(['’]s\b)?"
        question = re.sub(pattern, lambda m: PARTNER + ("'s" if m.group(1) else ""), question, flags=re.IGNORECASE)
    return question


def best_sentences(question: str, hits: Sequence[SearchHit], embedder: Embedder | None) -> list[Supported]:
    """Every candidate quote of the top passages scored against `question`, best first (ties: earlier passage,
    then earlier sentence). With an embedder a quote scores its cosine with the question plus KEYWORD_WEIGHT times
    the share of the question's stems its passage holds and HEADING_WEIGHT times the share its passage's heading
    holds; without, the share of the question's word stems the quote holds."""
    top = list(hits[:PASSAGES])
    scored: list[Supported] = []
    if embedder is not None:
        vectors = passage_vectors(top, embedder)
        query = unit(embedder.embed_query(question))
        wanted = content_stems(question)
        for rank, hit in enumerate(top):
            found = vectors.get(hit.id)
            if found is None or not found.quotes:
                continue
            held = len(wanted & found.stems) / len(wanted) if wanted else 0.0
            titled = keyword_share(wanted, heading_of(hit.title, hit.section))
            for quote, cosine in zip(found.quotes, found.scores(query).tolist(), strict=True):
                score = float(cosine) + KEYWORD_WEIGHT * held + HEADING_WEIGHT * titled
                scored.append(Supported(hit, quote.text, score, rank, quote.first, quote.last))
    else:
        for rank, hit in enumerate(top):
            for quote in quote_units(hit.text):
                scored.append(Supported(hit, quote.text, _overlap(question, quote.text), rank, quote.first, quote.last))
    return sorted(scored, key=lambda s: (-s.score, s.rank, s.first, s.last))


def _threshold(embedder: Embedder | None) -> float:
    return SUPPORT_SIMILARITY if embedder is not None else SUPPORT_OVERLAP


def _overlaps(a: Supported, b: Supported) -> bool:
    return a.hit.id == b.hit.id and a.first <= b.last and b.first <= a.last


def _next_to(a: Supported, b: Supported) -> bool:
    """Whether `a` continues or leads into `b` in its passage, repeating nothing of it."""
    return a.first == b.last + 1 or a.last == b.first - 1


def _chosen(ranked: list[Supported], threshold: float) -> list[Supported]:
    """The best quote, and the runner-up of its passage when it is close behind (SECOND_MARGIN), supports the answer
    too and repeats nothing: next to the best, or one sentence from elsewhere in the passage (never two: a pair
    picked from elsewhere could carry anything the passage holds along, an instruction planted in it included)."""
    if not ranked or ranked[0].score < threshold:
        return []
    best = ranked[0]
    for runner in ranked[1:]:
        if runner.score < max(threshold, best.score - SECOND_MARGIN):
            break
        if runner.hit.id != best.hit.id or _overlaps(runner, best):
            continue
        if _next_to(runner, best) or runner.first == runner.last:
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
    ranked = best_sentences(as_asked(data.plan.query, data.pair), data.guidance, data.embedder)
    chosen = _chosen(ranked, _threshold(data.embedder))
    if not chosen:
        return decline_move(data)
    in_order = sorted(chosen, key=lambda s: (s.rank, s.first))
    lines = ["From the guidance:"] + [f"- {clip(s.sentence, MAX_SENTENCE_CHARS)} [{s.hit.id}]" for s in in_order]
    return Move(kind="answer", text="\n".join(lines), addressee=data.plan.addressee, citations=_citations(chosen))
