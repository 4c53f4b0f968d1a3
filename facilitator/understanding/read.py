"""Read turns: sentences (pysbd), speech acts (the MiniLM classifier), topic phrases (YAKE), who teaches whom.

`read_conversation` is called on every web event with the whole session so far, so it reads only turns it has not
read before: each turn's reading is kept in a `ReadingCache` under a session-independent key (the turn's index,
speaker and text, the partners' names, which topics leave out, and the classifier's weights and embedder), and all
the new turns' sentences are embedded in one `embed_documents` call. After the first read of a session, a new turn
costs one embedding call for its own sentences and nothing for the others. The default cache is module-level and
bounded (`DEFAULT_CACHE_SIZE` turns, least recently used dropped first).

Cached readings are shared between calls: treat a `Reading` and its `TurnReading`s as read-only.

A turn starting with "@facilitator" is a request to the facilitator, not partner talk: it is read like the others
(without the mention) and marked `to_facilitator`; talk balance, topics, assumptions and the teacher/learner
detection leave it out.

With `embedder=None` (or an embedder of another vector space) the acts come from the "?" cue only: see
`facilitator.understanding.acts`.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from facilitator.models import Pair, Turn
from facilitator.understanding.acts import act_probability, classify, load_model, usable
from facilitator.understanding.reading import Reading, SentenceReading, SpeechAct, TurnReading
from facilitator.understanding.sentences import clauses, split_sentences, word_count
from facilitator.understanding.topics import extract_topics

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder

__all__ = [
    "DEFAULT_CACHE",
    "DEFAULT_CACHE_SIZE",
    "FACILITATOR_MENTION",
    "ROLE_WINDOW",
    "ReadingCache",
    "is_to_facilitator",
    "read_conversation",
    "read_turn",
    "teacher_and_learner",
]

FACILITATOR_MENTION = "@facilitator"
ROLE_WINDOW = 6  # the recent partner turns teacher/learner is judged on
DEFAULT_CACHE_SIZE = 20_000  # turns; a reading is a few hundred bytes to a few KB
_MENTION = re.compile(r"^\s*@facilitator\b[\s,:;.!-]*", re.IGNORECASE)
_ASKING: frozenset[SpeechAct] = frozenset({"question", "request"})
_NOT_TOPICAL: frozenset[SpeechAct] = frozenset({"other", "acceptance"})
CLAUSE_SENTENCE_WORDS = 10  # a sentence this long is also read clause by clause for a generalisation inside it
CLAUSE_ASSUMPTION = 0.5  # a clause this likely an assumption makes its sentence one
CLAUSE_SURE = 0.6  # a sentence read this surely as another act (a lesson, a plain fact) is not split
_KEEP: frozenset[SpeechAct] = frozenset({"assumption", "question", "request", "offer", "retraction", "revision"})


def is_to_facilitator(text: str) -> bool:
    """Whether a turn is addressed to the facilitator ("@facilitator what next?")."""
    return bool(_MENTION.match(text))


class ReadingCache:
    """A thread-safe LRU of turn readings by key, bounded to `size` entries."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        if size < 1:
            raise ValueError("a reading cache holds at least one turn")
        self.size = size
        self._data: OrderedDict[str, TurnReading] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> TurnReading | None:
        with self._lock:
            reading = self._data.get(key)
            if reading is not None:
                self._data.move_to_end(key)
            return reading

    def put(self, key: str, reading: TurnReading) -> None:
        with self._lock:
            self._data[key] = reading
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data


DEFAULT_CACHE = ReadingCache()


def _names(pair: Pair) -> list[str]:
    return [value for p in pair.participants for value in (p.id, p.name, p.first_name)]


def _reader_id(embedder: Embedder | None) -> str:
    """What the acts are read with: the weights and the embedder, or the cue alone."""
    if embedder is None:
        return "cues"
    model = load_model()
    return f"{model.version}:{embedder.name}" if usable(embedder, model) else f"cues:{embedder.name}"


def _key(turn: Turn, names: Sequence[str], reader: str) -> str:
    raw = "\x1f".join([str(turn.index), turn.speaker, turn.text, "\x1e".join(names), reader])
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _read_new(turns: Sequence[Turn], pair: Pair, embedder: Embedder | None) -> list[TurnReading]:
    """Read turns from scratch, embedding all their sentences in one call."""
    names = _names(pair)
    parts: list[tuple[Turn, bool, str, list[str]]] = []
    for turn in turns:
        addressed = is_to_facilitator(turn.text)
        body = _MENTION.sub("", turn.text, count=1) if addressed else turn.text
        parts.append((turn, addressed, body, split_sentences(body)))
    every = [s for *_, sentences in parts for s in sentences]
    acts = _with_clauses(every, classify(every, embedder), embedder)  # one embedding call for the new sentences
    out: list[TurnReading] = []
    position = 0
    for turn, addressed, body, sentences in parts:
        readings = [
            SentenceReading(text=s, act=act, confidence=confidence)
            for s, (act, confidence) in zip(sentences, acts[position : position + len(sentences)], strict=True)
        ]
        position += len(sentences)
        # Small talk and bare acceptances name no topic; a 0-confidence `other` is "not known" (no classifier).
        topical = " ".join(r.text for r in readings if r.act not in _NOT_TOPICAL or r.confidence == 0.0)
        out.append(
            TurnReading(
                index=turn.index,
                speaker=turn.speaker,
                sentences=readings,
                topics=extract_topics(topical, names),
                words=word_count(body),
                to_facilitator=addressed,
            )
        )
    return out


def _with_clauses(
    sentences: list[str], acts: list[tuple[SpeechAct, float]], embedder: Embedder | None
) -> list[tuple[SpeechAct, float]]:
    """Long sentences read clause by clause as well (one more embedding call): a sentence with a clause the
    classifier reads as an assumption (>= CLAUSE_ASSUMPTION) is an assumption, unless it asks, offers or revises, or
    the sentence as a whole was read surely (>= CLAUSE_SURE) as something else."""
    if embedder is None:
        return acts
    owners: list[int] = []
    pieces: list[str] = []
    for i, (sentence, (act, confidence)) in enumerate(zip(sentences, acts, strict=True)):
        unsure = act not in _KEEP and confidence < CLAUSE_SURE
        if unsure and word_count(sentence) >= CLAUSE_SENTENCE_WORDS:
            for clause in clauses(sentence):
                owners.append(i)
                pieces.append(clause)
    out = list(acts)
    for i, score in zip(owners, act_probability(pieces, embedder, "assumption"), strict=True):
        if score >= CLAUSE_ASSUMPTION and (out[i][0] != "assumption" or score > out[i][1]):
            out[i] = ("assumption", score)
    return out


def read_turn(turn: Turn, pair: Pair, *, embedder: Embedder | None) -> TurnReading:
    """One turn read on its own (no cache)."""
    return _read_new([turn], pair, embedder)[0]


def teacher_and_learner(turns: Sequence[TurnReading], pair: Pair) -> tuple[str | None, str | None]:
    """Who teaches whom over the last `ROLE_WINDOW` partner turns, or (None, None) when it is not clear.

    A partner is the teacher when at least half of their recent turns teach (a `teaching` sentence) while at least
    half of the other's ask (a `question` or `request`) and fewer than half of the other's teach. Both partners
    must have spoken at least twice in the window.
    """
    ids = pair.ids
    recent = [t for t in turns if not t.to_facilitator and t.speaker in ids][-ROLE_WINDOW:]
    spoke = {pid: [t for t in recent if t.speaker == pid] for pid in ids}
    if any(len(spoke[pid]) < 2 for pid in ids):
        return None, None
    teaches = {pid: sum(1 for t in spoke[pid] if "teaching" in t.acts()) for pid in ids}
    asks = {pid: sum(1 for t in spoke[pid] if t.acts() & _ASKING) for pid in ids}
    for teacher, learner in (ids, ids[::-1]):
        n_teacher, n_learner = len(spoke[teacher]), len(spoke[learner])
        if 2 * teaches[teacher] >= n_teacher and 2 * asks[learner] >= n_learner and 2 * teaches[learner] < n_learner:
            return teacher, learner
    return None, None


def read_conversation(
    turns: Sequence[Turn], pair: Pair, *, embedder: Embedder | None, cache: ReadingCache | None = None
) -> Reading:
    """The conversation read, reusing the cached readings of turns read before (see the module doc)."""
    cache = DEFAULT_CACHE if cache is None else cache
    names = _names(pair)
    reader = _reader_id(embedder)
    keys = [_key(turn, names, reader) for turn in turns]
    found: dict[int, TurnReading] = {}
    missing: list[int] = []
    for position, key in enumerate(keys):
        reading = cache.get(key)
        if reading is None:
            missing.append(position)
        else:
            found[position] = reading
    if missing:
        fresh = _read_new([turns[i] for i in missing], pair, embedder)
        for position, reading in zip(missing, fresh, strict=True):
            cache.put(keys[position], reading)
            found[position] = reading
    readings = [found[i] for i in range(len(turns))]
    teacher, learner = teacher_and_learner(readings, pair)
    return Reading(turns=readings, teacher=teacher, learner=learner)
