"""Who is speaking, and an item's action worded from its owner's side ("send me your notes" -> "send Ana my notes")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from facilitator.commitments import cues
from facilitator.commitments.text import LEX, ascii_fold, base_form, plain, strip_symbols
from facilitator.dates import strip_due_phrases
from facilitator.models import Participant

MAX_ACTION_WORDS = 16
_PUNCTUATION = ',.;:!?()"'


def display_name(participant: Participant) -> str:
    """The name the partners use: the part of the full name that is the id ("Dang Minh Chau", id chau -> Chau)."""
    for part in participant.name.split():
        if plain(part).strip() == participant.id or ascii_fold(part) == participant.id:
            return part
    return participant.first_name


def noun_phrase(sentence: str) -> str | None:
    """The first noun phrase opened by a determiner ("the notes for the launch"), at least two words."""
    for match in cues.DETERMINER_NP.finditer(sentence):
        if match.start() == 0 and sentence[: match.end()].split()[0].lower() in LEX.demonstratives:
            continue
        tokens = sentence[match.start() :].split()
        phrase = [tokens[0]]
        for token in tokens[1:9]:
            word = token.strip(_PUNCTUATION).lower()
            if not word or word in LEX.noun_phrase_breaks or (len(phrase) > 1 and word.endswith("ed")):
                break
            abbreviated = cues.ABBREVIATED.search(f" {token}") is not None  # "the St. Bride's register"
            phrase.append(token if abbreviated else token.strip(_PUNCTUATION))
            if token[-1:] in ",.;:!?" and not abbreviated:
                break
        while len(phrase) > 1 and phrase[-1].lower() in LEX.dangling_prepositions:
            phrase.pop()
        if len(phrase) >= 2:
            return " ".join(phrase)
    return None


def _strip_fillers(text: str) -> str:
    while True:
        stripped = cues.FILLERS.sub("", text.strip(), count=1)
        if stripped == text.strip():
            return text
        text = stripped


class Wording:
    """The participants' names and the rewording of actions between speakers."""

    def __init__(self, participants: Sequence[Participant], session_date: dt.date) -> None:
        self.participants = list(participants)
        self.session = session_date
        self.ids = [p.id for p in self.participants]
        self.names = {p.id: display_name(p) for p in self.participants}
        self.addressed: str | None = None  # in a group: the last other speaker (see `partner`)
        self.vocative: str | None = None  # in a group: the member this turn opens by name, if any

    def speaker_id(self, label: str) -> str | None:
        """The participant a speaker label names (id, full name or first name), else None."""
        wanted = label.strip().lower()
        for p in self.participants:
            if wanted in (p.id, p.name.lower(), p.first_name.lower()):
                return p.id
        return None

    def partner(self, speaker: str) -> str | None:
        """The other participant when there are exactly two; in a group, the one the speaker answers (`addressed`,
        the last other speaker, kept up to date by the extractor), else None."""
        others = [pid for pid in self.ids if pid != speaker]
        if len(others) == 1:
            return others[0]
        return self.addressed if self.addressed in others else None

    def word_for(self, pid: str | None, fallback: str, possessive: bool = False) -> str:
        if pid is None:
            return fallback
        name = self.names.get(pid, pid)
        return f"{name}'s" if possessive else name

    def action(self, raw: str, owner: str, requester: str | None = None, gerund: bool = False) -> str:
        """Short action text from the owner's perspective, starting with a verb."""
        raw = _CUT_TAIL.sub("", raw)  # "redo that before —": the sentence broke off
        text = _strip_fillers(cues.HESITATION.sub("", strip_symbols(strip_due_phrases(raw, self.session))))
        for cut in (cues.CLAUSE_CUT.search(text), cues.NEXT_CLAUSE.search(text)):  # ", and maybe it gets used"
            if cut and cut.start() > 0:
                text = text[: cut.start()]
        words = text.split()
        if gerund and words:
            words[0] = base_form(words[0].lower())
        text = " ".join(words)
        if requester is not None:
            text = self._from_requester(text, requester)
        else:
            partner = self.partner(owner)
            text = cues.YOUR.sub(self.word_for(partner, "your", possessive=True), text)
            text = cues.YOU.sub(self.word_for(partner, "you"), text)
        text = cues.REPEATED_COMMA.sub(",", cues.SPACE_PUNCT.sub(r"\1", text))
        text = _TIME_PREPOSITION.sub("", cues.TRAILING.sub("", text.strip()))  # "before (then)" lost its date
        text = " ".join(text.split()[:MAX_ACTION_WORDS]).strip(" ,;:")
        return lower_first(text)

    def _from_requester(self, text: str, requester: str) -> str:
        """Rewrite a request ("send me your notes") from the owner's side ("send Ana my notes")."""
        text = cues.MY.sub(self.word_for(requester, "their", possessive=True), text)
        text = cues.ME.sub(self.word_for(requester, "them"), text)
        text = cues.SUBJECT_I.sub(self.word_for(requester, "they"), text)
        text = cues.YOUR.sub("my", text)

        def _you(match: re.Match[str]) -> str:
            following = text[match.end() :].split()
            nxt = following[0].lower() if following else ""
            return "I" if nxt and nxt not in LEX.non_verbs and nxt.isalpha() else "me"

        return cues.YOU.sub(_you, text)

    def resolve_pronoun(self, action: str, owner: str, context: list[tuple[str, str]]) -> str:
        """Replace the action's first object pronoun ("it", a bare "that", "her") by what it stands for in the
        sentences before (`referents.resolve_referent`), quoted from the owner's side."""
        from facilitator.commitments.referents import resolve_referent

        people = [*self.ids, *(n.lower() for n in self.names.values())]

        def quoted(phrase: str, said_by: str) -> str:  # "the deck tomorrow" -> "the deck"
            bare = (strip_due_phrases(phrase, self.session) or phrase).rstrip(" -–—…")  # "the runbook —" (cut off)
            return self.perspective(bare, said_by, owner)

        return resolve_referent(action, context, noun_phrase, people, quoted)

    def perspective(self, phrase: str, said_by: str, owner: str) -> str:
        """A phrase quoted from `said_by`, reworded for `owner` ("your memo" said by the owner -> "Emily's memo")."""
        if said_by == owner:
            return cues.YOUR.sub(self.word_for(self.partner(owner), "your", possessive=True), phrase)
        phrase = cues.MY.sub(self.word_for(said_by or None, "their", possessive=True), phrase)
        return cues.YOUR.sub("my", phrase)


_TIME_PREPOSITION = re.compile(r"[\s,]+(?:before|by|until|till|no\s+later\s+than)$", re.I)
_CUT_TAIL = re.compile(
    r"(?:[\s,]+(?:before|by|until|till|on|for|to|the|a|an|with|about|of|and|or|from))*\s*(?:--|—|–|…|\.\.\.)[\s.?!]*$",
    re.I,
)


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first two characters are capitals ("PR review", "I ...")."""
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
