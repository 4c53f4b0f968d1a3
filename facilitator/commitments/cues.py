"""Sentence splitting and the cue patterns (matched on lower-cased text with plain apostrophes).

Patterns that are plain alternations of words are built from the lexicon; the rest are phrase patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from facilitator.commitments.text import LEX, words


def alternation(phrases: Iterable[str]) -> str:
    """`a|b c|...` in the given order, a space in a phrase matching any white space."""
    return "|".join(r"\s+".join(re.escape(w) for w in phrase.split()) for phrase in phrases)


def _word_set(phrases: Iterable[str]) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{alternation(phrases)})\b", re.I)


# ----------------------------------------------------------------------------------------------------------------
# Clean-up and wording

NOISE = re.compile(r"\{\w+\}|<[^<>]{1,40}/?>")  # transcription marks: {disfmarker}, <unintelligible/>
HESITATION = re.compile(r"\b(?:uh+|um+|erm|uhm|er|mm+|hmm+)\b,?\s*|\b[a-z]+-(?=[\s,]|$),?\s*", re.IGNORECASE)
FILLERS = re.compile(rf"^(?:{alternation(LEX.fillers)})\s+", re.IGNORECASE)
SENTENCE_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\.{2,}|…|\s+[-–—]\s+|\n+")
INTERJECTIONS = rf"(?:(?:{alternation(LEX.interjections)})\b[\s,.!]*)*"
CLAUSE_CUT = re.compile(
    r"\s*,\s*(?=(?:so|and\s+(?:we|you|then|i|it)|then|because|bc|since|which|like|i|it|you|we|they|she|he|but|"
    r"though|as|cause|lol|tbh|haha|that'?s|there'?s|it'?s|i'?ve|i'?m|it'?ll|itll|that'?ll|this|that|yes|yeah|"
    r"the\s+\w+\s+(?:is|was|one)\b|covering|depending|if|unless|when|once|"
    r"(?:\w+\s+){0,2}(?:is|are|was|were|has|have|had|closes|opens|ends|starts|won't|can't)\b)\b)"
    r"|\s+(?:so\s+(?:that\s+)?(?:you|we|i|they|it|u)|because|bc|since|then\s+we|and\s+then|and\s+we|which|but|"
    r"(?:before|after|when|while|once|until|where|whenever)\s+(?:i|you|we|he|she|they|it|u))\b"
    r"|\s+[-–—]\s+|;|:|\.\.\.|…|\.(?:\s|$)|[!?]",
    re.IGNORECASE,
)
TRAILING = re.compile(
    rf"[\s,;:.!?'\"-]*(?:\b(?:{alternation(LEX.trailing_words)})\b[\s,;:.!?]*)*$",
    re.I,
)
SPACE_PUNCT = re.compile(r"\s+([,;:.!?])")
REPEATED_COMMA = re.compile(r",(?:\s*,)+")
YOU = _word_set(LEX.you)
YOUR = _word_set(LEX.your)
ME = _word_set(LEX.me)
MY = _word_set(LEX.my)
SUBJECT_I = re.compile(r"\bi\b")
PRONOUN_OBJECT = re.compile(r"\b(?:it|them)\b")
THIRD_PERSON_OBJECT = re.compile(r"\b(?:him|her|them|it)\b")
DETERMINER_NP = re.compile(rf"\b(?:{alternation(LEX.determiners)})\s+[a-z0-9]", re.I)

# ----------------------------------------------------------------------------------------------------------------
# First-person statements

SELF_CUE = re.compile(
    r"\b(?:i\s*'?\s*ll(?=\s)|i\s+will|i\s+shall|i\s*'?\s*m\s+(?:(?:also|just|definitely|really|still|totally)\s+)?"
    r"(?:going\s+to|gonna)|i\s+am\s+(?:(?:also|just|definitely|really|still|totally)\s+)?(?:going\s+to|gonna)|"
    r"i\s+commit\s+to|i\s+promise\s+to|i\s+plan\s+to|i\s+intend\s+to|i\s+can(?!'t|not|\s+not)|let\s+me)\b"
)
BARE_CUE = re.compile(
    rf"^{INTERJECTIONS}(?:will|gonna|going\s+to|shall)\s+"
    r"(?!\s|you\b|u\b|we\b|they\b|it\b|he\b|she\b|that\b|this\b|there\b|be\b|i\b)"
)
PRESENT_CUE = re.compile(r"\bi\s+(?=[a-z]+\b)")
HEDGE = re.compile(
    r"\b(?:maybe|might|perhaps|possibly|probably|hopefully|not\s+sure|no\s+promises|we'?ll\s+see|we\s+will\s+see|"
    r"i\s+don'?t\s+know|idk|dunno|if\s+(?:i|we)\s+(?:have|get|find)\s+(?:the\s+|some\s+|a\s+)?"
    r"(?:time|chance|minute|moment)|if\s+time\s+(?:allows|permits)|time\s+permitting|at\s+some\s+point|some\s?day|"
    r"one\s+day|sometime|think\s+about\s+it|i\s+may|i\s+could|if\s+i\s+can)\b"
)
TRY = re.compile(r"\btry\s+(?:to|and)\b")
HYPOTHETICAL = re.compile(
    r"\b(?:if|unless|were\s+\w+(?:\s+\w+)?\s+to|in\s+case)\b.*\b(?:would|could)\b|\b(?:if|unless)\b.*\b\w+'d\b"
    r"|\b(?:would|\w+'d)\b.*\bif\b"
)
PAST_BEFORE = re.compile(
    r"\b(?:last\s+(?:week|month|year|time|sprint|term|night)|yesterday|ago|previously|earlier\s+today|"
    r"(?:said|told\s+\w+|promised|mentioned)\s+(?:that\s+)?)\b"
)
ALREADY = re.compile(r"\balready\b")
NEGATED = re.compile(r"^\s*(?:not|never|no\s+longer)\b")
FOLLOW_UP = re.compile(r"^\s*(?:let\s+\w+\s+know|get\s+back)")
QUESTION_TAG = re.compile(
    r",\s*(?:ok(?:ay)?|right|yeah|yes|fine|alright|cool|good|sound\s+good|works\s+for\s+you)\s*\?+$"
)
TERSE = re.compile(
    r"^\W*(?:and\s+|also\s+|plus\s+)?(?P<np>(?:the\s+|my\s+|a\s+)?[a-z][\w'-]*(?:\s+[a-z][\w'-]*){0,4}?)\s+"
    r"(?:by|before|until|till)\s+\S+(?:\s+\S+)?(?:\s+(?:too|as\s+well|also))?\W*$"
)
SEPARATE = re.compile(r"\b(?:also|too|as\s+well|another|in\s+addition)\b")
PROGRESSIVE_BE = re.compile(r"^\s*be\s+\w+ing\b")

# ----------------------------------------------------------------------------------------------------------------
# Retractions and revisions

RETRACT = re.compile(
    r"\b(?:actually,?\s+no|no,?\s+actually|nah,?\s+actually|nah\b|scratch\s+that|scratch\s+(?=\w)|"
    r"forget\s+(?:it|that|what\s+i\s+said|about\s+(?:it|that)|i\s+said\s+(?:it|that|anything))|never\s?mind|nvm|"
    r"i\s+won'?t\s+be\s+able\s+to|i\s+(?:can'?t|cannot)\s+(?:do|make)\s+(?:it|that)|(?:oh\s+)?wait,?\s+no|"
    r"wait,?\s+(?:i\s+)?can'?t|\bi\s+shan'?t\b|^no\W*$|"
    r"no,?\s+i\s+can'?t|i\s+take\s+(?:it|that)\s+back|on\s+second\s+thought|ignore\s+(?:that|what\s+i\s+said)|"
    r"not\s+going\s+to\s+happen)"
)
STRONG_RETRACT = re.compile(
    r"\b(?:scratch\s+that|forget\s+(?:it|that|what\s+i\s+said)|never\s?mind|i\s+won'?t\s+be\s+able\s+to|"
    r"i\s+take\s+(?:it|that)\s+back|actually,?\s+no|i\s+(?:can'?t|cannot)\s+(?:do|make)\s+(?:it|that))"
)
REVISE = re.compile(
    r"\b(?:make\s+(?:it|that|this|the\s+\w+)|push\s+(?:it|that|this|the\s+\w+)|move\s+(?:it|that|this|the\s+\w+)|"
    r"change\s+(?:it|that|this)\s+to|needs?\s+(?:until|till|til)|instead|on\s+reflection|let'?s\s+say|"
    r"let\s+us\s+say|more\s+realistic|can\s+we\s+(?:make|say|do)\s+(?:it|that)|postpone|reschedule|delay|"
    r"bring\s+(?:it|that|this|the\s+\w+)\s+forward|move\s+(?:it|that|this)\s+up|rather\s+than|"
    r"(?:amend|correct|change|revise)\s+(?:what\s+i\s+said|myself|my\s+date|the\s+date)|correction)\b"
)
CORRECTION = re.compile(r"^\W*(?:ugh\W+|oh\W+)?(?:wait|actually|correction|sorry|oops|no)\b")
PARTNER_SUBJECT = re.compile(r"\b(?:can|could|would|will)\s+(?:you|u)\b|^\W*(?:you|u)\s+(?:can|could)\b")
FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|i'd|we|we're)\b")

# ----------------------------------------------------------------------------------------------------------------
# Requests, offers, joint proposals and their answers

PAST_VERB = re.compile(
    r"^(?:\w+ed|had|did|was|were|got|went|made|said|thought|knew|took|sent|met|saw|wrote|read\s+(?:it|that))$"
)
SAME = re.compile(
    r"^\W*same\b(?!\s+(?:time|place|slot|day|as))|\b(?:same\s+(?:for|with|goes\s+for)\s+me|same\s+here|"
    r"me\s+(?:too|also|as\s+well)|likewise|ditto|(?:so|as)\s+(?:will|shall)\s+i|i\s+will\s+too|"
    r"(?:i'?ll|i\s+will)\s+do\s+the\s+same|i'?m\s+in\s+too|(?:i'?ll|i\s+will)\s+\w+\s+(?:it|that|one|mine)"
    r"(?:\s+\w+){0,2}\s+too)\b"
)
JOINT = re.compile(
    r"\b(?:let'?s|let\s+us|shall\s+we|should\s+we|could\s+we|can\s+we|why\s+don'?t\s+we|how\s+about\s+we|we)"
    r"(?:\s+(?:will|'ll|should|can|could|shall))?\s+(?:both|each)\b(?:\s+of\s+us)?|\b(?:both|each)\s+of\s+us"
    r"(?:\s+(?:will|should|can|could|shall))?\b"
)
DECLARED_JOINT = re.compile(r"\bwe\s*(?:will|'ll|shall)\s+(?:both|each)\b|\b(?:both|each)\s+of\s+us\s+will\b")
LETS = re.compile(r"\b(?:let'?s|let\s+us)\s+(?!say\b|agree|meet|talk|speak|chat|catch|start|begin|continue|go\b|see\b)")
JOINT_AUXILIARY = re.compile(r"^\s*(?:will|'ll|should|can|could|shall|to)\s+")
# Requests that need a question mark (or "please"): "could you send me...?", "would you mind looking...?".
ASKED_REQUEST = re.compile(
    r"\b(?:can|could|would|will)\s+(?:you|u|ya)\s+(?:(?:please|maybe|possibly|perhaps|just|also|kindly)\s+)*"
    r"(?:(?:be\s+able|be\s+willing|be\s+happy|be\s+ready)\s+to\s+|mind\s+)?(?=[a-z])"
    r"|\b(?:would|do)\s+(?:you|u)\s+mind\s+(?=[a-z])"
    r"|^(?:so,?\s+)?(?:you|u)\s+(?:can|could)\s+(?=[a-z])"
    r"|\bany\s+chance\s+(?:you|u)\s+(?:could|can)\s+(?=[a-z])"
)
# Requests stated outright: "I need you to...", "it would be great if you could...", "please send...".
STATED_REQUEST = re.compile(
    r"\bi\s+(?:need|want|would\s+like|'d\s+like|'d\s+love|would\s+love)\s+(?:you|u)\s+to\s+(?=[a-z])"
    r"|\b(?:it\s+would\s+be\s+(?:great|good|helpful|nice)|i'?d\s+(?:love|appreciate)\s+it|i\s+wonder)\s+if\s+"
    r"(?:you|u)\s+(?:could|can|would)\s+(?=[a-z])"
    r"|\bplease\s+(?!do\b)(?=[a-z])"
)
GERUND_REQUEST = re.compile(r"\bmind\s+$")
IMPERATIVE = re.compile(rf"^{INTERJECTIONS}(?P<verb>[a-z]+)\b")
ADDRESSED = re.compile(r"\b(?:me|us|please)\b")
OFFER = re.compile(
    r"\b(?:shall|should)\s+i\s+(?=[a-z])|\b(?:do\s+you\s+)?want\s+me\s+to\s+(?=[a-z])|"
    r"\bwould\s+you\s+like\s+me\s+to\s+(?=[a-z])"
)
ACCEPT = re.compile(
    r"^\W*(?:(?:ha|haha|oh|ah|well|hmm|right|ooh|great|so)\b[\s,.!]*)?(?:ye+s+|yeah|yep|yup|ya|yea|sure|ok(?:ay)?|k+|"
    r"ofc|not\s+at\s+all|by\s+all\s+means|"
    r"of\s+course|certainly|absolutely|definitely|gladly|happy\s+to|glad\s+to|no\s+problem|no\s+worries|np|"
    r"will\s+do|can\s+do|consider\s+it\s+done|on\s+it|done|deal|agreed|fine|sounds\s+good|with\s+pleasure|"
    r"alright|all\s+right|for\s+sure|totally|i\s+can\b|i\s+will\b|i'?ll\b|i\s+shall\b|that\s+works|"
    r"works\s+for\s+me|good\s+idea|great\s+idea|love\s+(?:it|that|this)|i'?m\s+in|count\s+me\s+in|let'?s|"
    r"that\s+would\s+be\s+(?:great|helpful|lovely|amazing|perfect)|please\s+do|leave\s+it\s+with\s+me|👍)"
)
STRONG_ACCEPT = re.compile(
    r"\b(?:will\s+do|can\s+do|consider\s+it\s+done|on\s+it|happy\s+to|glad\s+to|gladly|no\s+problem|of\s+course|"
    r"certainly|absolutely|with\s+pleasure|i\s+can\s+do\s+that|i'?ll\s+do\s+(?:it|that)|sure\s+thing|deal|agreed|"
    r"i'?m\s+in|leave\s+it\s+with\s+me)\b"
)
DECLINE = re.compile(
    r"^\W*(?:no\b(?![\s,]+(?:problem|worries))|nope|nah|not\s+(?:this|now|really|possible|today)|sorry|"
    r"unfortunately|i'?m\s+afraid)|\b(?:decline|can'?t|cannot|unable|won'?t\s+be\s+able|rather\s+not)\b"
)

# ----------------------------------------------------------------------------------------------------------------
# Helpers


def split_sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs; separators are kept out of the sentences."""
    out: list[tuple[int, str]] = []
    cursor = 0
    for match in SENTENCE_SPLIT.finditer(text):
        piece = text[cursor : match.start()]
        if piece.strip():
            out.append((cursor, piece))
        cursor = match.end()
    if text[cursor:].strip():
        out.append((cursor, text[cursor:]))
    return out


def first_word_after(text: str) -> str:
    """The first word of `text` once fillers ("just", "go ahead and") are stripped."""
    rest = text
    while True:
        stripped = FILLERS.sub("", rest, count=1)
        if stripped == rest:
            break
        rest = stripped
    found = words(rest)
    return found[0] if found else ""


def is_question(low: str) -> bool:
    """Whether a lower-cased sentence ends with a question mark."""
    return low.rstrip().endswith("?")


def self_cued(low: str) -> bool:
    """Whether a lower-cased text holds a first-person future cue ("I'll", "let me", subjectless "will")."""
    return bool(SELF_CUE.search(low) or BARE_CUE.search(low))


def find_cues(low: str) -> list[tuple[int, int, str]]:
    """(start, end, cue text) of each first-person cue in a lower-cased sentence, in order."""
    cues = [(m.start(), m.end(), m.group(0)) for m in SELF_CUE.finditer(low)]
    bare = BARE_CUE.match(low)
    if bare:
        cues.append((bare.end() - len(bare.group(0).split()[-1]) - 1, bare.end(), "will"))
    if not cues:
        present = PRESENT_CUE.search(low)
        if present:
            verb = low[present.end() :].split(" ", 1)[0]
            if verb in LEX.deliverable_verbs and verb not in LEX.same_in_past:
                cues.append((present.start(), present.end(), "present"))
    return sorted(cues)
