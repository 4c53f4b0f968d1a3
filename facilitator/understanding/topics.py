"""Topic phrases of a turn: YAKE key phrases (1-3 words), lower case, best first, without names or filler.

YAKE scores candidate phrases from statistics of the text alone (no model, no corpus), so the result depends only
on the text and the names given: deterministic. Its stop words are the shared lexicon's function words plus its
chat and speech filler (`facilitator.lexicon`); a candidate may not start or end with one. After YAKE:

- phrases are lower-cased and trimmed of filler at either end; a phrase with filler inside ("spent the weekend")
  is dropped, except for "of" and "and" ("bill of materials");
- a phrase holding a partner's name or id is dropped; so is a single word that is a number, shorter than three
  letters, or one of `GENERIC_WORDS` (words of conversation that name no topic on their own: "time", "great",
  "tried", "honestly"; inside a longer phrase they stay: "time management");
- duplicates are dropped: a phrase sharing a word with a better one is left out, except that a shorter phrase that
  recurs in the text ("retention graph", said twice) replaces the longer, once-said phrase it is part of.

YAKE ignores tokens of one or two characters, so "BI" of "Power BI" is lost ("power" stays).

yake is imported on first use and one extractor is kept per process (calls are serialised: it caches similarities).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import cache
from typing import Any

from facilitator.lexicon import CHAT_WORDS, FUNCTION_WORDS, SPEECH_WORDS

__all__ = ["GENERIC_WORDS", "MAX_TOPICS", "extract_topics", "name_words"]

MAX_TOPICS = 5
MAX_WORDS = 3
_CANDIDATES = 20
_FILLER: frozenset[str] = FUNCTION_WORDS | CHAT_WORDS | SPEECH_WORDS
_INNER = frozenset({"of", "and"})
GENERIC_WORDS: frozenset[str] = frozenset(
    """
    time times day days week weeks month months year years today tomorrow yesterday tonight morning afternoon
    evening weekend monday tuesday wednesday thursday friday saturday sunday
    first last second next new old good great bad best better worse fine nice hard easy big small little full
    single whole long short real true honest honestly totally literally definitely absolutely exactly pretty
    forever already soon later ago two three four five six seven eight nine ten
    try tried trying work works worked working spent spend keep kept walk help helps helped feel felt know knew
    thought tell told ask asked give gave put came come look looked show showed start started find found happen
    happened change changed send sent talk talked
    trick idea ideas point part bit thanks thank sorry problem question answer
    """.split()
)
_TOKEN = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*")
_LOCK = threading.Lock()


@cache
def _extractor() -> Any:
    import yake

    return yake.KeywordExtractor(lan="en", n=MAX_WORDS, dedup_lim=0.9, top=_CANDIDATES, stopwords=set(_FILLER))


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def name_words(names: Iterable[str]) -> frozenset[str]:
    """Lower-case words of the given names and ids ("Ana María Ruiz", "ana-r" -> ana, maría, ruiz, ana-r, r...)."""
    words: set[str] = set()
    for name in names:
        words.update(_tokens(name))
        words.update(part for part in re.split(r"[\s_.\-]+", name.lower()) if part)
    return frozenset(words)


def _clean(phrase: str, names: frozenset[str]) -> tuple[str, ...] | None:
    words = _tokens(phrase)
    while words and words[0] in _FILLER:
        words.pop(0)
    while words and words[-1] in _FILLER:
        words.pop()
    if not words or any(w in _FILLER and w not in _INNER for w in words):
        return None
    if any(w in names or w.removesuffix("'s").removesuffix("’s") in names for w in words):
        return None
    if len(words) == 1 and (len(words[0]) < 3 or words[0] in GENERIC_WORDS or words[0].replace(".", "").isdigit()):
        return None
    return tuple(words)


def _occurrences(words: tuple[str, ...], tokens: list[str]) -> int:
    n = len(words)
    return sum(1 for i in range(len(tokens) - n + 1) if tuple(tokens[i : i + n]) == words)


def _is_part(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    n = len(short)
    return n < len(long) and any(long[i : i + n] == short for i in range(len(long) - n + 1))


def extract_topics(text: str, names: Iterable[str] = (), *, k: int = MAX_TOPICS) -> list[str]:
    """Up to `k` topic phrases of `text`, best first, lower case; none of them holds one of `names`."""
    if not text.strip() or k <= 0:
        return []
    with _LOCK:
        scored = _extractor().extract_keywords(text)
    blocked = name_words(names)
    tokens = _tokens(text)
    ranked = sorted(((float(score), i, phrase) for i, (phrase, score) in enumerate(scored)), key=lambda x: x[:2])
    kept: list[tuple[str, ...]] = []
    for _, _, phrase in ranked:
        words = _clean(phrase, blocked)
        if words is None or words in kept:
            continue
        parent = next((i for i, other in enumerate(kept) if _is_part(words, other)), None)
        if parent is not None:
            if _occurrences(words, tokens) > _occurrences(kept[parent], tokens):
                kept[parent] = words  # the recurring core of a once-said longer phrase
            continue
        if any(set(words) & set(other) for other in kept):
            continue
        kept.append(words)
    out: list[str] = []
    for words in kept:  # a replacement can duplicate a phrase kept earlier
        phrase = " ".join(words)
        if phrase not in out:
            out.append(phrase)
    return out[:k]
