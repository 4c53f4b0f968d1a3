"""The shared stop-word lexicon: `facilitator/data/stopwords.txt`, read once through importlib.resources.

The file has one section per tier and lists each word once; a text filter takes the tiers it needs:

- `STOP_WORDS` (core): frequent function words of three letters or more; every keyword filter drops them.
- `FUNCTION_WORDS`: `STOP_WORDS` plus the other function words (short words, pronouns, auxiliaries, prepositions).
- `CHAT_WORDS`: chat shorthand and filler ("u", "lol", "stuff"), added by filters that read chat messages.
- `SPEECH_WORDS`: words that carry no topic in spoken meetings ("basically", "kind", "make"), added by filters that
  compare meeting content.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType

__all__ = ["CHAT_WORDS", "FUNCTION_WORDS", "SPEECH_WORDS", "STOP_WORDS", "parse_sections", "sections"]

_RESOURCE = ("facilitator", "data/stopwords.txt")


def parse_sections(text: str) -> dict[str, frozenset[str]]:
    """`[name]` sections of white-space separated words; `#` starts a comment. Words outside a section are an error."""
    words: dict[str, set[str]] = {}
    current: set[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            current = words.setdefault(line[1:-1].strip(), set())
        elif line and current is None:
            raise ValueError(f"line {number}: words before the first [section]")
        elif line and current is not None:
            current.update(line.lower().split())
    return {name: frozenset(found) for name, found in words.items()}


@cache
def sections() -> Mapping[str, frozenset[str]]:
    """The tiers of the bundled stop-word file (read once)."""
    package, name = _RESOURCE
    return MappingProxyType(parse_sections(files(package).joinpath(name).read_text(encoding="utf-8")))


STOP_WORDS: frozenset[str] = sections()["core"]
FUNCTION_WORDS: frozenset[str] = STOP_WORDS | sections()["function"]
CHAT_WORDS: frozenset[str] = sections()["chat"]
SPEECH_WORDS: frozenset[str] = sections()["speech"]
