"""The quotable sentences of a guidance passage, their vectors, and how well a passage answers a question.

A chunk's text is read as a partner reads it (`passage_sentences`): line by line, markdown removed, a list item
whole, a fragment too short to say anything joined to the sentence after it. Each sentence is embedded once, at
ingest, under its section's heading and its list's lead-in, which say what it is about ("Length of each meeting:
Sixty minutes is a good default."); the index keeps those vectors with the chunk (`encode_vectors`). The candidate
quotes of a passage (`quote_units`) are each sentence that says something on its own and each two next to each
other in one block; a pair's vector is the normalised sum of its two sentences' vectors, so nothing is embedded
when a question is answered.

How well a passage answers a question (`PassageVectors.fit`) is the cosine of its best quote with the question plus
`KEYWORD_WEIGHT` times the share of the question's content-word stems that the passage (heading and text) holds:
MiniLM alone tells apart two sections of one page poorly ("How to receive feedback well" vs "A simple routine for
two-way feedback"), and the words the question shares with a section settle many of those. The same measure picks
a page's passage in the index's search and the passage an answer quotes (`facilitator.brains.answering`).
"""

from __future__ import annotations

import base64
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from facilitator.lexicon import STOP_WORDS
from facilitator.understanding.sentences import split_sentences

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder
    from facilitator.models import SearchHit

__all__ = [
    "KEYWORD_WEIGHT",
    "SENTENCES_VERSION",
    "PassageSource",
    "PassageVectors",
    "Quote",
    "content_stems",
    "contexts_of",
    "decode_vectors",
    "encode_vectors",
    "heading_of",
    "keyword_share",
    "passage_blocks",
    "passage_sentences",
    "passage_vectors",
    "plain_markdown",
    "quote_units",
    "quotes_of",
    "sentence_contexts",
    "unit",
]

SENTENCES_VERSION = 1  # bump when the sentences of a passage (or their context) change: stored vectors are redone
KEYWORD_WEIGHT = 0.3  # the weight of the question's stems a passage holds, next to its best quote's cosine
MIN_WORDS = 5  # a shorter fragment ("Listen to the end.") is joined to the sentence after it
QUOTE_WORDS = 8  # a shorter sentence is quoted only together with its neighbour
MAX_SENTENCE_CHARS = 400  # a longer list item is split into its sentences
PAIR_BOOST = 0.5  # how much of their summed vector's gain over the mean of their cosines two sentences keep
CACHE_CHUNKS = 4096  # passages whose vectors are kept in memory (computed ones, for indexes without stored ones)
_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)]|#+|>)\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*\*|__|`")
_LEADING = re.compile(r"^[\s.,;:!?)\]]+")
_WORD = re.compile(r"[a-z][a-z'’-]{2,}")
# Words that nearly every passage of co-mentoring guidance holds: they tell no passage apart, and a question that
# names "my partner" (or a partner, read as that) would otherwise look closer to all of them.
GENERIC_WORDS = frozenset({"partner", "partners", "partner's", "partners'"})


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


def passage_blocks(text: str) -> list[list[str]]:
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
    return [sentence for block in passage_blocks(text) for sentence in block]


def heading_of(title: str, section: str) -> str:
    """What a passage is about: its innermost section heading, else its page title."""
    return section.split(" > ")[-1].strip() or title.strip()


def _leads(blocks: list[list[str]]) -> list[str]:
    """For each sentence (in passage order), the lead-in of the list it belongs to ("To end well:"), or ""."""
    leads: list[str] = []
    lead = ""
    for block in blocks:
        leads.extend([lead] * len(block))
        lead = block[-1] if block[-1].endswith(":") else ""
    return leads


def sentence_contexts(title: str, section: str, text: str) -> list[str]:
    """Each sentence of a passage as it is embedded: under its heading and its list's lead-in."""
    return contexts_of(title, section, passage_blocks(text))


def contexts_of(title: str, section: str, blocks: list[list[str]]) -> list[str]:
    """`sentence_contexts` of a passage already split into blocks (`passage_blocks`)."""
    heading = heading_of(title, section)
    sentences = [s for block in blocks for s in block]
    return [
        " ".join(x for x in (f"{heading}:" if heading else "", lead, s) if x)
        for lead, s in zip(_leads(blocks), sentences, strict=True)
    ]


def _answers_nothing(sentence: str) -> bool:
    """A lead-in ("Suggested rhythms by situation:"), a short sentence ("Senior partners set the tone."), or a bare
    question ("How do I ask for feedback?") answers nothing on its own; a question that is quoted or introduced
    ("ask: Are we both learning?") may."""
    if len(sentence.split()) < QUOTE_WORDS or sentence.endswith(":"):
        return True
    return sentence.endswith("?") and not any(mark in sentence for mark in ':"“')


@dataclass(frozen=True)
class Quote:
    """A candidate quote of a passage: its sentences `first`..`last` (one, or two next to each other)."""

    first: int
    last: int
    text: str


def quote_units(text: str) -> list[Quote]:
    """The candidate quotes of a passage: each sentence, and each two next to each other in one block (a sentence
    often needs its neighbour: "Sixty minutes is a good default. It is long enough..."), that say something."""
    return quotes_of(passage_blocks(text))


def quotes_of(blocks: list[list[str]]) -> list[Quote]:
    """`quote_units` of a passage already split into blocks (`passage_blocks`)."""
    units: list[Quote] = []
    position = 0
    for block in blocks:
        for i, sentence in enumerate(block):
            if not _answers_nothing(sentence):
                units.append(Quote(position + i, position + i, sentence))
            if i + 1 < len(block) and not _answers_nothing(pair := f"{sentence} {block[i + 1]}"):
                units.append(Quote(position + i, position + i + 1, pair))
        position += len(block)
    return units


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def content_stems(text: str) -> frozenset[str]:
    """The stems of the content words of `text` (stop words out): "meetings" and "meeting" are one."""
    words = [w.strip("'’-").replace("’", "'") for w in _WORD.findall(text.lower())]
    kept = [w for w in words if len(w) > 2 and w not in STOP_WORDS and w not in GENERIC_WORDS]
    return frozenset(_stemmer().stemWords(kept))


def keyword_share(question: frozenset[str], text: str) -> float:
    """The share of the question's content stems that `text` holds."""
    return len(question & content_stems(text)) / len(question) if question else 0.0


@dataclass(frozen=True)
class PassageVectors:
    """The candidate quotes of one passage with a unit vector each (rows of `matrix`), the unit vectors of its
    sentences (rows of `sentences`), and its keyword stems."""

    quotes: tuple[Quote, ...]
    matrix: Any  # float32, one unit row per quote
    stems: frozenset[str]
    sentences: Any = None  # float32, one unit row per sentence

    @classmethod
    def build(
        cls, hit: SearchHit, sentence_vectors: Any, blocks: list[list[str]] | None = None
    ) -> PassageVectors | None:
        """From the vectors of the passage's sentences (rows in passage order) and its sentences by block (split
        again when not given); None when they do not fit each other."""
        import numpy as np

        blocks = passage_blocks(hit.text) if blocks is None else blocks
        if len(sentence_vectors) != sum(len(block) for block in blocks):
            return None
        if not len(sentence_vectors):
            empty = np.zeros((0, 1), dtype=np.float32)
            return cls(quotes=(), matrix=empty, stems=frozenset(), sentences=empty)
        vectors = np.asarray(sentence_vectors, dtype=np.float32)
        vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        quotes = tuple(quotes_of(blocks))
        rows = [vectors[q.first] if q.first == q.last else vectors[q.first] + vectors[q.last] for q in quotes]
        matrix = np.stack(rows) if rows else np.zeros((0, vectors.shape[1]), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.clip(norms, 1e-12, None)
        stems = content_stems(f"{heading_of(hit.title, hit.section)} {hit.text}")
        return cls(quotes=quotes, matrix=matrix, stems=stems, sentences=vectors)

    def scores(self, query: Any) -> Any:
        """How close each quote is to the (unit) query vector: a sentence's cosine; for two sentences, the mean of
        theirs plus PAIR_BOOST times what the cosine of their summed vector adds to it. The sum alone is closer to
        the question than either sentence whenever both lean its way (their differences cancel), so a sentence
        that has nothing to do with the question (an instruction planted in a passage, say) could ride along with
        one that answers it; the mean alone never lets two sentences that answer together beat one."""
        import numpy as np

        summed = self.matrix @ query
        if self.sentences is None or not len(self.quotes):
            return summed
        each = self.sentences @ query
        first = np.fromiter((q.first for q in self.quotes), dtype=np.int64, count=len(self.quotes))
        last = np.fromiter((q.last for q in self.quotes), dtype=np.int64, count=len(self.quotes))
        mean = (each[first] + each[last]) / 2.0
        return np.where(first == last, summed, mean + PAIR_BOOST * (summed - mean))

    def fit(self, query: Any, question: frozenset[str]) -> float:
        """How well this passage answers the question: its best quote's cosine plus KEYWORD_WEIGHT times the share
        of the question's stems it holds (heading and text)."""
        best = float(self.scores(query).max()) if len(self.quotes) else 0.0
        held = len(question & self.stems) / len(question) if question else 0.0
        return best + KEYWORD_WEIGHT * held


def unit(vector: Sequence[float]) -> Any:
    """`vector` as a float32 numpy vector of length 1 (a zero vector stays zero)."""
    import numpy as np

    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def encode_vectors(vectors: Sequence[Sequence[float]]) -> str:
    """Sentence vectors as the index stores them with their chunk: int8 with one float32 scale per row, base64."""
    import numpy as np

    matrix = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1) if len(vectors) else np.zeros((0, 0))
    scale = np.abs(matrix).max(axis=1, keepdims=True) / 127.0 if len(matrix) else np.zeros((0, 1), np.float32)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    quantised = np.round(matrix / scale).astype(np.int8)
    header = np.asarray(matrix.shape, dtype=np.int32).tobytes()
    return base64.b64encode(header + scale.tobytes() + quantised.tobytes()).decode("ascii")


def decode_vectors(blob: str) -> Any:
    """The matrix `encode_vectors` stored (approximately: within int8 precision)."""
    import numpy as np

    raw = base64.b64decode(blob.encode("ascii"))
    rows, dim = (int(x) for x in np.frombuffer(raw[:8], dtype=np.int32))
    scale = np.frombuffer(raw[8 : 8 + 4 * rows], dtype=np.float32).reshape(rows, 1)
    quantised = np.frombuffer(raw[8 + 4 * rows :], dtype=np.int8).reshape(rows, dim)
    return quantised.astype(np.float32) * scale


@runtime_checkable
class PassageSource(Protocol):
    """Serves the vectors of retrieved passages (the index's embedder does: `KnowledgeBase.embedder`)."""

    def passages(self, hits: Sequence[SearchHit]) -> dict[str, PassageVectors]: ...


_LOCK = threading.Lock()
_COMPUTED: OrderedDict[tuple[str, str, str], PassageVectors] = OrderedDict()  # (embedder, chunk id, text) -> vectors


def passage_vectors(hits: Sequence[SearchHit], embedder: Embedder) -> dict[str, PassageVectors]:
    """The vectors of each passage by chunk id: the index's stored ones when `embedder` serves them, else (and for
    a passage without stored vectors) embedded now, one call for all, and kept for the process by chunk id."""
    found = embedder.passages(hits) if isinstance(embedder, PassageSource) else {}
    missing = [h for h in hits if h.id not in found]
    if not missing:
        return found
    with _LOCK:
        for hit in missing:
            cached = _COMPUTED.get((embedder.name, hit.id, hit.text))
            if cached is not None:
                _COMPUTED.move_to_end((embedder.name, hit.id, hit.text))
                found[hit.id] = cached
    todo = [h for h in missing if h.id not in found]
    split = [passage_blocks(h.text) for h in todo]
    contexts = [contexts_of(h.title, h.section, blocks) for h, blocks in zip(todo, split, strict=True)]
    flat = [c for cs in contexts for c in cs]
    vectors = embedder.embed_documents(flat) if flat else []
    start = 0
    with _LOCK:
        for hit, blocks, cs in zip(todo, split, contexts, strict=True):
            built = PassageVectors.build(hit, [unit(v) for v in vectors[start : start + len(cs)]], blocks)
            start += len(cs)
            if built is None:
                continue
            _COMPUTED[(embedder.name, hit.id, hit.text)] = built
            found[hit.id] = built
        while len(_COMPUTED) > CACHE_CHUNKS:
            _COMPUTED.popitem(last=False)
    return found
