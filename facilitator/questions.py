"""Which bank questions fit this moment of a pair's conversation (`choose_questions`), for both brains.

Each partner's question follows the direction of teaching (the learner teaches back, the teacher says what they
learned from the other), the agenda item's phase, the topic phrases of the last turns (filled in as the pair said
them) and meaning (MiniLM cosine of each bank entry with the moment); no entry is proposed twice to a pair. The
bank's vectors are embedded once per process (`warm_questions`, called when a session starts).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from facilitator.knowledge.bank import QuestionBank, QuestionEntry
from facilitator.models import AgendaItem, Pair, Turn, join_names
from facilitator.textutil import clip
from facilitator.understanding.read import is_to_facilitator
from facilitator.understanding.topics import GENERIC_WORDS

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder
    from facilitator.understanding.reading import Reading

__all__ = ["QuestionCandidate", "choose_questions", "exchange_topic", "phase_for", "warm_questions"]

_PHASE_WORDS = {
    "check-in": ("check", "welcome", "arriv"),
    "goals": ("goal", "objective", "plan"),
    "feedback": ("feedback", "challenge"),
    "commitments": ("commitment", "review", "next", "accountab"),
    "close": ("gratitude", "close", "thanks", "celebrat"),
}


def phase_for(item: AgendaItem | None) -> str:
    if item is None:
        return "exchange"
    title = item.title.lower()
    for phase, words in _PHASE_WORDS.items():
        if any(w in title for w in words):
            return phase
    return "exchange"


def exchange_topic(pair: Pair, seeker: str) -> str | None:
    """What `seeker` wants to learn that another member offers (or just what they seek, or what the first of the
    others offers)."""
    me, others = pair.participant(seeker), pair.others(seeker)
    offered = {t.lower() for o in others for t in o.offer_topics}
    for topic in me.seek_topics:
        if topic.lower() in offered:
            return topic
    if me.seek_topics:
        return me.seek_topics[0]
    return next((t for o in others for t in o.offer_topics), None)


def partner_words(pair: Pair, pid: str, topic: str | None) -> str:
    """Who `{partner}` is for `pid`: in a pair, the partner; in a group, the member who offers `topic`, else the
    others by name ("Ben and Cleo")."""
    others = pair.others(pid)
    wanted = (topic or "").lower()
    offering = [o for o in others if wanted and wanted in {t.lower() for t in o.offer_topics}]
    if len(others) == 1 or len(offering) == 1:
        return (offering or others)[0].first_name
    return join_names([o.first_name for o in others])


class QuestionCandidate(BaseModel):
    """A bank question fitted to a move: the entry, whom it is for (a participant id or "both"), its rendered text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry: QuestionEntry
    addressee: str
    text: str


# ------------------------------------------------------------------------------------- questions for the moment

MOMENT_TURNS = 6  # the partner turns a question is chosen for
MOMENT_TOPICS = 12  # topic phrases of those turns considered for `{topic}`
LEAN_TEACHING = 2  # teaching turns that make a partner the likely teacher when the reading names none
TOPIC_RECUR = 0.08  # topic score per further recent turn that says the phrase
TOPIC_PROFILE = 0.15  # ... for a phrase naming what a partner offers or seeks, or the agenda item
TOPIC_LONG = 0.1  # ... less this for a three-word phrase, which reads badly inside a question
TOPIC_CLOSE = 0.1  # the second-best phrase, when this close to the best, is the second member's topic (and so on)
_CONTENT_PHASES = frozenset({"goals", "exchange", "challenge"})  # a question of one fits the others
_ROLE_DIRECTIONS: dict[str, tuple[str, ...]] = {  # preferred direction first
    "learner": ("teach_back", "seeks"),
    "teacher": ("learned_from", "offers"),
    "open": ("seeks",),
    "both": ("both",),
}
_STEM_TOKEN = re.compile(r"[^\W\d_]+")
_VECTORS_LOCK = threading.Lock()
_BANK_VECTORS: dict[tuple[str, str], tuple[dict[str, int], Any]] = {}  # (embedder, bank digest) -> (row of id, matrix)
_PHRASE_VECTORS: OrderedDict[tuple[str, str], Any] = OrderedDict()  # (embedder, phrase) -> unit vector
_PHRASE_CACHE_SIZE = 4096
_BANKS_KEPT = 8


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _stems(text: str) -> list[str]:
    return [str(s) for s in _stemmer().stemWords(_STEM_TOKEN.findall(text.lower()))]


@lru_cache(maxsize=4096)
def _stem_set(text: str) -> frozenset[str]:
    """The stems of a bank entry's text (kept: the bank is the same from call to call)."""
    return frozenset(_stems(text))


@dataclass(frozen=True)
class _Moment:
    """What a question is chosen for: the phase, the ranked topic phrases, the moment's stems and its vector."""

    phase: str
    topics: list[str]
    stems: frozenset[str]
    vector: Any = None  # a unit numpy vector, or None without an embedder


@dataclass(frozen=True)
class _Slot:
    who: str  # a participant id or "both"
    directions: tuple[str, ...]
    topic: str | None


def choose_questions(
    bank: QuestionBank,
    pair: Pair,
    turns: list[Turn],
    *,
    item: AgendaItem | None,
    asked: list[str],
    only_for: str | None = None,
    limit: int = 3,
    reading: Reading | None = None,
    embedder: Embedder | None = None,
) -> list[QuestionCandidate]:
    """Up to `limit` bank questions for this moment: one for each partner (or only `only_for`), one for both.

    Each partner's questions follow the direction of teaching: the learner is asked to teach back, the teacher
    what they learned from the other (never the reverse); otherwise each is asked as a seeker. Within the entries
    of that direction not in `asked`, questions of the agenda item's phase come first, then those that can carry
    the moment's topic, then the closest in meaning to the moment (cosine of MiniLM vectors; stem overlap with
    the topic phrases without an embedder), then bank order: deterministic. `{topic}` is filled with the pair's
    own words (a topic phrase of the last turns), else with what the partner seeks from the profiles.
    """
    moment = _moment(pair, turns, item, reading, embedder)
    relevance = _relevance(bank, moment, embedder)
    order = {q.id: i for i, q in enumerate(bank.questions)}
    used = set(asked)
    chosen: list[QuestionCandidate] = []
    for slot in _slots(pair, reading, moment, only_for):
        pool = [q for q in bank.questions if q.direction in slot.directions and q.id not in used]
        if not pool:
            continue
        best = max(pool, key=lambda q: _rank(q, slot, moment, relevance.get(q.id, 0.0), order[q.id]))
        used.add(best.id)
        partner = partner_words(pair, slot.who, slot.topic) if slot.who in pair.ids else None
        text = best.render(topic=slot.topic, partner=partner)
        chosen.append(QuestionCandidate(entry=best, addressee=slot.who, text=text))
        if len(chosen) == limit:
            break
    return chosen


def warm_questions(bank: QuestionBank, embedder: Embedder | None) -> None:
    """Embed the bank now (about a second, once per process) rather than at the first question asked."""
    if embedder is not None:
        _bank_vectors(bank, embedder)


def _rank(q: QuestionEntry, slot: _Slot, moment: _Moment, relevance: float, order: int) -> tuple[Any, ...]:
    """Bigger is better: the phase fits, the topic fits, the preferred direction, meaning, then bank order."""
    if q.phase == moment.phase:
        phase = 2
    elif q.phase in _CONTENT_PHASES and moment.phase in _CONTENT_PHASES:
        phase = 1
    else:
        phase = 0
    fits_topic = q.needs_topic == (slot.topic is not None)
    preferred = len(slot.directions) - slot.directions.index(q.direction)
    return (phase > 0, fits_topic, phase, preferred, round(relevance, 6), -order)


def _roles(reading: Reading | None) -> tuple[str | None, str | None]:
    """(teacher, learner): the reading's, else a partner who taught in LEAN_TEACHING+ of the recent turns while
    the other taught in less than half as many."""
    if reading is None:
        return None, None
    if reading.teacher and reading.learner:
        return reading.teacher, reading.learner
    teaching: dict[str, int] = {}
    for turn in reading.partner_turns(MOMENT_TURNS):
        teaching[turn.speaker] = teaching.get(turn.speaker, 0) + int("teaching" in turn.acts())
    if len(teaching) != 2:  # a learner and a teacher: in a group, only while two of the members are talking
        return None, None
    (a, n_a), (b, n_b) = sorted(teaching.items(), key=lambda kv: -kv[1])
    return (a, b) if n_a >= LEAN_TEACHING and n_a >= 2 * n_b else (None, None)


def _slots(pair: Pair, reading: Reading | None, moment: _Moment, only_for: str | None) -> list[_Slot]:
    """Whom the questions are for, in which directions, on which topic (the pair's own words where there are any)."""
    teacher, learner = _roles(reading)
    people = [p.id for p in pair.participants] if only_for is None else [only_for]
    slots: list[_Slot] = []
    for n, pid in enumerate(people):
        role = "learner" if pid == learner else "teacher" if pid == teacher else "open"
        topic = moment.topics[n % min(2, len(moment.topics))] if moment.topics else exchange_topic(pair, pid)
        slots.append(_Slot(pid, _ROLE_DIRECTIONS[role], topic))
    if only_for is None:
        fallback = exchange_topic(pair, pair.ids[0])
        slots.append(_Slot("both", _ROLE_DIRECTIONS["both"], moment.topics[0] if moment.topics else fallback))
    return slots


def _moment(
    pair: Pair, turns: list[Turn], item: AgendaItem | None, reading: Reading | None, embedder: Embedder | None
) -> _Moment:
    talk = [t for t in turns if not is_to_facilitator(t.text)][-MOMENT_TURNS:]
    phrases = reading.recent_topics(n=MOMENT_TURNS, k=MOMENT_TOPICS) if reading is not None else []
    title = item.title if item is not None else ""
    text = ". ".join(x for x in ("; ".join(phrases[:8]), title, *(t.text for t in reversed(talk[-3:]))) if x)
    vector = _unit(embedder.embed_query(clip(text, 1500))) if embedder is not None and text else None
    profile = " ".join([title, *(t for p in pair.participants for t in (*p.offer_topics, *p.seek_topics))])
    ranked = _ranked_topics(phrases, talk, frozenset(_stems(profile)), vector, embedder)
    topics = [_as_written(p, talk) for p, score in ranked[:2] if score >= ranked[0][1] - TOPIC_CLOSE]
    stems = frozenset(_stems(" ".join([*phrases, title])))
    return _Moment(phase=phase_for(item), topics=topics, stems=stems, vector=vector)


def _ranked_topics(
    phrases: list[str], talk: list[Turn], profile: frozenset[str], vector: Any, embedder: Embedder | None
) -> list[tuple[str, float]]:
    """The topic phrases (trimmed) with their scores, best first: closest in meaning to the moment, plus a bonus for
    each further turn that says it and for naming what a partner offers or seeks, less a malus for three words."""
    trimmed = list(dict.fromkeys(t for t in (_trim(p) for p in phrases) if t))
    central = _centrality(trimmed, vector, embedder)
    said = [_stems(t.text) for t in talk]
    scored: list[tuple[float, int, str]] = []
    for n, phrase in enumerate(trimmed):
        wanted = _stems(phrase)
        turns_with = sum(1 for s in said if _contains(s, wanted))
        score = central[n] + TOPIC_RECUR * max(turns_with - 1, 0) - TOPIC_LONG * (len(wanted) >= 3)
        score += TOPIC_PROFILE * bool(profile & set(wanted))
        scored.append((-round(score, 6), n, phrase))
    return [(phrase, -negative) for negative, _, phrase in sorted(scored)]


def _trim(phrase: str) -> str:
    """`phrase` without the conversation words or adverbs at its ends ("inner join quietly" -> "inner join")."""
    words = phrase.split()

    def loose(word: str) -> bool:
        return word in GENERIC_WORDS or word in ("and", "of") or (word.endswith("ly") and len(word) > 4)

    while len(words) > 1 and loose(words[-1]):
        words.pop()
    while len(words) > 1 and loose(words[0]):
        words.pop(0)
    return " ".join(words) if not (len(words) == 1 and loose(words[0])) else ""


def _contains(stems: list[str], wanted: list[str]) -> bool:
    n = len(wanted)
    return n > 0 and any(stems[i : i + n] == wanted for i in range(len(stems) - n + 1))


def _as_written(phrase: str, talk: list[Turn]) -> str:
    """`phrase` (lower case) in the partners' casing where it is an acronym or a name: "SQL", "First World War"."""
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in phrase.split()) + r"(?!\w)", re.IGNORECASE)
    for turn in reversed(talk):
        found = pattern.search(turn.text)
        if found is None:
            continue
        start = turn.text[: found.start()].rstrip()
        sentence_start = not start or start[-1] in '.!?:;"“'
        words = found.group(0).split()
        kept = [
            w if (w.isupper() and len(w) > 1) or (w[:1].isupper() and (i or not sentence_start)) else w.lower()
            for i, w in enumerate(words)
        ]
        return " ".join(kept)
    return phrase


def _unit(vector: list[float]) -> Any:
    import numpy as np

    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def _centrality(phrases: list[str], vector: Any, embedder: Embedder | None) -> list[float]:
    """Cosine of each phrase with the moment (0.0 each without an embedder); phrase vectors are cached."""
    if vector is None or embedder is None:
        return [0.0] * len(phrases)
    with _VECTORS_LOCK:
        missing = [p for p in phrases if (embedder.name, p) not in _PHRASE_VECTORS]
    fresh = [_unit(v) for v in embedder.embed_documents(missing)] if missing else []
    with _VECTORS_LOCK:
        for phrase, v in zip(missing, fresh, strict=True):
            _PHRASE_VECTORS[(embedder.name, phrase)] = v
        out = []
        for p in phrases:
            v = _PHRASE_VECTORS.get((embedder.name, p))
            if v is None:  # dropped by another thread's fill
                out.append(0.0)
                continue
            _PHRASE_VECTORS.move_to_end((embedder.name, p))
            out.append(float(v @ vector))
        while len(_PHRASE_VECTORS) > _PHRASE_CACHE_SIZE:
            _PHRASE_VECTORS.popitem(last=False)
    return out


def _relevance(bank: QuestionBank, moment: _Moment, embedder: Embedder | None) -> dict[str, float]:
    """How close each entry is to the moment: cosine of the vectors, else the share of the moment's stems it holds."""
    if moment.vector is not None and embedder is not None:
        rows, matrix = _bank_vectors(bank, embedder)
        scores = matrix @ moment.vector
        return {qid: float(scores[row]) for qid, row in rows.items()}
    if not moment.stems:
        return {}
    return {q.id: len(moment.stems & _stem_set(q.embedding_text)) / len(moment.stems) for q in bank.questions}


def _bank_vectors(bank: QuestionBank, embedder: Embedder) -> tuple[dict[str, int], Any]:
    """Unit vectors of every entry's `embedding_text`, one `embed_documents` call per bank and embedder, kept."""
    import numpy as np

    digest = hashlib.sha256(
        "\x1e".join(f"{q.id}\x1f{q.text}" for q in bank.questions).encode("utf-8", "surrogatepass")
    ).hexdigest()
    key = (embedder.name, f"{bank.version}:{digest}")
    with _VECTORS_LOCK:
        found = _BANK_VECTORS.get(key)
    if found is not None:
        return found
    vectors = embedder.embed_documents([q.embedding_text for q in bank.questions])
    matrix = np.stack([_unit(v) for v in vectors]) if vectors else np.zeros((0, 1), dtype=np.float32)
    made = ({q.id: i for i, q in enumerate(bank.questions)}, matrix)
    with _VECTORS_LOCK:
        if len(_BANK_VECTORS) >= _BANKS_KEPT:  # only tests and bank edits make new ones
            _BANK_VECTORS.clear()
        return _BANK_VECTORS.setdefault(key, made)
