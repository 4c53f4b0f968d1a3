"""Word-level helpers: normalised text, words, content words and their similarity."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import fuzz

from facilitator.commitments.lexicon import load

LEX = load()
WORD = re.compile(r"[a-z0-9][a-z0-9'’-]*", re.IGNORECASE)
_SYMBOLS = frozenset({"So", "Sk", "Mn", "Cs", "Co"})  # emoji, modifiers, variation selectors
DUPLICATE_THRESHOLD = 85.0


@lru_cache(maxsize=16384)  # pure; a session's recap re-reads every earlier sentence (half of its time, profiled)
def plain(text: str) -> str:
    """Lower-case, plain apostrophes, emoji as spaces. The length is kept: offsets index the original text."""
    text = text.replace("’", "'").replace("‘", "'")
    return "".join(" " if unicodedata.category(ch) in _SYMBOLS else _lower(ch) for ch in text)


def _lower(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else ch  # "İ".lower() has two characters


def strip_symbols(text: str) -> str:
    """The text without emoji and other symbols."""
    out = "".join(ch for ch in text.replace("’", "'") if unicodedata.category(ch) not in _SYMBOLS)
    return out.replace("\u200d", "")


def ascii_fold(text: str) -> str:
    """Lower-case ASCII ("Chàu" -> "chau")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def words(text: str) -> list[str]:
    """Lower-cased words with plain apostrophes."""
    return [w.lower().replace("’", "'") for w in WORD.findall(text)]


def content_words(text: str, drop: Iterable[str] = ()) -> list[str]:
    """Words that are not stop words (nor in `drop`), possessive 's removed."""
    dropped = {d.lower() for d in drop}
    out = []
    for word in words(text):
        base = word[:-2] if word.endswith("'s") else word
        if base not in LEX.stop_words and base not in dropped and len(base) > 1:
            out.append(base)
    return out


def base_form(verb: str) -> str:
    """'walking' -> 'walk', 'sending' -> 'send', 'making' -> 'make'; other words unchanged."""
    if not verb.endswith("ing") or len(verb) <= 4:
        return verb
    stem = verb[:-3]
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        stem = stem[:-1]
    if stem + "e" in LEX.e_verbs:
        return stem + "e"
    return stem


def present_form(verb: str) -> str:
    """'shared' -> 'share', 'emailed' -> 'email', 'copied' -> 'copy', 'planned' -> 'plan', 'sent' -> 'send'; a
    word that is not a past form is unchanged."""
    irregular = dict(pair.split(":", 1) for pair in LEX.irregular_past)
    if verb in irregular:
        return irregular[verb]
    if not verb.endswith("ed") or len(verb) <= 4:
        return verb
    if verb.endswith("ied"):
        return verb[:-3] + "y"
    stem = verb[:-2]
    if stem + "e" in LEX.e_verbs:
        return stem + "e"
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        return stem[:-1]
    return stem


def similar(a: str, b: str) -> float:
    """Token-set similarity of the content words of two texts, 0-100."""
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return 0.0
    return float(fuzz.token_set_ratio(" ".join(wa), " ".join(wb)))


def overlap(a: str, b: str) -> int:
    """How many content words (compared on a 5-letter stem) two texts share."""
    sa = {w[:5] for w in content_words(a)}
    sb = {w[:5] for w in content_words(b)}
    return len(sa & sb)


def related(a: str, b: str) -> int:
    """How many content words of `a` have a relative in `b`: the same 5-letter stem, or (both words of five letters
    or more) the same first four ("signage" ~ "signs", "scheduling" ~ "schedule"). For linking a retraction or a
    revision to the item it names."""
    wb = content_words(b)
    stems_b = {w[:5] for w in wb}
    prefixes_b = {w[:4] for w in wb if len(w) >= 5}
    return sum(1 for w in set(content_words(a)) if w[:5] in stems_b or (len(w) >= 5 and w[:4] in prefixes_b))


def near_duplicate(a: str, b: str) -> bool:
    """Whether two actions are the same item in other words (fuzzy token-set match, case-insensitive)."""
    return fuzz.token_set_ratio(a.lower(), b.lower()) >= DUPLICATE_THRESHOLD
