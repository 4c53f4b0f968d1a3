"""End-of-session summary: accountability items, decisions, open questions, assumptions, balance and a recap.

The conversation is read once (`read_sentences`): the partner turns' sentences (pysbd, fillers removed), each
marked when it takes something back or belongs to what was taken back. Retractions are the commitment extractor's
(`facilitator.commitments`): a sentence it reads as a retraction ("scratch that", "actually I won't be able to"),
the sentences of an item it withdrew, and a decision withdrawn by a retraction that took no item ("let's go with
Canva ... actually no, scratch that") never reach the recap, the decisions or the open questions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from facilitator.brains.base import Brain, CommitmentReviewInput
from facilitator.commitments import cues
from facilitator.commitments.extractor import Extractor, stated_next_meeting
from facilitator.commitments.ledger import Ledger
from facilitator.commitments.revisions import Revisions
from facilitator.commitments.state import Sentence, TurnState
from facilitator.commitments.text import LEX, overlap, plain, words
from facilitator.commitments.wording import Wording
from facilitator.exceptions import ModelError
from facilitator.knowledge.bank import ChallengePatterns
from facilitator.lexicon import CHAT_WORDS, FUNCTION_WORDS, SPEECH_WORDS
from facilitator.models import Commitment, Participant, Summary, Transcript, Turn
from facilitator.signals import balance, detect_assumptions

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder
from facilitator.textutil import clip
from facilitator.understanding.read import is_to_facilitator
from facilitator.understanding.sentences import split_sentences

_DECISION = re.compile(
    r"\b(we(?:'ve| have)? (?:all )?(?:agreed|decided)|let'?s (?:agree|go with|stick with|meet|keep|use|make it)|"
    r"(?:we|so we)(?:'ll| will| are going to|'re going to) (?:go with|meet|use|keep|stick|try|start|switch)|"
    r"(?:it'?s|that'?s) (?:agreed|decided|settled)|the decision is|agreed[.!]?$|decision:)",
    re.IGNORECASE,
)
_NOT_A_DECISION = re.compile(r"\b(if|whether|unless|last (meeting|time|week)|previously)\b", re.IGNORECASE)
# A question that asks rather than confirms ("Should we go with X?"; "We decided on the rubber?" confirms).
_ASKING = re.compile(
    r"^\W*(?:so\W+|and\W+|okay\W+)?(?:should|shall|do|does|did|can|could|would|will|are|is|have|has|what|which|how|"
    r"why|when|where|who)\b"
)
_LEFT_OPEN = re.compile(
    r"\b(?:come back to (?:that|this|it)|(?:don'?t|do not) know yet|not sure yet|think about (?:it|that)|"
    r"(?:park|revisit) (?:that|this|it)|leave (?:that|this|it) open|still open)\b"
)
_JOINED = cues.alternation(LEX.interjections)  # "Great." / "Thanks!" that pysbd's splitter joins to a sentence
_LEADING = re.compile(rf"^(?:(?:{_JOINED})\b[\s,]*)+[.!]+\s+", re.IGNORECASE)
_TRAILING = re.compile(rf"(?<=[.!?])\s+(?:(?:{_JOINED})\b[\s,]*)+[.!]*$", re.IGNORECASE)
_QUESTION_CLAUSE = re.compile(r"[^.!?]+\?+")
_MARKER = re.compile(r"\{\w+\}|\b(?:um+|uh+|erm|mm+|hmm+|mm-hmm)\b[ ,]*", re.IGNORECASE)
_SPACES = re.compile(r"\s+([,.?!])|\s{2,}")
STOP_WORDS: frozenset[str] = FUNCTION_WORDS | CHAT_WORDS | SPEECH_WORDS
RECAP_LINES = 5
OPEN_QUESTIONS = 5
_ANY_DAY = dt.date(2000, 1, 3)  # retractions do not depend on the date; due dates are not read here


def clean_speech(text: str) -> str:
    """Transcription markers ({disfmarker}, {vocalsound}) and fillers (um, uh) removed; spacing tidied."""
    return _SPACES.sub(lambda m: m.group(1) or " ", _MARKER.sub("", text)).strip(" ,")


def _tidy(text: str, limit: int) -> str:
    """A sentence to show: without the "Great." or "Thanks!" joined to it, clipped to `limit` characters."""
    text = _TRAILING.sub("", _LEADING.sub("", text.lstrip(" .,;:!-–—"))) or text
    return clip(text[:1].upper() + text[1:], limit)


# ----------------------------------------------------------------------------------------------------------------
# The conversation, read once


@dataclass
class Said:
    """One sentence of a partner turn (not of an @facilitator request), cleaned of fillers."""

    turn: int
    speaker: str
    text: str
    retraction: bool = False  # takes something back: "scratch that", "actually I won't be able to"
    took_item: bool = False  # ... and the extractor withdrew an accountability item with it
    withdrawn: bool = False  # the retraction itself, or part of an item or decision taken back

    @property
    def low(self) -> str:
        return plain(self.text)


@dataclass(frozen=True)
class _Mark:
    """Words of an extractor sentence that retracts or was retracted."""

    words: str  # " w1 w2 ... " (padded, to match whole words)
    retraction: bool
    took_item: bool


class _TracedRevisions(Revisions):
    """The extractor's retraction rule, noting each sentence it reads as a retraction and whether an item died."""

    def __init__(self, ledger: Ledger, wording: Wording) -> None:
        super().__init__(ledger, wording)
        self.seen: list[tuple[Sentence, bool]] = []

    def retraction(self, s: Sentence, state: TurnState) -> bool:
        alive = [d for d in self.ledger.drafts if d.alive]
        if not super().retraction(s, state):
            return False
        self.seen.append((s, any(not d.alive for d in alive)))
        return True


def _padded(text: str) -> str:
    return f" {' '.join(words(clean_speech(text)))} "


@dataclass(frozen=True)
class _Reading:
    """One extractor pass: the candidate items, and by turn the retraction sentences and the sentences of the items
    withdrawn by the end (which the recap, decisions and open questions leave out)."""

    items: list[Commitment]
    marks: dict[int, list[_Mark]]


def _read_items(
    turns: Sequence[Turn],
    participants: Sequence[Participant],
    date: dt.date,
    next_meeting: dt.date | None = None,
    embedder: Embedder | None = None,
) -> _Reading:
    following = next_meeting or stated_next_meeting(turns, date)
    extractor = Extractor(turns, participants, date, following, embedder)
    traced = extractor.revisions = _TracedRevisions(extractor.ledger, extractor.wording)
    items = extractor.run()
    marks: dict[int, list[_Mark]] = {}
    for s, took in traced.seen:
        marks.setdefault(s.turn, []).append(_Mark(_padded(s.text), True, took))
    for draft in extractor.ledger.drafts:
        if draft.alive:
            continue
        for turn in draft.evidence:
            for s in extractor.ledger.sentences.get(turn, []):
                if overlap(s.text, draft.action):
                    marks.setdefault(turn, []).append(_Mark(_padded(s.text), False, False))
    return _Reading(items, marks)


def _apply(said: Said, marks: list[_Mark]) -> Said:
    mine = _padded(said.text)
    for mark in marks:
        if mark.words.strip() and mine.strip() and (mark.words in mine or mine in mark.words):
            said.withdrawn = True
            said.retraction = said.retraction or mark.retraction
            said.took_item = said.took_item or mark.took_item
    return said


def _people(named: Iterable[tuple[str, str]]) -> list[Participant]:
    """Participants from (id, name) pairs, for callers that have none; an invalid pair is left out (its turns are
    then read without retractions)."""
    out: list[Participant] = []
    for pid, name in named:
        try:
            out.append(Participant(id=pid, name=name))
        except ValidationError:
            continue
    return out


def read_sentences(
    turns: Sequence[Turn],
    participants: Sequence[Participant] | None = None,
    date: dt.date | None = None,
    *,
    reading: _Reading | None = None,
) -> list[Said]:
    """The partner turns' sentences in order, retractions and what they withdrew marked (see the module doc); from
    the extractor's `reading` of the turns when the caller has one."""
    if reading is None:
        if participants is None:
            participants = _people(
                (f"speaker-{i}", label) for i, label in enumerate(dict.fromkeys(t.speaker for t in turns))
            )
        reading = _read_items(turns, participants, date or _ANY_DAY)
    marks = reading.marks
    said = [
        _apply(Said(turn.index, turn.speaker, text), marks.get(turn.index, []))
        for turn in turns
        if not is_to_facilitator(turn.text)
        for text in split_sentences(clean_speech(turn.text))
    ]
    _withdraw_decisions(said)
    return said


# ----------------------------------------------------------------------------------------------------------------
# Decisions


def is_decision(text: str) -> bool:
    """Whether a sentence settles something together: not one asking, a condition, a hedge or a past decision."""
    low = plain(text)
    return bool(
        _DECISION.search(text)
        and len(text.split()) >= 4
        and not (cues.is_question(low) and _ASKING.match(low))
        and not _NOT_A_DECISION.search(text)
        and not cues.HEDGE.search(low)
        and not cues.HYPOTHETICAL.search(low)
    )


def _withdraw_decisions(said: list[Said], window: int = 2) -> None:
    """A retraction that took no item, in the same turn or up to `window` turns later, withdraws the last decision."""
    last: Said | None = None
    for s in said:
        if s.retraction and not s.took_item and last is not None and s.turn - last.turn <= window:
            last.withdrawn = True
            last = None
        elif not s.withdrawn and is_decision(s.text):
            last = s


def decisions(turns: list[Turn], limit: int = 12, *, said: list[Said] | None = None) -> list[str]:
    """Sentences in which the partners settle something together (not personal actions), none taken back."""
    said = read_sentences(turns) if said is None else said
    found = [_tidy(s.text, 200) for s in said if not s.withdrawn and is_decision(s.text)]
    return list(dict.fromkeys(found))[:limit]


# ----------------------------------------------------------------------------------------------------------------
# Open questions


def _asks(clause: str) -> bool:
    """A question clause of four words or more that is not a rhetorical tag ("..., right?", "you know?")."""
    return len(clause.split()) >= 4 and not cues.QUESTION_TAG.search(clause) and not clause.endswith("you know?")


def _real_question(s: Said) -> bool:
    """A question sentence with at least one real question clause in it ("It was hard, you know? Okay?" has none)."""
    low = s.low.rstrip()
    return cues.is_question(low) and any(_asks(c.strip()) for c in _QUESTION_CLAUSE.findall(low))


def _closes(reply: list[Said]) -> bool:
    """Whether a reply turn answers: a yes/no/sure opening, or a statement of four words or more."""
    if reply and (cues.ACCEPT.search(reply[0].low) or cues.DECLINE.search(reply[0].low)):
        return True
    return any(not cues.is_question(s.low) and len(s.text.split()) >= 4 for s in reply)


def _by_turn(said: list[Said]) -> list[list[Said]]:
    turns: dict[int, list[Said]] = {}
    for s in said:
        turns.setdefault(s.turn, []).append(s)
    return list(turns.values())


def _left_open(turns: list[list[Said]]) -> tuple[list[Said], list[Said]]:
    """(questions left open explicitly, questions nobody answered): the reply is the next turn by someone else."""
    explicit: list[Said] = []
    unanswered: list[Said] = []
    for at, turn in enumerate(turns):
        reply = next((later for later in turns[at + 1 :] if later[0].speaker != turn[0].speaker), [])
        for s in turn:
            if s.withdrawn or not _real_question(s):
                continue
            if any(_LEFT_OPEN.search(r.low) for r in reply):
                explicit.append(s)
            elif not _closes(reply):
                unanswered.append(s)
    return explicit, unanswered


def open_questions(turns: list[Turn], limit: int = OPEN_QUESTIONS, *, said: list[Said] | None = None) -> list[str]:
    """Questions a partner asked that were left open: no answer from the other, or "let's come back to that".

    The explicitly open ones first, then the latest unanswered ones; at most `limit`, in conversation order."""
    said = read_sentences(turns) if said is None else said
    explicit, unanswered = _left_open(_by_turn(said))
    room = max(0, limit - len(explicit))
    chosen = {id(s) for s in explicit[:limit] + (unanswered[-room:] if room else [])}
    return list(dict.fromkeys(_tidy(s.text, 200) for s in said if id(s) in chosen))


# ----------------------------------------------------------------------------------------------------------------
# The recap


def _content(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOP_WORDS and len(w) > 2}


def _recap_candidate(s: Said) -> bool:
    """A statement worth a line: six words or more, a third of them content words, nothing taken back."""
    size = len(s.text.split())
    content = len(_content(s.text))
    return not s.withdrawn and not cues.is_question(s.low) and size >= 6 and content >= 3 and content >= 0.3 * size


def _stems(text: str) -> list[str]:
    """The Snowball stems of a sentence's words, stop words left out (what TextRank compares)."""
    from facilitator.textutil import stemmer

    return stemmer().stemWords([w for w in words(text) if w not in STOP_WORDS])


def _similarities(stems: list[list[str]]) -> Any:
    """TextRank's sentence similarity (Mihalcea & Tarau 2004) of every two sentences: the words they share (with
    repeats: the dot product of their word counts) over the sum of the logs of their lengths; 0 on the diagonal."""
    import numpy as np

    vocabulary = {w: i for i, w in enumerate(dict.fromkeys(w for ws in stems for w in ws))}
    counts = np.zeros((len(stems), max(len(vocabulary), 1)))
    for row, ws in enumerate(stems):
        for w in ws:
            counts[row, vocabulary[w]] += 1
    shared = counts @ counts.T
    logs = np.log(np.maximum([len(ws) for ws in stems], 1))
    norm = logs[:, None] + logs[None, :]
    weights = np.divide(shared, norm, out=shared.copy(), where=norm > 0)  # two one-word sentences: the count itself
    np.fill_diagonal(weights, 0.0)
    return weights


def _ranks(pool: list[Said]) -> list[float]:
    """TextRank score of each sentence of the pool: PageRank (networkx) over the sentence-similarity graph.

    (sumy's TextRankSummarizer computes the same thing, but importing any sumy summarizer imports all of nltk,
    1.7-2.4 s, which alone broke the 1.5 s budget of `comentor summarize`.)"""
    import networkx as nx

    graph = nx.from_numpy_array(_similarities([_stems(s.text) for s in pool]))
    ranks = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-8)
    return [float(ranks[i]) for i in range(len(pool))]


def _same_point(a: set[str], b: set[str]) -> bool:
    return len(a & b) >= 0.5 * min(len(a), len(b))


def recap_lines(said: list[Said], n: int = RECAP_LINES) -> list[Said]:
    """The `n` best-ranked statements, one per point (a sentence sharing half its content words with a better one
    is the same point), in conversation order."""
    unique: dict[str, Said] = {}
    for s in said:
        if _recap_candidate(s):
            unique.setdefault(s.text.lower(), s)
    pool = list(unique.values())
    ranks = _ranks(pool) if len(pool) > n else [0.0] * len(pool)
    picked: list[tuple[int, set[str]]] = []
    for position in sorted(range(len(pool)), key=lambda i: (-ranks[i], i)):
        content = _content(pool[position].text)
        if len(picked) < n and not any(_same_point(content, other) for _, other in picked):
            picked.append((position, content))
    return [pool[i] for i, _ in sorted(picked, key=lambda item: item[0])]


def recap_text(
    turns: list[Turn], names: dict[str, str], n: int = RECAP_LINES, *, said: list[Said] | None = None
) -> str:
    """An extractive recap: one line per point, "Name: sentence", in conversation order (see `recap_lines`)."""
    said = read_sentences(turns, _people(names.items()) if names else None) if said is None else said
    return "\n".join(f"{names.get(s.speaker, s.speaker)}: {_tidy(s.text, 180)}" for s in recap_lines(said, n))


def accountability_items(
    turns: list[Turn],
    participants: list[Participant],
    date: dt.date,
    brain: Brain | None = None,
    next_meeting: dt.date | None = None,
    embedder: Embedder | None = None,
    found: list[Commitment] | None = None,
) -> tuple[list[Commitment], list[Commitment], list[str]]:
    """(items, flagged, warnings). The offline extractor finds the candidates; the brain, when given, reviews them
    (keep, reword, redate, reject) and code checks every verdict before applying it (`apply_review`): rejected items
    are in `flagged` with the model's reason. If the model fails, the candidates stand as extracted, with a warning.

    `next_meeting` (from the pair's cadence) dates "before our next session"; the MiniLM `embedder` lets the
    extractor link a retraction to the item it names in other words. `found`: the extractor's items, when the
    caller already ran it."""
    from facilitator.commitments import extract_commitments
    from facilitator.commitments.validation import apply_review

    if found is None:
        found = extract_commitments(turns, participants, date, next_meeting, embedder)
    candidates = _unique_ids(found)
    if brain is None:
        return candidates, [], []
    data = CommitmentReviewInput(
        candidates=candidates, turns=turns, participants=participants, session_date=date, next_meeting=next_meeting
    )
    try:
        review = brain.review_commitments(data)
    except ModelError as e:
        return candidates, [], [f"{e}; {OFFLINE_ITEMS}"]
    outcome = apply_review(data, review)
    return outcome.items, outcome.flagged, outcome.notes


OFFLINE_ITEMS = "the offline extractor was used instead"  # ends the warning of a failed review (evals count them)


def _unique_ids(items: list[Commitment]) -> list[Commitment]:
    """Every item with an id, none twice (a review names items by id)."""
    from facilitator.commitments import commitment_id

    seen: set[str] = set()
    out: list[Commitment] = []
    for item in items:
        key = item.id or commitment_id(item.owner, item.action, item.evidence[0] if item.evidence else None)
        base, n = key, 1
        while key in seen:
            n += 1
            key = f"{base}-{n}"
        seen.add(key)
        out.append(item if key == item.id else item.model_copy(update={"id": key}))
    return out


def summarize_turns(
    turns: list[Turn],
    participants: list[Participant],
    date: dt.date,
    patterns: ChallengePatterns,
    challenges: dict[str, int] | None = None,
    warnings: list[str] | None = None,
    brain: Brain | None = None,
    next_meeting: dt.date | None = None,
    embedder: Embedder | None = None,
) -> Summary:
    names = {p.id: p.name for p in participants}
    assumptions = [a for t in turns for a in detect_assumptions(t, patterns)]
    reading = _read_items(turns, participants, date, next_meeting, embedder)  # one extractor pass for both
    items, flagged, notes = accountability_items(
        turns, participants, date, brain, next_meeting, embedder, found=reading.items
    )
    said = read_sentences(turns, participants, date, reading=reading)
    return Summary(
        date=date,
        commitments=items,
        flagged=flagged,
        summary=recap_text(turns, names, said=said),
        decisions=decisions(turns, said=said),
        open_questions=open_questions(turns, said=said),
        assumptions=assumptions,
        balance=balance(turns, [p.id for p in participants], challenges),
        warnings=[*(warnings or []), *notes],
    )


def summarize_transcript(
    transcript: Transcript,
    patterns: ChallengePatterns,
    *,
    date: dt.date | None = None,
    today: dt.date | None = None,
    brain: Brain | None = None,
    embedder: Embedder | None = None,
) -> Summary:
    """Summarize a finished transcript. Without any date, relative due dates resolve against today (with a warning)."""
    warnings: list[str] = []
    session_date = date or transcript.date
    if session_date is None:
        session_date = today or dt.date.today()
        warnings.append(
            f"the transcript has no date; relative due dates were resolved against today ({session_date.isoformat()}); "
            "pass --date to fix this"
        )
    speakers = {t.speaker for t in transcript.turns}
    if len(speakers) < 2:
        warnings.append("only one person speaks in this transcript; a co-mentoring session has two partners")
    return summarize_turns(
        transcript.turns,
        transcript.participants,
        session_date,
        patterns,
        warnings=warnings,
        brain=brain,
        embedder=embedder,
    )
