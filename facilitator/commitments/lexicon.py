"""The extractor's word lists, read once from `lexicon.yaml` inside the package (works from a wheel)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from facilitator.lexicon import CHAT_WORDS, FUNCTION_WORDS

__all__ = ["Lexicon", "load", "parse"]


@dataclass(frozen=True)
class Lexicon:
    """Sets of words (membership tests) and ordered word or phrase lists (regex alternations, tried in order)."""

    stop_words: frozenset[str]  # the shared lexicon's function and chat words, not read from lexicon.yaml
    vague: frozenset[str]
    deliverable_verbs: frozenset[str]
    same_in_past: frozenset[str]
    immediate_verbs: frozenset[str]
    stative_verbs: frozenset[str]
    non_verbs: frozenset[str]
    e_verbs: frozenset[str]
    irregular_past: tuple[str, ...]  # "sent:send"
    noun_phrase_breaks: frozenset[str]
    demonstratives: frozenset[str]
    dangling_prepositions: frozenset[str]
    determiners: tuple[str, ...]
    interjections: tuple[str, ...]
    fillers: tuple[str, ...]
    trailing_words: tuple[str, ...]
    you: tuple[str, ...]
    your: tuple[str, ...]
    me: tuple[str, ...]
    my: tuple[str, ...]
    withdraw_before: tuple[str, ...]
    withdraw_after: tuple[str, ...]
    person_heads: frozenset[str]
    counted_breaks: frozenset[str]


def _entries(value: Any, key: str) -> tuple[str, ...]:
    """A folded string is white-space separated words; a YAML list is one phrase per entry."""
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(" ".join(v.split()) for v in value)
    raise ValueError(f"lexicon key '{key}': expected a string of words or a list of phrases")


def parse(text: str) -> Lexicon:
    """The lexicon from YAML text; a missing or unknown key raises ValueError naming it."""
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # a safe loader
    if not isinstance(data, dict):
        raise ValueError("lexicon: expected a mapping of list names to words")
    names = [f.name for f in dataclasses.fields(Lexicon) if f.name != "stop_words"]
    missing = [n for n in names if n not in data]
    unknown = sorted(set(data) - set(names))
    if missing or unknown:
        raise ValueError(f"lexicon: missing keys {missing}, unknown keys {unknown}")
    values: dict[str, Any] = {"stop_words": FUNCTION_WORDS | CHAT_WORDS}
    for f in dataclasses.fields(Lexicon):
        if f.name in names:
            entries = _entries(data[f.name], f.name)
            values[f.name] = frozenset(entries) if str(f.type).startswith("frozenset") else entries
    return Lexicon(**values)


@cache
def load() -> Lexicon:
    """The bundled lexicon (read on first use, then cached)."""
    return parse(files("facilitator.commitments").joinpath("lexicon.yaml").read_text(encoding="utf-8"))
