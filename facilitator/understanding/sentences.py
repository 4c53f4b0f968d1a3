"""Sentences of a turn: pysbd's rule-based English segmenter (abbreviations, decimals, ellipses, e.g./Dr. stay whole).

pysbd is imported on first use (not at import time) and one `Segmenter` is kept for the process. A segmenter keeps
the text it is working on as state, so calls are serialised by a lock (a turn takes well under a millisecond).

Very short fragments ("Ok.", "Hmm.", "lol.", "2.") carry no act of their own and would be classified on noise; a
fragment of fewer than `MIN_WORDS` words is attached to the sentence after it, or to the one before it when it
comes last. A turn that is only a short fragment ("Thanks!") stays one sentence.
"""

from __future__ import annotations

import re
import threading
from functools import cache, lru_cache
from typing import Any

__all__ = ["MIN_WORDS", "split_sentences", "word_count"]

MIN_WORDS = 2
_WORD = re.compile(r"\w+(?:'\w+)?")
# Where pysbd could end a sentence. A text with none of these before its last character is one sentence, and pysbd
# (which compiles a fresh pattern per sentence it finds) is not needed: most chat turns are like that.
_INNER_END = re.compile(r"[.!?…)•\n\r]")  # ")": pysbd splits "a) one b) two"
_LOCK = threading.Lock()


def word_count(text: str) -> int:
    """Words as the balance counts them: runs of letters/digits, with an inner apostrophe ("don't" is one)."""
    return len(_WORD.findall(text))


@cache
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


@lru_cache(maxsize=4096)
def _pieces(text: str) -> tuple[str, ...]:
    """pysbd's sentences of `text`, stripped (cached: a turn is read by the reader, the recap and the exports)."""
    body = text.strip()
    if not _INNER_END.search(body.rstrip(".!?…\"')” ")):
        return (body,)
    with _LOCK:
        return tuple(piece.strip() for piece in _segmenter().segment(text))


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped, in order; very short fragments joined to a neighbour (see module doc)."""
    if not text.strip():
        return []
    pieces = [piece for piece in _pieces(text) if piece]
    out: list[str] = []
    pending = ""
    for piece in pieces:
        joined = f"{pending} {piece}" if pending else piece
        if word_count(joined) < MIN_WORDS:
            pending = joined
            continue
        out.append(joined)
        pending = ""
    if pending:
        if out:
            out[-1] = f"{out[-1]} {pending}"
        else:
            out.append(pending)
    return out


_CLAUSE = re.compile(
    r"\s*(?:[,;:\u2013\u2014]|\s-\s)\s*(?:(?:and|but|so|because|though|anyway)\b\s*)?|\s+(?:so|because)\s+"
)
CLAUSE_MIN_WORDS = 4


def clauses(sentence: str) -> list[str]:
    """The clauses of a long sentence (split at commas, semicolons and dashes, and before "so"/"because"), each of
    at least CLAUSE_MIN_WORDS words: a generalisation inside a long spoken sentence ("One venue lost our sheet, so
    regional theatres are all disorganised") is read on its own. A sentence with one clause gives []."""
    parts = [part.strip(" .!?") for part in _CLAUSE.split(sentence)]
    parts = [part for part in parts if word_count(part) >= CLAUSE_MIN_WORDS]
    return parts if len(parts) > 1 else []
