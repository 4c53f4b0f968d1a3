"""The wording stage's referents: what a pronoun in an action stands for ("send that to Ben" -> "send the rota
templates to Ben"), found in the sentences just before the statement.

- A thing pronoun ("it", "them", or a bare "that/this/those/these") takes the nearest noun phrase opened by a
  determiner: the first one of the nearest sentence that has one. In a sentence that itself holds a pronoun only the
  phrases before that pronoun count ("I'll draft the summary, and you check it": the summary).
- A person pronoun ("her", "him") takes the nearest person named in the context who is not a participant
  ("could you introduce me to Dr. Ng?" ... "I'll email her": Dr. Ng).
- Phrases that name nothing one could hand over ("the moment", "a bit", "the way") are skipped.

Only the first pronoun of an action is resolved; an action with nothing to resolve comes back unchanged.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from facilitator.commitments import cues
from facilitator.commitments.text import LEX, plain

__all__ = ["Pronoun", "find_pronoun", "person_in", "resolve_referent", "things_in"]

THING = frozenset({"it", "them", "that", "this", "those", "these"})
DEMONSTRATIVE = frozenset({"that", "this", "those", "these"})
PERSON = frozenset({"her", "him"})
# "one of mine" -> "one of my PRDs": a possessive pronoun takes the head noun of the nearest phrase.
POSSESSIVE = {"mine": "my", "yours": "your", "ours": "our", "theirs": "their"}
# Heads of noun phrases that stand for no deliverable ("the moment", "a lot", "the way you put it").
EMPTY_HEADS = frozenset(
    {
        "moment", "bit", "lot", "way", "time", "point", "thing", "things", "idea", "question", "problem", "day",
        "week", "month", "end", "start", "sense", "chance", "reason", "rest", "same", "kind", "sort", "fact",
        "life", "mind", "luck", "mess", "pain", "nightmare", "disaster", "shame", "relief", "joke",
    }
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z][\w'-]*")
_NAME = re.compile(
    r"\b(?:(?:Dr|Prof|Mr|Mrs|Ms|Mx)\.?\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?|[A-Z][a-z][\w'-]*(?:\s+[A-Z][a-z][\w'-]*)?)"
)


_LEADING_NOUNS = re.compile(
    r"^\W*(?P<np>[A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){1,3}?)(?:'s\s|\s+(?:(?:keeps?|stops?|starts?|needs?)\s+)?(?:\w+ing|\w+ed|is|are|was|were|needs?|has|have|"
    r"would|will|could|should|can|might|helps?)\b)"
)


@dataclass(frozen=True)
class Pronoun:
    """A pronoun standing for the object of an action: its span in the action and whether it means a person."""

    start: int
    end: int
    word: str
    person: bool
    possessive: bool = False
    count: int = 1  # "both", "all three": how many things it stands for


_BARE_TOPIC = re.compile(r"^\W*(?P<np>[A-Za-z][\w-]+(?:\s+[A-Za-z][\w-]+){1,3})\W*$")
_NOT_TOPIC = LEX.stop_words | LEX.non_verbs | {"thanks", "thank", "fine", "good", "great", "okay", "ok", "sure", "yes"}
# A phrase that is only a date ("the 28th", "the end of May"): never the thing a pronoun stands for.
_DATE_PHRASE = re.compile(
    r"^(?:the|a|an|this|that|next|our)\s+(?:\d{1,2}(?:st|nd|rd|th)?|(?:mon|tues|wednes|thurs|fri|satur|sun)day|weekend|"
    r"end\s+of\s+\w+|start\s+of\s+\w+)\b",
    re.I,
)
# "I'll redo both", "check all three (of them)": several things named before, at the end of the action.
_SEVERAL = re.compile(
    r"^\w+(?:\s+(?:up|out|over|through|to|at))?\s+(?P<p>(?P<n>both|all\s+(?:two|three|four|five))"
    r"(?:\s+of\s+(?:them|those|these))?)(?=\W*$|\s*[,;]|\s+(?:and|with|into|to|for|in|on|by|before|properly)\b)",
    re.I,
)
_COUNTS = {"both": 2, "two": 2, "three": 3, "four": 4, "five": 5}
_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}
# "I'll draft one": an indefinite "one" at the end of the action stands for a thing named before.
_ONE = re.compile(r"^\w+(?:\s+(?:up|out))?\s+(?P<one>one)\W*$", re.I)


def find_pronoun(action: str) -> Pronoun | None:
    """The first pronoun in `action` that stands for an object ("that" followed by a noun is a determiner)."""
    one = _ONE.match(action)
    if one:
        return Pronoun(one.start("one"), one.end("one"), "one", person=False)
    several = _SEVERAL.search(action)
    if several:
        count = _COUNTS.get(several["n"].lower().split()[-1], 2)
        return Pronoun(several.start("p"), several.end("p"), several["p"].lower(), person=False, count=count)
    matches = list(_WORD.finditer(action))
    for i, match in enumerate(matches):
        word = match.group(0).lower()
        if word in PERSON:
            return Pronoun(match.start(), match.end(), word, person=True)
        if word in POSSESSIVE:
            return Pronoun(match.start(), match.end(), word, person=False, possessive=True)
        if word not in THING:
            continue
        following = matches[i + 1].group(0).lower() if i + 1 < len(matches) else ""
        participle = following.endswith("ed")  # "get that updated": a pronoun, not "that report"
        if word in DEMONSTRATIVE and following and following not in LEX.stop_words and not participle:
            continue  # "that report": a determiner
        return Pronoun(match.start(), match.end(), word, person=False)
    return None


def things_in(sentence: str, noun_phrase: Callable[[str], str | None]) -> list[str]:
    """The noun phrases of a sentence that could be an object, in order; with a pronoun in the sentence, only those
    before it (what comes after continues an earlier topic)."""
    low = plain(sentence)
    first = next(
        (
            m.start()
            for m in _WORD.finditer(low)
            if _refers(m.group(0), low[m.end() :], opens=not low[: m.start()].strip())
        ),
        None,
    )
    scope = sentence if first is None else sentence[:first]
    found: list[str] = []
    leading = _LEADING_NOUNS.match(scope)
    content = leading is not None and not any(w.lower() in LEX.stop_words for w in leading["np"].split())
    if leading and content and not noun_phrase(scope):  # terse: "Near-miss reports piling up." names them, no "the"
        found.append(f"the {leading['np'][:1].lower()}{leading['np'][1:]}")
    bare = _BARE_TOPIC.match(scope)
    if bare and not noun_phrase(scope) and not any(w.lower() in _NOT_TOPIC for w in bare["np"].split()):
        found.append(f"the {bare['np'][:1].lower()}{bare['np'][1:]}")  # a topic said alone: "De-escalation course."
    rest = scope
    while rest.strip():
        phrase = noun_phrase(rest)
        if phrase is None:
            break
        head = phrase.split()[-1].lower().strip(",.;:!?")
        if head not in EMPTY_HEADS and not _DATE_PHRASE.match(phrase):
            found.append(phrase)
        cut = rest.find(phrase)
        rest = rest[cut + len(phrase) :] if cut >= 0 else ""
    return found


def _refers(word: str, after: str, opens: bool) -> bool:
    """Whether a pronoun picks up an earlier topic ("we revised it", "It's a bit messy."), not a mid-sentence
    "it is" with nothing behind it ("ok chat it is, and I need the costs")."""
    base = word.split("'")[0]
    if base not in {"it", "them", "those", "these"}:
        return False
    copula = word != base or re.match(r"\s+(?:is|was|will|would|seems|looks)\b", after) is not None
    if base == "it" and _EXPLETIVE.match(f"{word}{after}"):
        return False  # "It'd be great to see your plan": a dummy subject, not the plan
    return opens or not (base == "it" and copula)


# A dummy "it" that opens a judgement ("It'd be great to", "it would help if", "it's worth asking").
_EXPLETIVE = re.compile(
    r"it(?:'d|\s+would|'s|\s+is|'ll|\s+will)\s+(?:be\s+)?(?:really\s+|so\s+|very\s+)?"
    r"(?:great|good|nice|helpful|useful|worth|lovely|brilliant|handy|easier|best|better|fine|help)\b"
)


# What a person does, right after a capitalised word that opens a sentence ("Omar runs the analytics guild").
_PERSON_VERB = re.compile(
    r"\s+(?:runs|leads|manages|heads|owns|handles|knows|said|says|told|mentioned|works|worked|called|rang|phoned|"
    r"emailed|texted|asked|wants|wanted|used\s+to|is\s+(?:our|the|a|an|in|on|head)\b|"
    r"was\s+(?:our|the|a|an|in|on)\b|has\s+been)\b"
)


def person_in(sentence: str, participants: Sequence[str]) -> str | None:
    """The last person named in a sentence who is not one of `participants` (lower-cased names)."""
    names = []
    for match in _NAME.finditer(sentence):
        opens = match.start() == 0 or sentence[: match.start()].rstrip().endswith((".", "!", "?"))
        has_title = match.group(0).startswith(("Dr", "Prof", "Mr", "Mrs", "Ms", "Mx"))
        if opens and not has_title and not _PERSON_VERB.match(sentence[match.end() :]):
            continue  # a capital that only opens the sentence (but "Omar runs the guild" names Omar)
        name = match.group(0)
        first = name.split()[0].lower().rstrip(".")
        if first in participants or first in LEX.stop_words or name.lower() in participants:
            continue
        names.append(name)
    titled = [n for n in names if n.startswith(("Dr", "Prof", "Mr", "Mrs", "Ms", "Mx"))]
    return (titled or names)[-1] if names else None  # a title says it is a person ("Mrs. Okonkwo", not "Rotterdam")


def resolve_referent(
    action: str,
    context: Sequence[tuple[str, str]],
    noun_phrase: Callable[[str], str | None],
    participants: Sequence[str],
    perspective: Callable[[str, str], str] = lambda phrase, said_by: phrase,
) -> str:
    """`action` with its first object pronoun replaced by what it stands for in `context` ((speaker, sentence) pairs,
    oldest first); `perspective(phrase, said_by)` rewords a quoted phrase for the owner ("my notes" -> "Ana's")."""
    pronoun = find_pronoun(action)
    if pronoun is None:
        return action
    if pronoun.count > 1:
        return _several(action, pronoun, context, noun_phrase, perspective)
    for i, (said_by, sentence) in enumerate(reversed(context)):
        if pronoun.person:
            name_near = any(person_in(x, participants) for _, x in list(reversed(context))[:3])
            referent = person_in(sentence, participants) or (
                _person_phrase(sentence, noun_phrase) if i < 3 and not name_near else None
            )
        else:
            found = things_in(sentence, noun_phrase)
            # the statement's own sentence so far ("..., so I'd redo the log sheet, I'll have that done"): the
            # phrase nearest the pronoun; a whole sentence before: its first phrase, the topic
            own = i == 0 and not sentence.rstrip().endswith((".", "!", "?"))
            named = [f for f in found if not re.search(r"\bones?\b", f, re.I)]  # not "the big one" (an appositive)
            pick = named[-1] if own and named else (found[0] if found else None)
            referent = perspective(_lower_determiner(pick), said_by) if pick else None
            if referent and pronoun.word == "one":  # "draft one" with "the protocol card": "draft a protocol card"
                referent = re.sub(r"^(?:the|this|that|your|my|our)\s+", "a ", referent, flags=re.I)
        if referent and pronoun.possessive:
            referent = _possessive(pronoun.word, referent, action[: pronoun.start])
        if referent:
            if cues.PRONOUN_OBJECT.fullmatch(referent.lower()):
                continue
            return action[: pronoun.start] + _without_verb_noun(referent, action) + action[pronoun.end :]
    return action


def _several(
    action: str,
    pronoun: Pronoun,
    context: Sequence[tuple[str, str]],
    noun_phrase: Callable[[str], str | None],
    perspective: Callable[[str, str], str],
) -> str:
    """ "redo both" after "the rota and the handover sheet are wrong": "redo the rota and the handover sheet" (the
    nearest sentence naming that many things; unchanged when none does)."""
    counted = re.compile(
        rf"\b{_COUNT_WORDS[pronoun.count]}\s+(?P<np>[a-z][\w'-]*(?:\s+(?!(?:{'|'.join(sorted(LEX.counted_breaks))})\b)[a-z][\w'-]*){{0,3}})",
        re.I,
    )
    for said_by, sentence in reversed(context):  # the nearest sentence that names them
        named = _named_several(sentence, pronoun.count, noun_phrase, counted)
        if named:
            return action[: pronoun.start] + perspective(named, said_by) + action[pronoun.end :]
    for said_by, sentence in list(reversed(context))[:3]:  # "The paddle gear on locks 14, 15 and 16": one phrase
        many = [f for f in things_in(sentence, noun_phrase) if re.search(r"\d", f.split(",")[0])]
        if many:
            return action[: pronoun.start] + perspective(_lower_determiner(many[0]), said_by) + action[pronoun.end :]
    return action


_NAME_LIST = re.compile(
    r"\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?(?:,\s*[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?)*,?\s+and\s+[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?"
)


def _named_several(
    sentence: str, count: int, noun_phrase: Callable[[str], str | None], counted: re.Pattern[str]
) -> str | None:
    """What "both" / "all three" stands for in one sentence: a list of names or of things, or a counted phrase
    ("There are four reports still open": the four reports)."""
    for names in _NAME_LIST.finditer(sentence):
        if len(re.split(r",\s*(?:and\s+)?|\s+and\s+", names.group(0))) == count:
            return names.group(0)  # "Ashby, Kelling and St Oda's"
    found = _listed(sentence, things_in(sentence, noun_phrase), count)
    if found:
        named = [_lower_determiner(f) for f in found]
        return ", ".join(named[:-1]) + f" and {named[-1]}"
    phrase = counted.search(sentence)
    if phrase and phrase["np"].split()[0].lower() not in LEX.stop_words:
        return f"the {_COUNT_WORDS[count]} {phrase['np']}"
    return None


_LIST_GLUE = re.compile(r"^\s*(?:,\s*(?:and|or)?|and|or)\s*$", re.I)


def _listed(sentence: str, phrases: list[str], count: int) -> list[str]:
    """`count` phrases said as one list ("the log and the register", "the rota, the sheet and the key log")."""
    spans: list[tuple[int, int, str]] = []
    cursor = 0
    for phrase in phrases:
        at = sentence.find(phrase, cursor)
        if at < 0:
            continue
        spans.append((at, at + len(phrase), phrase))
        cursor = at + len(phrase)
    for i in range(len(spans) - count + 1):
        run = spans[i : i + count]
        glued = all(_LIST_GLUE.match(sentence[a[1] : b[0]]) for a, b in itertools.pairwise(run))
        if glued and not any(re.search(r"\bones?\b", p, re.I) for _, _, p in run):
            return [p for _, _, p in run]
    return []


def _person_phrase(sentence: str, noun_phrase: Callable[[str], str | None]) -> str | None:
    """A noun phrase of the sentence whose head names a person ("the propose-in-the-basket lady")."""
    for phrase in things_in(sentence, noun_phrase):
        if phrase.split()[-1].lower().strip(",.;:!?") in LEX.person_heads:
            return _lower_determiner(phrase)
    return None


def _without_verb_noun(referent: str, action: str) -> str:
    """ "lead it" with "the lead on the workshop": "the workshop" (the noun that repeats the verb goes)."""
    verb = action.split(" ", 1)[0].lower()
    found = re.match(rf"(?:the|a|an)\s+{re.escape(verb)}\s+(?:on|of|for|in)\s+(?P<rest>\S.*)", referent, re.I)
    return found["rest"] if found else referent


def _lower_determiner(phrase: str) -> str:
    """ "The rota templates" quoted from the start of a sentence reads "the rota templates" inside an action."""
    first, _, rest = phrase.partition(" ")
    return f"{first.lower()} {rest}" if first.lower() in LEX.determiners else phrase


def _possessive(word: str, phrase: str, before: str) -> str:
    """ "mine" with the nearest phrase "a PRD" -> "my PRD"; after "one of" the head is plural ("one of my PRDs")."""
    head = phrase.split()[-1].strip(",.;:!?")
    if before.lower().rstrip().endswith(" of") and not head.lower().endswith("s"):
        head += "s"
    return f"{POSSESSIVE[word]} {head}"
