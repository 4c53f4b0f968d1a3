"""Sentence splitting and the cue patterns (matched on lower-cased text with plain apostrophes).

Patterns that are plain alternations of words are built from the lexicon; the rest are phrase patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from facilitator.commitments.text import LEX, words


def alternation(phrases: Iterable[str]) -> str:
    """`a|b c|...` in the given order, a space in a phrase matching any white space."""
    return "|".join(r"\s+".join(re.escape(w) for w in phrase.split()) for phrase in phrases)


def _word_set(phrases: Iterable[str]) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{alternation(phrases)})\b", re.I)


# ----------------------------------------------------------------------------------------------------------------
# Clean-up and wording


def _abbreviations() -> tuple[str, ...]:
    """Abbreviations whose period ends no sentence: pysbd's titles ("Dr.", "St.", "vs.") and a few of chat."""
    from pysbd.lang.english import English

    titles = English.Abbreviation.PREPOSITIVE_ABBREVIATIONS
    return tuple(sorted({*titles, "e.g", "i.e", "approx", "incl", "dept", "etc", "esp", "ca", "cf"}))


ABBREVIATIONS = _abbreviations()
# "Dr." / "e.g." right before a position: a period there is part of a word, not the end of a sentence.
ABBREVIATED = re.compile(rf"(?:^|[\s(])(?:{'|'.join(re.escape(a) for a in ABBREVIATIONS)})\.$", re.I)
_NOT_ABBREVIATION = "".join(rf"(?<!\b{re.escape(a)})" for a in ABBREVIATIONS if a.replace(".", "").isalpha())

NOISE = re.compile(r"\{\w+\}|<[^<>]{1,40}/?>")  # transcription marks: {disfmarker}, <unintelligible/>
HESITATION = re.compile(r"\b(?:uh+|um+|erm|uhm|er|mm+|hmm+)\b,?\s*|\b[a-z]+-(?=[\s,]|$),?\s*", re.IGNORECASE)
FILLERS = re.compile(rf"^(?:{alternation(LEX.fillers)})\s+", re.IGNORECASE)
SENTENCE_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\.{2,}|…|\s+[-–—]\s+|\n+")
INTERJECTIONS = rf"(?:(?:{alternation(LEX.interjections)})\b[\s,.!]*)*"
CLAUSE_CUT = re.compile(
    r"\s*,\s*(?=(?:so|too|and\s+(?:we|you|then|i|it)|then|because|bc|since|which|like|i|it|you|we|they|she|he|but|"
    r"though|as|cause|lol|tbh|haha|that'?s|there'?s|it'?s|i'?ve|i'?m|it'?ll|itll|that'?ll|this|that|yes|yeah|"
    r"the\s+\w+\s+(?:is|was|one)\b|covering|depending|if|unless|when|once|"
    r"(?:\w+\s+){0,2}(?:is|are|was|were|has|have|had|closes|opens|ends|starts|won't|can't)\b)\b)"
    r"|\s+(?:so\s+(?:that\s+)?(?:you|we|i|they|it|u)|because|bc|since|then\s+we|and\s+then|and\s+we|and\s+(?:you|u)(?:'ll|\s+will|\s+can)|and\s+i(?!'m)|but|"
    r"(?:that|it)(?:'d|\s+would)\s+be|"
    r"(?:before|after|when|while|once|until|where|whenever)\s+(?:i|you|we|he|she|they|it|u))\b"
    rf"|\s+[-–—]\s+|;|:|\.\.\.|…|{_NOT_ABBREVIATION}\.(?:\s|$)|[!?]",
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
# An answer that only tries: "I'll try, but they're slow", "I can try", "I'll see what I can do".
ONLY_TRYING = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|sure|well|hmm)\W+)?(?:i'?ll|i\s+will|i\s+can|i\s+could)\s+(?:try\b(?!\s+(?:the|a|an|out|it\s+out)\b)|"
    r"see\s+what\s+i\s+can\s+do)"
)
HYPOTHETICAL = re.compile(
    r"\b(?:if|unless|were\s+\w+(?:\s+\w+)?\s+to|in\s+case)\b.*\b(?:would|could)\b|\b(?:if|unless)\b.*\b\w+'d\b"
    r"|\b(?:would|\w+'d)\b.*\bif\b"
)
# A consequence of an outside event ("if the grant comes through I'll hire someone") promises nothing yet; one of the
# partner's act ("if you send me the data, I'll chart it") is a commitment once they do.
CONDITION = re.compile(
    r"\b(?:if|unless|in\s+case)\s+(?!(?:you|u|ya|that's|possible|needed)\b)"
    # "if that's ok", "if this works for you" are politeness; "if this batch doesn't blue" is a condition
    r"(?!(?:this|that)(?:\s+(?:is|works?|helps?|suits?|sounds?|makes?|would|does|'s|\w+s)\b|\W*$|\s*,))"
    r"(?!it(?:'s|\s+is|'d|\s+would|\s+will)?\s+(?:be\s+)?(?:helps?|works?|suits?|useful|ok|okay|helpful|easier|fine|needed|"
    r"possible|convenient|alright)\b)\w"
)
PAST_BEFORE = re.compile(
    r"\b(?:last\s+(?:week|month|year|time|sprint|term|night)|yesterday|ago|previously|earlier\s+today|"
    r"(?:said|told\s+\w+|promised|mentioned)\s+(?:that\s+)?)\b"
)
DESCRIBED_ACTION = re.compile(
    r"\b(?:what\s+i\s+(?:can|could)\s+do\s+is|i\s+could|the\s+plan\s+is\s+to|my\s+plan\s+is\s+to|the\s+idea\s+is\s+to|"
    r"one\s+option\s+is\s+to|some(?:one|body)\s+(?:needs|has|ought)\s+to|some(?:one|body)\s+should|"
    r"we\s+(?:still\s+)?need\s+(?:someone\s+)?to)\s+(?:to\s+)?(?=[a-z])"
)
ALREADY = re.compile(r"\balready\b")
# An act offered back in a reciprocal exchange is for later, even one usually done on the spot: "In return, I'll
# show you how I present staffing numbers to the board."
RECIPROCAL = re.compile(r"\bin\s+(?:return|exchange)\b|\bmy\s+side\s+of\s+the\s+(?:deal|bargain)\b")
PROMISED = re.compile(
    r"\b(?:i\s+promise|this\s+i\s+promise|you\s+have\s+my\s+word|count\s+on\s+it)\b|\bpromise(?:d)?\W*$"
)
WAS_GOING = re.compile(r"\b(?:i\s+was|i'?d\s+been|i\s+had\s+been)\s+(?:going\s+to|gonna|planning\s+to|about\s+to)\b")
NEGATED = re.compile(r"^\s*(?:not|never|no\s+longer)\b")
NEXT_TIME = re.compile(
    r"\b(?:next\s+time|(?:at|in|for)\s+(?:our|the)\s+next\s+(?:session|meeting|catch-?up)|when\s+we\s+next\s+meet)\b"
)
# A verb usually done on the spot that, with these particles, is a task: "go through the old ledgers".
PHRASAL_TASK = re.compile(r"^\s*(?:go\s+(?:through|over)|take\s+(?:care|stock)\s+of|look\s+(?:through|over))\s+\w")
A_GO = re.compile(r"^\s*\w+\s+(?!it\b|that\b|this\b|them\b)\w.*\b(?:a|another)\s+(?:go|try|shot|whirl)\b")
# Said about the talk itself, not a task: "I'll ask you something", "I'll level with you", "I'll keep it short"
# (and the idioms that promise nothing: "I'll eat my hat if ...", "I'll believe it when I see it").
SPOKEN_ACT = re.compile(
    r"^\s*(?:ask\s+(?:you|u)\s+(?:something|a\s+(?:quick\s+)?question|one\s+thing|this)|level\s+with|"
    r"put\s+it\s+(?:this|that|another)\s+way|keep\s+(?:it|this)\s+(?:short|brief|quick)|leave\s+it\s+(?:there|at\s+that)|"
    r"keep\s+(?:that|it|this|them|those)\s+in\s+mind|bear\s+(?:that|it|this)\s+in\s+mind|share\s+my\s+screen|try\s+not\s+to|"
    r"cross\s+that\s+bridge|let\s+(?:you|u|\w+)\s+know\s+if\s+(?:anything|something|that|it)\s+changes|"
    r"eat\s+my\s+(?:hat|words)|believe\s+it\s+when)\b"
)
PASSED_ON = re.compile(r"\b(?:on|over)\s+to\s+(?!you\b|u\b)")
FOLLOW_UP = re.compile(r"^\s*(?:let\s+\w+\s+know|get\s+back)")
QUESTION_TAG = re.compile(
    r",\s*(?:ok(?:ay)?|right|yeah|yes|fine|alright|cool|good|sound\s+good|works\s+for\s+you)\s*\?+$"
)
TERSE = re.compile(
    r"^\W*(?:and\s+|also\s+|plus\s+)?(?P<np>(?:the\s+|my\s+|a\s+)?[a-z][\w'-]*(?:\s+[a-z][\w'-]*){0,4}?)\s+"
    r"(?:by|before|until|till)\s+\S+(?:\s+\S+)?(?:\s+(?:too|as\s+well|also))?\W*$"
)
SEPARATE = re.compile(r"\b(?:also|too|as\s+well|another|in\s+addition)\b")
DELEGATED = re.compile(r"^(?:ask|get|have|let)\s+[A-Z][\w'-]*\s+(?:to\s+)?(?P<task>[a-z].*)$")
# "I'm going to the trauma-informed practice twilight on the 24th": attending an event (with its date).
GOING_TO_EVENT = re.compile(r"\bi\s*'?\s*(?:m|am)\s+(?:also\s+)?going\s+to\s+(?=(?:the|a|an)\s)")
READY = re.compile(
    r"(?:^|[,;]\s*|\b(?:and|so|then)\s+)(?P<np>it|(?:the|my|our)\s+[a-z][\w' -]{1,50}?)\s*"
    r"(?:'ll|will|should|is\s+going\s+to|'s\s+going\s+to)\s+be\s+(?:ready|done|finished|with\s+(?:you|u))\b"
)
RECURRING = re.compile(
    r"\b(?:every|each)\s+(?:(?:other|second)\s+)?(?:mon|tue|wed|thu|fri|sat|sun|week|fortnight|month)"
)
THEN_ANAPHOR = re.compile(
    r"(?<!and\s)(?<!but\s)\bthen\b(?!\s+(?:i|we|you|they|he|she)\b)|\bthat\s+(?:night|day|evening|morning|afternoon)\b"
)
FROM_DAY = re.compile(r"\bfrom\s+(?=(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b)", re.I)
# "What I'm going to do is sit down with Priya": the act comes after "do is".
CLEFT_DO = re.compile(r"^\s*do\s+(?:is|was)\s+(?:to\s+|that\s+i\s+)?(?=[a-z])", re.I)
NEXT_CLAUSE = re.compile(r",\s+(?:and|but|so)\s+(?=maybe|perhaps|probably|hopefully|who\s+knows|it\s+might)")
WHAT_BEFORE = re.compile(r"\b(?:what|all)\s*$")
START_DOING = re.compile(r"^\s*(?:(?:also|just|really)\s+)?(?:start|begin)\s+(?=[a-z]+ing\b)")
PROGRESSIVE_BE = re.compile(r"^\s*be\s+\w+ing\b")

# ----------------------------------------------------------------------------------------------------------------
# Retractions and revisions

RETRACT = re.compile(
    r"\b(?:actually,?\s+no|no,?\s+actually|nah,?\s+actually|nah\b|scratch\s+that|scratch\s+(?=\w)|"
    r"forget\s+(?:it|that|what\s+i\s+said|about\s+(?:it|that)|i\s+said\s+(?:it|that|anything))|never\s?mind|nvm|"
    r"i\s+won'?t\s+be\s+able\s+to|i\s+(?:can'?t|cannot)\s+(?:do|make)\s+(?:it|that)|(?:oh\s+)?wait,?\s+no|"
    r"wait,?\s+(?:i\s+)?can'?t|\bi\s+shan'?t\b|^no\W*$|strike\s+that|"
    r"no,?\s+i\s+can'?t|i\s+take\s+(?:it|that)\s+back|on\s+second\s+thought|ignore\s+(?:that|what\s+i\s+said)|"
    r"(?:hold|hang)\s+on,?\s+no\b|pretend\s+i\s+didn'?t\s+(?:offer|say\s+(?:that|anything)|mention\s+it)|"
    r"not\s+going\s+to\s+happen)"
)
STRONG_RETRACT = re.compile(
    r"\b(?:scratch\s+that|strike\s+that|pretend\s+i\s+didn'?t\s+offer|forget\s+(?:it|that|what\s+i\s+said)|never\s?mind|i\s+won'?t\s+be\s+able\s+to|"
    r"i\s+take\s+(?:it|that)\s+back|actually,?\s+no|i\s+(?:can'?t|cannot)\s+(?:do|make)\s+(?:it|that))"
)
# Retractions that name what they withdraw, any number of turns later: "forget what I said about the hall",
# "take the flyers off the list", "let's drop the survey", "we don't need the case study after all".
_OBJECT = r"(?P<obj>(?:the|a|an|my|your|our|that|this|those|these)\s+[^,.;:!?]{2,60}?)"
_END = r"(?=\s*(?:[,.;:!?]|$|\s+(?:then|now|for\s+now|after\s+all|too|as\s+well|idea|any\s?more)\b))"
NAMED_RETRACTS = tuple(
    re.compile(pattern)
    for pattern in (
        rf"(?<!don't\s)(?<!dont\s)(?<!not\s)(?<!never\s)\bforget\s+(?:about\s+|what\s+(?:i|you|we)\s+said\s+about\s+)?"
        rf"{_OBJECT}{_END}",  # but "don't forget the template!" reminds
        rf"{_OBJECT},?\s+(?:take|cross|strike)\s+(?:it|that|them)\s+off\b",
        rf"\b(?:take|cross|strike|leave)\s+{_OBJECT}\s+off\b(?!\s+(?:me\b|(?:my|your|his|her|our)\s+(?:hands|plate)))",
        rf"\b(?:let'?s|we\s+can|we\s+should)\s+(?:just\s+)?(?:drop|skip|shelve|park|cancel|scrap|ditch)\s+"
        rf"{_OBJECT}{_END}",
        rf"\b(?:we|i)\s+(?:don'?t|do\s+not|no\s+longer)\s+need\s+{_OBJECT}\s+(?:any\s?more|after\s+all|now)\b",
        rf"\bno\s+need\s+for\s+{_OBJECT}{_END}",
        rf"\bscratch\s+(?=(?:the|my|your|our)\s){_OBJECT}{_END}",  # "scratch the loop poster" (not "scratch that")
        rf"\b(?:let'?s|let\s+us)\s+not\s+bother\s+(?:with\s+)?{_OBJECT}{_END}",
        rf"\b(?:don'?t|do\s+not)\s+bother\s+with\s+{_OBJECT}{_END}",
        rf"{_OBJECT}\s+(?:can|could|should)\s+(?:come|go)\s+off\s+(?:the|my|our)\s+list\b",
        rf"\b(?:don'?t|do\s+not)\s+think\s+i'?ll\s+(?:do|be\s+doing|get\s+to|manage)\s+{_OBJECT}\s+after\s+all\b",
        rf"\bi\s+(?:won'?t|will\s+not)\s+(?:do|be\s+doing|get\s+to|manage)\s+{_OBJECT}\s+after\s+all\b",
        rf"\b(?:ignore|disregard)\s+(?:the\s+(?:bit|part)|what\s+i\s+said)\s+about\s+{_OBJECT}{_END}",
        rf"\b(?:remove|delete|drop)\s+{_OBJECT}\s+from\s+(?:my|the|our)\s+(?:list|plate|items|to-?do)",
        rf"\bi(?:\s+am|'?m)\s+not\s+(?:going\s+to|gonna)\s+(?:\w+\s+){{1,2}}?{_OBJECT}\s+after\s+all\b",
        rf"\b(?:on\s+second\s+thoughts?|actually),?\s+i\s+(?:won'?t|will\s+not|(?:am|'m)\s+not\s+(?:going\s+to|gonna))\s+"
        rf"(?:\w+\s+){{1,2}}?{_OBJECT}{_END}",
        r"(?:^|[,;:]\s*|\b(?:actually|so|ok|okay|then|just)\s+)(?:let'?s\s+)?(?:drop|skip|scrap|ditch|park|forget|cancel)\s+"
        r"(?P<obj>it|that|them)\b",
    )
)


# The speaker saying they will not do it after all ("I'm not going to do the template", "I'm not sending the
# template, you already have it", "I can't do the budget template after all", "we don't need the template"): a
# withdrawal of the item it names when the sentence gives no new date (see Revisions._negated).
NEGATED_RETRACTS = tuple(
    re.compile(pattern)
    for pattern in (
        rf"\bi(?:\s+am|'?m)\s+not\s+(?:going\s+to|gonna)\s+(?:\w+\s+){{1,2}}?{_OBJECT}{_END}",
        rf"\bi(?:\s+am|'?m)\s+not\s+(?!going\b)[a-z]+ing\s+{_OBJECT}{_END}",
        rf"\bi\s+(?:can'?t|cannot|won'?t\s+be\s+able\s+to)\s+(?:\w+\s+){{1,2}}?{_OBJECT}\s+(?:after\s+all|any\s?more)\b",
        rf"\b(?:we|i)\s+(?:don'?t|do\s+not)\s+(?:really\s+|even\s+)?need\s+{_OBJECT}{_END}",
        rf"\b(?:i|we)\s+(?:won'?t|will\s+not)\s+be\s+[a-z]+ing\s+{_OBJECT}{_END}",
        rf"\b(?:decided|rather|prefer|better)\s+not\s+to\s+(?:\w+\s+){{1,2}}?{_OBJECT}{_END}",
        rf"\b(?:'d|would)\s+rather\s+not\s+(?:\w+\s+){{1,2}}?{_OBJECT}{_END}",
        rf"\b(?:you|u)\s+(?:don'?t|do\s+not)\s+(?:have|need)\s+to\s+(?:\w+\s+){{1,2}}?{_OBJECT}{_END}",
        r"^\W*(?:oh,?\s+|no,?\s+|actually,?\s+|please,?\s+)*(?:don'?t|do\s+not)\s+(?:bother\s+to\s+)?"
        r"(?:send|bring|do|make|prepare|write|draft|book|print|email|share|order|buy|arrange|organi[sz]e)\s+"
        rf"(?:me\s+|us\s+)?{_OBJECT}{_END}",
        rf"\b(?:i'?ll|we'?ll|i\s+will|we\s+will|i'?m\s+going\s+to|we'?re\s+going\s+to)\s+(?:just\s+)?"
        rf"(?:skip|leave|drop|shelve|park|scrap|ditch|abandon)\s+{_OBJECT}{_END}",
        rf"\b(?:let|letting)\s+{_OBJECT}\s+go(?=\s*(?:[,.;:!?]|$|\s+(?:for\s+now|then|now)\b))",
        rf"\b(?:i|we)(?:'ve|\s+have)?\s+(?:dropped|scrapped|cancell?ed|ditched|shelved|abandoned)\s+{_OBJECT}{_END}",
        rf"\bforget\s+i\s+(?:said|mentioned)\s+(?:that\s+|anything\s+)?(?:about\s+)?{_OBJECT}{_END}",
        r"^\W*(?:so,?\s+|ok(?:ay)?,?\s+|right,?\s+)?no\s+(?P<obj>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,3}?)\s+then[.!]*$",
    )
)


# "Can we drop the budget template?" "Yes, let's drop it.": the item the partner proposed to drop.
DROP_QUESTION = re.compile(
    rf"\b(?:can|could|shall|should)\s+we\s+(?:just\s+)?(?:drop|skip|scrap|cancel|forget(?:\s+about)?|park|shelve|ditch)\s+"
    rf"{_OBJECT}\s*\?"
)
# "Budget template: dropped." (the sentence reader splits at the colon): a label, then the withdrawal.
LABEL_WITHDRAWN = re.compile(r"^\W*(?:dropped|scrapped|cancell?ed|canceled|off|gone|withdrawn)\W*$")


def negated_retraction(low: str) -> str | None:
    """The object of "I'm not going to do the template" and the like (NEGATED_RETRACTS), or None."""
    for pattern in NEGATED_RETRACTS:
        found = pattern.search(low)
        if found and found["obj"].strip():
            return found["obj"]
    return None


# "forget what I said about the — / no, what you said, the welcome packs": the speaker corrects whose it was (the
# dash split the sentence; FORGET_BROKEN ends the one before).
FORGET_BROKEN = re.compile(r"\bforget\s+what\s+i\s+said\s+about(?:\s+the)?\W*$")
FORGET_CONTINUED = re.compile(rf"^\W*no,?\s+(?:forget\s+)?what\s+(?:you|u)\s+said,?\s+(?:about\s+)?{_OBJECT}{_END}")
# The lexicon's withdrawing phrases. A bare verb ("drop", "cancel") withdraws only as an instruction: at the start of
# the sentence or after "actually/so/ok/on second thoughts/maybe/just", never in "I'll drop the report off".
_LEAD = r"(?:^|[,;:]\s*|\b(?:actually|so|ok|okay|then|oh|and|but|maybe|just|on\s+second\s+thoughts?|hmm|right)\s+)"
_PHRASE_OBJECT = r"(?P<obj>(?:(?:the|a|an|my|your|our|that|this|those|these)\s+)?[a-z][^,.;:!?]{1,60}?)"
WITHDRAW_BEFORE = tuple(
    re.compile(
        (_LEAD if " " not in phrase and not phrase.startswith(("never", "forget")) else r"\b")
        + alternation([phrase])
        + rf"\s+(?:doing\s+|running\s+|making\s+|the\s+idea\s+of\s+)?{_PHRASE_OBJECT}{_END}"
    )
    for phrase in LEX.withdraw_before
)
WITHDRAW_AFTER = tuple(re.compile(rf"{_PHRASE_OBJECT}\s*{alternation([phrase])}\b") for phrase in LEX.withdraw_after)
# A pattern that starts with its object is tried at every position of a sentence; the phrase alone is cheap to find.
_WITHDRAW_AFTER_GATE = re.compile(rf"(?:{alternation(LEX.withdraw_after)})\b")


# A verb and a definite object ("do the minutes", "take the agenda"): specific enough to hold someone to.
DEFINITE_OBJECT = re.compile(
    r"^\w+\s+(?:the|my|our|your)\s+(?!(?:rest|same|lead|most|best|honours|honors|floor|point|time|bit)\b)[a-z]{3,}",
    re.I,
)


@lru_cache(maxsize=8192)
def named_retraction(low: str) -> str | None:
    """The object a retraction names ("forget the case study" -> "the case study"), or None. Pure, so cached: the
    extractor reads the whole conversation again on every turn."""
    after = WITHDRAW_AFTER if _WITHDRAW_AFTER_GATE.search(low) else ()
    for pattern in (*NAMED_RETRACTS, *WITHDRAW_BEFORE, *after):
        found = pattern.search(low)
        if found and found["obj"].strip():
            return found["obj"]
    return None


# "Do we even need the survey?" is a retraction when the turn answers it with a no ("Let's not.", "Probably not.").
DOUBT_QUESTION = re.compile(
    rf"\b(?:do|did)\s+(?:we|i|you)\s+(?:even|really|actually|still)\s+need\s+(?:to\s+[a-z]+\s+(?:(?:you|u|him|her|them)\s+)?)?"
    rf"(?:{_OBJECT}|(?:it|that|them))"
    r"(?:\s+(?:tho|though|now|any\s?more|really|at\s+all|then))?(?:,[^?]{0,80})?\s*\?"
    rf"|\b(?:is|are)\s+(?:{_OBJECT.replace('<obj>', '<obj2>')}|(?:it|that|they))\s+(?:even|really|actually|still)\s+"
    r"(?:worth\s+(?:it|doing|the\s+effort)|needed|necessary|useful|happening|on|going\s+ahead)\s*\?"
    rf"|\bdo\s+(?:i|we)\s+(?:really|still|even|actually)\s+(?:have|need)\s+to\s+[a-z]+\s+"
    rf"{_OBJECT.replace('<obj>', '<obj3>')}\s*\?"
)


def doubted(match: re.Match[str]) -> str | None:
    """What a DOUBT_QUESTION match doubts ("the survey"), or None for "it"/"that"."""
    return match["obj"] or match["obj2"] or match["obj3"]


CANT_UNTIL = re.compile(
    r"\b(?:can'?t|cannot|won'?t\s+be\s+able\s+to|not\s+able\s+to)\s+(?:get\s+to|do|start|look\s+at|finish|get\s+round\s+to)\s+"
    r"(?P<obj>(?:the|my|your|our|that|this)\s+[^,.;:!?]+?)\s+(?:un)?til+\b"
)
COMPLETION = re.compile(r"^\s*(?:--|—|–|\.\.\.|…)\s*\w")  # a turn that finishes the partner's sentence
WHEN_ASKED = re.compile(
    r"^\W*(?:(?:ooh|oh|ok(?:ay)?|great|nice|and|so|lovely)\W+)?(?:when|by\s+when|what\s+day|which\s+day)\b[^.!]{0,30}\?"
)
DOUBT_ANSWER = re.compile(
    r"^\W*(?:let'?s\s+(?:not|drop\s+it|skip\s+it)|probably\s+not|no\b(?!\s+(?:worries|problem|question|doubt)\b)|nah\b|i\s+don'?t\s+think\s+so|"
    r"not\s+really|scrap\s+it|drop\s+it|skip\s+it|i\s+(?:dropped|scrapped|cancell?ed)\s+it)"
)

REVISE = re.compile(
    r"\b(?:make\s+(?:it|that|this|the\s+\w+)|push\s+(?:it|that|this|mine|ours|(?:the|my|our|your)\s+\w+)|"
    r"move\s+(?:it|that|this|mine|ours|(?:the|my|our|your)\s+\w+)|i\s+meant|(?:will|'ll)\s+have\s+to\s+be|"
    r"change\s+(?:it|that|this)\s+to|needs?\s+(?:until|till|til)|instead|on\s+reflection|let'?s\s+say|"
    r"let\s+us\s+say|more\s+realistic|(?:be|is|'s)\s+more\s+like|can\s+wait\s+(?:until|till|til|for)|(?:slip|slide)s?\s+to|can\s+we\s+(?:make|say|do)\s+(?:it|that)|postpone|reschedule|delay|"
    r"bring\s+(?:it|that|this|the\s+\w+)\s+forward|move\s+(?:it|that|this)\s+up|rather\s+than|"
    r"(?:amend|correct|change|revise)\s+(?:what\s+i\s+said|myself|my\s+date|the\s+date)|correction)\b"
)
# More time for an item: "I need another week for the budget sheet", "two more days on the wiki".
EXTENSION = re.compile(
    r"\b(?:another|one\s+more|an\s+extra|a\s+few\s+more|(?P<n>two|three|2|3)\s+more|(?P<n2>two|three|2|3)\s+extra)\s+"
    r"(?P<unit>days?|weeks?)\s+(?:for|on|with)\s+"
)
# The date a revision replaces: "I meant Thursday, not Wednesday", "Thursday rather than Friday".
NOT_THIS_DATE = re.compile(
    r",?\s*\b(?:not|rather\s+than|instead\s+of)\s+(?:on\s+|by\s+)?(?:the\s+)?\w+(?:day|th|st|nd|rd)\b"
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
    r"^\W*(?:and\s+)?the\s+same\s+(?:with|for)\s+(?=(?:the|my|your|our)\s)|^\W*same\b(?!\s+(?:time|place|slot|day|as|spot|room|table|hour|week|link|again|here\s+next|next))|\b(?:same\s+(?:for|with|goes\s+for)\s+me|same\s+here|"
    r"me\s+(?:too|also|as\s+well)|likewise|ditto|(?:so|as)\s+(?:will|shall)\s+i|i\s+will\s+too|"
    r"(?:i'?ll|i\s+will)\s+do\s+the\s+same|i'?m\s+in\s+too|put\s+me\s+down\s+(?:too|as\s+well|for\s+(?:that|it|one))|"
    r"(?:i'?ll|i\s+will)\s+\w+\s+(?:it|that|one|mine)(?:\s+\w+){0,2}\s+too|"
    r"(?:i'?m\s+going\s+to|i'?m\s+gonna)\s+do\s+(?:it|that|the\s+same)(?:\s+\w+){0,2}\s+too|"
    r"(?:i'?ll|i\s+will)\s+join\s+(?:you|u)(?:\s+on\s+(?:that|it|this))?(?=\W*$)|count\s+me\s+in\s+on\s+(?:that|it|this))\b"
    r"|^\W*and\s+me(?:\s+too)?[.!]*$"
)
ASIDE = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|sure|ok(?:ay)?|fine)\W+)?(?:(?:but|though|although|oh|and)\s+)?"
    r"(?:i\s+(?:have|'ve\s+got|have\s+got)|i'?m\s+(?:away|off|out|busy|on\s+leave|in\s+clinic)|"
    r"we\s+have)\b(?!.*\b(?:i'?ll|i\s+will|by|before)\b)"
)
SAME_WITH = re.compile(
    r"\b(?:the\s+)?same\s+(?:with|for)\s+(?P<obj>(?!me\b|us\b)(?:the|my|your|our|his|her|their)\s+[^,.;:!?]+)"
)
# "And the cancellation letters too, same deadline": one more thing for the speaker's own item just made.
ALSO_THE = re.compile(
    r"^\W*(?:and|also|plus|oh,?\s+and)\s+(?P<obj>(?:the|my|your|our)(?:\s+(?!(?:the|a|an|is|are|was|were|been|be|has|have|had|"
    r"will|would|can|could|did|do|does|just|so|very|really)\b)[a-z][\w-]*(?<!ed)){1,4})\s+(?:too|as\s+well|also)\b"
    r"\W*(?:$|,\s*(?:same|by|before|on)\b)"
)
JOINT = re.compile(
    r"^\W*(?:ok(?:ay)?\W+|so\W+)?both(?=\s+[a-z]+\s)|\b(?:let'?s|let\s+us|shall\s+we|should\s+we|could\s+we|can\s+we|why\s+don'?t\s+we|how\s+about\s+we|we)"
    r"(?:\s+(?:will|should|can|could|cud|shall)|\s*'ll)?\s+(?:both|each)\b(?:\s+of\s+us)?|\b(?:both|each)\s+of\s+us"
    r"(?:\s+(?:will|should|can|could|shall))?\b|\bthe\s+two\s+of\s+us(?:\s+(?:independently|separately|each|both))?\b"
    r"|(?:^\W*|[,;:]\s*|\b(?:so|then|ok|okay|right)\s+)you\s+and\s+i(?:\s+(?:will|'ll|should|can|could|shall))?\b"
    r"|\b(?:all\s+(?:three|four|five|of)\s+(?:of\s+)?us|the\s+(?:three|four|five)\s+of\s+us)(?:\s+(?:will|'ll|should|can))?\b"
    r"|\blet'?s\s+all\b"
)
DECLARED_JOINT = re.compile(
    r"\bwe\s*(?:will|'ll|shall)\s+(?:both|each|all)\b|\b(?:all\s+(?:three|four|five|of)\s+(?:of\s+)?us|the\s+(?:three|four|five)\s+of\s+us)\s+(?:will|'ll|shall)\b|\b(?:both|each)\s+of\s+us\s+will\b|(?:^\W*|[,;:]\s*|\b(?:so|then|ok|okay|right)\s+)you\s+and\s+i\s+(?:will|'ll|shall)\b"
)
LETS = re.compile(r"\b(?:let'?s|let\s+us)\s+(?!say\b|agree|meet|talk|speak|chat|catch|start|begin|continue|go\b|see\b)")
JOINED_IN = re.compile(r"\b(?:let'?s(?:\s+do\s+(?:it|that))?\W*$|let'?s\W|i'?m\s+in|count\s+me\s+in|deal|agreed)")
PURPOSE = re.compile(r"\b(?:so|so\s+that|in\s+order\s+that)\s*$")
JOINT_AUXILIARY = re.compile(r"^\s*(?:(?:will|'ll|should|can|could|cud|shall|to|both|each|all)\s+)+")
# A proposal to the whole group: "All three of us will write a post-mortem", "let's all...", "everyone here...".
EVERYONE = re.compile(
    r"\b(?:all\s+(?:three|four|five|of)\s+(?:of\s+)?us|the\s+(?:three|four|five)\s+of\s+us|let'?s\s+all|we\s+all\s+(?:will|'ll)|"
    r"every(?:one|body)\s+(?:here\s+)?(?:will|'ll))\b"
)
# Requests that need a question mark (or "please"): "could you send me...?", "would you mind looking...?".
ASKED_REQUEST = re.compile(
    r"\b(?:can|could|cud|would|will)\s+(?:you|u|ya|one\s+of\s+(?:you|us)|someone|somebody|anyone)\s+(?:(?:please|maybe|possibly|perhaps|just|also|kindly)\s+)*"
    r"(?:(?:be\s+able|be\s+willing|be\s+happy|be\s+ready)\s+to\s+|mind\s+|be\s+up\s+for\s+|be\s+open\s+to\s+)?"
    r"(?:do\s+me\s+a\s+fav(?:ou)?r\s+and\s+)?(?=[a-z])"
    r"|\b(?:would|do)\s+(?:you|u)\s+(?:mind|fancy)\s+(?=[a-z])"
    r"|^(?:so,?\s+|and\s+|then,?\s+)?(?:you|u)(?:\s+(?:can|could|will)|'ll)\s+(?=[a-z])"
    r"|\bis\s+(?:it\s+)?possible\s+(?:that\s+)?(?:you|u)\s+(?!to\b)(?=[a-z])"
    r"|\bany\s+chance\s+(?:you|u)\s+(?:could|can|might)\s+(?=[a-z])"
    r"|\b(?:is\s+there\s+)?any\s+way\s+(?:you|u)\s+(?:could|can|might)\s+(?=[a-z])"
    r"|\b(?:is|would|could)\s+it\s+(?:be\s+)?possible\s+(?:for\s+(?:you|u)\s+)?to\s+(?=[a-z])"
    r"|\bdo\s+(?:you|u)\s+think\s+(?:you|u)\s+(?:could|can|would|might)\s+(?=[a-z])"
    r"|^\W*(?:and\s+|also\s+|so\s+)?mind\s+(?=[a-z]+ing\b)"
    r"|\bhow\s+about\s+(?:you|u)\s+(?=[a-z])"
    r"|\b(?:do|would)\s+(?:you|u)\s+have\s+(?:the\s+)?(?:time|a\s+(?:minute|moment|chance))\s+to\s+(?=[a-z])"
    r"|\b(?:maybe|perhaps)\s+(?:you|u)\s+(?:could|can)\s+(?=[a-z])"
    r"|\bare\s+(?:you|u)\s+(?:able|happy|willing|ok|okay|free|around)\s+to\s+(?=[a-z])"
)
INVERTED_REQUEST = re.compile(
    r"(?<!\bwhat\s)(?<!\bhow\s)(?<!\bwhere\s)(?<!\bwhen\s)(?<!\bwhy\s)(?<!\bwho\s)(?<!\bif\s)(?<!\bso\s)"
    r"\b(?:can|could|cud|would)\s+(?:you|u|ya)\s+(?!see\b|tell\s+(?:me\s+)?(?:if|whether|what|how)\b|imagine\b|believe\b)"
)
# A reply that closes on its yes: "Friday is the audit day. I guess that's fine though, yes."
CLOSING_YES = re.compile(
    r"(?:,\s*|\b(?:though|then|so)\s+)(?:yes|yeah|yep|sure|ok(?:ay)?)\W*$|\bthat'?s\s+fine(?:\s+though)?\W*$"
)
# A reply that puts the answer off to look something up: "Let me check my diary." (the request still waits)
LOOK_UP = re.compile(
    r"^\W*(?:\w+\W+)?(?:let\s+me|i'?ll|i\s+need\s+to|i\s+have\s+to|i'?d\s+have\s+to)\s+(?:just\s+)?(?:check|look\s+at|see|think)"
    r"(?:\s+(?:my|the)\s+(?:diary|calendar|schedule|agenda|week|availability))?(?:\s+(?:first|quickly))?\W*$"
)
# "Can you do me a favour?": a request whose act is still to come.
OPEN_FAVOUR = re.compile(
    r"^\W*(?:do\s+(?:me|us)\s+a\s+fav(?:ou)?r|help\s+(?:me|us)(?:\s+(?:out|with\s+something))?)\W*$"
)
LATE_ACCEPT = re.compile(r"^(?:\S+\s+){0,3}?(?:yep|yes|yeah|sure|ok|okay)\b[\s,.!]+(?:i'?ll|i\s+will|will|can\s+do)\b")
# Requests stated outright: "I need you to...", "it would be great if you could...", "please send...".
STATED_REQUEST = re.compile(
    r"\bi\s*(?:need|want|would\s+like|'d\s+like|'d\s+love|would\s+love)\s+(?:you|u)\s+to\s+(?=[a-z])"
    r"|\b(?:(?:it\s+would|it'?d|that\s+would|that'?d)\s+be\s+(?:really\s+|so\s+)?(?:great|good|helpful|nice|useful|amazing|brilliant)|"
    r"i'?d\s+(?:love|appreciate)\s+it|i\s+wonder)\s+(?:if|whether)\s+"
    r"(?:you|u)\s+(?:could|can|would|might)\s+(?:be\s+(?:willing|able|happy)\s+to\s+)?(?=[a-z])"
    r"|\bi\s+(?:was|am|'m)\s+(?:hoping|wondering\s+if)\s+(?:you|u)\s+(?:might|could|would|can)\s+(?=[a-z])"
    r"|\b(?:could|can|may|might)\s+i\s+ask\s+(?:you|u)\s+to\s+(?=[a-z])"
    r"|\b(?:it'?d|it\s+would)\s+(?:really\s+)?help\s+if\s+(?:you|u)\s+could\s+(?=[a-z])"
    r"|\bi'?d\s+appreciate\s+it\s+if\s+(?:you|u)\s+could\s+(?=[a-z])"
    r"|\bi\s+wonder(?:ed)?\s+(?:if|whether)\s+(?:you|u)(?:'d|\s+would|\s+could)\s+be\s+(?:able|willing|happy)\s+to\s+(?=[a-z])"
    r"|^\W*if\s+(?:you|u)\s+could\s+(?=[a-z][^.!?]*\b(?:that'?d|that\s+would|it'?d|it\s+would)\s+be\b)"
    r"|\bplease\s+(?!do\b|don'?t\b|do\s+not\b|never\b|stop\b)(?=[a-z])"
    # "You'll send it Friday then."
    r"|^\W*(?:so,?\s+|and\s+|ok(?:ay)?,?\s+)?(?:you|u)(?:'ll|\s+will)\s+(?=[a-z][^.!?]*,?\s+then\W*$)"
)
# Dividing the work: "You do the agenda and I'll do the minutes", "you take the rota, I'll take the budget".
DIVISION = re.compile(
    rf"^{INTERJECTIONS}(?:[a-z][\w'-]*,\s+)?(?:so\s+|then\s+|how\s+about\s+)?(?:you|u)\s+(?:(?:could|can)\s+)?"
    r"(?P<verb>do|take|handle|write|draft|send|book|ring|call|sort|cover|run|lead|organise|organize|prepare|check|"
    r"chase|email|update)\b(?P<mine>(?=[^?]*\b(?:i'?ll|i\s+will|i\s+can|and\s+me)\b))?"
)
# "I'll write the summary, you do the figures": the partner's part is a sentence of its own.
DIVISION_SPLIT = re.compile(
    r",\s*(?:and\s+)?(?=(?:you|u)\s+(?:do|take|handle|write|draft|send|book|ring|call|sort|cover|run|lead|prepare|check|"
    r"chase|email|update)\s+(?:the|my|your|our|a|an)\b)",
    re.I,
)
# "Leave the audit with me", "the rota's on me": the speaker takes the thing on.
LEFT_WITH_ME = re.compile(
    r"\bleave\s+(?P<np>(?:the|that|this|those|these|my|your|our)\s+[^,.;:!?]+?)\s+(?:with|to)\s+me\b"
    r"|^\W*(?P<np2>(?:the|my|our)\s+[^,.;:!?]+?)(?:'s|\s+is)\s+on\s+me\b"
)
# Asking for a thing, not an act: "Any chance of a copy of the slides?", "Could I get the template?".
THING_REQUEST = re.compile(
    r"\b(?:any\s+chance\s+of|(?:could|can|may)\s+i\s+(?:get|have|grab|borrow|see)|"
    r"(?:could|can)\s+(?:you|u)\s+get\s+me)\s+(?=(?:a|an|the|your|that|those|these|some|ur)\s)"
)
# "I'd love a copy of the rota template by Friday, if you can.": a thing asked for in a statement, with a polite tail.
STATED_THING = re.compile(
    r"\bi(?:'d|\s+would)\s+(?:really\s+)?(?:love|like|appreciate)\s+(?=(?:a|an|the|your|some|ur)\s)(?!a\s+(?:word|chat|minute)\b)"
)
GERUND_REQUEST = re.compile(r"(?:\b|^)(?:mind|fancy|be\s+up\s+for|be\s+open\s+to)\s+$")
IMPERATIVE = re.compile(rf"^{INTERJECTIONS}(?P<verb>[a-z]+)\b")
ADDRESSED = re.compile(r"\b(?:me|us|please)\b")
POLITE_TAIL = re.compile(
    r"\b(?:when\s+(?:you|u)\s+(?:can|get\s+a\s+(?:chance|minute|sec))|for\s+me|if\s+(?:you|u)\s+can)\b"
)
ADDRESSED_TO_ME = re.compile(r"^\W*(?:\w+\W+)?[a-z]+\s+(?:me|us)\b")  # "Send me the trend", "ok send us the list"
OFFER = re.compile(
    r"\bshall\s+i\s+(?=[a-z])|\bshould\s+i\s+(?=[a-z][^?]*\b(?:you|your|u|ur)\b)|\b(?:do\s+you\s+)?want\s+me\s+to\s+(?=[a-z])|"
    r"\bwould\s+you\s+like\s+me\s+to\s+(?=[a-z])|"
    r"\b(?:maybe\s+)?i\s+(?:could|can|should|might)\s+(?=[a-z][^?]*?,?\s+if\s+(?:that'?s|that\s+is|it'?s|that\s+would|"
    r"that'?d|that\s+helps|it\s+helps|it\s+would|you\s+(?:like|want|think))\b[^?]*\?)|(?P<if_i>\b(?:would|will|does|do)\s+it\s+help\s+if\s+i\s+|"
    r"\bwould\s+it\s+be\s+(?:useful|helpful|easier|ok(?:ay)?|good)\s+if\s+i\s+|\bhow\s+about\s+i\s+|\bwhat\s+if\s+i\s+)"
    r"(?!(?:was|were|had|did|didn'?t|don'?t|wasn'?t)\b)(?=[a-z])"
)
# A date proposed back to a request ("Wednesday is tight, can I do Thursday?"): taken on, for the day proposed.
COUNTER_DATE = re.compile(
    r"\b(?:can|could|may)\s+i\s+(?:do|make\s+it|have\s+it\s+to\s+you|get\s+it\s+to\s+you|send\s+it)\b|"
    r"\b(?:how|what)\s+about\b|\bwould\s+\w+\s+(?:work|do)\b|\bis\s+\w+\s+(?:ok|okay|alright|fine)\b"
)
ACCEPT = re.compile(
    r"^\W*(?:(?:ha|haha|oh|ah|well|hmm|right|ooh|great|so|then|and|mm+|um+|uh|er|ok(?:ay)?|[a-z]+(?=,))\b[\s,.!]*)?"
    r"(?:got\s+it|understood|roger|noted|you\s+got\s+it|sounds\s+like\s+a\s+plan|perfect|brilliant|cool|fair\s+enough|"
    r"makes\s+sense|go\s+on\s+then|no\s+bother|doable|that'?s\s+a\s+(?:good|great)\s+idea|ye+s+|yeah|yep|yup|ya|yea|sure|ok(?:ay)?|k+|"
    r"ofc|not\s+at\s+all|by\s+all\s+means|"
    r"of\s+course|certainly|absolutely|definitely|gladly|happy\s+to|glad\s+to|no\s+problem|no\s+worries|np|"
    r"will\s+do|can\s+do|consider\s+it\s+done|on\s+it|done|deal|agreed|fine|sounds\s+good|with\s+pleasure|"
    r"alright|all\s+right|for\s+sure|totally|i\s+can\b|i\s+will\b|i'?ll\b|i\s+shall\b|that\s+works|"
    r"works\s+for\s+me|good\s+idea|great\s+idea|love\s+(?:it|that|this)|i'?m\s+in|count\s+me\s+in|let'?s|"
    r"(?:that\s+would|that'?d|it\s+would|it'?d)\s+be\s+(?:(?:really|very|so|super)\s+)?(?:great|helpful|lovely|amazing|perfect|useful|brilliant|ideal)|"
    r"(?:(?:very|really|super|so|hugely)\s+)?(?:useful|helpful)|please\s+do|yes\s+please|leave\s+it\s+with\s+me|👍|"
    r"i'?d\s+(?:be\s+)?(?:glad|happy|delighted|love)\s+to|that'?s\s+(?:fine|ok|okay|no\s+problem|doable)|fine\s+by\s+me|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day\s+works|why\s+not|(?:it\s+)?is\s+ok(?:ay)?\s+for\s+me|"
    r"not\s+a\s+problem|let\s+me\s+do\s+(?:that|it|this)|i\s+think\s+so,?\s+yes|can\s+manage\s+that|mm+-?hm+|uh-?huh|"
    r"that\s+i\s+can\s+do|i\s+don'?t\s+see\s+why\s+not|(?:you|u)\s+can\s+have\s+(?:it|them|that)|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day(?:'s|\s+is)\s+(?:fine|ok(?:ay)?|good|great|perfect)|"
    r"(?:[a-z]+\s+)?(?:mon|tues|wednes|thurs|fri|satur|sun)day\s+it\s+is|for\s+you,?\s+anything)"
)
# A yes after some mulling over ("But yes, I'll send it."): the reply's acceptance, read from after the "but".
LATE_YES = re.compile(
    r"^\W*(?:but|so|then|and|well|ok(?:ay)?|right)?[\s,]*(?=(?:ye+s|yeah|yep|ok(?:ay)?|sure|fine|alright)\b)"
)
# A day turned down in an answer: "Thursday's no good for me", "Friday doesn't work", "Monday is out".
DATE_REFUSED = re.compile(
    r"\b(?:(?:is|'s)\s+(?:no\s+good|out|tight|impossible|bad|a\s+no)|(?:doesn'?t|won'?t|does\s+not)\s+work|"
    r"can'?t\s+(?:do|make))\b"
)
STRONG_ACCEPT = re.compile(
    r"\b(?:will\s+do|can\s+do|consider\s+it\s+done|on\s+it|happy\s+to|glad\s+to|gladly|no\s+problem|of\s+course|"
    r"certainly|absolutely|with\s+pleasure|i\s+can\s+do\s+that|i'?ll\s+do\s+(?:it|that)|sure\s+thing|deal|agreed|"
    r"i'?m\s+in|leave\s+it\s+with\s+me|i'?ve\s+got\s+(?:it|this)|i\s+have\s+(?:it|this)|got\s+it\s+covered)\b"
    r"|^\W*done\W*$"
)
TAKEN_ON = re.compile(r"\b(?:i'?ve\s+got\s+(?:it|this)|i\s+have\s+(?:it|this)\s+covered|got\s+it\s+covered)\b")
# "Who's doing the budget?" "Me, by Thursday.": the question asks the group for a volunteer.
WHO_ASKS = re.compile(
    r"^\W*(?:so\W+|and\W+|ok(?:ay)?\W+)?who(?:'s|\s+is|\s+will|\s+can|\s+wants\s+to|\s+could|'ll|(?=\s+[a-z]+e?s\s))\s+"
    r"(?:going\s+to\s+|be\s+)?(?=[a-z]+\s+\w)"
)
VOLUNTEER = re.compile(
    r"^\W*(?:(?:oh|ok(?:ay)?|um|well)\W+)?(?:me\b|i\s+will\b|i'?ll\s+(?:do|take|have)\s+(?:it|that|this)\b|i\s+can\b|"
    r"i'?ve\s+got\s+(?:it|this)\b|i'?ll\s+take\s+it\b|mine\b)"
)
DECLINE = re.compile(
    r"^\W*(?:no\b(?![\s,]+(?:problem|worries))|nope|nah|not\s+(?:this|now|really|possible|today)|sorry|"
    r"unfortunately|i'?m\s+afraid)|\b(?:decline|can'?t|cannot|unable|won'?t\s+be\s+able|rather\s+not)\b"
)

# ----------------------------------------------------------------------------------------------------------------
# Helpers


def split_sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs; separators are kept out of the sentences, abbreviations ("Dr.") split nothing."""
    out: list[tuple[int, str]] = []
    cursor = 0
    for match in SENTENCE_SPLIT.finditer(text):
        if ABBREVIATED.search(text[max(cursor, match.start() - 12) : match.start()]):
            continue  # "Dr. Mensah", "e.g. the rota": the period belongs to the abbreviation
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
    if len(found) > 1 and found[0] == "to":  # "I will to send you the report": non-native "will to"
        return found[1]
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
            myself = verb in ("do", "take", "handle") and " myself" in low  # "I do the safety walk myself"
            myself = myself or low[present.end() :].startswith("take care of ")  # "I take care of the invitations"
            if (verb in LEX.deliverable_verbs and verb not in LEX.same_in_past) or myself:
                cues.append((present.start(), present.end(), "present"))
    return sorted(cues)
