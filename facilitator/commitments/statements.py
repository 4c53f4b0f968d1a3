"""First-person statements ("I'll send it Friday") and terse deadlines ("Case law summary by Friday too.")."""

from __future__ import annotations

import datetime as dt
import re

from facilitator.commitments import cues
from facilitator.commitments.cueless import CuelessStatements
from facilitator.commitments.referents import find_pronoun
from facilitator.commitments.state import Cue, Draft, Sentence, TurnState, Undated
from facilitator.commitments.text import LEX, base_form, content_words, overlap, plain, similar, words
from facilitator.commitments.wording import noun_phrase
from facilitator.dates import strip_due_phrases

HEDGE_REACH = 40  # characters before a cue in which a hedge ("maybe", "I might") still governs it
HEDGE_AFTER = 90  # and after it: a rambling turn's closing "well, we'll see" is not about the item stated long before
# Words that make a verbless sentence more than a noun phrase; a terse deadline may start with "the", "a", "an", "my".
_NOT_TERSE = (LEX.non_verbs | LEX.stop_words) - {"the", "a", "an", "my"}


class Statements(CuelessStatements):
    """The speaker's own items: one per first-person cue that passes the commitment rules."""

    def statements(self, s: Sentence, state: TurnState) -> None:
        """Every cue of the sentence, each with the words up to the next cue; no cue: maybe a terse deadline."""
        if self._event(s, state) or cues.LOOK_UP.match(s.low):
            return  # "Let me check my diary": looking up the answer, no item
        found = cues.find_cues(s.low)
        if not found:
            if not (self._ready(s, state) or self._left_with_me(s, state)):
                self._terse(s, state)
            return
        left = cues.LEFT_WITH_ME.search(s.low)
        if left is not None and left.start() > found[-1][1]:  # "I'll get Seamus to ..., no, leave it with me."
            self._left_with_me(s, state)
        for i, (start, end, cue) in enumerate(found):
            stop = found[i + 1][0] if i + 1 < len(found) else len(s.low)
            segment = s.text[end:stop]
            # The clause the statement belongs to: hedges and past markers elsewhere in the sentence don't count.
            clause_start = max(s.low.rfind(" but ", 0, start), s.low.rfind(", and ", 0, start), 0)
            pre = s.text[:start] if i == 0 else ""
            self._statement(s, state, Cue(cue, segment, s.low[clause_start:stop], start - clause_start), pre)

    def _statement(self, s: Sentence, state: TurnState, cue: Cue, pre: str) -> None:
        segment = cue.segment
        cleft = cues.CLEFT_DO.match(segment)
        what = cues.WHAT_BEFORE.search(cue.clause[: cue.offset])
        if what and not cleft:
            return  # "You know what I'm going to ask you next": a description, not an item
        if cleft and what:
            segment = segment[cleft.end() :]
            cue = Cue(cue.text, segment, cue.clause, cue.offset)
        started = cues.START_DOING.match(plain(segment))
        if started:  # "I'm going to start keeping a log": the habit is the action ("keep a log")
            segment = segment[started.end() :]
            cue = Cue("i commit", segment, cue.clause, cue.offset)  # worded from its gerund, like "I commit to"
        low_segment = plain(segment)
        verb = cues.first_word_after(low_segment)
        if started:
            verb = base_form(verb)
        if not self._verb_fits(cue, verb, low_segment):
            return
        if cues.is_question(s.low) and not cues.QUESTION_TAG.search(s.low):
            return
        due = self._statement_due(s, segment, pre)
        reciprocal = verb in _SHOWN_LATER and bool(cues.RECIPROCAL.search(s.low))  # not "in return, I'll tell you"
        later = bool(started) or reciprocal or self._acted_later(verb, segment)
        if _not_a_commitment(cue, verb, due, low_segment, later):
            if due is None and not _not_a_commitment(cue, verb, self.session, low_segment, later):
                self._await_date(s, segment, pre, gerund=cue.text.startswith("i commit"))
            return
        action = self.wording.action(segment, s.speaker, gerund=cue.text.startswith("i commit"))
        if self._taken_back(s, state, action, due):
            return
        own = " ".join(w for w in action.split() if w.lower() != "myself")  # "I'll do the rota myself"
        action = own if content_words(own, drop=LEX.vague) else action
        if _continues_ready(s, state, action, low_segment):
            return
        if not content_words(action, drop=LEX.vague) and _deferred(self.ledger.sentences[s.turn][: s.position + 1]):
            action = self.wording.resolve_pronoun(action, s.speaker, self._context(s, pre))  # "... ill do it monday"
        if not content_words(action, drop=LEX.vague):
            action = self._described(s) or action  # "What I can do is email Dr. Fenwick ... I'll do that by Friday"
        if not content_words(action, drop=LEX.vague) and due is not None and not state.answered_request:
            # "We still need slides for the town hall." "I can do those by Thursday.": no request, the thing named
            named = self.wording.resolve_pronoun(action, s.speaker, self._context(s, pre))
            asked = cues.YOUR.search(named) or (cues.MY.search(named) and not cues.MY.search(action))
            action = action if asked else named  # "your sign-off" was asked for; "do mine" is "do my expenses"
        if not content_words(action, drop=LEX.vague):
            return  # "I can do that", "will do": no action of its own
        action = self.wording.resolve_pronoun(action, s.speaker, self._context(s, pre))
        if self._absorb(state, action, due, low_segment) or self._revive(s, action, due, low_segment):
            return
        if len(content_words(action, drop=LEX.vague)) < 2 and due is None and not cues.DEFINITE_OBJECT.match(action):
            return  # "I'll check", "let me look": too thin to hold anyone to without a date ("do the minutes" isn't)
        self.ledger.add(Draft(s.speaker, action, due, [s.turn], s.turn, "simple"), state)

    def _context(self, s: Sentence, pre: str) -> list[tuple[str, str]]:
        """The sentences a pronoun may point back to; what the speaker "can't get to until Monday" comes nearest
        ("can't get to the fridge audit til monday, the logger arrives friday. ill do it monday")."""
        context = self.ledger.context(s.turn, s.position, pre)
        deferred = _deferred(self.ledger.sentences[s.turn][: s.position + 1])
        return [*context, (s.speaker, deferred)] if deferred else context

    def _described(self, s: Sentence) -> str | None:
        """The action the speaker just described as a possibility ("what I can do is ...", "I could ..."), for a
        following "I'll do that"."""
        before = self.ledger.sentences.get(s.turn - 1, [])[-2:]  # "Someone needs to chase finance." "I'll do that."
        for earlier in reversed([*before, *self.ledger.sentences[s.turn][: s.position + 1]]):
            found = cues.DESCRIBED_ACTION.search(earlier.low)
            if found:
                said = earlier.text[found.end() :]  # "Somebody should email your committee" said by the partner
                said = (
                    self.wording.perspective(said, earlier.speaker, s.speaker) if earlier.speaker != s.speaker else said
                )
                action = self.wording.action(said, s.speaker)
                context = self.ledger.context(earlier.turn, earlier.position)
                return self.wording.resolve_pronoun(action, s.speaker, context)
        return None

    def _taken_back(self, s: Sentence, state: TurnState, action: str, due: dt.date | None) -> bool:
        """ "I'll ask Tom to do the budget - no, I'll do it myself by Wednesday": the handed-over task is the
        speaker's own again (the delegation, made earlier in the turn, becomes the task itself)."""
        if "myself" not in words(action):
            return False
        own = " ".join(w for w in action.split() if w.lower() != "myself")
        for draft in reversed(state.created):
            handed = cues.DELEGATED.match(draft.action)
            if draft.owner == s.speaker and (draft.alive or draft.retracted_at == s.turn) and handed:
                draft.alive, draft.retracted_at = True, None  # "..., no, actually, I'll do it myself" took it back
                task = handed["task"] if content_words(handed["task"]) else ""
                draft.action = own if content_words(own, drop=LEX.vague) or not task else task
                draft.due = due or draft.due
                return True
        handed = cues.DELEGATED.match(state.unrecorded or "")
        if handed is None:
            return False
        task = own if content_words(own, drop=LEX.vague) and find_pronoun(own) is None else handed["task"]
        self.ledger.add(Draft(s.speaker, task, due, [s.turn], s.turn, "simple"), state)
        return True

    @staticmethod
    def _verb_fits(cue: Cue, verb: str, segment: str) -> bool:
        """Whether the word after the cue is an action verb ("I'll send", not "I'll need" or "ill" as in sick)."""
        if cue.text.strip() in ("ill", "i ll") and (not verb or verb in LEX.non_verbs or verb.endswith("ed")):
            return False  # "ill" as in sick
        if not verb or verb in LEX.non_verbs:
            return False
        if verb == "be" and not cues.PROGRESSIVE_BE.match(segment):
            return False  # "I'll be stuck in the basement", but "I'll be sending it"
        return verb == "be" or verb not in LEX.stative_verbs

    def _statement_due(self, s: Sentence, segment: str, pre: str) -> dt.date | None:
        """The date in the statement (or before its cue), else in a short dateline right after it."""
        due = self.ledger.due(segment) or (self.ledger.due(pre) if pre else None)
        if due is not None:
            return due
        for later in self.ledger.sentences[s.turn][s.position + 1 :]:
            if cues.find_cues(later.low):
                break
            head = later.text.split(",", 1)[0]  # "Wednesday morning, before the contractors arrive, ..."
            if _only_a_date(later.text, self.session) and self.ledger.due(later.text) is not None:
                return self.ledger.due(later.text)  # "End of next week at the latest."
            if len(words(later.low)) > 5 and (head == later.text or len(words(head)) > 3 or cues.is_question(head)):
                break
            if len(words(later.low)) > 5:  # "Monday, I'm in clinic all day" is an aside, not a date
                return None if _ASIDE_AFTER.match(later.low[len(head) + 1 :]) else self.ledger.due(head)
            due = self.ledger.due(later.text)
            if due is not None:
                return due
        if cues.THEN_ANAPHOR.search(plain(segment)):
            return self._then(s)
        return None

    def _then(self, s: Sentence) -> dt.date | None:
        """ "Thursday works. I'll send the draft then.": the date of the sentence before (in this turn or the one
        before), also when it says from when ("bookings open from Thursday. I'll book it then")."""
        ledger = self.ledger
        before = ledger.sentences[s.turn][: s.position][::-1] + ledger.sentences.get(s.turn - 1, [])[::-1]
        for sentence in before[:3]:
            due = ledger.due(cues.FROM_DAY.sub("on ", sentence.text))
            if due is not None:
                return due
        return None

    def _acted_later(self, verb: str, segment: str) -> bool:
        """Whether an act that is usually done on the spot ("I'll tell you", "let me show you") is for later: for
        next time, "give the new rota a go", or told, shown or passed to someone who is not here ("tell Priya")."""
        low = plain(segment)
        if cues.NEXT_TIME.search(low) or cues.A_GO.search(low) or cues.PASSED_ON.search(low):
            return True
        if cues.PHRASAL_TASK.match(low):
            return True
        after = segment.split()[1:2] if segment.split()[:1] and segment.split()[0].lower() == verb else []
        named = after[0].strip(",.;:!?'s") if after else ""
        partners = {n.split()[0] for n in self.wording.names.values()}
        return verb in ("tell", "show", "ask") and named[:1].isupper() and named not in {"I", *partners}

    def _absorb(self, state: TurnState, action: str, due: dt.date | None, segment: str) -> bool:
        """The first statement of an acceptance ("Sure. I'll send it Friday") belongs to the accepted request."""
        draft = state.absorber
        if draft is None:
            return False
        pronoun = bool(cues.PRONOUN_OBJECT.search(" ".join(segment.split()[:4])))
        if (state.absorbed or cues.SEPARATE.search(segment)) and not pronoun:
            return False
        state.absorbed = True
        if state.keep_wording:
            return True  # "Certainly. I shall bring the guide then.": the re-dated item restated, as it was
        if due is not None:
            draft.due = due
        if self._acceptor_words(draft.action, action, pronoun):
            draft.action = action
        return True

    def _await_date(self, s: Sentence, segment: str, pre: str, gerund: bool) -> None:
        """ "Let me chase the broker about it." "When?" "Monday.": an act that needs a date keeps waiting for one."""
        action = self.wording.action(segment, s.speaker, gerund=gerund)
        action = self.wording.resolve_pronoun(action, s.speaker, self.ledger.context(s.turn, s.position, pre))
        self.ledger.undated = Undated(s.speaker, s.turn, action)

    def _acceptor_words(self, requested: str, said: str, pronoun: bool) -> bool:
        """Whether the acceptor's own words make the better action: concrete and self-contained, or a different
        deliverable than the one asked for ("show me how you write a PRD?" "I'll send you one of mine")."""
        if find_pronoun(said) is not None or cues.THIRD_PERSON_OBJECT.search(said):
            return False
        if find_pronoun(requested) is not None and said.split()[0].lower() in LEX.deliverable_verbs:
            return True  # "Can you get me on it?" "I'll email Dr. Nwosu today."
        if find_pronoun(requested) is not None and noun_phrase(said) is not None:
            return True  # "Can you do that for me?" "The handover checklist? Yes, I'll do the handover checklist."
        names = self.wording.names.values()
        if len(content_words(said, drop=names)) >= 4 and not pronoun:
            return True
        asked_for = {w[:5] for w in content_words(" ".join(requested.split()[1:]), drop=names)}
        offered = {w[:5] for w in content_words(said, drop=names)}
        if asked_for and asked_for < offered and not pronoun:
            return True  # "get me a draft?" "I'll send you the draft programme": the same thing, named better
        verb, asked = said.split()[0].lower(), requested.split()[0].lower() if requested else ""
        different = verb != asked and verb in LEX.deliverable_verbs and base_form(asked) in LEX.immediate_verbs
        return different and noun_phrase(said) is not None

    def _revive(self, s: Sentence, action: str, due: dt.date | None, segment: str) -> bool:
        """'Scratch Friday for the template ... I will send it next Monday': the retracted item gets the new date."""
        dead = [d for d in self.ledger.drafts if d.owner == s.speaker and d.retracted_at == s.turn and not d.alive]
        if not dead or due is None:
            return False
        target = self.ledger.pick(dead, action)
        if target is None:
            return False
        pronoun = bool(cues.PRONOUN_OBJECT.search(" ".join(segment.split()[:4])))
        names = self.wording.names.values()
        objects = (" ".join(content_words(" ".join(a.split()[1:]), drop=names)) for a in (action, target.action))
        if not pronoun and (similar(action, target.action) < 50 or not overlap(*objects)):
            return False  # "scratch that, I can't give you the file. But I'll write you a summary": a new item
        if pronoun and base_form(action.split()[0].lower()) != base_form(target.action.split()[0].lower()):
            return False  # "scratch that, I can't send it, but I'll walk you through it": another action
        target.alive = True
        target.retracted_at = None
        target.due = due
        target.evidence = sorted(set(target.evidence) | {s.turn})
        return True


def _deferred(sentences: list[Sentence]) -> str | None:
    """What the speaker said in these sentences they can't get to until a day ("the vaccine fridge audit")."""
    for earlier in sentences:
        found = cues.CANT_UNTIL.search(earlier.low)
        if found:
            return earlier.text[found.start("obj") : found.end("obj")]
    return None


def _continues_ready(s: Sentence, state: TurnState, action: str, segment: str) -> bool:
    """ "The sector chart will be ready on Wednesday. I'll put it in your tray.": what is done with "it" is part
    of the item made ready ("have the sector chart ready and put it in Ana's tray")."""
    draft = state.ready
    if draft is None or draft.owner != s.speaker or not cues.PRONOUN_OBJECT.search(" ".join(segment.split()[:3])):
        return False
    draft.action = f"{draft.action} and {action}"
    state.ready = None
    return True


# Acts offered back "in return" that are for another day: showing, taking round, teaching (telling is on the spot).
_SHOWN_LATER = frozenset({"show", "take", "walk", "teach", "introduce", "bring", "invite"})
_ASIDE_AFTER = re.compile(r"\s*(?:i'?m|i\s+am|i\s+have|i'?ve|we'?re|we\s+have|i'?ll\s+be)\b")
_DATE_HEDGES = frozenset({"latest", "probably", "definitely", "hopefully", "ish", "say", "maybe", "earliest"})


def _only_a_date(text: str, session: dt.date) -> bool:
    """A sentence that is a date and nothing else ("End of next week at the latest.", "Friday, probably.")."""
    rest = content_words(strip_due_phrases(text, session), drop=LEX.vague)
    return not [w for w in rest if w not in _DATE_HEDGES]


def _not_a_commitment(cue: Cue, verb: str, due: dt.date | None, segment: str, later: bool = False) -> bool:
    """Hedged, hypothetical, past, negated, or (without a date) an offer or an on-the-spot act (`later`: an act
    of that kind that is clearly for later)."""
    clause = cue.clause
    # unpunctuated chat: "idk i think its the seals im gonna..."
    after = clause[cue.offset : cue.offset + HEDGE_AFTER]
    next_clause = cues.NEXT_CLAUSE.search(after)  # "I'll have that done by Friday, and maybe it gets used"
    near = clause[max(0, cue.offset - HEDGE_REACH) : cue.offset] + (
        after[: next_clause.start()] if next_clause else after
    )
    if cues.HEDGE.search(near) or (cues.TRY.search(clause) and due is None):
        return True
    if cues.HYPOTHETICAL.search(clause) or cues.ALREADY.search(clause):
        return True
    if cues.CONDITION.search(clause[: cue.offset]):
        return True  # "if the grant comes through I'll hire someone"
    if cues.PAST_BEFORE.search(clause[: cue.offset]) or cues.NEGATED.match(segment):
        return True
    if cues.SPOKEN_ACT.match(segment):
        return True  # "I'll ask you something", "I'll keep it short"
    text = cue.text
    needs_date = text.startswith(("i can", "present")) or (text.startswith("let") and verb not in LEX.deliverable_verbs)
    if needs_date and due is None:
        return True
    if cues.PROMISED.search(clause):
        return False  # "I will show you how we check the tables, this I promise"
    return verb in LEX.immediate_verbs and due is None and not cues.FOLLOW_UP.match(segment) and not later
