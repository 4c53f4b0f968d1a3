"""Accountability items: deterministic extraction from a transcript, and validation of items a model proposes.

The extractor reads the conversation turn by turn, sentence by sentence, and applies the commitment rules of the
design notes:

- a first-person future statement ("I'll", "I will", "I'm going to", "let me", "I can ... by Friday") by a
  participant is a commitment of that participant; third parties ("my manager will") never own one;
- a request ("could you", "would you mind", "please", an imperative) accepted by the other side in the next turn or
  two belongs to the one who accepted; declined or unanswered requests are dropped;
- "let's both", "we each", "shall we each" accepted by the partner give one item per owner;
- "same for me", "me too", "I'll do the same" copy the partner's fresh item for the second speaker;
- hedged ("maybe", "might", "if I have time"), hypothetical ("if ..., I would"), past ("I already sent"), negated
  and question forms are not commitments;
- a retraction ("actually no", "scratch that", "forget it") removes the speaker's item; a revised date
  ("make it Wednesday", "let's say February 13") updates the earlier item instead of adding one.

Due dates come from `facilitator.dates.resolve_due` (never guessed); evidence lists 0-based turn indices.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from facilitator.dates import find_due_dates, resolve_due, strip_due_phrases
from facilitator.models import Commitment, Participant, Turn

__all__ = ["commitment_id", "extract_commitments", "validate_commitments"]

# ----------------------------------------------------------------------------------------------------------------
# Word lists (general English, not tuned to any transcript)

_STOPWORDS = frozenset(
    """a an the and or but if then so to of in on at by for from with about into onto over under up down out off as
    is are was were be been being am do does did done doing have has had having will would shall should can could may
    might must i me my mine myself you your yours yourself u ur we us our ours he him his she her hers they them
    their theirs it its this that these those there here what which who whom whose when where why how all any both
    each few more most other some such no nor not only own same than too very just also again further once now
    one ones thing things something stuff get got go going lol tbh ok okay yes yeah please really actually""".split()
)
_VAGUE = frozenset({"do", "that", "it", "this", "something", "thing", "so", "one", "them", "same", "stuff"})
# Verbs that say something is being handed over or produced: enough on their own for "let me" and present tense.
_DELIVERABLE_VERBS = frozenset(
    """send share email mail forward draft write review read check call ring book schedule prepare compile circulate
    introduce connect arrange organise organize set put finish complete update upload post submit deliver bring
    text message ping file fix sort build create make find look follow get pull run draw sketch record print order
    reserve research investigate ask invite confirm document summarise summarize outline map list collect gather
    install test demo present watch reread""".split()
)
_SAME_IN_PAST = frozenset({"read", "put", "set", "cut"})  # "I read it on Monday" may be past
# Verbs that usually act at once ("I'll tell you", "let me explain") unless a due date is stated.
_IMMEDIATE_VERBS = frozenset(
    """say tell admit explain start begin go stop answer repeat pass add mention leave give show let take
    hear see imagine remember wait hold describe clarify interrupt jump turn move continue be come speak wrap present
    disconnect open play""".split()
)
# Verbs that are not actions at all ("I'll need", "I'll be stuck", "I'll think about it").
_STATIVE_VERBS = frozenset(
    """need want like love hate think guess suppose bet wonder hope feel know believe mean miss regret assume agree
    be seem appear remain stay owe""".split()
)
_NON_VERBS = frozenset(
    """the a an my your our his her their this that these those it them you u me us him not never no there here
    to of in on at for from with about all some any one so and but or if when because ever always""".split()
)
_NOISE = re.compile(r"\{\w+\}|<[^<>]{1,40}/?>")  # transcription marks: {disfmarker}, <unintelligible/>
_HESITATION = re.compile(r"\b(?:uh+|um+|erm|uhm|er|mm+|hmm+)\b,?\s*|\b[a-z]+-(?=[\s,]|$),?\s*", re.IGNORECASE)
_FILLERS = re.compile(
    r"^(?:also|just|definitely|certainly|then|still|actually|quickly|gladly|happily|personally|first|now|really|"
    r"probably|totally|def|go\s+ahead\s+and|make\s+sure\s+(?:to|that\s+i|i)|be\s+sure\s+to|try\s+to|try\s+and|"
    r"do\s+my\s+best\s+to|get\s+around\s+to|please|kindly|maybe|possibly|perhaps|to)\s+",
    re.IGNORECASE,
)
_E_VERBS = frozenset(
    """make take write share prepare drive compile save move give have use update create improve schedule arrange
    organise organize introduce produce complete circulate invite describe provide type state note close leave
    come serve change place promote analyse analyze chase combine continue decide declare define die ease excite
    hope involve judge manage merge operate phone quote raise receive reduce release rewrite scope shape size
    solve trace tune""".split()
)

# ----------------------------------------------------------------------------------------------------------------
# Compiled patterns (matched on lower-cased text with plain apostrophes)

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\.{2,}|…|\s+[-–—]\s+|\n+")
_WORD = re.compile(r"[a-z0-9][a-z0-9'’-]*", re.IGNORECASE)
_INTERJECTIONS = (
    r"(?:(?:ok(?:ay)?|sure|yes|yeah|yep|ya|yup|and|also|so|then|oh|well|right|great|good|cool|fine|thx|thanks|noted|"
    r"alright|perfect|deal|but|anyway|np)\b[\s,.!]*)*"
)
_SELF_CUE = re.compile(
    r"\b(?:i\s*'?\s*ll(?=\s)|i\s+will|i\s+shall|i\s*'?\s*m\s+(?:(?:also|just|definitely|really|still|totally)\s+)?"
    r"(?:going\s+to|gonna)|i\s+am\s+(?:(?:also|just|definitely|really|still|totally)\s+)?(?:going\s+to|gonna)|"
    r"i\s+commit\s+to|i\s+promise\s+to|i\s+plan\s+to|i\s+intend\s+to|i\s+can(?!'t|not|\s+not)|let\s+me)\b"
)
_BARE_CUE = re.compile(
    rf"^{_INTERJECTIONS}(?:will|gonna|going\s+to|shall)\s+"
    r"(?!\s|you\b|u\b|we\b|they\b|it\b|he\b|she\b|that\b|this\b|there\b|be\b|i\b)"
)
_PRESENT_CUE = re.compile(r"\bi\s+(?=[a-z]+\b)")
_HEDGE = re.compile(
    r"\b(?:maybe|might|perhaps|possibly|probably|hopefully|not\s+sure|no\s+promises|we'?ll\s+see|we\s+will\s+see|"
    r"i\s+don'?t\s+know|idk|dunno|if\s+(?:i|we)\s+(?:have|get|find)\s+(?:the\s+|some\s+|a\s+)?"
    r"(?:time|chance|minute|moment)|if\s+time\s+(?:allows|permits)|time\s+permitting|at\s+some\s+point|some\s?day|"
    r"one\s+day|sometime|think\s+about\s+it|i\s+may|i\s+could|if\s+i\s+can)\b"
)
_TRY = re.compile(r"\btry\s+(?:to|and)\b")
_HYPOTHETICAL = re.compile(
    r"\b(?:if|unless|were\s+\w+(?:\s+\w+)?\s+to|in\s+case)\b.*\b(?:would|could)\b|\b(?:if|unless)\b.*\b\w+'d\b"
    r"|\b(?:would|\w+'d)\b.*\bif\b"
)
_PAST_BEFORE = re.compile(
    r"\b(?:last\s+(?:week|month|year|time|sprint|term|night)|yesterday|ago|previously|earlier\s+today|"
    r"(?:said|told\s+\w+|promised|mentioned)\s+(?:that\s+)?)\b"
)
_ALREADY = re.compile(r"\balready\b")
_NEGATED = re.compile(r"^\s*(?:not|never|no\s+longer)\b")
_FOLLOW_UP = re.compile(r"^\s*(?:let\s+\w+\s+know|get\s+back)")
_QUESTION_TAG = re.compile(
    r",\s*(?:ok(?:ay)?|right|yeah|yes|fine|alright|cool|good|sound\s+good|works\s+for\s+you)\s*\?+$"
)
_RETRACT = re.compile(
    r"\b(?:actually,?\s+no|no,?\s+actually|nah,?\s+actually|nah\b|scratch\s+that|scratch\s+(?=\w)|"
    r"forget\s+(?:it|that|what\s+i\s+said|about\s+(?:it|that)|i\s+said\s+(?:it|that|anything))|never\s?mind|nvm|"
    r"i\s+won'?t\s+be\s+able\s+to|i\s+(?:can'?t|cannot)\s+(?:do|make)\s+(?:it|that)|(?:oh\s+)?wait,?\s+no|"
    r"wait,?\s+(?:i\s+)?can'?t|\bi\s+shan'?t\b|^no\W*$|"
    r"no,?\s+i\s+can'?t|i\s+take\s+(?:it|that)\s+back|on\s+second\s+thought|ignore\s+(?:that|what\s+i\s+said)|"
    r"not\s+going\s+to\s+happen)"
)
_STRONG_RETRACT = re.compile(
    r"\b(?:scratch\s+that|forget\s+(?:it|that|what\s+i\s+said)|never\s?mind|i\s+won'?t\s+be\s+able\s+to|"
    r"i\s+take\s+(?:it|that)\s+back|actually,?\s+no|i\s+(?:can'?t|cannot)\s+(?:do|make)\s+(?:it|that))"
)
_REVISE = re.compile(
    r"\b(?:make\s+(?:it|that|this|the\s+\w+)|push\s+(?:it|that|this|the\s+\w+)|move\s+(?:it|that|this|the\s+\w+)|"
    r"change\s+(?:it|that|this)\s+to|needs?\s+(?:until|till|til)|instead|on\s+reflection|let'?s\s+say|"
    r"let\s+us\s+say|more\s+realistic|can\s+we\s+(?:make|say|do)\s+(?:it|that)|postpone|reschedule|delay|"
    r"bring\s+(?:it|that|this|the\s+\w+)\s+forward|move\s+(?:it|that|this)\s+up|rather\s+than|"
    r"(?:amend|correct|change|revise)\s+(?:what\s+i\s+said|myself|my\s+date|the\s+date)|correction)\b"
)
_CORRECTION = re.compile(r"^\W*(?:ugh\W+|oh\W+)?(?:wait|actually|correction|sorry|oops|no)\b")
_PARTNER_SUBJECT = re.compile(r"\b(?:can|could|would|will)\s+(?:you|u)\b|^\W*(?:you|u)\s+(?:can|could)\b")
_TERSE = re.compile(
    r"^\W*(?:and\s+|also\s+|plus\s+)?(?P<np>(?:the\s+|my\s+|a\s+)?[a-z][\w'-]*(?:\s+[a-z][\w'-]*){0,4}?)\s+"
    r"(?:by|before|until|till)\s+\S+(?:\s+\S+)?(?:\s+(?:too|as\s+well|also))?\W*$"
)
_PAST_VERB = re.compile(
    r"^(?:\w+ed|had|did|was|were|got|went|made|said|thought|knew|took|sent|met|saw|wrote|read\s+(?:it|that))$"
)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|i'd|we|we're)\b")
_SAME = re.compile(
    r"^\W*same\b(?!\s+(?:time|place|slot|day|as))|\b(?:same\s+(?:for|with|goes\s+for)\s+me|same\s+here|"
    r"me\s+(?:too|also|as\s+well)|likewise|ditto|(?:so|as)\s+(?:will|shall)\s+i|i\s+will\s+too|"
    r"(?:i'?ll|i\s+will)\s+do\s+the\s+same|i'?m\s+in\s+too|(?:i'?ll|i\s+will)\s+\w+\s+(?:it|that|one|mine)"
    r"(?:\s+\w+){0,2}\s+too)\b"
)
_JOINT = re.compile(
    r"\b(?:let'?s|let\s+us|shall\s+we|should\s+we|could\s+we|can\s+we|why\s+don'?t\s+we|how\s+about\s+we|we)"
    r"(?:\s+(?:will|'ll|should|can|could|shall))?\s+(?:both|each)\b(?:\s+of\s+us)?|\b(?:both|each)\s+of\s+us"
    r"(?:\s+(?:will|should|can|could|shall))?\b"
)
_DECLARED_JOINT = re.compile(r"\bwe\s*(?:will|'ll|shall)\s+(?:both|each)\b|\b(?:both|each)\s+of\s+us\s+will\b")
_LETS = re.compile(
    r"\b(?:let'?s|let\s+us)\s+(?!say\b|agree|meet|talk|speak|chat|catch|start|begin|continue|go\b|see\b)"
)
# Requests that need a question mark (or "please"): "could you send me...?", "would you mind looking...?".
_ASKED_REQUEST = re.compile(
    r"\b(?:can|could|would|will)\s+(?:you|u|ya)\s+(?:(?:please|maybe|possibly|perhaps|just|also|kindly)\s+)*"
    r"(?:(?:be\s+able|be\s+willing|be\s+happy|be\s+ready)\s+to\s+|mind\s+)?(?=[a-z])"
    r"|\b(?:would|do)\s+(?:you|u)\s+mind\s+(?=[a-z])"
    r"|^(?:so,?\s+)?(?:you|u)\s+(?:can|could)\s+(?=[a-z])"
    r"|\bany\s+chance\s+(?:you|u)\s+(?:could|can)\s+(?=[a-z])"
)
# Requests stated outright: "I need you to...", "it would be great if you could...", "please send...".
_STATED_REQUEST = re.compile(
    r"\bi\s+(?:need|want|would\s+like|'d\s+like|'d\s+love|would\s+love)\s+(?:you|u)\s+to\s+(?=[a-z])"
    r"|\b(?:it\s+would\s+be\s+(?:great|good|helpful|nice)|i'?d\s+(?:love|appreciate)\s+it|i\s+wonder)\s+if\s+"
    r"(?:you|u)\s+(?:could|can|would)\s+(?=[a-z])"
    r"|\bplease\s+(?!do\b)(?=[a-z])"
)
_GERUND_REQUEST = re.compile(r"\bmind\s+$")
_IMPERATIVE = re.compile(rf"^{_INTERJECTIONS}(?P<verb>[a-z]+)\b")
_OFFER = re.compile(
    r"\b(?:shall|should)\s+i\s+(?=[a-z])|\b(?:do\s+you\s+)?want\s+me\s+to\s+(?=[a-z])|"
    r"\bwould\s+you\s+like\s+me\s+to\s+(?=[a-z])"
)
_ACCEPT = re.compile(
    r"^\W*(?:(?:ha|haha|oh|ah|well|hmm|right|ooh|great|so)\b[\s,.!]*)?(?:ye+s+|yeah|yep|yup|ya|yea|sure|ok(?:ay)?|k+|"
    r"ofc|not\s+at\s+all|by\s+all\s+means|"
    r"of\s+course|certainly|absolutely|definitely|gladly|happy\s+to|glad\s+to|no\s+problem|no\s+worries|np|"
    r"will\s+do|can\s+do|consider\s+it\s+done|on\s+it|done|deal|agreed|fine|sounds\s+good|with\s+pleasure|"
    r"alright|all\s+right|for\s+sure|totally|i\s+can\b|i\s+will\b|i'?ll\b|i\s+shall\b|that\s+works|"
    r"works\s+for\s+me|good\s+idea|great\s+idea|love\s+(?:it|that|this)|i'?m\s+in|count\s+me\s+in|let'?s|"
    r"that\s+would\s+be\s+(?:great|helpful|lovely|amazing|perfect)|please\s+do|leave\s+it\s+with\s+me|👍)"
)
_STRONG_ACCEPT = re.compile(
    r"\b(?:will\s+do|can\s+do|consider\s+it\s+done|on\s+it|happy\s+to|glad\s+to|gladly|no\s+problem|of\s+course|"
    r"certainly|absolutely|with\s+pleasure|i\s+can\s+do\s+that|i'?ll\s+do\s+(?:it|that)|sure\s+thing|deal|agreed|"
    r"i'?m\s+in|leave\s+it\s+with\s+me)\b"
)
_DECLINE = re.compile(
    r"^\W*(?:no\b(?![\s,]+(?:problem|worries))|nope|nah|not\s+(?:this|now|really|possible|today)|sorry|"
    r"unfortunately|i'?m\s+afraid)|\b(?:decline|can'?t|cannot|unable|won'?t\s+be\s+able|rather\s+not)\b"
)
_PRONOUN_OBJECT = re.compile(r"\b(?:it|them)\b")
_DETERMINER_NP = re.compile(r"\b(?:the|a|an|my|your|our|his|her|their|that|this|these|those)\s+[a-z0-9]", re.I)
_NP_STOP = frozenset(
    """i you u we he she they it me us him them is are was were be been will would shall should can could may might
    must do does did have has had that which who whom whose and but or so because if when while as than then
    to at by not just also really""".split()
)
_CLAUSE_CUT = re.compile(
    r"\s*,\s*(?=(?:so|and\s+(?:we|you|then|i|it)|then|because|bc|since|which|like|i|it|you|we|they|she|he|but|"
    r"though|as|cause|lol|tbh|haha|that'?s|there'?s|it'?s|i'?ve|i'?m|it'?ll|itll|that'?ll|this|that|yes|yeah|"
    r"the\s+\w+\s+(?:is|was|one)\b|covering|depending|if|unless|when|once|"
    r"(?:\w+\s+){0,2}(?:is|are|was|were|has|have|had|closes|opens|ends|starts|won't|can't)\b)\b)"
    r"|\s+(?:so\s+(?:that\s+)?(?:you|we|i|they|it|u)|because|bc|since|then\s+we|and\s+then|and\s+we|which|but|"
    r"(?:before|after|when|while|once|until|where|whenever)\s+(?:i|you|we|he|she|they|it|u))\b"
    r"|\s+[-–—]\s+|;|:|\.\.\.|…|\.(?:\s|$)|[!?]",
    re.IGNORECASE,
)
_YOU = re.compile(r"\b(?:you|u|ya|yourself)\b", re.I)
_YOUR = re.compile(r"\b(?:your|ur|yours)\b", re.I)
_ME = re.compile(r"\b(?:me|myself)\b", re.I)
_MY = re.compile(r"\b(?:my|mine)\b", re.I)
_I = re.compile(r"\bi\b")
_TRAILING = re.compile(
    r"[\s,;:.!?'\"-]*(?:\b(?:too|as\s+well|also|then|ok|okay|please|thanks|yes|yeah|and|or|but|so)\b[\s,;:.!?]*)*$",
    re.I,
)
_SPACE_PUNCT = re.compile(r"\s+([,;:.!?])")
_REPEATED_COMMA = re.compile(r",(?:\s*,)+")

_SYMBOLS = frozenset({"So", "Sk", "Mn", "Cs", "Co"})  # emoji, modifiers, variation selectors
_DUPLICATE_THRESHOLD = 85.0
_WINDOW = 8  # turns within which a revision or retraction can refer back to an item
_LONG_WINDOW = 20  # ... when it names the item
_MAX_ACTION_WORDS = 16


# ----------------------------------------------------------------------------------------------------------------
# Small text helpers


@lru_cache(maxsize=16384)  # pure; a session's recap re-reads every earlier sentence (half of its time, profiled)
def _plain(text: str) -> str:
    """Lower-case, plain apostrophes, emoji as spaces. The length is kept: offsets index the original text."""
    text = text.replace("’", "'").replace("‘", "'")
    return "".join(" " if unicodedata.category(ch) in _SYMBOLS else _lower(ch) for ch in text)


def _lower(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else ch  # "İ".lower() has two characters


def _strip_symbols(text: str) -> str:
    out = "".join(ch for ch in text.replace("’", "'") if unicodedata.category(ch) not in _SYMBOLS)
    return out.replace("\u200d", "")


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def _content_words(text: str, drop: Iterable[str] = ()) -> list[str]:
    dropped = {d.lower() for d in drop}
    out = []
    for word in _words(text):
        base = word[:-2] if word.endswith("'s") else word
        if base not in _STOPWORDS and base not in dropped and len(base) > 1:
            out.append(base)
    return out


def _split_sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs; separators are kept out of the sentences."""
    out: list[tuple[int, str]] = []
    cursor = 0
    for match in _SENTENCE_SPLIT.finditer(text):
        piece = text[cursor : match.start()]
        if piece.strip():
            out.append((cursor, piece))
        cursor = match.end()
    if text[cursor:].strip():
        out.append((cursor, text[cursor:]))
    return out


def _first_word_after(text: str) -> str:
    rest = text
    while True:
        stripped = _FILLERS.sub("", rest, count=1)
        if stripped == rest:
            break
        rest = stripped
    words = _words(rest)
    return words[0] if words else ""


def _base_form(verb: str) -> str:
    """'walking' -> 'walk', 'sending' -> 'send', 'making' -> 'make'; other words unchanged."""
    if not verb.endswith("ing") or len(verb) <= 4:
        return verb
    stem = verb[:-3]
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        stem = stem[:-1]
    if stem + "e" in _E_VERBS:
        return stem + "e"
    return stem


def _similar(a: str, b: str) -> float:
    """Token-set similarity of the content words of two texts, 0-100."""
    wa, wb = _content_words(a), _content_words(b)
    if not wa or not wb:
        return 0.0
    return float(fuzz.token_set_ratio(" ".join(wa), " ".join(wb)))


def _overlap(a: str, b: str) -> int:
    """How many content words (compared on a 5-letter stem) two texts share."""
    sa = {w[:5] for w in _content_words(a)}
    sb = {w[:5] for w in _content_words(b)}
    return len(sa & sb)


def _display_name(participant: Participant) -> str:
    """The name the partners use: the part of the full name that is the id ("Dang Minh Chau", id chau -> Chau)."""
    for part in participant.name.split():
        if _plain(part).strip() == participant.id or _ascii(part) == participant.id:
            return part
    return participant.first_name


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def commitment_id(owner: str, action: str, first_evidence: int | None) -> str:
    """A stable id: the same owner, action and first evidence turn always give the same id."""
    key = f"{owner}|{' '.join(_words(action))}|{first_evidence if first_evidence is not None else ''}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


# ----------------------------------------------------------------------------------------------------------------
# Extraction state


@dataclass
class _Sentence:
    turn: int
    speaker: str
    text: str
    low: str
    position: int  # index of the sentence within its turn


@dataclass(frozen=True)
class _Cue:
    """A first-person cue in a sentence: its text, the words it governs and the clause around it."""

    text: str  # "i'll", "let me", "will" (subjectless) or "present" ("I send it tomorrow")
    segment: str  # original text from the cue to the next cue or the end of the sentence
    clause: str  # lower-cased clause holding the cue
    offset: int  # where the cue starts in `clause`


@dataclass
class _Draft:
    """An item being built; `alive` is False once retracted."""

    owner: str
    action: str
    due: dt.date | None
    evidence: list[int]
    turn: int
    kind: str  # how it was made: "simple" | "request" | "joint" | "same" | "offer"
    group: int | None = None
    alive: bool = True
    retracted_at: int | None = None


@dataclass
class _Pending:
    """A request, joint proposal or offer waiting for an answer."""

    kind: str  # "request" | "imperative" | "joint" | "offer" | "revision"
    turn: int
    speaker: str
    action: str
    due: dt.date | None
    verb: str
    sentence: _Sentence
    gerund: bool = False
    answered: int = 0
    target: _Draft | None = None


@dataclass
class _TurnState:
    """What the current turn has done so far."""

    absorber: _Draft | None = None
    absorbed: bool = False
    answered_request: bool = False
    same_done: bool = False
    consumed: set[int] = field(default_factory=set)
    created: list[_Draft] = field(default_factory=list)


class _Extractor:
    def __init__(self, turns: Sequence[Turn], participants: Sequence[Participant], session_date: dt.date) -> None:
        self.turns = list(turns)
        self.participants = list(participants)
        self.session = session_date
        self.ids = [p.id for p in self.participants]
        self.names = {p.id: _display_name(p) for p in self.participants}
        self.drafts: list[_Draft] = []
        self.pending: list[_Pending] = []
        self.sentences: dict[int, list[_Sentence]] = {}
        self.groups = 0

    # -- speakers and wording ------------------------------------------------------------------------------

    def _speaker_id(self, label: str) -> str | None:
        wanted = label.strip().lower()
        for p in self.participants:
            if wanted in (p.id, p.name.lower(), p.first_name.lower()):
                return p.id
        return None

    def _partner(self, speaker: str) -> str | None:
        others = [pid for pid in self.ids if pid != speaker]
        return others[0] if len(others) == 1 else None

    def _word_for(self, pid: str | None, fallback: str, possessive: bool = False) -> str:
        if pid is None:
            return fallback
        name = self.names.get(pid, pid)
        return f"{name}'s" if possessive else name

    def _wording(self, raw: str, owner: str, requester: str | None = None, gerund: bool = False) -> str:
        """Short action text from the owner's perspective, starting with a verb."""
        text = _HESITATION.sub("", _strip_symbols(strip_due_phrases(raw, self.session)))
        while True:
            stripped = _FILLERS.sub("", text.strip(), count=1)
            if stripped == text.strip():
                break
            text = stripped
        cut = _CLAUSE_CUT.search(text)
        if cut and cut.start() > 0:
            text = text[: cut.start()]
        words = text.split()
        if gerund and words:
            words[0] = _base_form(words[0].lower())
        text = " ".join(words)
        if requester is not None:
            text = self._from_requester(text, requester, owner)
        else:
            partner = self._partner(owner)
            text = _YOUR.sub(self._word_for(partner, "your", possessive=True), text)
            text = _YOU.sub(self._word_for(partner, "you"), text)
        text = _REPEATED_COMMA.sub(",", _SPACE_PUNCT.sub(r"\1", text))
        text = _TRAILING.sub("", text.strip())
        words = text.split()
        if len(words) > _MAX_ACTION_WORDS:
            words = words[:_MAX_ACTION_WORDS]
        text = " ".join(words).strip(" ,;:")
        return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text

    def _from_requester(self, text: str, requester: str, owner: str) -> str:
        """Rewrite a request ("send me your notes") from the owner's side ("send Ana my notes")."""
        text = _MY.sub(self._word_for(requester, "their", possessive=True), text)
        text = _ME.sub(self._word_for(requester, "them"), text)
        text = _I.sub(self._word_for(requester, "they"), text)
        text = _YOUR.sub("my", text)

        def _you(match: re.Match[str]) -> str:
            following = text[match.end() :].split()
            nxt = following[0].lower() if following else ""
            return "I" if nxt and nxt not in _NON_VERBS and nxt.isalpha() else "me"

        return _YOU.sub(_you, text)

    def _context(self, turn: int, position: int, pre: str = "", turns_back: int = 2) -> list[tuple[str, str]]:
        """(speaker, sentence) pairs before a statement, oldest first: earlier turns, then the same turn."""
        out: list[tuple[str, str]] = []
        for earlier in range(max(0, turn - turns_back), turn):
            out += [(x.speaker, x.text) for x in self.sentences.get(earlier, [])]
        out += [(x.speaker, x.text) for x in self.sentences.get(turn, [])[:position]]
        if pre.strip():
            out.append((self.sentences[turn][position].speaker if turn in self.sentences else "", pre))
        return out

    def _resolve_pronoun(self, action: str, owner: str, context: list[tuple[str, str]]) -> str:
        """Replace a leading 'it'/'them' by the first noun phrase of the nearest sentence that introduces one."""
        words = action.split()
        head = " ".join(words[:4]).lower()
        found = _PRONOUN_OBJECT.search(head)
        if not found:
            return action
        for said_by, sentence in reversed(context):
            if _PRONOUN_OBJECT.search(_plain(sentence)):
                continue  # "we revised it last year": it continues an earlier topic
            phrase = self._noun_phrase(sentence)
            if phrase:
                phrase = self._perspective(phrase, said_by, owner)
                return action[: found.start()] + phrase + action[found.end() :]
        return action

    def _perspective(self, phrase: str, said_by: str, owner: str) -> str:
        """A phrase quoted from `said_by`, reworded for `owner` ("your memo" said by the owner -> "Emily's memo")."""
        if said_by == owner:
            return _YOUR.sub(self._word_for(self._partner(owner), "your", possessive=True), phrase)
        phrase = _MY.sub(self._word_for(said_by or None, "their", possessive=True), phrase)
        return _YOUR.sub("my", phrase)

    @staticmethod
    def _noun_phrase(sentence: str) -> str | None:
        for match in _DETERMINER_NP.finditer(sentence):
            if match.start() == 0 and sentence[: match.end()].split()[0].lower() in ("that", "this", "these", "those"):
                continue
            tokens = sentence[match.start() :].split()
            phrase = [tokens[0]]
            for token in tokens[1:9]:
                word = token.strip(',.;:!?()"').lower()
                if not word or word in _NP_STOP or (len(phrase) > 1 and word.endswith("ed")):
                    break
                phrase.append(token.strip(',.;:!?()"'))
                if token[-1:] in ",.;:!?":
                    break
            while len(phrase) > 1 and phrase[-1].lower() in ("on", "of", "for", "from", "about", "with", "in"):
                phrase.pop()
            if len(phrase) >= 2:
                return " ".join(phrase)
        return None

    # -- small queries -------------------------------------------------------------------------------------

    def _due_from(self, texts: Iterable[str]) -> dt.date | None:
        for text in texts:
            due = resolve_due(text, self.session)
            if due is not None:
                return due
        return None

    def _turn_due(self, turn: int, from_position: int = 0) -> dt.date | None:
        return self._due_from(s.text for s in self.sentences.get(turn, [])[from_position:])

    def _recent(self, owner: str, turn: int, window: int = _WINDOW) -> list[_Draft]:
        """The owner's live items whose latest evidence is at most `window` turns back."""
        return [d for d in self.drafts if d.owner == owner and d.alive and 0 <= turn - max(d.evidence) <= window]

    def _pick(self, candidates: list[_Draft], text: str) -> _Draft | None:
        """The candidate the text is about (most shared content words), else the latest one."""
        if not candidates:
            return None
        scored = [(_overlap(text, d.action), i, d) for i, d in enumerate(candidates)]
        best = max(scored, key=lambda item: (item[0], item[1]))
        return best[2]

    def _add(self, draft: _Draft, state: _TurnState) -> None:
        """Record a new item, or merge it into the owner's near-identical item (restating it, maybe re-dated)."""
        for other in self.drafts:
            same = other.alive and other.owner == draft.owner and other.group is None and draft.group is None
            if same and fuzz.token_set_ratio(other.action.lower(), draft.action.lower()) >= _DUPLICATE_THRESHOLD:
                self._set_due(other, draft.due, draft.evidence)
                return
        self.drafts.append(draft)
        state.created.append(draft)

    # -- the turn loop -------------------------------------------------------------------------------------

    def run(self) -> list[Commitment]:
        for turn in self.turns:
            index = turn.index
            speaker = self._speaker_id(turn.speaker)
            clean = _NOISE.sub(lambda m: " " * len(m.group(0)), turn.text)
            sentences = [
                _Sentence(index, speaker or "", text, _plain(text), i)
                for i, (_, text) in enumerate(_split_sentences(clean))
            ]
            self.sentences[index] = sentences
            if speaker is None:
                continue
            state = _TurnState()
            self._answer_pending(index, speaker, sentences, state)
            for sentence in sentences:
                self._sentence(sentence, state)
            self._close_turn(index)
        return self._result()

    def _close_turn(self, turn: int) -> None:
        for draft in self.drafts:
            if draft.retracted_at == turn and not draft.alive:
                draft.retracted_at = None  # final: no later statement in the same turn revived it
        self.pending = [p for p in self.pending if turn - p.turn < 3 and p.answered < 2]

    def _sentence(self, s: _Sentence, state: _TurnState) -> None:
        if not s.low or s.position in state.consumed:
            return
        if self._retraction(s, state):
            return
        if self._revision(s, state):
            return
        if self._same_for_me(s, state):
            return
        if self._joint(s, state):
            return
        if self._request(s):
            return
        if self._offer(s):
            return
        self._statements(s, state)

    # -- answers to requests, proposals and offers -----------------------------------------------------------

    def _answer_pending(self, turn: int, speaker: str, sentences: list[_Sentence], state: _TurnState) -> None:
        """The partner's first reply settles a request, proposal or offer (a clarifying question defers it)."""
        if not sentences:
            return
        opening = sentences[0].low
        accepting = next((x.low for x in sentences[:2] if _ACCEPT.search(x.low)), None)
        whole = " ".join(x.low for x in sentences)
        waiting = [p.turn for p in self.pending if p.speaker != speaker and p.turn < turn]
        latest = max(waiting, default=-1)
        for pending in list(self.pending):
            if pending.speaker == speaker or pending.turn >= turn:
                continue
            if pending.turn < latest and _overlap(pending.action, whole) < 2:
                # an older request the partner went past: a reply settles the latest one unless it names the older
                self.pending.remove(pending)
                continue
            pending.answered += 1
            declined = bool(_DECLINE.search(opening)) and not _STRONG_ACCEPT.search(opening)
            if accepting is None or declined or _HEDGE.search(accepting):
                if not opening.rstrip().endswith("?") or pending.answered > 1:
                    self.pending.remove(pending)
                    state.answered_request = True
                    if declined and pending.kind == "joint" and pending.target is not None:
                        self._drop_group(pending.target)
                continue
            self.pending.remove(pending)
            state.answered_request = True
            if self._accepted(pending, turn, accepting):
                self._accept(pending, turn, speaker, state)

    def _accepted(self, pending: _Pending, turn: int, opening: str) -> bool:
        whole = " ".join(s.low for s in self.sentences[turn])
        future = bool(_SELF_CUE.search(whole) or _BARE_CUE.search(whole) or resolve_due(whole, self.session))
        strong = bool(_STRONG_ACCEPT.search(opening))
        if _base_form(pending.verb) in _IMMEDIATE_VERBS:
            return future  # "can you explain...?" "sure, so..." is answered on the spot
        if pending.kind in ("request", "offer", "joint", "revision"):
            return True
        return strong or future  # an imperative needs more than a bare "yes"

    def _accept(self, pending: _Pending, turn: int, speaker: str, state: _TurnState) -> None:
        due = self._turn_due(turn) or pending.due
        if pending.kind == "revision" and pending.target is not None:
            self._set_due(pending.target, pending.due or due, [pending.turn, turn])
            return
        if pending.kind == "joint" and pending.target is not None:  # a declared joint item, now confirmed
            self._set_due(pending.target, None if pending.target.due else due, [turn])
            return
        if pending.kind == "joint":
            self._joint_items(pending, speaker, [pending.turn, turn], due, state)
            return
        if pending.kind == "offer":
            action = self._wording(pending.action, pending.speaker)
            self._add(_Draft(pending.speaker, action, due, [pending.turn, turn], turn, "offer"), state)
            return
        action = self._wording(pending.action, speaker, requester=pending.speaker, gerund=pending.gerund)
        action = self._resolve_pronoun(action, speaker, self._context(pending.turn, pending.sentence.position))
        if len(_content_words(action, drop=_VAGUE)) < 2 and due is None:
            return
        draft = _Draft(speaker, action, due, [pending.turn, turn], turn, "request")
        self.drafts.append(draft)
        state.created.append(draft)
        state.absorber = draft

    # -- sentence rules --------------------------------------------------------------------------------------

    def _retraction(self, s: _Sentence, state: _TurnState) -> bool:
        match = _RETRACT.search(s.low)
        if not match:
            return False
        # A cue before the retraction in the same sentence: "I'll come tomorrow, oh wait no I can't".
        before = s.low[: match.start()]
        if _SELF_CUE.search(before) or _BARE_CUE.search(before):
            return True  # the statement is withdrawn before it was ever recorded
        same_turn = [d for d in state.created if d.owner == s.speaker and d.alive]
        if same_turn:
            target = self._pick(same_turn, s.text)
        elif state.answered_request:
            return True  # "sorry, I won't be able to" answers a request, it retracts nothing
        elif not _STRONG_RETRACT.search(s.low) and "scratch" not in s.low:
            return False
        else:  # a later turn: the item it names, or the latest one when it names none ("scratch that")
            candidates = self._recent(s.speaker, s.turn, window=4)
            if _content_words(s.text):
                candidates = [d for d in candidates if _overlap(s.text, d.action)]
            target = candidates[-1] if candidates else None
        if target is None:
            return True
        target.alive = False
        target.retracted_at = s.turn
        return True

    def _revision(self, s: _Sentence, state: _TurnState) -> bool:
        """A new date for an earlier item: "make it Wednesday", "Correction: summary Thursday", "could you make
        it the 10th instead?" (the owner's acceptance applies the partner's proposal)."""
        cued = bool(_REVISE.search(s.low))
        corrected = bool(_CORRECTION.search(self.sentences[s.turn][0].low))
        if not cued and not corrected:
            return False
        due = resolve_due(s.text, self.session)
        dated_by_next = False
        if due is None and cued and s.position + 1 < len(self.sentences[s.turn]):
            due = resolve_due(self.sentences[s.turn][s.position + 1].text, self.session)
            dated_by_next = due is not None
        if due is None:
            return False
        if _PARTNER_SUBJECT.search(s.low):
            return self._propose_revision(s, due)
        if not cued and (len(_words(s.low)) > 8 or _FIRST_PERSON.search(s.low)):
            return False  # a correction marker alone only counts for a short restatement: "targets monday"
        own = self._recent(s.speaker, s.turn, window=_LONG_WINDOW)
        named = [d for d in own if _overlap(s.text, d.action)]
        if named:
            target = self._pick(named, s.text)
        elif cued:
            target = self._pick([d for d in own if s.turn - max(d.evidence) <= _WINDOW], s.text)
        else:
            return False
        if target is None:
            return False
        if dated_by_next:
            state.consumed.add(s.position + 1)
        self._set_due(target, due, [s.turn])
        return True

    def _propose_revision(self, s: _Sentence, due: dt.date) -> bool:
        others = [d for d in self.drafts if d.alive and d.owner != s.speaker and 0 < s.turn - max(d.evidence) <= 3]
        target = self._pick(others, s.text)
        if target is None:
            return False
        self.pending.append(_Pending("revision", s.turn, s.speaker, "", due, "", s, target=target))
        return True

    def _drop_group(self, target: _Draft) -> None:
        for draft in self.drafts:
            if draft is target or (target.group is not None and draft.group == target.group):
                draft.alive = False

    def _set_due(self, target: _Draft, due: dt.date | None, turns: list[int]) -> None:
        """Update an item (all owners' items of a joint group) to a revised date."""
        group = [d for d in self.drafts if d is target or (target.group is not None and d.group == target.group)]
        for draft in group:
            if due is not None:
                draft.due = due
            draft.evidence = sorted(set(draft.evidence) | set(turns))

    def _same_for_me(self, s: _Sentence, state: _TurnState) -> bool:
        if state.same_done:
            return bool(_SELF_CUE.search(s.low)) and bool(_PRONOUN_OBJECT.search(s.low))
        if not _SAME.search(s.low):
            return False
        previous = [d for d in self.drafts if d.alive and d.owner != s.speaker and 0 < s.turn - d.turn <= 2]
        if not previous:
            return False
        source = previous[-1]
        own_due = self._due_from(x.text for x in self.sentences[s.turn][s.position :])
        draft = _Draft(s.speaker, source.action, own_due or source.due, [max(source.evidence), s.turn], s.turn, "same")
        self.drafts.append(draft)
        state.created.append(draft)
        state.same_done = True
        return True

    def _joint(self, s: _Sentence, state: _TurnState) -> bool:
        match = _JOINT.search(s.low)
        lets = None if match else _LETS.search(s.low)
        if lets is not None and resolve_due(s.text, self.session) is None:
            lets = None
        found = match or lets
        if found is None:
            return False
        raw = s.text[found.end() :]
        raw = re.sub(r"^\s*(?:will|'ll|should|can|could|shall|to)\s+", "", raw)
        verb = _first_word_after(raw)
        if not verb or verb in _NON_VERBS or verb in _STATIVE_VERBS or _PAST_VERB.match(verb):
            return False
        if _HEDGE.search(s.low) or _HYPOTHETICAL.search(s.low):
            return True
        due = self._due_from(x.text for x in self.sentences[s.turn][s.position :])
        pending = _Pending("joint", s.turn, s.speaker, raw, due, verb, s)
        partner = self._partner(s.speaker)
        if partner is not None and _DECLARED_JOINT.search(s.low) and not s.low.rstrip().endswith("?"):
            # "We'll both read it by Friday" binds the pair unless the partner objects; a yes adds evidence.
            pending.target = self._joint_items(pending, partner, [s.turn], due, state)
        self.pending.append(pending)
        return True

    def _joint_items(
        self, pending: _Pending, partner: str, evidence: list[int], due: dt.date | None, state: _TurnState
    ) -> _Draft:
        self.groups += 1
        drafts = [
            _Draft(owner, self._wording(pending.action, owner), due, list(evidence), pending.turn, "joint", self.groups)
            for owner in (pending.speaker, partner)
        ]
        for draft in drafts:
            self._add(draft, state)
        return drafts[0]

    def _request(self, s: _Sentence) -> bool:
        kind = "request"
        match = _ASKED_REQUEST.search(s.low)
        if match is not None and not (s.low.rstrip().endswith("?") or "please" in s.low):
            match = None  # "you can see the trend here" is not a request
        match = match or _STATED_REQUEST.search(s.low)
        if match is None:
            match = self._imperative(s)
            kind = "imperative"
        if match is None:
            return False
        raw = s.text[match.end() :] if kind == "request" else s.text[match.start("verb") :]
        verb = _first_word_after(raw)
        if not verb or verb in _NON_VERBS:
            return False
        due = self._due_from(x.text for x in self.sentences[s.turn][s.position :])
        gerund = bool(_GERUND_REQUEST.search(s.low[: match.end()])) and verb.endswith("ing")
        self.pending.append(_Pending(kind, s.turn, s.speaker, raw, due, verb, s, gerund=gerund))
        return True

    def _imperative(self, s: _Sentence) -> re.Match[str] | None:
        match = _IMPERATIVE.match(s.low)
        if match is None or match["verb"] not in _DELIVERABLE_VERBS or s.low.rstrip().endswith("?"):
            return None
        rest = s.low[match.end("verb") :]
        if not re.search(r"\b(?:me|us|please)\b", rest):
            return None
        return match

    def _offer(self, s: _Sentence) -> bool:
        match = _OFFER.search(s.low)
        if match is None or not s.low.rstrip().endswith("?"):
            return False
        raw = s.text[match.end() :]
        verb = _first_word_after(raw)
        if not verb or verb in _NON_VERBS:
            return False
        due = self._due_from(x.text for x in self.sentences[s.turn][s.position :])
        self.pending.append(_Pending("offer", s.turn, s.speaker, raw, due, verb, s))
        return True

    # -- first-person statements -----------------------------------------------------------------------------

    def _cues(self, low: str) -> list[tuple[int, int, str]]:
        cues = [(m.start(), m.end(), m.group(0)) for m in _SELF_CUE.finditer(low)]
        bare = _BARE_CUE.match(low)
        if bare:
            cues.append((bare.end() - len(bare.group(0).split()[-1]) - 1, bare.end(), "will"))
        if not cues:
            present = _PRESENT_CUE.search(low)
            if present:
                verb = low[present.end() :].split(" ", 1)[0]
                if verb in _DELIVERABLE_VERBS and verb not in _SAME_IN_PAST:
                    cues.append((present.start(), present.end(), "present"))
        return sorted(cues)

    def _statements(self, s: _Sentence, state: _TurnState) -> None:
        cues = self._cues(s.low)
        if not cues:
            self._terse(s, state)
            return
        for i, (start, end, cue) in enumerate(cues):
            stop = cues[i + 1][0] if i + 1 < len(cues) else len(s.low)
            segment = s.text[end:stop]
            # The clause the statement belongs to: hedges and past markers elsewhere in the sentence don't count.
            clause_start = max(s.low.rfind(" but ", 0, start), s.low.rfind(", and ", 0, start), 0)
            pre = s.text[:start] if i == 0 else ""
            self._statement(s, state, _Cue(cue, segment, s.low[clause_start:stop], start - clause_start), pre)

    def _statement(self, s: _Sentence, state: _TurnState, cue: _Cue, pre: str) -> None:
        segment = cue.segment
        low_segment = _plain(segment)
        verb = _first_word_after(low_segment)
        if cue.text.strip() in ("ill", "i ll") and (not verb or verb in _NON_VERBS or verb.endswith("ed")):
            return  # "ill" as in sick
        if not verb or verb in _NON_VERBS:
            return
        if verb == "be" and not re.match(r"^\s*be\s+\w+ing\b", low_segment):
            return  # "I'll be stuck in the basement", but "I'll be sending it"
        if verb != "be" and verb in _STATIVE_VERBS:
            return
        if s.low.rstrip().endswith("?") and not _QUESTION_TAG.search(s.low):
            return
        due = self._statement_due(s, segment, pre)
        if self._not_a_commitment(cue, verb, due, low_segment):
            return
        action = self._wording(segment, s.speaker, gerund=cue.text.startswith("i commit"))
        if not _content_words(action, drop=_VAGUE):
            return  # "I can do that", "will do": no action of its own
        if self._absorb(s, state, action, due, low_segment):
            return
        if self._revive(s, state, action, due, low_segment):
            return
        action = self._resolve_pronoun(action, s.speaker, self._context(s.turn, s.position, pre))
        if len(_content_words(action, drop=_VAGUE)) < 2 and due is None:
            return  # "I'll check", "let me look": too thin to hold anyone to without a date
        self._add(_Draft(s.speaker, action, due, [s.turn], s.turn, "simple"), state)

    def _terse(self, s: _Sentence, state: _TurnState) -> None:
        """Verbless deadlines in terse chat: "Case law summary by Friday too." is the speaker's own item."""
        match = _TERSE.match(s.low)
        if match is None or state.answered_request or s.low.rstrip().endswith("?"):
            return
        words = match["np"].split()
        if any(w in _NON_VERBS - {"the", "a", "an", "my"} or w in _STOPWORDS - {"the", "a", "an", "my"} for w in words):
            return
        if words[0] in _DELIVERABLE_VERBS or not _content_words(match["np"]):
            return
        due = resolve_due(s.text, self.session)
        if due is None:
            return
        phrase = s.text[match.start("np") : match.end("np")]
        phrase = phrase[:1].lower() + phrase[1:] if phrase[1:2].islower() else phrase
        action = self._wording(f"deliver {phrase}", s.speaker)
        self._add(_Draft(s.speaker, action, due, [s.turn], s.turn, "simple"), state)

    def _statement_due(self, s: _Sentence, segment: str, pre: str) -> dt.date | None:
        due = resolve_due(segment, self.session) or (resolve_due(pre, self.session) if pre else None)
        if due is not None:
            return due
        for later in self.sentences[s.turn][s.position + 1 :]:
            if self._cues(later.low) or len(_words(later.low)) > 5:
                break
            due = resolve_due(later.text, self.session)
            if due is not None:
                return due
        return None

    @staticmethod
    def _not_a_commitment(cue: _Cue, verb: str, due: dt.date | None, segment: str) -> bool:
        """Hedged, hypothetical, past, negated, or (without a date) an offer or an on-the-spot act."""
        clause = cue.clause
        if _HEDGE.search(clause) or (_TRY.search(clause) and due is None):
            return True
        if _HYPOTHETICAL.search(clause) or _ALREADY.search(clause) or _PAST_BEFORE.search(clause[: cue.offset]):
            return True
        if _NEGATED.match(segment):
            return True
        text = cue.text
        needs_date = text.startswith(("i can", "present")) or (
            text.startswith("let") and verb not in _DELIVERABLE_VERBS
        )
        if needs_date and due is None:
            return True
        return verb in _IMMEDIATE_VERBS and due is None and not _FOLLOW_UP.match(segment)

    def _absorb(self, s: _Sentence, state: _TurnState, action: str, due: dt.date | None, segment: str) -> bool:
        """The first statement of an acceptance ("Sure. I'll send it Friday") belongs to the accepted request."""
        draft = state.absorber
        if draft is None:
            return False
        separate = re.search(r"\b(?:also|too|as\s+well|another|in\s+addition)\b", segment)
        pronoun = bool(_PRONOUN_OBJECT.search(" ".join(segment.split()[:4])))
        if state.absorbed and not pronoun:
            return False
        if separate and not pronoun:
            return False
        state.absorbed = True
        if due is not None:
            draft.due = due
        concrete = len(_content_words(action, drop=self.names.values())) >= 4
        if concrete and not pronoun and not re.search(r"\b(?:him|her|them|it)\b", action):
            draft.action = action
        return True

    def _revive(self, s: _Sentence, state: _TurnState, action: str, due: dt.date | None, segment: str) -> bool:
        """'Scratch Friday for the template ... I will send it next Monday': the retracted item gets the new date."""
        dead = [d for d in self.drafts if d.owner == s.speaker and d.retracted_at == s.turn and not d.alive]
        if not dead or due is None:
            return False
        target = self._pick(dead, action)
        if target is None:
            return False
        pronoun = bool(_PRONOUN_OBJECT.search(" ".join(segment.split()[:4])))
        if not pronoun and _similar(action, target.action) < 50:
            return False
        target.alive = True
        target.retracted_at = None
        target.due = due
        target.evidence = sorted(set(target.evidence) | {s.turn})
        return True

    # -- output ----------------------------------------------------------------------------------------------

    def _result(self) -> list[Commitment]:
        out: list[Commitment] = []
        for draft in self.drafts:
            if not draft.alive or not draft.action:
                continue
            evidence = sorted(set(draft.evidence))
            out.append(
                Commitment(
                    owner=draft.owner,
                    action=draft.action,
                    due=draft.due,
                    evidence=evidence,
                    confirmed=False,
                    id=commitment_id(draft.owner, draft.action, evidence[0] if evidence else None),
                )
            )
        return out


def extract_commitments(turns: list[Turn], participants: list[Participant], session_date: dt.date) -> list[Commitment]:
    """Accountability items stated in `turns`, owned by participants, in the order they were made.

    Deterministic and offline. Works for any number of participants (a pair has two; a recorded team meeting may
    have more). `confirmed` is always False: the partners confirm items in the UI.
    """
    return _Extractor(turns, participants, session_date).run()


# ----------------------------------------------------------------------------------------------------------------
# Validation of model output

_SUPPORT_THRESHOLD = 50.0


def _support(action: str, text: str, names: Iterable[str]) -> float:
    """How well a turn's text supports an action: token-set similarity of 5-letter stems of content words."""
    dropped = list(names)
    a = sorted({w[:5] for w in _content_words(action, drop=dropped)})
    b = sorted({w[:5] for w in _content_words(text, drop=dropped)})
    if not a or not b:
        return 0.0
    return float(fuzz.token_set_ratio(" ".join(a), " ".join(b)))


def _answered_by(turns: Sequence[Turn], index: int, owner: str) -> bool:
    """Whether the turn at `index` is a request that `owner` accepts within the next two turns."""
    low = _plain(turns[index].text)
    if not (
        _ASKED_REQUEST.search(low)
        or _STATED_REQUEST.search(low)
        or _OFFER.search(low)
        or _JOINT.search(low)
        or _IMPERATIVE.match(low)
    ):
        return False
    for later in turns[index + 1 : index + 3]:
        if later.speaker.strip().lower() == owner:
            return bool(_ACCEPT.search(_plain(later.text)))
    return False


def _evidence_flags(item: Commitment, turns: Sequence[Turn], owner: str, ids: set[str]) -> list[str]:
    flags: list[str] = []
    if owner not in ids:
        flags.append(f"owner '{item.owner}' is not a participant ({', '.join(sorted(ids))})")
    if not item.evidence:
        flags.append("no evidence turns")
    missing = [i for i in item.evidence if not 0 <= i < len(turns)]
    if missing:
        flags.append(f"evidence turn(s) {missing} do not exist (the transcript has {len(turns)} turns)")
    valid = [i for i in item.evidence if 0 <= i < len(turns)]
    if valid and owner in ids:
        by_owner = [i for i in valid if _speaker(turns[i]) == owner or _answered_by(turns, i, owner)]
        if not by_owner:
            flags.append(f"no evidence turn is by {owner} or a request {owner} accepted")
    return flags


def _speaker(turn: Turn) -> str:
    return turn.speaker.strip().lower()


def _stated_dates(turns: Sequence[Turn], indices: Iterable[int], session_date: dt.date) -> list[dt.date]:
    return [m.date for i in indices for m in find_due_dates(turns[i].text, session_date)]


def _due_fix(
    item: Commitment, turns: Sequence[Turn], valid: list[int], owner: str, session_date: dt.date
) -> tuple[dt.date | None, str | None]:
    """(due, note): the date the evidence states when the model's date is not one of them; None note = fine."""
    stated = _stated_dates(turns, valid, session_date)
    own_turns = [i for i in valid if _speaker(turns[i]) == owner]
    if item.due is None:
        own = [d for i in own_turns for d in _stated_dates(turns, [i], session_date)]
        if len(set(own)) == 1:
            return own[0], f"due added: {own[0].isoformat()} is stated in {owner}'s evidence turn"
        return None, None
    if not stated or item.due in stated:
        return item.due, None
    dated = [i for i in own_turns if _stated_dates(turns, [i], session_date)]
    dated = dated or [i for i in valid if _stated_dates(turns, [i], session_date)]
    stated_due = _committed_date(turns[dated[-1]].text, session_date)
    note = f"due corrected from {item.due.isoformat()} to {stated_due} (stated in turn {dated[-1]})"
    return stated_due, note


def _committed_date(text: str, session_date: dt.date) -> dt.date | None:
    """The date of a turn's first-person statement ("I will send it next Monday"), else its first date."""
    for _, sentence in _split_sentences(text):
        low = _plain(sentence)
        if _SELF_CUE.search(low) or _BARE_CUE.search(low):
            due = resolve_due(sentence, session_date)
            if due is not None:
                return due
    return resolve_due(text, session_date)


def _check(
    item: Commitment, turns: Sequence[Turn], ids: set[str], names: list[str], session_date: dt.date
) -> tuple[Commitment, bool]:
    """The item with its flags (and a corrected due date), and whether it passed."""
    owner = item.owner.strip().lower()
    flags = _evidence_flags(item, turns, owner, ids)
    valid = [i for i in item.evidence if 0 <= i < len(turns)]
    text = " ".join(turns[i].text for i in valid)
    stated = _stated_dates(turns, valid, session_date)
    supported = _support(item.action, text, names) >= _SUPPORT_THRESHOLD or (
        item.due is not None and item.due in stated
    )
    if valid and not supported:
        flags.append(f"the evidence turns do not mention the action '{item.action}'")
    if item.due is not None and item.due < session_date and item.due not in stated:
        flags.append(f"due date {item.due.isoformat()} is before the session date {session_date.isoformat()}")
    update: dict[str, object] = {"owner": owner, "confirmed": False, "flags": [*item.flags, *flags]}
    if not flags:
        due, note = _due_fix(item, turns, valid, owner, session_date)
        if note is not None:
            update["due"] = due
            update["flags"] = [*item.flags, note]
    if item.id is None:
        update["id"] = commitment_id(owner, item.action, valid[0] if valid else None)
    return item.model_copy(update=update), not flags


def validate_commitments(
    items: list[Commitment], turns: list[Turn], participants: list[Participant], session_date: dt.date
) -> tuple[list[Commitment], list[Commitment]]:
    """Check items proposed by a language model against the transcript.

    Returns (accepted, rejected). Rejected items carry `flags` saying why and must never be shown as fact: an
    owner who is not a participant, evidence turns that do not exist, no evidence turn by the owner (or a request
    the owner accepted), evidence that does not mention the action, a due date before the session.
    An accepted item whose due date is not among the dates its evidence states gets the stated date and a
    "due corrected ..." flag; a missing date stated in the owner's own evidence turn is added ("due added ...").
    Near-identical accepted items (same owner, fuzzy-equal action) are merged. `confirmed` is always False.
    """
    ids = {p.id for p in participants}
    names = [n for p in participants for n in (p.id, p.first_name, *p.name.split())]
    ordered = sorted(turns, key=lambda t: t.index)
    accepted: list[Commitment] = []
    rejected: list[Commitment] = []
    for item in items:
        checked, passed = _check(item, ordered, ids, names, session_date)
        if not passed:
            rejected.append(checked)
            continue
        duplicate = next(
            (
                kept
                for kept in accepted
                if kept.owner == checked.owner
                and fuzz.token_set_ratio(kept.action.lower(), checked.action.lower()) >= _DUPLICATE_THRESHOLD
            ),
            None,
        )
        if duplicate is None:
            accepted.append(checked)
            continue
        merged = duplicate.model_copy(
            update={
                "evidence": sorted(set(duplicate.evidence) | set(checked.evidence)),
                "due": duplicate.due or checked.due,
            }
        )
        accepted[accepted.index(duplicate)] = merged
    return accepted, rejected
